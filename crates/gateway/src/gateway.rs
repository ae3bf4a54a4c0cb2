//! The gateway: routes each request to a deployment, retries and falls back
//! by error class, and records what happened.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use llmops_core::pricing::PriceTable;
use llmops_core::tokens::TokenCounter;
use llmops_core::types::{ChatCompletion, ChatRequest, Usage};
use llmops_core::{BackendInfo, ChatStream, Error, Fallback, ModelBackend};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use tracing::Instrument as _;

use crate::active_health::HealthChecks;
use crate::config::GatewayConfig;
use crate::counters::Counters;
use crate::deployment::Deployment;
use crate::hooks::{CallContext, OutputHook, PostCallHook, PreCallHook};
use crate::limits::{Admitted, BudgetAlertSink, BudgetTable, Clock, LimitScope, LimitTable};
use crate::record::{AttemptRecord, RecordSink, RequestRecord, RequestStatus, RouteDecision};
use crate::retry::{AttemptBudget, backoff};
use crate::route::Router;
use crate::semantic_cache::SemanticCache;
use crate::settle::Settlement;
use crate::state::SharedState;
use crate::strategy::{Candidate, Strategy, pick};
use crate::task_embedding::TaskEmbeddings;

/// The provider name the gateway reports, as a backend and in its own
/// errors.
pub const GATEWAY_PROVIDER: &str = "llmops-gateway";

/// Output tokens assumed for cost estimates when a request sets no limit.
const ASSUMED_OUTPUT_TOKENS: u64 = 256;

/// Routes chat requests over configured deployments. Cheap to clone; clones
/// share deployments, health state and statistics.
///
/// A `Gateway` is itself a [`ModelBackend`], so code written against one
/// backend can take a gateway instead.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: GatewayConfig,
    pub(crate) deployments: Vec<Arc<Deployment>>,
    by_model: HashMap<String, Vec<usize>>,
    pub(crate) router: Router,
    pub(crate) prices: PriceTable,
    pub(crate) counter: TokenCounter,
    pub(crate) sink: Option<Arc<dyn RecordSink>>,
    pre_hooks: Vec<Arc<dyn PreCallHook>>,
    pub(crate) post_hooks: Vec<Arc<dyn PostCallHook>>,
    rng: Mutex<StdRng>,
    next_id: AtomicU64,
    pub(crate) limits: RwLock<LimitTable>,
    pub(crate) budgets: RwLock<BudgetTable>,
    pub(crate) state: Arc<dyn SharedState>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) alert_sink: Option<Arc<dyn BudgetAlertSink>>,
    pub(crate) counters: Counters,
    pub(crate) health_checks: HealthChecks,
    pub(crate) task_embeddings: Option<TaskEmbeddings>,
    pub(crate) semantic_cache: Option<Arc<dyn SemanticCache>>,
    pub(crate) output_hooks: Vec<Arc<dyn OutputHook>>,
}

/// The prices, rules, shared state, clock, alert sink, task embeddings,
/// semantic cache and output hooks a gateway is built with.
pub(crate) struct Accounting {
    pub(crate) prices: PriceTable,
    pub(crate) limits: LimitTable,
    pub(crate) budgets: BudgetTable,
    pub(crate) state: Arc<dyn SharedState>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) alert_sink: Option<Arc<dyn BudgetAlertSink>>,
    /// The task examples' embeddings, when a task embedder is set.
    pub(crate) task_embeddings: Option<TaskEmbeddings>,
    pub(crate) semantic_cache: Option<Arc<dyn SemanticCache>>,
    pub(crate) output_hooks: Vec<Arc<dyn OutputHook>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self
            .inner
            .deployments
            .iter()
            .map(|deployment| deployment.config.id.as_str())
            .collect();
        f.debug_struct("Gateway")
            .field("deployments", &ids)
            .finish()
    }
}

/// A successful routed call: the value, the deployment that produced it,
/// and the calls made on the way.
pub(crate) struct Routed<T> {
    pub(crate) value: T,
    pub(crate) deployment: Arc<Deployment>,
}

/// Everything a record needs that is known before the answer.
pub(crate) struct Pending {
    pub(crate) id: String,
    pub(crate) started: Instant,
    pub(crate) started_at_ms: u64,
    pub(crate) decision: RouteDecision,
    pub(crate) attempts: Vec<AttemptRecord>,
    pub(crate) request: ChatRequest,
    pub(crate) context: CallContext,
    pub(crate) stream: bool,
    /// The reservations the request has taken under limits.
    pub(crate) admitted: Admitted,
    /// The response-cache key, when the response may be cached.
    pub(crate) cache_key: Option<String>,
    /// Whether the response came from the response cache.
    pub(crate) cache_hit: bool,
    /// Which cache served the response.
    pub(crate) cache_kind: Option<crate::record::CacheKind>,
    /// Whether the semantic cache missed, so a successful response is
    /// stored in it.
    pub(crate) semantic_store: bool,
}

impl Gateway {
    pub(crate) fn from_parts(
        config: GatewayConfig,
        deployments: Vec<Arc<Deployment>>,
        sink: Option<Arc<dyn RecordSink>>,
        pre_hooks: Vec<Arc<dyn PreCallHook>>,
        post_hooks: Vec<Arc<dyn PostCallHook>>,
        seed: Option<u64>,
        accounting: Accounting,
    ) -> Self {
        let mut by_model: HashMap<String, Vec<usize>> = HashMap::new();
        for (index, deployment) in deployments.iter().enumerate() {
            by_model
                .entry(deployment.model.clone())
                .or_default()
                .push(index);
        }
        let router = Router::new(
            config
                .routes
                .iter()
                .map(|route| (route.task.clone(), route.model.clone()))
                .collect(),
            config
                .models
                .iter()
                .map(|model| model.name.clone())
                .collect(),
            config.defaults.model.clone(),
        );
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        Gateway {
            inner: Arc::new(Inner {
                config,
                deployments,
                by_model,
                router,
                prices: accounting.prices,
                counter: TokenCounter::new(),
                sink,
                pre_hooks,
                post_hooks,
                rng: Mutex::new(rng),
                next_id: AtomicU64::new(1),
                limits: RwLock::new(accounting.limits),
                budgets: RwLock::new(accounting.budgets),
                state: accounting.state,
                clock: accounting.clock,
                alert_sink: accounting.alert_sink,
                counters: Counters::default(),
                health_checks: HealthChecks::default(),
                task_embeddings: accounting.task_embeddings,
                semantic_cache: accounting.semantic_cache,
                output_hooks: accounting.output_hooks,
            }),
        }
    }

    /// Returns the configuration the gateway was built from.
    pub fn config(&self) -> &GatewayConfig {
        &self.inner.config
    }

    /// Returns the public model names the gateway serves.
    pub fn models(&self) -> Vec<&str> {
        self.inner
            .config
            .models
            .iter()
            .map(|model| model.name.as_str())
            .collect()
    }

    /// Returns the health state of every deployment, by id.
    pub fn health(&self) -> Vec<(String, crate::HealthState)> {
        let now = Instant::now();
        self.inner
            .deployments
            .iter()
            .map(|deployment| (deployment.config.id.clone(), deployment.health(now)))
            .collect()
    }

    /// Records a request served from the response cache: no deployment,
    /// no upstream usage.
    async fn finish_from_cache(&self, pending: Pending, completion: &ChatCompletion) {
        self.finish(
            pending,
            None,
            RequestStatus::Success,
            None,
            None,
            Some(completion),
        )
        .run()
        .await;
    }

    /// Runs a request to completion through the routes, with the caller's
    /// context.
    ///
    /// # Errors
    ///
    /// Returns the error of a pre-call hook, an unknown-model error when no
    /// route matches, the last deployment's error when every allowed
    /// attempt failed, or [`Error::Overloaded`] from the gateway when every
    /// deployment is ejected by its health check.
    #[tracing::instrument(
        name = "gateway.request",
        skip_all,
        fields(
            gen_ai.operation.name = "chat",
            gen_ai.request.model = %request.model,
            llmops.stream = %false,
            llmops.request_id = tracing::field::Empty,
        )
    )]
    pub async fn complete_with(
        &self,
        request: ChatRequest,
        context: CallContext,
    ) -> Result<ChatCompletion, Error> {
        let mut pending = match self.admit_request(request, context, false).await {
            Ok(pending) => pending,
            Err((pending, error)) => return Err(self.fail(*pending, error).await),
        };
        tracing::Span::current().record("llmops.request_id", pending.id.as_str());
        let output_view = self.output_view(&pending);
        if let Some(completion) = self.cached(&mut pending).await {
            self.finish_from_cache(pending, &completion).await;
            return self.check_output(output_view, completion).await;
        }
        // Disjoint field borrows: the request is not copied per call.
        let result = self
            .route(
                &pending.request,
                &pending.context,
                &pending.decision.model,
                &mut pending.attempts,
                &mut pending.admitted,
                |deployment, upstream| async move {
                    let _in_flight = deployment.start_call();
                    deployment.backend.complete(upstream).await
                },
            )
            .await;
        match result {
            Ok(routed) => {
                let completion = routed.value;
                let now = Instant::now();
                let latency = pending.attempts.last().map_or(Duration::ZERO, |attempt| {
                    Duration::from_secs_f64(attempt.latency_ms / 1_000.0)
                });
                routed.deployment.breaker.record(now, true, latency);
                let usage = completion.usage.clone();
                self.finish(
                    pending,
                    Some(&routed.deployment),
                    RequestStatus::Success,
                    usage,
                    None,
                    Some(&completion),
                )
                .run()
                .await;
                self.check_output(output_view, completion).await
            }
            Err(error) => Err(self.fail(pending, error).await),
        }
    }

    /// Starts a streamed completion through the routes, with the caller's
    /// context.
    ///
    /// Fails over only until the first chunk arrives: a deployment whose
    /// stream fails before any chunk counts as a failed attempt, while an
    /// error after the first chunk reaches the caller as a stream item.
    /// Dropping the stream cancels the upstream call and records the
    /// request as cancelled.
    ///
    /// # Errors
    ///
    /// The errors of [`Gateway::complete_with`], before any chunk.
    #[tracing::instrument(
        name = "gateway.request",
        skip_all,
        fields(
            gen_ai.operation.name = "chat",
            gen_ai.request.model = %request.model,
            llmops.stream = %true,
            llmops.request_id = tracing::field::Empty,
        )
    )]
    pub async fn stream_with(
        &self,
        request: ChatRequest,
        context: CallContext,
    ) -> Result<ChatStream, Error> {
        let mut pending = match self.admit_request(request, context, true).await {
            Ok(pending) => pending,
            Err((pending, error)) => return Err(self.fail(*pending, error).await),
        };
        tracing::Span::current().record("llmops.request_id", pending.id.as_str());
        let output_view = self.output_view(&pending);
        if let Some(completion) = self.cached(&mut pending).await {
            let chunks =
                crate::cache::replay_chunks(&completion, pending.request.wants_stream_usage());
            self.finish_from_cache(pending, &completion).await;
            let replay: ChatStream = Box::pin(futures::stream::iter(chunks.into_iter().map(Ok)));
            return Ok(self.wrap_output(output_view, replay));
        }
        // Disjoint field borrows: the request is not copied per call.
        let result = self
            .route(
                &pending.request,
                &pending.context,
                &pending.decision.model,
                &mut pending.attempts,
                &mut pending.admitted,
                |deployment, upstream| async move {
                    let in_flight = deployment.start_call();
                    crate::stream::open(deployment.backend.stream(upstream).await?, in_flight).await
                },
            )
            .await;
        match result {
            Ok(routed) => {
                let stream = crate::stream::GatewayStream::start(
                    self.clone(),
                    pending,
                    routed.deployment,
                    routed.value,
                );
                Ok(self.wrap_output(output_view, stream))
            }
            Err(error) => Err(self.fail(pending, error).await),
        }
    }

    /// Runs the pre-call hooks and the route, then admits the request
    /// against the limits and budgets of its key, user and team.
    async fn admit_request(
        &self,
        request: ChatRequest,
        context: CallContext,
        stream: bool,
    ) -> Result<Pending, (Box<Pending>, Error)> {
        let mut pending = self.prepare(request, context, stream).await?;
        let scopes = crate::limits::caller_scopes(&pending.request, &pending.context);
        if !scopes.is_empty() {
            if let Err(error) = self
                .admit(&scopes, &pending.request, &mut pending.admitted)
                .await
            {
                tracing::info!(
                    class = error.class(),
                    "request rejected by a limit or budget"
                );
                return Err((Box::new(pending), error));
            }
        }
        Ok(pending)
    }

    /// Resolves the route after running the pre-call hooks.
    async fn prepare(
        &self,
        mut request: ChatRequest,
        mut context: CallContext,
        stream: bool,
    ) -> Result<Pending, (Box<Pending>, Error)> {
        let started = Instant::now();
        let started_at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        let id = match &context.request_id {
            Some(id) => id.clone(),
            None => format!(
                "gw-{started_at_ms:x}-{}",
                self.inner.next_id.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let mut hook_error = None;
        for hook in &self.inner.pre_hooks {
            if let Err(error) = hook.before_call(&mut request, &mut context).await {
                tracing::info!(
                    hook = hook.name(),
                    class = error.class(),
                    "a pre-call hook rejected the request"
                );
                hook_error = Some(error);
                break;
            }
        }
        // A rejected request needs a route only for its record, so it is
        // not embedded.
        let route = match hook_error {
            Some(_) => self.inner.router.resolve(&request, &context, None),
            None => self.resolve_route(&request, &context).await,
        };
        let (decision, error) = match (hook_error, route) {
            (None, Ok(decision)) => (decision, None),
            (Some(error), Ok(decision)) => (decision, Some(error)),
            (hook_error, Err(route_error)) => (
                RouteDecision {
                    requested_model: request.model.clone(),
                    model: request.model.clone(),
                    task: context.task.clone(),
                    reason: "unrouted".to_owned(),
                },
                Some(hook_error.unwrap_or(route_error)),
            ),
        };
        let pending = Pending {
            id,
            started,
            started_at_ms,
            decision,
            attempts: Vec::new(),
            request,
            context,
            stream,
            admitted: Admitted::default(),
            cache_key: None,
            cache_hit: false,
            cache_kind: None,
            semantic_store: false,
        };
        match error {
            Some(error) => Err((Box::new(pending), error)),
            None => Ok(pending),
        }
    }

    /// Calls deployments until one succeeds, following the fallback class
    /// of each error, within the attempt budget.
    async fn route<T, F, Fut>(
        &self,
        request: &ChatRequest,
        context: &CallContext,
        first_model: &str,
        attempts: &mut Vec<AttemptRecord>,
        admitted: &mut Admitted,
        mut call: F,
    ) -> Result<Routed<T>, Error>
    where
        F: FnMut(Arc<Deployment>, ChatRequest) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let inner = &self.inner;
        let retry = &inner.config.retry;
        let max_retry_after = Duration::from_millis(retry.max_retry_after_ms);
        let mut budget = AttemptBudget::new(retry);
        let mut models: VecDeque<String> = VecDeque::from([first_model.to_owned()]);
        // Each model is tried once per request, so fallback cycles end.
        let mut visited: HashSet<String> = HashSet::new();
        let mut last_error: Option<Error> = None;
        let mut tag_blocked: Vec<String> = Vec::new();
        let mut all_ejected: Vec<String> = Vec::new();
        let mut limit_error: Option<Error> = None;
        // Counting the prompt costs time on large requests, so only the
        // lowest-cost strategy does it, once.
        let mut estimated_input: Option<u64> = None;

        'models: while let Some(model_name) = models.pop_front() {
            if !visited.insert(model_name.clone()) {
                continue;
            }
            let Some(model) = inner.config.find_model(&model_name) else {
                continue;
            };
            if model_name != first_model {
                inner.counters.fallback(&model_name);
            }
            // A model's own fallbacks follow it, after those already queued.
            models.extend(model.fallbacks.iter().cloned());
            let indices = inner.by_model.get(&model_name).cloned().unwrap_or_default();
            let strategy = model.strategy.unwrap_or(inner.config.defaults.strategy);
            let allowed: Vec<usize> = indices
                .iter()
                .copied()
                .filter(|&index| inner.deployments[index].has_tags(&context.required_tags))
                .collect();
            if allowed.is_empty() {
                tag_blocked.push(model_name.clone());
                continue;
            }
            // A model over its own limit or budget is skipped for its
            // fallbacks, like a model whose deployments all failed.
            let scope = [LimitScope::Model(model_name.clone())];
            if let Err(error) = self.admit(&scope, request, admitted).await {
                tracing::debug!(model = %model_name, class = error.class(), "model skipped: over its limit or budget");
                limit_error.get_or_insert(error);
                continue;
            }
            let mut skipped: HashSet<usize> = HashSet::new();
            let mut round = 0u32;
            let mut called_any = false;
            loop {
                let mut tried: HashSet<usize> = HashSet::new();
                let mut retryable = false;
                let mut longest_wait: Option<Duration> = None;
                loop {
                    let now = Instant::now();
                    let eligible: Vec<usize> = allowed
                        .iter()
                        .copied()
                        .filter(|index| {
                            !tried.contains(index)
                                && !skipped.contains(index)
                                && budget.allows(*index)
                                && inner.deployments[*index].breaker.may_route(now)
                        })
                        .collect();
                    let Some(index) =
                        self.pick(strategy, &eligible, request, context, &mut estimated_input)
                    else {
                        break;
                    };
                    tried.insert(index);
                    let deployment = Arc::clone(&inner.deployments[index]);
                    if !deployment.breaker.try_acquire(now) {
                        continue;
                    }
                    budget.spend(index);
                    called_any = true;
                    let mut upstream = request.clone();
                    upstream.model = deployment.config.model.clone();
                    if !deployment.config.forward_metadata {
                        upstream.metadata = None;
                    }
                    let call_started = Instant::now();
                    let attempt_span = tracing::debug_span!(
                        "gateway.attempt",
                        llmops.deployment = %deployment.config.id,
                        gen_ai.provider.name = %deployment.config.provider,
                        gen_ai.request.model = %deployment.config.model,
                        llmops.strategy = strategy.as_str(),
                    );
                    let result = call(Arc::clone(&deployment), upstream)
                        .instrument(attempt_span)
                        .await;
                    let latency = call_started.elapsed();
                    let mut attempt = AttemptRecord {
                        deployment: deployment.config.id.clone(),
                        model: model_name.clone(),
                        strategy: strategy.as_str(),
                        latency_ms: latency.as_secs_f64() * 1_000.0,
                        error: None,
                        error_class: None,
                    };
                    match result {
                        Ok(value) => {
                            deployment.observe_latency(latency);
                            attempts.push(attempt);
                            return Ok(Routed { value, deployment });
                        }
                        Err(error) => {
                            let unhealthy = error.retry_may_help()
                                || matches!(error, Error::Authentication { .. });
                            if matches!(error, Error::Cancelled) {
                                deployment.breaker.release_probe();
                            } else if deployment
                                .breaker
                                .record(Instant::now(), !unhealthy, latency)
                            {
                                tracing::warn!(deployment = %deployment.config.id, "deployment ejected by its health check");
                            }
                            if matches!(error, Error::Authentication { .. }) {
                                // A provider's credential error may quote part
                                // of the key, so only its class is logged.
                                tracing::warn!(deployment = %deployment.config.id, class = error.class(), "upstream rejected the credentials");
                            } else if unhealthy {
                                // Overload, server errors, timeouts and refused
                                // connections are what operators watch for;
                                // their messages come from the transport or
                                // the provider's error body.
                                tracing::warn!(deployment = %deployment.config.id, class = error.class(), %error, "upstream attempt failed");
                            } else {
                                tracing::debug!(deployment = %deployment.config.id, class = error.class(), "attempt failed");
                            }
                            attempt.error = Some(error.to_string());
                            attempt.error_class = Some(error.class());
                            attempts.push(attempt);
                            match error.fallback() {
                                Fallback::None => return Err(error),
                                Fallback::LargerContextWindow => {
                                    models =
                                        model.context_window_fallbacks.iter().cloned().collect();
                                    last_error = Some(error);
                                    continue 'models;
                                }
                                Fallback::ContentPolicyAlternative => {
                                    models =
                                        model.content_policy_fallbacks.iter().cloned().collect();
                                    last_error = Some(error);
                                    continue 'models;
                                }
                                _ => {
                                    match error.retry_after() {
                                        Some(wait) if wait > max_retry_after => {
                                            skipped.insert(index);
                                        }
                                        Some(wait) => {
                                            longest_wait =
                                                Some(longest_wait.map_or(wait, |w| w.max(wait)));
                                        }
                                        None => {}
                                    }
                                    retryable |= error.retry_may_help();
                                    last_error = Some(error);
                                }
                            }
                        }
                    }
                    if !budget.any_left() {
                        break 'models;
                    }
                }
                let another_round = retryable
                    && round < retry.retries
                    && allowed
                        .iter()
                        .any(|index| !skipped.contains(index) && budget.allows(*index));
                if !another_round {
                    break;
                }
                let wait = {
                    let mut rng = inner
                        .rng
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    backoff(retry, round, longest_wait, &mut *rng)
                };
                tokio::time::sleep(wait).await;
                round += 1;
            }
            if !called_any {
                all_ejected.push(model_name.clone());
            }
        }
        if let Some(error) = last_error.or(limit_error) {
            return Err(error);
        }
        if !all_ejected.is_empty() {
            return Err(Error::Overloaded {
                provider: GATEWAY_PROVIDER.to_owned(),
                retry_after: Some(Duration::from_secs(inner.config.health.cooldown_secs)),
                message: format!(
                    "every deployment of {all_ejected:?} is ejected by its health check; retry after the cooldown"
                ),
            });
        }
        Err(Error::InvalidRequest {
            provider: GATEWAY_PROVIDER.to_owned(),
            param: Some("model".to_owned()),
            message: format!(
                "no deployment of {tag_blocked:?} carries the tags {:?} this request requires, so it was not sent; add such a deployment or route the request elsewhere",
                context.required_tags
            ),
        })
    }

    fn pick(
        &self,
        strategy: Strategy,
        eligible: &[usize],
        request: &ChatRequest,
        context: &CallContext,
        estimated_input: &mut Option<u64>,
    ) -> Option<usize> {
        let inner = &self.inner;
        let input_tokens = if strategy == Strategy::LowestCost {
            *estimated_input.get_or_insert_with(|| self.estimate_input_tokens(request))
        } else {
            0
        };
        let candidates: Vec<Candidate<'_>> = eligible
            .iter()
            .map(|&index| {
                let deployment = &inner.deployments[index];
                Candidate {
                    id: &deployment.config.id,
                    weight: deployment.config.weight,
                    latency_ms: deployment.latency_ms(),
                    in_flight: deployment.in_flight(),
                    estimated_cost: (strategy == Strategy::LowestCost)
                        .then(|| self.estimate_cost(deployment, request, input_tokens))
                        .flatten(),
                }
            })
            .collect();
        let sticky_key = context.sticky_key.as_deref().or(request.user.as_deref());
        let mut rng = inner
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pick(strategy, &candidates, sticky_key, &mut *rng).map(|position| eligible[position])
    }

    fn estimate_input_tokens(&self, request: &ChatRequest) -> u64 {
        self.inner.counter.count_request(request).tokens
    }

    fn estimate_cost(
        &self,
        deployment: &Deployment,
        request: &ChatRequest,
        input_tokens: u64,
    ) -> Option<Decimal> {
        let output = request
            .output_token_limit()
            .map_or(ASSUMED_OUTPUT_TOKENS, u64::from);
        let usage = Usage::new(input_tokens, output);
        self.inner
            .prices
            .cost(price_model(deployment), &usage)
            .ok()
            .map(|cost| cost.total_usd)
    }

    /// Records a request that failed before any response, releases what it
    /// reserved, and returns its error.
    async fn fail(&self, pending: Pending, error: Error) -> Error {
        let status = RequestStatus::Error {
            class: error.class().to_owned(),
            message: error.to_string(),
        };
        self.finish(pending, None, status, None, None, None)
            .run()
            .await;
        error
    }

    /// Builds the record of a finished request, prices it, hands it to the
    /// sink and runs the post-call hooks. Returns the accounting still to
    /// do (limits, spend, cache), which the caller awaits or spawns.
    pub(crate) fn finish(
        &self,
        mut pending: Pending,
        deployment: Option<&Arc<Deployment>>,
        status: RequestStatus,
        usage: Option<Usage>,
        time_to_first_token: Option<Duration>,
        completion: Option<&ChatCompletion>,
    ) -> Settlement {
        let (usage, usage_estimated) = match (usage, deployment, completion) {
            _ if pending.cache_hit => (None, false),
            (Some(usage), _, _) => (Some(usage), false),
            (None, Some(deployment), Some(completion)) => (
                Some(self.count_usage(deployment, &pending.request, completion)),
                true,
            ),
            _ => (None, false),
        };
        let cost_usd = match (&usage, deployment) {
            (Some(usage), Some(deployment)) => self
                .inner
                .prices
                .cost(price_model(deployment), usage)
                .ok()
                .map(|cost| cost.total_usd),
            // A cached response called no model, so it cost nothing.
            _ if pending.cache_hit => Some(Decimal::ZERO),
            _ => None,
        };
        let settlement = Settlement::new(
            self,
            &mut pending,
            deployment,
            &status,
            usage.as_ref(),
            cost_usd,
            completion,
        );
        let record = RequestRecord {
            id: pending.id,
            started_at_ms: pending.started_at_ms,
            route: pending.decision,
            attempts: pending.attempts,
            deployment: deployment.map(|deployment| deployment.config.id.clone()),
            upstream_model: deployment.map(|deployment| deployment.config.model.clone()),
            status,
            stream: pending.stream,
            latency_ms: pending.started.elapsed().as_secs_f64() * 1_000.0,
            time_to_first_token_ms: time_to_first_token
                .map(|elapsed| elapsed.as_secs_f64() * 1_000.0),
            usage,
            usage_estimated,
            cost_usd,
            cache_hit: pending.cache_hit,
            cache_kind: pending.cache_kind,
        };
        if !self.inner.post_hooks.is_empty() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let hooks = self.inner.post_hooks.clone();
                let request = pending.request;
                let context = pending.context;
                let completion = completion.cloned();
                let record = record.clone();
                runtime.spawn(async move {
                    for hook in hooks {
                        hook.after_call(&request, &context, completion.as_ref(), &record)
                            .await;
                    }
                });
            }
        }
        if let Some(sink) = &self.inner.sink {
            sink.record(record);
        }
        settlement
    }

    /// Counts the usage of a call whose provider reported none.
    fn count_usage(
        &self,
        deployment: &Deployment,
        request: &ChatRequest,
        completion: &ChatCompletion,
    ) -> Usage {
        let model = &deployment.config.model;
        let mut counted = request.clone();
        counted.model = model.clone();
        let prompt = self.inner.counter.count_request(&counted).tokens;
        let text: String = completion
            .choices
            .iter()
            .map(|choice| choice.message.text())
            .collect();
        let output = self.inner.counter.count_text(model, &text).tokens;
        Usage::new(prompt, output)
    }
}

/// The price-table entry of a deployment.
fn price_model(deployment: &Deployment) -> &str {
    deployment
        .config
        .price_model
        .as_deref()
        .unwrap_or(&deployment.config.model)
}

#[async_trait]
impl ModelBackend for Gateway {
    fn describe(&self) -> BackendInfo {
        let local = self
            .inner
            .deployments
            .iter()
            .all(|deployment| deployment.local);
        BackendInfo::new(
            GATEWAY_PROVIDER,
            self.models().into_iter().map(str::to_owned).collect(),
        )
        .with_local(local)
    }

    async fn complete(&self, request: ChatRequest) -> Result<ChatCompletion, Error> {
        self.complete_with(request, CallContext::new()).await
    }

    async fn stream(&self, request: ChatRequest) -> Result<ChatStream, Error> {
        self.stream_with(request, CallContext::new()).await
    }
}
