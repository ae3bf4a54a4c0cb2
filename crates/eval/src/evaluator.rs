//! The evaluator: runs a model over a dataset and scores every output.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use llmops_core::ModelBackend;
use llmops_core::pricing::PriceTable;
use llmops_core::types::{ChatCompletion, ChatMessage, ChatRequest};

use rust_decimal::Decimal;
use tracing::{debug, info, warn};

use crate::dataset::{Case, Dataset};
use crate::error::{EvalError, Result};
use crate::metric::{Metric, Sample};
use crate::result::{CaseResult, EvalRun, RunInfo};
use crate::score::{DetailedScore, Score};
use crate::store::ResultStore;

/// Builds the chat request for a case; the default sends the case input as
/// one user message. A registry prompt version renders here.
pub type RequestBuilder = Arc<dyn Fn(&Case, &str) -> ChatRequest + Send + Sync>;

/// Runs a [`ModelBackend`] over a [`Dataset`] and scores the outputs with
/// [`Metric`]s.
///
/// Cases run concurrently up to a limit; calls that fail with a retryable
/// error are retried with exponential backoff. With a [`ResultStore`],
/// finished cases are saved in batches and a run started again with the
/// same run id skips them, so they are neither re-run nor re-billed.
pub struct Evaluator {
    backend: Arc<dyn ModelBackend>,
    model: String,
    metrics: Vec<Arc<dyn Metric>>,
    concurrency: usize,
    max_attempts: u32,
    initial_backoff: Duration,
    progress: bool,
    store: Option<ResultStore>,
    save_batch: usize,
    save_interval: Duration,
    prompt_version: Option<String>,
    request_builder: RequestBuilder,
    prices: Option<Arc<PriceTable>>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("model", &self.model)
            .field(
                "metrics",
                &self.metrics.iter().map(|m| m.name()).collect::<Vec<_>>(),
            )
            .field("concurrency", &self.concurrency)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Evaluator {
    /// Creates an evaluator for one model on one backend, with concurrency
    /// 8, 3 attempts per case, no progress bar and no store.
    pub fn new(backend: Arc<dyn ModelBackend>, model: impl Into<String>) -> Self {
        Evaluator {
            backend,
            model: model.into(),
            metrics: Vec::new(),
            concurrency: 8,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            progress: false,
            store: None,
            save_batch: 32,
            save_interval: Duration::from_secs(1),
            prompt_version: None,
            request_builder: Arc::new(|case: &Case, model: &str| {
                ChatRequest::new(model, vec![ChatMessage::user(case.input.clone())])
            }),
            prices: None,
        }
    }

    /// Adds a metric.
    pub fn metric(mut self, metric: impl Metric + 'static) -> Self {
        self.metrics.push(Arc::new(metric));
        self
    }

    /// Adds a shared metric.
    pub fn metric_arc(mut self, metric: Arc<dyn Metric>) -> Self {
        self.metrics.push(metric);
        self
    }

    /// Sets how many cases run at once (at least 1; default 8).
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// Sets the attempts per case, first call included (at least 1;
    /// default 3), and the wait before the first retry (default 200 ms,
    /// doubled per retry, or the provider's `Retry-After`).
    pub fn retries(mut self, max_attempts: u32, initial_backoff: Duration) -> Self {
        self.max_attempts = max_attempts.max(1);
        self.initial_backoff = initial_backoff;
        self
    }

    /// Shows a progress bar on standard error; off by default.
    pub fn progress(mut self, progress: bool) -> Self {
        self.progress = progress;
        self
    }

    /// Saves results to a store and resumes from it.
    pub fn store(mut self, store: ResultStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Sets how many finished cases are saved per transaction (at least 1;
    /// default 32).
    pub fn save_batch(mut self, save_batch: usize) -> Self {
        self.save_batch = save_batch.max(1);
        self
    }

    /// Sets how long a finished case may wait for its batch to fill before
    /// it is saved anyway (default 1 s). An interruption such as Ctrl-C
    /// loses only the cases that finished within this interval, so slow
    /// model calls are saved one by one and fast ones in batches.
    pub fn save_interval(mut self, interval: Duration) -> Self {
        self.save_interval = interval;
        self
    }

    /// Records the prompt version evaluated, for example `support@3`.
    pub fn prompt_version(mut self, prompt_version: impl Into<String>) -> Self {
        self.prompt_version = Some(prompt_version.into());
        self
    }

    /// Replaces how a case becomes a chat request; the closure receives the
    /// case and the model name.
    pub fn request_builder(
        mut self,
        builder: impl Fn(&Case, &str) -> ChatRequest + Send + Sync + 'static,
    ) -> Self {
        self.request_builder = Arc::new(builder);
        self
    }

    /// Prices each call from its usage with this table.
    pub fn prices(mut self, prices: Arc<PriceTable>) -> Self {
        self.prices = Some(prices);
        self
    }

    /// Describes a run of this evaluator over `dataset`.
    pub fn run_info(&self, run_id: impl Into<String>, dataset: &Dataset) -> RunInfo {
        RunInfo {
            run_id: run_id.into(),
            dataset: dataset.name().to_owned(),
            dataset_version: dataset.version().to_owned(),
            model: self.model.clone(),
            prompt_version: self.prompt_version.clone(),
            metrics: self
                .metrics
                .iter()
                .map(|metric| (metric.name().to_owned(), metric.range()))
                .collect(),
        }
    }

    /// Runs every case not yet stored under `run_id` and returns the whole
    /// run, stored results included, in dataset order.
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidParameter`] for two metrics with one name,
    /// [`EvalError::IncomparableRuns`] when `run_id` is stored for another
    /// dataset version or model, and [`EvalError::Store`] when saving
    /// fails. Model failures are not errors: they are recorded in
    /// [`CaseResult::error`] and are not saved, so a resumed run retries
    /// them.
    pub async fn run(&self, run_id: &str, dataset: &Dataset) -> Result<EvalRun> {
        self.check_metric_names()?;
        let info = self.run_info(run_id, dataset);
        let mut finished = match &self.store {
            Some(store) => {
                store.begin_run(&info).await?;
                store.results(run_id).await?
            }
            None => Default::default(),
        };
        let pending: Vec<&Case> = dataset
            .cases()
            .iter()
            .filter(|case| !finished.contains_key(&case.id))
            .collect();
        info!(run_id, model = %self.model, cases = dataset.cases().len(), pending = pending.len(), "evaluation started");

        let bar = self.progress_bar(pending.len());
        let mut outcomes = futures::stream::iter(pending)
            .map(|case| self.evaluate_case(case))
            .buffer_unordered(self.concurrency);
        let mut unsaved = Vec::new();
        let mut saved_at = Instant::now();
        loop {
            let next = if unsaved.is_empty() {
                outcomes.next().await
            } else {
                // Waiting on the stream is cancel-safe, so a timeout loses
                // no case.
                let deadline = saved_at + self.save_interval;
                match tokio::time::timeout_at(deadline.into(), outcomes.next()).await {
                    Ok(next) => next,
                    Err(_elapsed) => {
                        self.save(run_id, &mut unsaved).await?;
                        saved_at = Instant::now();
                        continue;
                    }
                }
            };
            let Some(result) = next else { break };
            bar.inc(1);
            if result.error.is_none() {
                unsaved.push(result.clone());
            }
            finished.insert(result.case_id.clone(), result);
            if unsaved.len() >= self.save_batch || saved_at.elapsed() >= self.save_interval {
                self.save(run_id, &mut unsaved).await?;
                saved_at = Instant::now();
            }
        }
        self.save(run_id, &mut unsaved).await?;
        bar.finish_and_clear();

        let results: Vec<CaseResult> = dataset
            .cases()
            .iter()
            .filter_map(|case| finished.remove(&case.id))
            .collect();
        let run = EvalRun { info, results };
        info!(run_id, failed = run.failed_cases(), "evaluation finished");
        Ok(run)
    }

    fn check_metric_names(&self) -> Result<()> {
        let mut names = std::collections::HashSet::new();
        for metric in &self.metrics {
            if !names.insert(metric.name()) {
                return Err(EvalError::InvalidParameter {
                    name: "metric",
                    value: metric.name().to_owned(),
                    reason: "two metrics share this name; give each metric a unique name"
                        .to_owned(),
                });
            }
        }
        Ok(())
    }

    fn progress_bar(&self, cases: usize) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(cases as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {elapsed} elapsed, eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    }

    async fn save(&self, run_id: &str, unsaved: &mut Vec<CaseResult>) -> Result<()> {
        if let Some(store) = &self.store {
            store.save_results(run_id, unsaved).await?;
            debug!(run_id, saved = unsaved.len(), "case results saved");
        }
        unsaved.clear();
        Ok(())
    }

    async fn evaluate_case(&self, case: &Case) -> CaseResult {
        let request = (self.request_builder)(case, &self.model);
        let started = Instant::now();
        let completion = self.complete_with_retries(request, &case.id).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

        let completion = match completion {
            Ok(completion) => completion,
            Err(error) => {
                let message = error.to_string();
                let scores = self
                    .metrics
                    .iter()
                    .map(|metric| {
                        let reason = format!("the model call failed: {message}");
                        (metric.name().to_owned(), Score::undetermined(reason))
                    })
                    .collect();
                return CaseResult {
                    case_id: case.id.clone(),
                    tags: case.tags.clone(),
                    output: String::new(),
                    latency_ms: None,
                    cost_usd: None,
                    scores,
                    details: BTreeMap::new(),
                    error: Some(message),
                };
            }
        };

        let output = completion.text();
        let sample = Sample {
            case,
            output: &output,
            latency_ms: Some(latency_ms),
            cost_usd: self.cost(&completion),
        };
        let mut scores = BTreeMap::new();
        let mut details = BTreeMap::new();
        for metric in &self.metrics {
            let scored = checked_score(metric.as_ref(), &sample).await;
            let name = metric.name().to_owned();
            if let Some(detail) = scored.detail.filter(|detail| !detail.is_empty()) {
                details.insert(name.clone(), detail);
            }
            scores.insert(name, scored.score);
        }
        CaseResult {
            case_id: case.id.clone(),
            tags: case.tags.clone(),
            output: output.clone(),
            latency_ms: sample.latency_ms,
            cost_usd: sample.cost_usd,
            scores,
            details,
            error: None,
        }
    }

    fn cost(&self, completion: &ChatCompletion) -> Option<Decimal> {
        let prices = self.prices.as_ref()?;
        let usage = completion.usage.as_ref()?;
        let price = prices.get(&self.model)?;
        price.cost(usage).ok().map(|cost| cost.total_usd)
    }

    async fn complete_with_retries(
        &self,
        request: ChatRequest,
        case_id: &str,
    ) -> llmops_core::Result<ChatCompletion> {
        let mut backoff = self.initial_backoff;
        let mut attempt = 1;
        loop {
            match self.backend.complete(request.clone()).await {
                Ok(completion) => return Ok(completion),
                Err(error) if error.retry_may_help() && attempt < self.max_attempts => {
                    let wait = error.retry_after().unwrap_or(backoff);
                    warn!(case_id, attempt, model = %self.model, class = error.class(), "model call failed, retrying");
                    tokio::time::sleep(wait).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(error) => {
                    warn!(case_id, attempt, model = %self.model, class = error.class(), "model call failed");
                    return Err(error);
                }
            }
        }
    }
}

/// Scores a sample and turns a value outside the metric's range into an
/// undetermined score, so a faulty metric cannot skew means.
async fn checked_score(metric: &dyn Metric, sample: &Sample<'_>) -> DetailedScore {
    let scored = metric.score_detailed(sample).await;
    match scored.score.as_value() {
        Some(value) if !metric.range().contains(value) => DetailedScore {
            score: Score::undetermined(format!(
                "metric `{}` returned {value}, outside its range {}..={}",
                metric.name(),
                metric.range().min,
                metric.range().max
            )),
            detail: scored.detail,
        },
        _ => scored,
    }
}
