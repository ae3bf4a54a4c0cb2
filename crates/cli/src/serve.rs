//! `llmops serve`: an OpenAI-compatible HTTP server over the gateway.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use llmops_core::ModelBackend;
use llmops_gateway::server::{
    DEFAULT_MAX_BODY_BYTES, Server, SharedKeyStore, SqlKeyStore, shutdown_signal,
};
use llmops_gateway::{
    DeploymentConfig, Gateway, GatewayConfig, GatewayError, MemoryState, ModelConfig, RedisState,
    SemanticCache, SharedState,
};
use llmops_local::{LocalBackend, LocalModelConfig, MODEL_ALIAS, MODEL_NAME};
use tokio::sync::OnceCell;

use crate::failure::Failure;
use crate::monitoring::Monitoring;
use crate::serve_config::ServeConfig;
use crate::serve_guard::attach_guardrails;
use crate::serve_semantic::SemanticCacheSlot;

/// The provider name under which the embedded model is registered, for
/// deployments in a configuration file.
const LOCAL_PROVIDER: &str = "local";

/// Serve an OpenAI-compatible API (chat completions, embeddings, models)
/// over the gateway.
///
/// Without --config the embedded local model is served as the model
/// `local`, so `llmops serve` needs no setup. With --config the gateway
/// configuration file decides the models; deployments with
/// `provider = "local"` use the embedded model. The same file may add
/// `[guardrails]` (input and output guards) and `[semantic_cache]`.
/// SIGHUP or `POST /admin/reload` reloads the file; SIGTERM or Ctrl-C
/// stops the server after running requests finish.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops serve\n  llmops serve --config gateway.toml --port 8080\n  LLMOPS_MASTER_KEY=... llmops serve --database sqlite://keys.db"
)]
pub(crate) struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,

    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 4000)]
    port: u16,

    /// A gateway configuration file (TOML), which may also hold the
    /// `[guardrails]` and `[semantic_cache]` sections.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Keep virtual API keys and user feedback in this database
    /// (`sqlite://PATH` or `postgres://USER@HOST:PORT/DB`) instead of in
    /// memory; the dashboard also shows the evaluation scores, drift
    /// reports and review queue stored there. `--db` and `LLMOPS_DB` name
    /// the same database as in the other commands.
    #[arg(long, visible_alias = "db", env = "LLMOPS_DB", value_name = "URL")]
    database: Option<String>,

    /// The master key, which may use every model and the admin API. Without
    /// it and without keys in the database the server is open to everyone.
    #[arg(long, env = "LLMOPS_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,

    /// The largest request body in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,

    /// Seconds running requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    drain_timeout_secs: u64,

    /// Keep rate-limit windows, budget spend and cached responses in this
    /// Redis (`redis://127.0.0.1:6379/0`), so that several servers share
    /// one set of limits. Without it they live in this process. Either way
    /// they survive a configuration reload.
    #[arg(long, value_name = "URL", env = "LLMOPS_REDIS_URL")]
    redis: Option<String>,

    /// Push the monitor's metrics (GenAI token usage, durations, time to
    /// first chunk, requests, spend, cache and fallbacks) to this
    /// OpenTelemetry collector over OTLP/HTTP with protobuf. Give the base
    /// URL, such as `http://127.0.0.1:4318`, and `/v1/metrics` is appended.
    #[arg(long, value_name = "URL", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    otlp_endpoint: Option<String>,

    /// Seconds between two OTLP exports.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    otlp_interval_secs: u64,
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    if args.max_body_bytes == 0 {
        return Err(Failure::Usage(
            "invalid --max-body-bytes 0: use a positive number of bytes".into(),
        ));
    }
    // A name such as `localhost` resolves through the system resolver; the
    // first address it gives is the one bound.
    let address: SocketAddr = (args.host.as_str(), args.port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addresses| addresses.next())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "invalid --host {:?}: use an IP address such as 127.0.0.1 or 0.0.0.0, or a name this machine resolves such as localhost",
                args.host
            ))
        })?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, address))
}

async fn serve(args: Args, address: SocketAddr) -> Result<(), Failure> {
    let redis = match &args.redis {
        Some(url) => Some(connect_redis(url).await?),
        None => None,
    };
    let database = match &args.database {
        Some(url) => Some(
            llmops_store::Store::connect(url)
                .await
                .context("cannot open the database given by --database")?,
        ),
        None => None,
    };
    let config = match &args.config {
        Some(path) => ServeConfig::load(path).map_err(anyhow::Error::from)?,
        None => {
            eprintln!("No --config: serving the embedded local model as `{MODEL_ALIAS}`.");
            local_config()
        }
    };
    let monitoring = Monitoring::open(database.as_ref(), &config.gateway).await?;
    let otlp = match &args.otlp_endpoint {
        Some(endpoint) => Some(monitoring.otlp_exporter(endpoint, args.otlp_interval_secs)?),
        None => None,
    };
    let mut builder = match &args.config {
        Some(path) => {
            let (gateway, reloader) =
                gateway_from_file(path, config, redis, monitoring.clone()).await?;
            Server::builder(gateway).reload_with(reloader)
        }
        None => {
            let backend = load_local().await?;
            let state = redis.unwrap_or_else(|| memory_state(&config.gateway));
            let gateway = build_gateway(&config, Some(&backend), &state, &monitoring, None)
                .context("cannot build the gateway for the local model")?;
            Server::builder(gateway)
        }
    };
    if let Some(store) = database {
        let keys: SharedKeyStore = Arc::new(
            SqlKeyStore::open(store)
                .await
                .context("cannot prepare the key table")?,
        );
        builder = builder.key_store(keys);
    }
    if let Some(master_key) = args.master_key.filter(|key| !key.trim().is_empty()) {
        builder = builder.master_key(master_key);
    }
    let server = monitoring
        .mount(builder)
        .max_body_bytes(args.max_body_bytes)
        .drain_timeout(Duration::from_secs(args.drain_timeout_secs))
        .build()
        .await
        .context("cannot start the server")?;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| {
            format!("cannot listen on {address}; choose another --port or stop what uses it")
        })?;
    let bound = listener
        .local_addr()
        .context("cannot read the bound address")?;
    eprintln!("Listening on http://{bound}/v1");
    eprintln!("Dashboard: http://{bound}/dashboard");
    server.handle().reload_on_sighup();
    monitoring.evaluate_alerts_periodically();
    let otlp_task = otlp.clone().map(|exporter| {
        eprintln!("Exporting metrics over OTLP to {}", exporter.url());
        exporter.spawn()
    });
    let shutdown = {
        let monitoring = monitoring.clone();
        async move {
            shutdown_signal().await;
            monitoring.close_streams();
        }
    };
    server
        .serve(listener, shutdown)
        .await
        .context("the server failed")?;
    monitoring.flush().await;
    if let (Some(exporter), Some(task)) = (otlp, otlp_task) {
        task.abort();
        // The last interval's requests would otherwise never reach the
        // collector.
        if let Err(error) = exporter.export().await {
            tracing::warn!(%error, "final OTLP metrics export failed");
        }
    }
    eprintln!("Stopped.");
    Ok(())
}

/// Builds the zero-setup configuration: the local model as `local`, with
/// no guardrails and no semantic cache.
fn local_config() -> ServeConfig {
    let gateway = GatewayConfig::new().model(ModelConfig::new(MODEL_ALIAS).deployment(
        DeploymentConfig::new(MODEL_ALIAS, LOCAL_PROVIDER, MODEL_NAME),
    ));
    ServeConfig {
        gateway,
        guardrails: None,
        semantic_cache: None,
    }
}

async fn load_local() -> Result<Arc<dyn ModelBackend>, Failure> {
    let backend = LocalBackend::load(LocalModelConfig::default())
        .await
        .context("cannot load the local model")?;
    Ok(Arc::new(backend))
}

/// Connects to the Redis at `url` for shared limits, spend and cache.
async fn connect_redis(url: &str) -> Result<Arc<dyn SharedState>, Failure> {
    let state = RedisState::connect(url)
        .await
        .context("cannot connect to the Redis given by --redis")?;
    eprintln!("Limits, spend and cache are shared through Redis.");
    Ok(Arc::new(state))
}

/// Creates the in-process state of limits, spend and cache, bounded by the
/// configuration's cache size.
fn memory_state(config: &GatewayConfig) -> Arc<dyn SharedState> {
    Arc::new(MemoryState::with_cache_bytes(config.cache.max_bytes))
}

/// Builds a gateway on `state`, which every rebuild shares, so a reload
/// keeps rate-limit windows, spend and cached responses. Every gateway
/// records its requests and guard findings into the same monitor.
fn build_gateway(
    config: &ServeConfig,
    local: Option<&Arc<dyn ModelBackend>>,
    state: &Arc<dyn SharedState>,
    monitoring: &Monitoring,
    semantic_cache: Option<Arc<dyn SemanticCache>>,
) -> Result<Gateway, GatewayError> {
    let mut builder = Gateway::builder(config.gateway.clone()).shared_state(Arc::clone(state));
    if let Some(local) = local {
        builder = builder.backend(LOCAL_PROVIDER, Arc::clone(local));
    }
    if let Some(section) = &config.guardrails {
        builder = attach_guardrails(builder, section, monitoring.monitor())?;
    }
    if let Some(cache) = semantic_cache {
        builder = builder.semantic_cache(cache);
    }
    monitoring.attach(builder, &config.gateway).build()
}

type Reload = Box<dyn Fn() -> Result<Gateway, GatewayError> + Send + Sync>;

/// Builds the gateway from the configuration read from `path`, loading the
/// local model only when a deployment uses it, and a reloader that reads
/// the file again and keeps the state of limits, spend and cache. A reload
/// that adds the first `provider = "local"` deployment loads the model
/// then. The semantic cache keeps its responses across reloads that leave
/// `[semantic_cache]` unchanged.
async fn gateway_from_file(
    path: &Path,
    config: ServeConfig,
    redis: Option<Arc<dyn SharedState>>,
    monitoring: Monitoring,
) -> Result<(Gateway, Reload), Failure> {
    let local: Arc<OnceCell<Arc<dyn ModelBackend>>> = Arc::new(OnceCell::new());
    if uses_local(&config.gateway) {
        local.get_or_try_init(load_local).await?;
    }
    let state = redis.unwrap_or_else(|| memory_state(&config.gateway));
    let semantic = Arc::new(SemanticCacheSlot::default());
    let prepared = semantic
        .prepare(config.semantic_cache.as_ref())
        .await
        .map_err(anyhow::Error::from)?;
    let gateway = build_gateway(&config, local.get(), &state, &monitoring, prepared.cache())
        .with_context(|| format!("cannot build the gateway from {}", path.display()))?;
    semantic.commit(prepared);
    let path = path.to_owned();
    let reloader: Reload = Box::new(move || {
        let config = ServeConfig::load(&path)?;
        if uses_local(&config.gateway) && local.get().is_none() {
            // The reloader runs on a blocking thread of the runtime, where
            // waiting for the load is allowed.
            tokio::runtime::Handle::current()
                .block_on(local.get_or_try_init(load_local))
                .map_err(|error| {
                    GatewayError::config(
                        "models.deployments.provider",
                        format!("cannot load the local model for provider = \"local\": {error}"),
                    )
                })?;
        }
        let prepared = tokio::runtime::Handle::current()
            .block_on(semantic.prepare(config.semantic_cache.as_ref()))?;
        let gateway = build_gateway(&config, local.get(), &state, &monitoring, prepared.cache())?;
        // Only a configuration that built a gateway reaches the monitor
        // and the semantic cache, so a rejected reload leaves the old
        // budgets and stored responses in place.
        semantic.commit(prepared);
        monitoring.reload(&config.gateway);
        Ok(gateway)
    });
    Ok((gateway, reloader))
}

/// Returns true when a deployment of `config` runs on the embedded model.
fn uses_local(config: &GatewayConfig) -> bool {
    config
        .models
        .iter()
        .flat_map(|model| &model.deployments)
        .any(|deployment| deployment.provider == LOCAL_PROVIDER)
}
