//! Configuration parsing and validation: every mistake names its key.

use llmops_gateway::{
    BudgetPeriod, DeploymentConfig, Gateway, GatewayConfig, GatewayError, LimitScope, ModelConfig,
    ScopeKind, Strategy,
};
use rust_decimal::Decimal;

fn error_of(text: &str) -> (String, String) {
    match GatewayConfig::from_toml_str(text).unwrap_err() {
        GatewayError::Config { key, message } => (key, message),
        other => panic!("expected a config error, got {other}"),
    }
}

const TWO_MODELS: &str = r#"
[defaults]
strategy = "least_busy"

[retry]
retries = 2
max_attempts = 5

[[models]]
name = "chat"
fallbacks = ["spare"]

[[models.deployments]]
id = "a"
provider = "openai"
model = "gpt-4o-mini"
weight = 3
tags = ["us"]

[[models]]
name = "spare"
strategy = "sticky"

[[models.deployments]]
id = "b"
provider = "anthropic"
model = "claude-haiku-4-5"

[[routes]]
task = "summarize"
model = "spare"
"#;

#[test]
fn full_file_parses_with_defaults_filled() {
    let config = GatewayConfig::from_toml_str(TWO_MODELS).unwrap();
    assert_eq!(config.defaults.strategy, Strategy::LeastBusy);
    assert_eq!(config.retry.retries, 2);
    assert_eq!(config.retry.base_delay_ms, 100, "unset keys keep defaults");
    assert_eq!(config.models[1].strategy, Some(Strategy::Sticky));
    assert_eq!(config.models[1].deployments[0].weight, 1);
    assert_eq!(config.route_map()["summarize"], "spare");
}

#[test]
fn serialized_config_parses_back_equal() {
    let config = GatewayConfig::from_toml_str(TWO_MODELS).unwrap();
    let text = toml::to_string(&config).unwrap();
    assert_eq!(GatewayConfig::from_toml_str(&text).unwrap(), config);
}

#[test]
fn unknown_key_names_its_position() {
    let (key, message) = error_of("[[models]]\nname = \"chat\"\nwieght = 3\ndeployments = []\n");
    assert_eq!(key, "line 3, column 1");
    assert!(message.contains("wieght"), "{message}");
}

#[test]
fn model_without_deployments_is_rejected() {
    let (key, message) = error_of("[[models]]\nname = \"chat\"\ndeployments = []\n");
    assert_eq!(key, "models[0].deployments");
    assert!(message.contains("add at least one"), "{message}");
}

#[test]
fn fallback_to_unknown_model_names_the_choices() {
    let text = TWO_MODELS.replace(r#"fallbacks = ["spare"]"#, r#"fallbacks = ["spair"]"#);
    let (key, message) = error_of(&text);
    assert_eq!(key, "models[0].fallbacks[0]");
    assert!(
        message.contains("\"spair\"") && message.contains("\"spare\""),
        "{message}"
    );
}

#[test]
fn self_fallback_duplicate_ids_and_routes_are_rejected() {
    let text = TWO_MODELS.replace(r#"fallbacks = ["spare"]"#, r#"fallbacks = ["chat"]"#);
    assert_eq!(error_of(&text).0, "models[0].fallbacks[0]");
    let text = TWO_MODELS.replace("id = \"b\"", "id = \"a\"");
    let (key, message) = error_of(&text);
    assert_eq!(key, "models[1].deployments[0].id");
    assert!(message.contains("unique"), "{message}");
    let text = format!("{TWO_MODELS}\n[[routes]]\ntask = \"summarize\"\nmodel = \"chat\"\n");
    assert_eq!(error_of(&text).0, "routes[1].task");
}

#[test]
fn all_zero_weights_under_weighted_routing_are_rejected() {
    let config = GatewayConfig::new().model(
        ModelConfig::new("chat")
            .deployment(DeploymentConfig::new("a", "openai", "m").weight(0))
            .deployment(DeploymentConfig::new("b", "openai", "m").weight(0)),
    );
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("weight 0"), "{error}");
    let least_busy = config.default_strategy(Strategy::LeastBusy);
    assert!(least_busy.validate().is_ok(), "weights do not matter there");
}

#[test]
fn bad_bounds_are_rejected() {
    for (patch, key) in [
        ("[retry]\nmax_attempts = 0\n", "retry.max_attempts"),
        (
            "[retry]\nbase_delay_ms = 9000\nmax_delay_ms = 10\n",
            "retry.base_delay_ms",
        ),
        ("[health]\nfailure_ratio = 1.5\n", "health.failure_ratio"),
        ("[health]\nfailure_ratio = nan\n", "health.failure_ratio"),
        ("[health]\nwindow_secs = 0\n", "health.window_secs"),
    ] {
        let text = format!(
            "{patch}{}",
            TWO_MODELS.replace("[retry]\nretries = 2\nmax_attempts = 5\n", "")
        );
        assert_eq!(error_of(&text).0, key, "{patch}");
    }
}

#[test]
fn unknown_provider_lists_the_known_ones() {
    let config = GatewayConfig::new()
        .model(ModelConfig::new("chat").deployment(DeploymentConfig::new("a", "ollama", "llama3")));
    let error = Gateway::builder(config).build().unwrap_err().to_string();
    assert!(
        error.contains("models[0].deployments[0].provider"),
        "{error}"
    );
    assert!(
        error.contains("\"ollama\"") && error.contains("\"openai\""),
        "{error}"
    );
}

#[test]
fn missing_api_key_names_the_variable() {
    let config = GatewayConfig::new().model(ModelConfig::new("chat").deployment(
        DeploymentConfig::new("a", "anthropic", "claude-haiku-4-5").api_key_env("MY_KEY"),
    ));
    let error = Gateway::builder(config)
        .env(|_| None)
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("MY_KEY"), "{error}");
    assert!(error.contains("api_key_env"), "{error}");
}

#[test]
fn key_from_env_never_shows_in_debug() {
    let config = GatewayConfig::new().model(
        ModelConfig::new("chat").deployment(DeploymentConfig::new("a", "openai", "gpt-4o-mini")),
    );
    let gateway = Gateway::builder(config)
        .env(|name| (name == "OPENAI_API_KEY").then(|| "sk-secret-value-123".to_owned()))
        .build()
        .unwrap();
    let debug = format!("{gateway:?}");
    assert!(!debug.contains("sk-secret-value-123"), "{debug}");
}

#[test]
fn config_file_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("llmops-gateway-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gateway.toml");
    std::fs::write(&path, "[[models]]\nname = \"chat\"\ndeployments = []\n").unwrap();
    let error = GatewayConfig::load(&path).unwrap_err().to_string();
    assert!(error.contains("gateway.toml"), "{error}");
    let missing = GatewayConfig::load(dir.join("absent.toml"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("absent.toml"), "{missing}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readme_example_is_valid() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Gateway configuration")
        .nth(1)
        .expect("the README has a gateway configuration section");
    let toml_block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section holds a TOML block");
    let config = GatewayConfig::from_toml_str(toml_block).unwrap();
    assert_eq!(
        config,
        {
            let mut defaults = GatewayConfig::from_toml_str(toml_block).unwrap();
            defaults.defaults = Default::default();
            defaults.retry = Default::default();
            defaults.health = Default::default();
            defaults
        },
        "the README states the defaults"
    );
    assert_eq!(config.models[0].deployments[0].tags, ["us"]);
}

#[test]
fn empty_config_is_rejected() {
    let (key, message) = error_of("");
    assert_eq!(key, "models");
    assert!(message.contains("[[models]]"), "{message}");
}

#[test]
fn readme_limits_block_parses() {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("### Limits, budgets and cache")
        .nth(1)
        .expect("the README has a limits section");
    let toml_block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section holds a TOML block");
    let config = GatewayConfig::from_toml_str(toml_block).unwrap();
    assert_eq!(config.limits.len(), 2);
    assert_eq!(
        config.limits[0].limit_scope(),
        Some(LimitScope::Key("k1".into()))
    );
    assert_eq!(config.limits[1].scope, ScopeKind::User);
    assert_eq!(config.limits[1].limit_scope(), None, "a default per user");
    assert_eq!(config.budgets.len(), 2);
    assert_eq!(config.budgets[1].limit_scope(), None, "a default per team");
    let budget = &config.budgets[0];
    assert_eq!(budget.limit_usd, "50.00".parse::<Decimal>().unwrap());
    assert_eq!(budget.period, BudgetPeriod::Month);
    let rule = budget.rule().unwrap();
    assert_eq!(
        rule.alert_at,
        ["0.5".parse::<Decimal>().unwrap(), "0.8".parse().unwrap()]
    );
    assert!(config.cache.enabled);
    let defaults = llmops_gateway::CacheConfig {
        enabled: true,
        ..Default::default()
    };
    assert_eq!(
        config.cache, defaults,
        "the README states the cache defaults"
    );
    let text = toml::to_string(&config).unwrap();
    assert_eq!(GatewayConfig::from_toml_str(&text).unwrap(), config);
}

const ONE_MODEL: &str = "[[models]]\nname = \"chat\"\n[[models.deployments]]\nid = \"a\"\nprovider = \"openai\"\nmodel = \"m\"\n";

#[test]
fn limit_mistakes_name_their_key() {
    let cases = [
        (
            "[[limits]]\nscope = \"key\"\nid = \"k\"\n",
            "limits[0].rpm",
            "neither rpm nor tpm",
        ),
        (
            "[[limits]]\nscope = \"key\"\nid = \"k\"\ntpm = 0\n",
            "limits[0].tpm",
            "reject every request",
        ),
        (
            "[[limits]]\nscope = \"team\"\nid = \" \"\nrpm = 1\n",
            "limits[0].id",
            "empty",
        ),
        (
            "[[limits]]\nscope = \"model\"\nid = \"nope\"\nrpm = 1\n",
            "limits[0].id",
            "not configured",
        ),
        (
            "[[limits]]\nscope = \"user\"\nrpm = 1\n[[limits]]\nscope = \"user\"\ntpm = 9\n",
            "limits[1].id",
            "two default user limits",
        ),
        (
            "[[budgets]]\nscope = \"key\"\nid = \"k\"\nlimit_usd = \"0\"\nperiod = \"day\"\n",
            "budgets[0].limit_usd",
            "positive",
        ),
        (
            "[[budgets]]\nscope = \"key\"\nid = \"k\"\nlimit_usd = 5\nperiod = \"day\"\nalert_at = [1.5]\n",
            "budgets[0].alert_at",
            "share",
        ),
        (
            "[[budgets]]\nscope = \"team\"\nlimit_usd = 5\nperiod = \"day\"\n[[budgets]]\nscope = \"team\"\nlimit_usd = 9\nperiod = \"month\"\n",
            "budgets[1].id",
            "two default team budgets",
        ),
        (
            "[[budgets]]\nscope = \"team\"\nid = \"\"\nlimit_usd = 5\nperiod = \"day\"\n",
            "budgets[0].id",
            "empty",
        ),
        (
            "[cache]\nenabled = true\nttl_secs = 0\n",
            "cache.ttl_secs",
            "TTL of 0",
        ),
        (
            "[cache]\nenabled = true\nmax_bytes = 0\n",
            "cache.max_bytes",
            "0 bytes",
        ),
    ];
    for (section, expected_key, expected_text) in cases {
        let (key, message) = error_of(&format!("{ONE_MODEL}{section}"));
        assert_eq!(key, expected_key, "{section}");
        assert!(message.contains(expected_text), "{section}: {message}");
    }
}

#[test]
fn budget_amount_reads_numbers_exactly() {
    let text = format!(
        "{ONE_MODEL}[[budgets]]\nscope = \"key\"\nid = \"k\"\nlimit_usd = 0.1\nperiod = \"total\"\n"
    );
    let config = GatewayConfig::from_toml_str(&text).unwrap();
    assert_eq!(
        config.budgets[0].limit_usd,
        "0.1".parse::<Decimal>().unwrap()
    );
    let (key, message) = error_of(&format!(
        "{ONE_MODEL}[[budgets]]\nscope = \"key\"\nid = \"k\"\nlimit_usd = \"ten\"\nperiod = \"day\"\n"
    ));
    assert!(key.starts_with("line "), "{key}");
    assert!(message.contains("not an amount in US dollars"), "{message}");
}

#[test]
fn health_check_settings_round_trip() {
    let text = format!(
        "[health.check]\ninterval = \"2m\"\ntimeout = \"1500ms\"\n{ONE_MODEL}health_check = {{ interval = \"10s\" }}\n"
    );
    let config = GatewayConfig::from_toml_str(&text).unwrap();
    let default = config.health.check.clone().unwrap();
    assert_eq!(default.interval, std::time::Duration::from_secs(120));
    assert_eq!(default.timeout, std::time::Duration::from_millis(1_500));
    let own = config.models[0].deployments[0]
        .health_check
        .clone()
        .unwrap();
    assert_eq!(own.interval, std::time::Duration::from_secs(10));
    assert_eq!(own.timeout, std::time::Duration::from_secs(5), "default");
    let text = toml::to_string(&config).unwrap();
    assert!(text.contains("interval = \"120s\""), "{text}");
    assert_eq!(GatewayConfig::from_toml_str(&text).unwrap(), config);
}

#[test]
fn health_check_mistakes_name_their_key() {
    let (key, message) = error_of(&format!("[health.check]\ninterval = \"0s\"\n{ONE_MODEL}"));
    assert_eq!(key, "health.check.interval");
    assert!(message.contains("0 s"), "{message}");

    let (key, message) = error_of(&format!(
        "{ONE_MODEL}health_check = {{ timeout = \"0ms\" }}\n"
    ));
    assert_eq!(key, "models[0].deployments[0].health_check.timeout");
    assert!(message.contains("\"5s\""), "{message}");

    let (key, message) = error_of(&format!(
        "{ONE_MODEL}health_check = {{ interval = \"30 sec\" }}\n"
    ));
    assert!(key.starts_with("line "), "{key}");
    assert!(message.contains("not a duration"), "{message}");
}

#[test]
fn other_sections_are_left_out() {
    let text = format!(
        "{TWO_MODELS}\n[guardrails.pii]\nmin_score = 0.7\n\n[semantic_cache]\nthreshold = 0.9\n"
    );
    let (key, message) = error_of(&text);
    assert!(key.starts_with("line "), "{key}");
    assert!(message.contains("guardrails"), "{message}");

    let shared =
        GatewayConfig::from_toml_str_ignoring(&text, &["guardrails", "semantic_cache"]).unwrap();
    assert_eq!(shared, GatewayConfig::from_toml_str(TWO_MODELS).unwrap());
}

#[test]
fn ignoring_keeps_error_positions() {
    let text = "[semantic_cache]\nthreshold = 0.9\n\n[[models]]\nname = \"chat\"\nstrategy = \"fastest\"\n";
    let error = GatewayConfig::from_toml_str_ignoring(text, &["semantic_cache"]).unwrap_err();
    let GatewayError::Config { key, message } = error else {
        panic!("expected a config error, got {error}");
    };
    assert_eq!(key, "line 6, column 12");
    assert!(message.contains("fastest"), "{message}");
}

#[test]
fn ignoring_nothing_still_rejects_unknown_sections() {
    let text = format!("{TWO_MODELS}\n[semantic_cache]\nthreshold = 0.9\n");
    let error = GatewayConfig::from_toml_str_ignoring(&text, &["guardrails"]).unwrap_err();
    assert!(error.to_string().contains("semantic_cache"), "{error}");
}
