//! Helpers of the browser tests: chromedriver on a loopback port, a
//! headless Chromium session, and polling the page.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// How long a change of the source may take to show in the page. A
/// functional deadline (the stream sends every 200 ms here), not a
/// performance measurement.
pub(crate) const LIVE_DEADLINE: Duration = Duration::from_secs(2);

/// How long the page and the browser get to start.
pub(crate) const START_DEADLINE: Duration = Duration::from_secs(30);

/// Finds an executable: `variable` when set, else the first of `names` on
/// `PATH`.
pub(crate) fn find_program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|path| path.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|directory| names.iter().map(move |name| directory.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver process, killed on drop.
pub(crate) struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts chromedriver on a free loopback port and waits until it is ready.
pub(crate) async fn start_driver(program: &PathBuf) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(program)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + START_DEADLINE;
    let status = format!("{}/status", driver.url);
    loop {
        let ready = match reqwest::get(&status).await {
            Ok(response) => response
                .json::<Value>()
                .await
                .is_ok_and(|body| body["value"]["ready"] == true),
            Err(_) => false,
        };
        if ready {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens a headless Chromium session at a laptop screen size.
pub(crate) async fn open_browser(driver: &Driver, chromium: &PathBuf) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1366,768",
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap()
}

/// Runs `script` (a function body that returns a value) in the page.
pub(crate) async fn run(browser: &Client, script: &str) -> Value {
    browser.execute(script, Vec::new()).await.unwrap()
}

/// Polls `script` until it returns `expected`, failing after `deadline`
/// with the last value.
pub(crate) async fn wait_for(browser: &Client, script: &str, expected: Value, deadline: Duration) {
    let until = Instant::now() + deadline;
    loop {
        let value = run(browser, script).await;
        if value == expected {
            return;
        }
        assert!(
            Instant::now() < until,
            "after {deadline:?}: `{script}` returned {value}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Returns the rendered text of the element `selector` matches. One script
/// call finds and reads it, so a redraw between the two cannot leave a
/// stale element reference.
pub(crate) async fn text(browser: &Client, selector: &str) -> String {
    let value = browser
        .execute(
            "const element = document.querySelector(arguments[0]); \
             return element === null ? null : element.innerText;",
            vec![serde_json::Value::String(selector.to_owned())],
        )
        .await
        .unwrap_or_else(|error| panic!("{selector}: {error}"));
    match value {
        serde_json::Value::String(text) => text,
        other => panic!("{selector}: no such element ({other})"),
    }
}

/// Starts chromedriver and a headless Chromium session. Returns none, after
/// printing why, when either program is missing.
///
/// # Panics
///
/// When a program is missing and the `CI` variable is set, or when one
/// fails to start.
pub(crate) async fn launch() -> Option<(Driver, Client)> {
    let chromium = find_program("LLMOPS_CHROMIUM", &["chromium", "chromium-browser"]);
    let chromedriver = find_program("LLMOPS_CHROMEDRIVER", &["chromedriver"]);
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        let reason = "the browser test needs chromium and chromedriver (Debian packages \
                      chromium and chromium-driver) on PATH, or LLMOPS_CHROMIUM and \
                      LLMOPS_CHROMEDRIVER";
        if std::env::var_os("CI").is_some() {
            panic!("CI is set but {reason}");
        }
        eprintln!("skipped: {reason}");
        return None;
    };

    let driver = start_driver(&chromedriver).await;
    let browser = open_browser(&driver, &chromium).await;
    Some((driver, browser))
}

/// Fills the feedback form and submits it.
pub(crate) async fn fill_feedback(browser: &Client, request_id: &str, rating: &str, comment: &str) {
    browser
        .execute(
            "document.getElementById('fb-request-id').value = arguments[0]; \
             document.getElementById('fb-rating').value = arguments[1]; \
             document.getElementById('fb-comment').value = arguments[2]; \
             document.getElementById('fb-result').dataset.state = 'idle';",
            vec![json!(request_id), json!(rating), json!(comment)],
        )
        .await
        .unwrap();
    browser
        .find(Locator::Css("#feedback-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}
