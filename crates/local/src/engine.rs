//! The generation loop, run on a dedicated thread per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use llmops_core::types::FinishReason;
use tokio::sync::mpsc;

use crate::decode::{StopMatcher, StopScan, Utf8Decoder};
use crate::error::LocalError;
use crate::llama::Session;
use crate::tokenizer::LocalTokenizer;
use crate::weights::LlamaWeights;

/// Prompt tokens run through the model per forward pass. Smaller chunks
/// bound the attention memory and let a dropped stream stop sooner.
const PREFILL_CHUNK_TOKENS: usize = 256;

/// The shared model state that generations run on.
pub(crate) struct Engine {
    pub(crate) weights: LlamaWeights,
    pub(crate) tokenizer: Arc<LocalTokenizer>,
    pub(crate) context_length: usize,
    /// The threads that split each matrix product's rows.
    pool: rayon::ThreadPool,
    /// Serializes forward passes: each one already uses every thread of
    /// the pool, so concurrent requests take turns token by token instead
    /// of contending for the cores.
    compute: Mutex<()>,
    running: AtomicUsize,
}

/// What one generation should do.
#[derive(Debug, Clone)]
pub(crate) struct GenerationParams {
    pub(crate) prompt: Vec<u32>,
    pub(crate) max_tokens: usize,
    pub(crate) sampling: Sampling,
    pub(crate) seed: u64,
    pub(crate) stop: Vec<String>,
    pub(crate) presence_penalty: f32,
    pub(crate) frequency_penalty: f32,
}

/// A message from the generation thread to the stream.
#[derive(Debug)]
pub(crate) enum GenerationEvent {
    /// New completion text.
    Text(String),
    /// Generation ended normally.
    Finished {
        reason: FinishReason,
        prompt_tokens: usize,
        completion_tokens: usize,
    },
    /// Generation failed; no further events follow.
    Failed(LocalError),
}

/// Timings of one generation, for the tracing event.
struct Timings {
    prompt: Duration,
    generation: Duration,
}

impl Engine {
    /// Creates the engine and its thread pool of `threads` threads (`None`:
    /// rayon's default, `RAYON_NUM_THREADS` or else one per logical CPU).
    pub(crate) fn new(
        weights: LlamaWeights,
        tokenizer: LocalTokenizer,
        context_length: usize,
        threads: Option<usize>,
    ) -> Result<Self, LocalError> {
        let mut builder =
            rayon::ThreadPoolBuilder::new().thread_name(|index| format!("llmops-local-{index}"));
        if let Some(threads) = threads {
            builder = builder.num_threads(threads);
        }
        let pool = builder.build().map_err(|error| {
            LocalError::inference(format!("cannot start the compute threads: {error}"))
        })?;
        Ok(Engine {
            weights,
            tokenizer: Arc::new(tokenizer),
            context_length,
            pool,
            compute: Mutex::new(()),
            running: AtomicUsize::new(0),
        })
    }

    /// Returns the number of compute threads.
    pub(crate) fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Returns the number of generations whose threads are running.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// Starts a generation on a new thread that sends its events to
    /// `events`; the thread stops at the next token once `events` closes.
    pub(crate) fn spawn(
        self: &Arc<Self>,
        params: GenerationParams,
        events: mpsc::Sender<GenerationEvent>,
    ) -> Result<(), LocalError> {
        let engine = Arc::clone(self);
        let span = tracing::Span::current();
        engine.running.fetch_add(1, Ordering::SeqCst);
        let spawned = std::thread::Builder::new()
            .name("llmops-local-generate".to_owned())
            .spawn(move || {
                let _entered = span.enter();
                engine.generate(params, &events);
                engine.running.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(_) => Ok(()),
            Err(error) => {
                self.running.fetch_sub(1, Ordering::SeqCst);
                Err(LocalError::inference(format!(
                    "cannot start the generation thread: {error}"
                )))
            }
        }
    }

    fn generate(&self, params: GenerationParams, events: &mpsc::Sender<GenerationEvent>) {
        let prompt_tokens = params.prompt.len();
        let mut run = Generation::new(self, &params);
        let outcome = run.run(events);
        match outcome {
            Ok(Some((reason, timings))) => {
                let completion_tokens = run.generated.len();
                log_finished(prompt_tokens, completion_tokens, &reason, &timings);
                let _ = events.blocking_send(GenerationEvent::Finished {
                    reason,
                    prompt_tokens,
                    completion_tokens,
                });
            }
            // The receiver was dropped: the caller cancelled the request.
            Ok(None) => tracing::debug!(
                completion_tokens = run.generated.len(),
                "local generation cancelled"
            ),
            Err(error) => {
                tracing::error!(error = %error, "local generation failed");
                let _ = events.blocking_send(GenerationEvent::Failed(error));
            }
        }
    }

    /// Runs one forward pass on the pool under the compute lock and
    /// returns the logits after the last token.
    fn forward(&self, session: &mut Session, ids: &[u32]) -> Result<Tensor, LocalError> {
        let _turn = self
            .compute
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let weights = &self.weights;
        let logits = self
            .pool
            .install(|| {
                session
                    .forward(weights, ids)
                    .map(|logits| Tensor::from_slice(logits, logits.len(), &Device::Cpu))
            })
            .map_err(LocalError::inference)?;
        logits.map_err(LocalError::inference)
    }
}

/// The state of one running generation.
struct Generation<'a> {
    engine: &'a Engine,
    params: &'a GenerationParams,
    session: Session,
    sampler: LogitsProcessor,
    decoder: Utf8Decoder,
    stops: StopMatcher,
    generated: Vec<u32>,
}

impl<'a> Generation<'a> {
    fn new(engine: &'a Engine, params: &'a GenerationParams) -> Self {
        // The KV cache contains the prompt and every generated token but the
        // last, which is sampled and never run.
        let capacity = (params.prompt.len() + params.max_tokens).min(engine.context_length);
        let session = Session::new(
            &engine.weights.params,
            capacity,
            PREFILL_CHUNK_TOKENS,
            engine.threads(),
        );
        Generation {
            engine,
            params,
            session,
            sampler: LogitsProcessor::from_sampling(params.seed, params.sampling.clone()),
            decoder: Utf8Decoder::default(),
            stops: StopMatcher::new(params.stop.clone()),
            generated: Vec::new(),
        }
    }

    /// Generates until a stop condition; returns `None` when the receiver
    /// is gone.
    fn run(
        &mut self,
        events: &mpsc::Sender<GenerationEvent>,
    ) -> Result<Option<(FinishReason, Timings)>, LocalError> {
        let started = Instant::now();
        let mut logits = None;
        for chunk in self.params.prompt.chunks(self.session.max_batch()) {
            if events.is_closed() {
                return Ok(None);
            }
            logits = Some(self.engine.forward(&mut self.session, chunk)?);
        }
        let Some(mut logits) = logits else {
            return Err(LocalError::inference("the prompt is empty"));
        };
        let prompt_done = Instant::now();
        let timings = |now: Instant| Timings {
            prompt: prompt_done - started,
            generation: now - prompt_done,
        };

        loop {
            let token = self.sample(&logits)?;
            self.generated.push(token);
            let engine = self.engine;
            let tokenizer = &engine.tokenizer;
            if tokenizer.is_end_of_turn(token) {
                return self.finish(events, FinishReason::Stop, timings(Instant::now()));
            }
            if !tokenizer.is_control(token) {
                let text = self.decoder.push(tokenizer.token_bytes(token));
                match self.stops.push(&text) {
                    StopScan::Continue(text) => {
                        if !send_text(events, text) {
                            return Ok(None);
                        }
                    }
                    StopScan::Stopped(text) => {
                        if !send_text(events, text) {
                            return Ok(None);
                        }
                        return Ok(Some((FinishReason::Stop, timings(Instant::now()))));
                    }
                }
            }
            if self.generated.len() >= self.params.max_tokens
                || self.session.position() >= self.engine.context_length
            {
                return self.finish(events, FinishReason::Length, timings(Instant::now()));
            }
            if events.is_closed() {
                return Ok(None);
            }
            logits = self.engine.forward(&mut self.session, &[token])?;
        }
    }

    /// Sends the text still held back, without the bytes of a character cut
    /// off by the token limit, and returns the finish reason.
    fn finish(
        &mut self,
        events: &mpsc::Sender<GenerationEvent>,
        reason: FinishReason,
        timings: Timings,
    ) -> Result<Option<(FinishReason, Timings)>, LocalError> {
        let dropped = self.decoder.discard_unfinished();
        if dropped > 0 {
            tracing::debug!(
                bytes = dropped,
                "left out an unfinished character at the end of the output"
            );
        }
        let text = self.stops.finish();
        Ok(send_text(events, text).then_some((reason, timings)))
    }

    fn sample(&mut self, logits: &Tensor) -> Result<u32, LocalError> {
        let penalties = self.params.presence_penalty != 0.0 || self.params.frequency_penalty != 0.0;
        if !penalties || self.generated.is_empty() {
            return self.sampler.sample(logits).map_err(LocalError::inference);
        }
        let mut values = logits.to_vec1::<f32>().map_err(LocalError::inference)?;
        apply_penalties(
            &mut values,
            &self.generated,
            self.params.presence_penalty,
            self.params.frequency_penalty,
        );
        let adjusted = Tensor::new(values, &Device::Cpu).map_err(LocalError::inference)?;
        self.sampler
            .sample(&adjusted)
            .map_err(LocalError::inference)
    }
}

/// Applies OpenAI's presence and frequency penalties over the generated
/// tokens: `logit -= presence * [count > 0] + frequency * count`.
pub(crate) fn apply_penalties(
    logits: &mut [f32],
    generated: &[u32],
    presence: f32,
    frequency: f32,
) {
    let mut counts = std::collections::HashMap::<u32, u32>::new();
    for &token in generated {
        *counts.entry(token).or_default() += 1;
    }
    for (token, count) in counts {
        if let Some(logit) = logits.get_mut(token as usize) {
            *logit -= presence + frequency * count as f32;
        }
    }
}

/// Sends non-empty text; returns false when the receiver is gone.
fn send_text(events: &mpsc::Sender<GenerationEvent>, text: String) -> bool {
    if text.is_empty() {
        return !events.is_closed();
    }
    events.blocking_send(GenerationEvent::Text(text)).is_ok()
}

fn log_finished(
    prompt_tokens: usize,
    completion_tokens: usize,
    reason: &FinishReason,
    timings: &Timings,
) {
    let generation_secs = timings.generation.as_secs_f64();
    // The first completion token comes from the prompt pass, so the timed
    // decode steps are one fewer than the completion tokens.
    let decode_steps = completion_tokens.saturating_sub(1);
    let tokens_per_second = if generation_secs > 0.0 {
        decode_steps as f64 / generation_secs
    } else {
        0.0
    };
    let span = tracing::Span::current();
    span.record("prompt_tokens", prompt_tokens);
    span.record("completion_tokens", completion_tokens);
    span.record("prompt_ms", timings.prompt.as_millis() as u64);
    span.record("generation_ms", timings.generation.as_millis() as u64);
    span.record("tokens_per_second", tokens_per_second);
    tracing::info!(
        prompt_tokens,
        completion_tokens,
        prompt_ms = timings.prompt.as_millis() as u64,
        generation_ms = timings.generation.as_millis() as u64,
        tokens_per_second,
        finish_reason = %reason,
        "local generation finished"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn penalties_scale_with_count() {
        let mut logits = vec![1.0, 1.0, 1.0];
        apply_penalties(&mut logits, &[0, 0, 2], 0.5, 0.25);
        assert_eq!(logits, vec![1.0 - 0.5 - 0.5, 1.0, 1.0 - 0.5 - 0.25]);
    }

    #[test]
    fn penalties_ignore_out_of_range_ids() {
        let mut logits = vec![0.0];
        apply_penalties(&mut logits, &[7], 1.0, 1.0);
        assert_eq!(logits, vec![0.0]);
    }
}
