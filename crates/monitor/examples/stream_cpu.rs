//! CPU cost of the dashboard's live stream under load.
//!
//! A thread records 2,000 requests per second into a [`Monitor`], paced
//! in batches of 20 every 10 ms, plus 20 evaluation scores per second.
//! The label mix has 20 models, 50 teams and keys, 5 routes and 3 prompt
//! versions, with errors, streaming, cache hits and fallbacks. The monitor
//! is built as `llmops serve` builds it without `--database`: with the
//! built-in price table and a feedback store on in-memory SQLite. The
//! dashboard is served on loopback with the default 1 s stream interval.
//!
//! The run has four phases of equal length: recording only, recording
//! with 1 stream client, recording with 5 stream clients, and recording
//! only again. Clients are `curl -N` child processes reading
//! `GET /dashboard/api/stream?window=WINDOW`, so their own CPU time is not
//! in this process's. The stream's cost is the process CPU time (user plus
//! system, from `/proc/self/stat`) of a phase with clients minus the mean
//! of the two recording-only phases, as a share of one core.
//!
//! ```text
//! cargo run --release -p llmops-monitor --example stream_cpu -- [SECONDS_PER_PHASE] [WINDOW]
//! ```
//! Defaults: 30 s per phase, window `1m`. Needs Linux and `curl`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use llmops_core::pricing::PriceTable;
use llmops_monitor::dashboard::{DashboardState, pages_router};
use llmops_monitor::{FeedbackStore, Monitor, Outcome, PromptRef, RequestObservation};
use llmops_store::Store;

/// Requests recorded per second.
const RATE: u64 = 2_000;

/// Requests recorded per batch; one batch every `1 s * BATCH / RATE`.
const BATCH: u64 = 20;

/// Clock ticks per second of `/proc/self/stat` (`USER_HZ`): 100 on x86-64
/// and arm64 Linux, as `getconf CLK_TCK` prints.
const TICKS_PER_SECOND: f64 = 100.0;

const MODELS: [&str; 20] = [
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o3-mini",
    "claude-haiku-4-5",
    "claude-sonnet-4-5",
    "claude-opus-4-1",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "mistral-small",
    "mistral-large",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "qwen-2.5-72b",
    "deepseek-chat",
    "command-r",
    "local",
    "text-embedding-3-small",
];

const ROUTES: [&str; 5] = ["chat", "search", "summarize", "classify", "extract"];

const ERRORS: [&str; 3] = ["rate_limited", "timeout", "server_error"];

/// Process CPU time (user plus system) in seconds.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name may contain spaces; fields after it are fixed.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, so 11 and
    // 12 after the state field, which is index 0 here.
    let user: f64 = fields[11].parse().unwrap();
    let system: f64 = fields[12].parse().unwrap();
    (user + system) / TICKS_PER_SECOND
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// Records requests at [`RATE`] until `stop` is set; counts them in
/// `recorded`.
fn record_paced(monitor: &Monitor, stop: &AtomicBool, recorded: &AtomicU64) {
    let teams: Vec<String> = (0..50).map(|index| format!("team-{index}")).collect();
    let keys: Vec<String> = (0..50).map(|index| format!("key-{index}")).collect();
    let batch_every = Duration::from_secs(1) * BATCH as u32 / RATE as u32;
    let mut next = Instant::now();
    let mut index: u64 = 0;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..BATCH {
            record_one(monitor, index, &teams, &keys);
            index += 1;
        }
        recorded.fetch_add(BATCH, Ordering::Relaxed);
        next += batch_every;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else if now - next > Duration::from_secs(1) {
            // More than a second behind, as when the machine is
            // overloaded: drop the backlog instead of bursting.
            next = now;
        }
        // Less behind: the next batches follow without sleeping, so the
        // mean rate stays at RATE when a sleep overshoots.
    }
}

fn record_one(monitor: &Monitor, index: u64, teams: &[String], keys: &[String]) {
    let position = index as usize;
    let model = MODELS[position % MODELS.len()];
    let prompt = PromptRef {
        name: "faq",
        version: (index % 3) as u32 + 1,
    };
    let outcome = if index % 50 == 0 {
        Outcome::Error(ERRORS[position / 50 % ERRORS.len()])
    } else {
        Outcome::Success
    };
    let streamed = index % 10 < 3;
    let cache_hit = index % 10 == 9;
    monitor.record_request(&RequestObservation {
        model,
        provider: if position % 2 == 0 {
            "openai"
        } else {
            "anthropic"
        },
        operation: "chat",
        outcome,
        duration_ms: 200.0 + (index % 1_000) as f64 * 2.5,
        time_to_first_token_ms: streamed.then_some(80.0 + (index % 200) as f64),
        input_tokens: 200 + index % 800,
        output_tokens: 50 + index % 300,
        cost_usd: 0.000_2 + (index % 100) as f64 * 0.000_01,
        cache_lookup: true,
        cache_hit,
        fallback: index % 33 == 0,
        failed_attempts: if index % 33 == 0 { &["timeout"] } else { &[] },
        team: Some(&teams[position % teams.len()]),
        key: Some(&keys[position * 7 % keys.len()]),
        route: Some(ROUTES[position % ROUTES.len()]),
        prompt: Some(prompt),
        ..RequestObservation::default()
    });
    if index % 100 == 0 {
        let score = (index % 97) as f64 / 97.0;
        monitor.record_score(model, Some(prompt), "groundedness", score);
    }
}

/// A curl process reading the stream into a file.
struct Client {
    process: Child,
    output: PathBuf,
}

/// Starts `clients` curl processes reading the stream at `url`.
fn start_clients(url: &str, clients: usize) -> Vec<Client> {
    (0..clients)
        .map(|index| {
            let output = std::env::temp_dir().join(format!(
                "llmops-stream-cpu-{}-{index}.txt",
                std::process::id()
            ));
            let process = Command::new("curl")
                .args(["-sN", "--max-time", "3600", "-o"])
                .arg(&output)
                .arg(url)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("curl must be installed");
            Client { process, output }
        })
        .collect()
}

/// Stops the clients and returns the snapshot events and bytes they
/// received, summed over all clients.
fn stop_clients(clients: Vec<Client>) -> (usize, u64) {
    let (mut events, mut bytes) = (0, 0);
    for mut client in clients {
        let _ = client.process.kill();
        let _ = client.process.wait();
        let text = std::fs::read_to_string(&client.output).unwrap_or_default();
        events += text.matches("event: snapshot").count();
        bytes += text.len() as u64;
        let _ = std::fs::remove_file(&client.output);
    }
    (events, bytes)
}

/// Runs one phase and returns the share of one core this process used.
fn measure(label: &str, seconds: u64, url: &str, clients: usize, recorded: &AtomicU64) -> f64 {
    let children = start_clients(url, clients);
    // Let the clients connect before the measurement starts.
    std::thread::sleep(Duration::from_millis(500));
    let cpu_before = process_cpu_seconds();
    let requests_before = recorded.load(Ordering::Relaxed);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    let requests = recorded.load(Ordering::Relaxed) - requests_before;
    let load = load_average();
    let (events, bytes) = stop_clients(children);
    let share = cpu / elapsed;
    let mean_event_kib = if events == 0 {
        0.0
    } else {
        bytes as f64 / events as f64 / 1024.0
    };
    println!(
        "| {label} | {clients} | {:.0} | {events} | {mean_event_kib:.1} KiB | {cpu:.2} s | {:.2}% | {load} |",
        requests as f64 / elapsed,
        share * 100.0,
    );
    share
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(30, |arg| arg.parse().unwrap());
    let window = args.next().unwrap_or_else(|| "1m".into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let (monitor, state) = runtime.block_on(async {
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let feedback = FeedbackStore::open(store).await.unwrap();
        let monitor = Monitor::builder()
            .prices(PriceTable::defaults().unwrap())
            .feedback_store(feedback.clone())
            .build()
            .unwrap();
        let state =
            DashboardState::new(Arc::new(monitor.clone())).with_feedback(Arc::new(feedback));
        (monitor, state)
    });
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    let app = pages_router(state.clone());
    runtime.spawn(async move { axum::serve(listener, app).await });
    let url = format!("http://{address}/dashboard/api/stream?window={window}");

    let stop = Arc::new(AtomicBool::new(false));
    let recorded = Arc::new(AtomicU64::new(0));
    let recorder = {
        let (monitor, stop, recorded) = (monitor.clone(), stop.clone(), recorded.clone());
        std::thread::spawn(move || record_paced(&monitor, &stop, &recorded))
    };
    // Fill the minute window before measuring.
    std::thread::sleep(Duration::from_secs(5));

    println!(
        "window {window}, {seconds} s per phase, stream interval {:?}",
        state.interval()
    );
    println!(
        "| phase | stream clients | requests/s recorded | events received | mean event | process CPU | share of one core | load average |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---|");
    let before = measure("recording only", seconds, &url, 0, &recorded);
    let one = measure("1 client", seconds, &url, 1, &recorded);
    let five = measure("5 clients", seconds, &url, 5, &recorded);
    let after = measure("recording only", seconds, &url, 0, &recorded);
    let baseline = (before + after) / 2.0;
    println!(
        "stream cost (phase minus mean baseline {:.2}%): 1 client {:.2}%, 5 clients {:.2}% of one core",
        baseline * 100.0,
        (one - baseline) * 100.0,
        (five - baseline) * 100.0
    );

    stop.store(true, Ordering::Relaxed);
    recorder.join().unwrap();
    state.close_streams();
}
