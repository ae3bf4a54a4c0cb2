//! A snapshot source and feedback sink the tests control, and a dashboard
//! server on a loopback port.

#![allow(dead_code)]

pub(crate) mod browser;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use llmops_monitor::dashboard::{DashboardState, router};
use llmops_monitor::{
    AlertState, AlertStatus, Breakdown, BudgetStatus, CachePanel, CostAlternative, CostPanel,
    DriftMeasure, DriftSummary, FallbackPanel, Feedback, FeedbackSink, FeedbackSummary,
    HallucinationRow, LatencyPanel, MonitorError, NamedCount, OversightItem, OversightSummary,
    Panel, Point, QualitySummary, ScoreRow, Snapshot, SnapshotSource, TopicShare, TrafficPanel,
    VersionFeedback, Window,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A model name that would run a script if the page parsed it as HTML.
pub(crate) const HOSTILE_MODEL: &str = "<script>window.__injected=1</script><b>gpt</b>";

/// Returns a snapshot with data in every panel; `requests` sets the
/// traffic count and scales the series.
pub(crate) fn full_snapshot(window: Window, requests: u64) -> Snapshot {
    let start_ms = 1_780_000_000_000;
    let series: Vec<Point> = (0..60u64)
        .map(|index| Point {
            t_ms: start_ms + index * window.millis() / 60,
            requests: (index % 7 + 1) * requests / 10 + 1,
            errors: index % 3,
            p50_ms: Some(100.0 + index as f64),
            p95_ms: Some(250.0 + 2.0 * index as f64),
            p99_ms: if index == 30 {
                None
            } else {
                Some(400.0 + 3.0 * index as f64)
            },
            input_tokens: 1_000 + index * 10,
            output_tokens: 300 + index * 5,
            cost_usd: 0.01 * (index as f64 + 1.0),
        })
        .collect();
    let breakdown = |key: &str, cost_usd: f64| Breakdown {
        key: key.to_owned(),
        requests: 10,
        input_tokens: 1_000,
        output_tokens: 200,
        cost_usd,
    };
    Snapshot {
        generated_at_ms: start_ms + window.millis(),
        window,
        traffic: TrafficPanel {
            requests,
            errors: 7,
            rejected: 2,
            error_ratio: Some(7.0 / requests.max(1) as f64),
            requests_per_second: requests as f64 / (window.millis() as f64 / 1000.0),
            input_tokens: 123_456,
            output_tokens: 65_432,
            errors_by_class: vec![NamedCount {
                name: "rate_limited".into(),
                count: 7,
            }],
            series,
        },
        latency: LatencyPanel {
            p50_ms: Some(120.5),
            p90_ms: Some(300.0),
            p95_ms: Some(350.0),
            p99_ms: Some(900.0),
            ttft_p50_ms: Some(80.0),
            ttft_p99_ms: None,
        },
        cost: CostPanel {
            total_usd: 12.5,
            by_model: vec![
                breakdown(HOSTILE_MODEL, 10.0),
                breakdown("claude-haiku", 2.5),
            ],
            by_team: vec![breakdown("search", 8.0), breakdown("support", 4.5)],
            by_prompt_version: vec![breakdown("faq@3", 6.0)],
            budgets: vec![BudgetStatus {
                scope: "team:search".into(),
                period: "day".into(),
                limit_usd: 10.0,
                spent_usd: 8.0,
                projected_usd: 14.0,
            }],
            projected_month_end_usd: 321.75,
            alternatives: vec![CostAlternative {
                model: "gpt-4o-mini".into(),
                cost_usd: 1.25,
                ratio: Some(0.1),
            }],
        },
        cache: CachePanel {
            hits: 25,
            lookups: 100,
            hit_ratio: Some(0.25),
        },
        fallbacks: FallbackPanel {
            requests_with_fallback: 4,
            by_reason: vec![NamedCount {
                name: "timeout".into(),
                count: 4,
            }],
        },
        guard_findings: vec![NamedCount {
            name: "email".into(),
            count: 9,
        }],
        quality: Panel::Ok {
            data: QualitySummary {
                scores: vec![ScoreRow {
                    prompt: "faq".into(),
                    version: 3,
                    metric: "groundedness".into(),
                    mean: 0.82,
                    count: 40,
                    feedback_mean: Some(4.5),
                }],
                hallucination: vec![HallucinationRow {
                    model: "claude-haiku".into(),
                    prompt_version: Some("faq@3".into()),
                    scored: 40,
                    rate: 0.075,
                }],
                feedback: vec![VersionFeedback {
                    prompt: "faq".into(),
                    version: 3,
                    count: 2,
                    mean_rating: 4.5,
                    positive_ratio: 1.0,
                    latest_comments: vec!["clear answer".into()],
                }],
            },
        },
        drift: Panel::Ok {
            data: DriftSummary {
                baseline: "march".into(),
                created_at_ms: start_ms,
                severity: "warning".into(),
                measures: vec![DriftMeasure {
                    name: "js_divergence".into(),
                    value: 0.12,
                    threshold: Some(0.1),
                }],
                topics: vec![
                    TopicShare {
                        label: "billing invoice refund".into(),
                        baseline: 0.4,
                        current: 0.2,
                    },
                    TopicShare {
                        label: "Passwort zurücksetzen 🔑".into(),
                        baseline: 0.6,
                        current: 0.8,
                    },
                ],
            },
        },
        oversight: Panel::Ok {
            data: OversightSummary {
                pending: 3,
                oldest_pending_age_s: Some(5_400),
                items: vec![OversightItem {
                    id: "rev-1".into(),
                    kind: "output_guard".into(),
                    status: "pending".into(),
                    created_at_ms: start_ms,
                }],
            },
        },
        feedback: Panel::Ok {
            data: FeedbackSummary {
                count: 1,
                mean_rating: Some(2.0),
                recent: vec![Feedback {
                    request_id: "gw-42".into(),
                    rating: 2,
                    comment: Some("<img src=x onerror=alert(1)> wrong answer".into()),
                    prompt: Some("faq".into()),
                    prompt_version: Some(3),
                    created_at_ms: start_ms,
                }],
            },
        },
        alerts: vec![AlertState {
            rule: "error_ratio_high".into(),
            status: AlertStatus::Firing,
            value: Some(0.2),
            threshold: 0.05,
            since_ms: start_ms,
        }],
    }
}

/// A source whose snapshot the test replaces; counts its calls.
pub(crate) struct TestSource {
    pub(crate) snapshot: Mutex<Snapshot>,
    pub(crate) calls: AtomicU64,
    pub(crate) last_window: Mutex<Option<Window>>,
}

impl TestSource {
    pub(crate) fn new(snapshot: Snapshot) -> Arc<Self> {
        Arc::new(TestSource {
            snapshot: Mutex::new(snapshot),
            calls: AtomicU64::new(0),
            last_window: Mutex::new(None),
        })
    }

    pub(crate) fn set(&self, snapshot: Snapshot) {
        *self.snapshot.lock().unwrap() = snapshot;
    }

    pub(crate) fn last_window(&self) -> Option<Window> {
        *self.last_window.lock().unwrap()
    }

    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SnapshotSource for TestSource {
    async fn snapshot(&self, window: Window) -> Snapshot {
        self.calls.fetch_add(1, Ordering::SeqCst);
        *self.last_window.lock().unwrap() = Some(window);
        let mut snapshot = self.snapshot.lock().unwrap().clone();
        snapshot.window = window;
        snapshot
    }
}

/// A sink that accepts the request ids it was created with and keeps what
/// it stores.
pub(crate) struct TestSink {
    pub(crate) known: Vec<String>,
    pub(crate) stored: Mutex<Vec<Feedback>>,
}

impl TestSink {
    pub(crate) fn new(known: &[&str]) -> Arc<Self> {
        Arc::new(TestSink {
            known: known.iter().map(|id| (*id).to_owned()).collect(),
            stored: Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl FeedbackSink for TestSink {
    async fn submit(&self, mut feedback: Feedback) -> Result<Feedback, MonitorError> {
        if !self.known.contains(&feedback.request_id) {
            return Err(MonitorError::Invalid {
                field: "request_id",
                value: feedback.request_id,
                fix: "use the id of a recorded request".into(),
            });
        }
        feedback.prompt = Some("faq".into());
        feedback.prompt_version = Some(3);
        self.stored.lock().unwrap().push(feedback.clone());
        Ok(feedback)
    }
}

/// A dashboard on `127.0.0.1:0`, stopped by [`Running::stop`].
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) state: DashboardState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Closes the streams, shuts the server down and waits for it.
    pub(crate) async fn stop(mut self) {
        self.state.close_streams();
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// Serves [`router`] over `state` on a loopback port with graceful shutdown.
pub(crate) async fn serve(state: DashboardState) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let app = router(state.clone());
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown_rx.await;
            })
            .await
    });
    Running {
        addr,
        state,
        shutdown: Some(shutdown_tx),
        task: Some(task),
    }
}
