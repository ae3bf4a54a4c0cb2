//! Rendering a typical chat prompt with its templates compiled once.
//!
//! The prompt (`benches/data/chat_prompt.json`) has a system message with
//! four variables and a condition, and a user message that loops over three
//! documents. `cargo bench -p llmops-registry --bench render` runs the
//! Criterion group, then times the same renders in a plain loop beside
//! MiniJinja alone, in wall and thread CPU time. Last it runs
//! `benches/python/jinja2_compare.py`, which renders the same templates
//! with Python Jinja2, checks the outputs are identical and prints both
//! times.

// A benchmark that cannot read its data should stop with the reason, and
// `criterion_group!` generates an undocumented function.
#![allow(clippy::panic, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use llmops_core::types::Role;
use llmops_registry::render::{
    CompiledPrompt, MessageTemplate, PromptTemplate, RenderedPrompt, VariableSpec, VariableType,
};
use llmops_registry::{LabelMove, Registry, Selector};
use llmops_store::Store;
use serde_json::{Map, Value, json};

/// The name the benchmark prompt is published under.
const PROMPT_NAME: &str = "support-answer";
/// Renders per timed repetition in the side-by-side run.
const RENDERS: u32 = 20_000;
/// Timed repetitions in the side-by-side run; the fastest counts.
const REPETITIONS: u32 = 7;

fn data_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/chat_prompt.json")
}

fn load() -> (CompiledPrompt, Map<String, Value>) {
    let text = std::fs::read_to_string(data_path()).unwrap_or_else(|error| {
        panic!("cannot read {}: {error}", data_path().display());
    });
    let data: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}"));
    let messages = data["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|message| {
            let role = match message["role"].as_str() {
                Some("system") => Role::System,
                _ => Role::User,
            };
            MessageTemplate::new(role, message["content"].as_str().unwrap_or_default())
        })
        .collect();
    let schema = vec![
        VariableSpec::required("assistant_name", VariableType::String),
        VariableSpec::required("company", VariableType::String),
        VariableSpec::with_default("tone", VariableType::String, json!("neutral")),
        VariableSpec::with_default("strict", VariableType::Boolean, json!(false)),
        VariableSpec::required("documents", VariableType::List),
        VariableSpec::required("question", VariableType::String),
    ];
    let prompt = CompiledPrompt::compile(&PromptTemplate::Chat(messages), schema)
        .unwrap_or_else(|error| panic!("{error}"));
    let variables = data["variables"].as_object().cloned().unwrap_or_default();
    (prompt, variables)
}

fn render_chat(criterion: &mut Criterion) {
    let (prompt, variables) = load();
    criterion.bench_function("render_chat_prompt_precompiled", |bencher| {
        bencher.iter(|| prompt.render(black_box(&variables)))
    });
}

/// Returns the benchmark templates in a MiniJinja environment with the prompt
/// rules, and how many there are.
fn minijinja_environment() -> (minijinja::Environment<'static>, usize) {
    let text = std::fs::read_to_string(data_path()).unwrap_or_default();
    let data: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}"));
    let mut environment = minijinja::Environment::new();
    environment.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    environment.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let messages = data["messages"].as_array().cloned().unwrap_or_default();
    for (index, message) in messages.iter().enumerate() {
        let source = message["content"].as_str().unwrap_or_default().to_owned();
        environment
            .add_template_owned(format!("part-{index}"), source)
            .unwrap_or_else(|error| panic!("{error}"));
    }
    (environment, messages.len())
}

fn minijinja_context(variables: &Map<String, Value>) -> minijinja::Value {
    let context: std::collections::BTreeMap<&str, minijinja::Value> = variables
        .iter()
        .map(|(name, value)| (name.as_str(), minijinja::Value::from_serialize(value)))
        .collect();
    minijinja::Value::from(context)
}

/// Wall-clock and CPU time of one timed repetition.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// Returns the fastest wall and CPU times among [`REPETITIONS`] timings of
/// [`RENDERS`] calls of `render`.
fn best_of(mut render: impl FnMut()) -> Timing {
    let mut best = Timing {
        wall: Duration::MAX,
        cpu: Duration::MAX,
    };
    for _ in 0..REPETITIONS {
        // The thread's CPU time leaves out the time that other processes
        // on a shared machine hold the core, which wall time includes.
        let (start, start_cpu) = (Instant::now(), cpu_time::ThreadTime::now());
        for _ in 0..RENDERS {
            render();
        }
        best.wall = best.wall.min(start.elapsed());
        best.cpu = best.cpu.min(start_cpu.elapsed());
    }
    best
}

fn per_render_us(total: Duration) -> f64 {
    total.as_secs_f64() * 1e6 / f64::from(RENDERS)
}

/// Splits a MiniJinja render into its two costs: converting the
/// `serde_json` variables into a context, and evaluating both templates
/// with a context built beforehand.
fn render_parts(criterion: &mut Criterion) {
    let (_, variables) = load();
    let (environment, count) = minijinja_environment();
    criterion.bench_function("json_to_minijinja_context", |bencher| {
        bencher.iter(|| minijinja_context(&variables))
    });
    let context = minijinja_context(&variables);
    criterion.bench_function("minijinja_render_prebuilt_context", |bencher| {
        bencher.iter(|| {
            for index in 0..count {
                let template = environment.get_template(&format!("part-{index}"));
                let _ = black_box(template.and_then(|template| template.render(&context)));
            }
        })
    });
}

criterion_group!(benches, render_chat, render_parts);

/// Publishes the benchmark prompt in a registry on a temporary SQLite file
/// and labels it `production`, for the cached resolve and render path.
async fn production_registry(
    folder: &Path,
    data: &Value,
) -> Result<Registry, llmops_registry::RegistryError> {
    let url = format!("sqlite://{}", folder.join("registry.db").display());
    let store = Store::connect(&url)
        .await
        .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    let registry = Registry::open(store).await?;
    let messages = data["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|message| llmops_registry::ChatMessage {
            role: match message["role"].as_str() {
                Some("system") => llmops_registry::Role::System,
                _ => llmops_registry::Role::User,
            },
            content: message["content"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    let mut content = llmops_registry::PromptContent::chat(messages);
    for (name, kind, default) in [
        ("assistant_name", VariableType::String, None),
        ("company", VariableType::String, None),
        ("tone", VariableType::String, Some(json!("neutral"))),
        ("strict", VariableType::Boolean, Some(json!(false))),
        ("documents", VariableType::List, None),
        ("question", VariableType::String, None),
    ] {
        content.variables.insert(
            name.to_owned(),
            llmops_registry::VariableSpec {
                kind,
                required: default.is_none(),
                default,
                description: None,
            },
        );
    }
    let published = registry.publish(PROMPT_NAME, &content, "bench").await?;
    registry
        .set_label(&LabelMove {
            prompt: PROMPT_NAME,
            label: "production",
            version: published.version,
            actor: "bench",
            reason: "render benchmark",
        })
        .await?;
    Ok(registry)
}

/// Times [`RENDERS`] cached resolves of the `production` label, each
/// followed by a render of the version it returns.
fn time_registry_path(variables: &Map<String, Value>) -> Timing {
    let text = std::fs::read_to_string(data_path()).unwrap_or_default();
    let data: Value = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}"));
    let folder = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|error| panic!("{error}"));
    let values: std::collections::BTreeMap<String, Value> = variables
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    runtime.block_on(async {
        let registry = production_registry(folder.path(), &data)
            .await
            .unwrap_or_else(|error| panic!("{error}"));
        let selector = Selector::Label("production".to_owned());
        let mut best = Timing {
            wall: Duration::MAX,
            cpu: Duration::MAX,
        };
        for _ in 0..REPETITIONS {
            let (start, start_cpu) = (Instant::now(), cpu_time::ThreadTime::now());
            for _ in 0..RENDERS {
                let version = registry.get(PROMPT_NAME, &selector).await;
                let version = version.unwrap_or_else(|error| panic!("{error}"));
                let _ = black_box(llmops_registry::render(&version, black_box(&values)));
            }
            best.wall = best.wall.min(start.elapsed());
            best.cpu = best.cpu.min(start_cpu.elapsed());
        }
        best
    })
}

fn compare_with_python() {
    let (prompt, variables) = load();
    let Ok(RenderedPrompt::Chat(messages)) = prompt.render(&variables) else {
        panic!("the benchmark prompt must render to chat messages");
    };
    let best = best_of(|| {
        let _ = black_box(prompt.render(black_box(&variables)));
    });
    // The baseline in the same run: MiniJinja alone, building its context
    // from the same variables and evaluating both templates, which is what
    // every render cost before plain templates got the direct renderer.
    let (environment, count) = minijinja_environment();
    let minijinja_best = best_of(|| {
        let context = minijinja_context(black_box(&variables));
        for index in 0..count {
            let template = environment.get_template(&format!("part-{index}"));
            let _ = black_box(template.and_then(|template| template.render(&context)));
        }
    });
    let registry_best = time_registry_path(&variables);
    println!(
        "\ncached resolve + render through the registry, best of {REPETITIONS} x {RENDERS}: \
         {:.3} us ({:.3} us CPU)",
        per_render_us(registry_best.wall),
        per_render_us(registry_best.cpu),
    );
    println!(
        "\nplain loop, best of {REPETITIONS} x {RENDERS}: llmops {:.3} us/render \
         ({:.3} us CPU), MiniJinja alone {:.3} us/render ({:.3} us CPU), \
         {:.1}x wall, {:.1}x CPU",
        per_render_us(best.wall),
        per_render_us(best.cpu),
        per_render_us(minijinja_best.wall),
        per_render_us(minijinja_best.cpu),
        minijinja_best.wall.as_secs_f64() / best.wall.as_secs_f64(),
        minijinja_best.cpu.as_secs_f64() / best.cpu.as_secs_f64(),
    );
    let results = json!({
        "renders": RENDERS,
        "repetitions": REPETITIONS,
        "seconds_per_render": best.wall.as_secs_f64() / f64::from(RENDERS),
        "cpu_seconds_per_render": best.cpu.as_secs_f64() / f64::from(RENDERS),
        "outputs": messages.iter().map(|message| message.text()).collect::<Vec<_>>(),
    });
    let results_path =
        std::env::temp_dir().join(format!("llmops-render-bench-{}.json", std::process::id()));
    if let Err(error) = std::fs::write(&results_path, results.to_string()) {
        panic!("cannot write {}: {error}", results_path.display());
    }

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/python/jinja2_compare.py");
    let status = Command::new("python3")
        .arg(&script)
        .arg("--rust-results")
        .arg(&results_path)
        .arg("--data")
        .arg(data_path())
        .status();
    let _ = std::fs::remove_file(&results_path);
    match status {
        Ok(status) if status.success() => {}
        // The script exits with 3 when Python Jinja2 is not installed.
        Ok(status) if status.code() == Some(3) => {
            eprintln!("side-by-side comparison skipped: Python Jinja2 is not available")
        }
        Ok(status) => {
            eprintln!("side-by-side comparison failed ({status})");
            std::process::exit(1);
        }
        Err(error) => eprintln!("side-by-side comparison skipped: cannot run python3: {error}"),
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();

    // `cargo bench` passes --bench; `cargo test --benches` does not, and
    // then only the Criterion group runs, once.
    if std::env::args().any(|arg| arg == "--bench") {
        compare_with_python();
    }
}
