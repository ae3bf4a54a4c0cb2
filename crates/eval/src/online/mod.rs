//! Online evaluation: score a sample of live gateway traffic with the
//! expensive metrics (LLM judges) in the background.
//!
//! [`OnlineEvaluator`] is a [`PostCallHook`]. For each successful request
//! it decides by a hash of the request id whether the request is sampled
//! ([`should_sample`]: reproducible, exact at rates 0 and 1), and puts
//! sampled requests on a bounded queue. When the queue is full the request
//! is dropped and counted; the hook never waits, so scoring never delays
//! or blocks traffic. Worker tasks score each queued request with every
//! configured metric and hand the scores to a [`ScoreSink`], such as
//! [`RegistryScoreSink`] (feature `registry`), which attaches them to the
//! prompt version.
//!
//! The judged case is built from the request: its `input` is the text of
//! the last user message, its output the completion's text. The prompt
//! version comes from two request `metadata` keys set by the caller that
//! rendered the prompt: [`PROMPT_METADATA_KEY`] (`llmops_prompt`, the
//! prompt name) and [`PROMPT_VERSION_METADATA_KEY`]
//! (`llmops_prompt_version`, a number or numeric string).

mod sink;

#[cfg(feature = "registry")]
mod registry_sink;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use llmops_core::types::{ChatCompletion, ChatRequest, Role};
use llmops_gateway::{CallContext, PostCallHook, RequestRecord};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::dataset::Case;
use crate::error::{EvalError, Result};
use crate::metric::{Metric, Sample};

#[cfg(feature = "registry")]
pub use registry_sink::RegistryScoreSink;
pub use sink::{OnlineScore, PromptVersionRef, ScoreSink};

/// The request metadata key naming the prompt a request was rendered from.
pub const PROMPT_METADATA_KEY: &str = "llmops_prompt";

/// The request metadata key holding the prompt's version number.
pub const PROMPT_VERSION_METADATA_KEY: &str = "llmops_prompt_version";

/// Sampling rate, queue size and scoring concurrency of online evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineConfig {
    sample_rate: f64,
    queue_capacity: usize,
    concurrency: usize,
}

impl OnlineConfig {
    /// Creates a configuration sampling `sample_rate` of requests, from 0
    /// (none) to 1 (all), with a queue of 1,000 requests scored 4 at a
    /// time.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `sample_rate` is not in 0 to 1.
    pub fn new(sample_rate: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&sample_rate) {
            return Err(EvalError::InvalidParameter {
                name: "sample_rate",
                value: sample_rate.to_string(),
                reason: "use a fraction from 0 to 1, such as 0.05 for 5% of requests".to_owned(),
            });
        }
        Ok(OnlineConfig {
            sample_rate,
            queue_capacity: 1_000,
            concurrency: 4,
        })
    }

    /// Sets how many sampled requests may wait for scoring (default:
    /// 1,000); more are dropped.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `capacity` is 0.
    pub fn queue_capacity(mut self, capacity: usize) -> Result<Self> {
        self.queue_capacity = positive("queue_capacity", capacity)?;
        Ok(self)
    }

    /// Sets how many requests are scored at once (default: 4).
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `concurrency` is 0.
    pub fn concurrency(mut self, concurrency: usize) -> Result<Self> {
        self.concurrency = positive("concurrency", concurrency)?;
        Ok(self)
    }

    /// Returns the sampling rate.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }
}

fn positive(name: &'static str, value: usize) -> Result<usize> {
    if value == 0 {
        return Err(EvalError::InvalidParameter {
            name,
            value: value.to_string(),
            reason: "use 1 or more".to_owned(),
        });
    }
    Ok(value)
}

/// Returns whether the request with `request_id` is in the sample at
/// `sample_rate`.
///
/// The decision compares the first 8 bytes of the id's SHA-256, read as a
/// fraction of 2^64, with the rate, so it is the same on every run and
/// every process. Rate 0 samples nothing and rate 1 everything.
pub fn should_sample(request_id: &str, sample_rate: f64) -> bool {
    if sample_rate <= 0.0 {
        return false;
    }
    if sample_rate >= 1.0 {
        return true;
    }
    let digest = Sha256::digest(request_id.as_bytes());
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    #[allow(clippy::cast_precision_loss)]
    let fraction = u64::from_be_bytes(prefix) as f64 / 18_446_744_073_709_551_616.0;
    fraction < sample_rate
}

/// Counts of what the online evaluator did since it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct OnlineStats {
    /// Successful requests the hook saw.
    pub seen: u64,
    /// Requests in the sample.
    pub sampled: u64,
    /// Sampled requests dropped because the queue was full or closed.
    pub dropped: u64,
    /// Requests whose scoring finished.
    pub scored: u64,
    /// Scores the sink failed to store.
    pub sink_errors: u64,
}

#[derive(Default)]
struct Counters {
    seen: AtomicU64,
    sampled: AtomicU64,
    dropped: AtomicU64,
    scored: AtomicU64,
    sink_errors: AtomicU64,
}

struct Job {
    request_id: String,
    prompt: Option<PromptVersionRef>,
    model: String,
    case: Case,
    output: String,
}

struct Scorer {
    metrics: Vec<Arc<dyn Metric>>,
    sink: Arc<dyn ScoreSink>,
    counters: Arc<Counters>,
}

/// A gateway post-call hook that scores a sample of requests in the
/// background; see the [module documentation](self).
pub struct OnlineEvaluator {
    config: OnlineConfig,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    worker: tokio::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for OnlineEvaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineEvaluator")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl OnlineEvaluator {
    /// Starts the evaluator's worker on the current Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] when `metrics` is empty or no Tokio
    /// runtime is running.
    pub fn start(
        config: OnlineConfig,
        metrics: Vec<Arc<dyn Metric>>,
        sink: Arc<dyn ScoreSink>,
    ) -> Result<Self> {
        if metrics.is_empty() {
            return Err(EvalError::InvalidParameter {
                name: "metrics",
                value: "[]".to_owned(),
                reason: "give online evaluation at least one metric, such as a judge".to_owned(),
            });
        }
        let runtime =
            tokio::runtime::Handle::try_current().map_err(|error| EvalError::InvalidParameter {
                name: "runtime",
                value: error.to_string(),
                reason: "start online evaluation inside a Tokio runtime".to_owned(),
            })?;
        let counters = Arc::new(Counters::default());
        let (sender, receiver) = mpsc::channel(config.queue_capacity);
        let scorer = Arc::new(Scorer {
            metrics,
            sink,
            counters: Arc::clone(&counters),
        });
        let worker = runtime.spawn(run_worker(receiver, scorer, config.concurrency));
        tracing::info!(
            sample_rate = config.sample_rate,
            queue_capacity = config.queue_capacity,
            "online evaluation started"
        );
        Ok(OnlineEvaluator {
            config,
            sender: Mutex::new(Some(sender)),
            worker: tokio::sync::Mutex::new(Some(worker)),
            counters,
        })
    }

    /// Returns the counts so far.
    pub fn stats(&self) -> OnlineStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        OnlineStats {
            seen: load(&self.counters.seen),
            sampled: load(&self.counters.sampled),
            dropped: load(&self.counters.dropped),
            scored: load(&self.counters.scored),
            sink_errors: load(&self.counters.sink_errors),
        }
    }

    /// Stops taking requests and waits until every queued request is
    /// scored. Requests seen afterwards count as dropped.
    pub async fn shutdown(&self) {
        self.sender
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let worker = self.worker.lock().await.take();
        if let Some(worker) = worker {
            if let Err(error) = worker.await {
                tracing::error!(%error, "online evaluation worker failed");
            }
        }
        tracing::info!(stats = ?self.stats(), "online evaluation stopped");
    }

    fn enqueue(&self, job: Job) {
        let sent = {
            let sender = self.sender.lock().unwrap_or_else(PoisonError::into_inner);
            match sender.as_ref() {
                Some(sender) => sender.try_send(job).is_ok(),
                None => false,
            }
        };
        if !sent {
            let dropped = self.counters.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            // Log the first drop and then every 1,000th, so a sustained
            // overload does not flood the log.
            if dropped == 1 || dropped % 1_000 == 0 {
                tracing::warn!(
                    dropped,
                    queue_capacity = self.config.queue_capacity,
                    "online evaluation queue full, dropping sampled requests"
                );
            }
        }
    }
}

#[async_trait]
impl PostCallHook for OnlineEvaluator {
    fn name(&self) -> &str {
        "online-eval"
    }

    async fn after_call(
        &self,
        request: &ChatRequest,
        _context: &CallContext,
        completion: Option<&ChatCompletion>,
        record: &RequestRecord,
    ) {
        let Some(completion) = completion else {
            return;
        };
        self.counters.seen.fetch_add(1, Ordering::Relaxed);
        if !should_sample(&record.id, self.config.sample_rate) {
            return;
        }
        self.counters.sampled.fetch_add(1, Ordering::Relaxed);
        let input = request
            .messages
            .iter()
            .rev()
            .find(|message| message.role == Role::User)
            .map(|message| message.text())
            .unwrap_or_default();
        let job = Job {
            request_id: record.id.clone(),
            prompt: prompt_version(request),
            model: record
                .upstream_model
                .clone()
                .unwrap_or_else(|| request.model.clone()),
            case: Case::new(record.id.clone(), input),
            output: completion.text(),
        };
        self.enqueue(job);
    }
}

/// Reads the prompt name and version from the request metadata.
fn prompt_version(request: &ChatRequest) -> Option<PromptVersionRef> {
    let metadata = request.metadata.as_ref()?;
    let name = metadata.get(PROMPT_METADATA_KEY)?.as_str()?.to_owned();
    let version = match metadata.get(PROMPT_VERSION_METADATA_KEY)? {
        serde_json::Value::Number(number) => u32::try_from(number.as_u64()?).ok()?,
        serde_json::Value::String(text) => text.trim().parse().ok()?,
        _ => return None,
    };
    Some(PromptVersionRef { name, version })
}

async fn run_worker(mut receiver: mpsc::Receiver<Job>, scorer: Arc<Scorer>, concurrency: usize) {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = JoinSet::new();
    loop {
        // Take a permit before a job, so jobs wait in the bounded queue
        // (where overflow is dropped) rather than piling up here.
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        let Some(job) = receiver.recv().await else {
            break;
        };
        let scorer = Arc::clone(&scorer);
        tasks.spawn(async move {
            scorer.score(job).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

impl Scorer {
    async fn score(&self, job: Job) {
        let sample = Sample::new(&job.case, &job.output);
        let scores = futures::future::join_all(
            self.metrics
                .iter()
                .map(|metric| async { (metric.name().to_owned(), metric.score(&sample).await) }),
        )
        .await;
        for (metric, score) in scores {
            let online = OnlineScore {
                request_id: job.request_id.clone(),
                prompt: job.prompt.clone(),
                model: job.model.clone(),
                metric,
                score,
            };
            if let Err(error) = self.sink.record(&online).await {
                self.counters.sink_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(request_id = %online.request_id, metric = %online.metric, %error, "online score not stored");
            }
        }
        self.counters.scored.fetch_add(1, Ordering::Relaxed);
    }
}
