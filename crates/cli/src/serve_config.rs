//! The sections of `llmops serve`'s configuration file beyond the gateway's
//! own: `[guardrails]` and `[semantic_cache]`.

use std::path::Path;

use llmops_core::providers::openai::DEFAULT_OPENAI_BASE_URL;
use llmops_gateway::{GatewayConfig, GatewayError};
use llmops_guardrails::{InjectionConfig, OutputConfig, PiiConfig, PipelineConfig};
use llmops_rag::{
    CallerScope, DEFAULT_SEMANTIC_CAPACITY, DEFAULT_SEMANTIC_TTL, DEFAULT_SIMILARITY_THRESHOLD,
    SemanticCacheConfig,
};
use serde::Deserialize;

/// The top-level tables the server reads itself; the gateway reads the rest.
const SERVE_SECTIONS: [&str; 2] = ["guardrails", "semantic_cache"];

/// Everything `llmops serve --config FILE` reads from the file.
#[derive(Debug, Clone)]
pub(crate) struct ServeConfig {
    pub(crate) gateway: GatewayConfig,
    pub(crate) guardrails: Option<GuardrailsSection>,
    pub(crate) semantic_cache: Option<SemanticCacheSection>,
}

impl ServeConfig {
    /// Reads and validates the file at `path`.
    ///
    /// # Errors
    ///
    /// Returns [`GatewayError::Io`] for an unreadable file and
    /// [`GatewayError::Config`] naming the file, the key and the fix for
    /// invalid content.
    pub(crate) fn load(path: &Path) -> Result<ServeConfig, GatewayError> {
        let text = std::fs::read_to_string(path).map_err(|source| GatewayError::Io {
            path: path.to_owned(),
            source,
        })?;
        ServeConfig::parse(&text).map_err(|error| match error {
            GatewayError::Config { key, message } => {
                GatewayError::config(format!("{}: {key}", path.display()), message)
            }
            other => other,
        })
    }

    /// Parses and validates the text of a configuration file.
    pub(crate) fn parse(text: &str) -> Result<ServeConfig, GatewayError> {
        let gateway = GatewayConfig::from_toml_str_ignoring(text, &SERVE_SECTIONS)?;
        let sections: Sections = toml::from_str(text).map_err(|error| {
            let position = error.span().map_or(String::new(), |span| {
                format!(" ({})", line_of(text, span.start))
            });
            GatewayError::config(
                format!("[guardrails] or [semantic_cache]{position}"),
                error.message().to_owned(),
            )
        })?;
        let guardrails = match sections.guardrails {
            Some(section) if section.enabled => Some(section.validated()?),
            _ => None,
        };
        let semantic_cache = match sections.semantic_cache {
            Some(section) if section.enabled => Some(section.validated()?),
            _ => None,
        };
        Ok(ServeConfig {
            gateway,
            guardrails,
            semantic_cache,
        })
    }
}

/// Returns `line N` for a byte offset of `text`.
fn line_of(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or(text);
    format!("line {}", before.matches('\n').count() + 1)
}

/// The server's sections; every other top-level key is the gateway's.
#[derive(Debug, Default, Deserialize)]
struct Sections {
    guardrails: Option<GuardrailsSection>,
    semantic_cache: Option<SemanticCacheSection>,
}

/// `[guardrails]`: input guards before routing, output guards on each
/// response.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GuardrailsSection {
    /// Whether the guards run (default true, so a section turns them on).
    #[serde(default = "default_true")]
    enabled: bool,
    /// A tag every deployment must carry to serve a request with findings,
    /// such as `on_prem`.
    pub(crate) tag_on_findings: Option<String>,
    /// Characters of each streamed choice held back for checking.
    #[serde(default = "default_stream_window")]
    pub(crate) stream_window_chars: usize,
    /// Prompt-injection check of requests.
    injection: Option<InjectionConfig>,
    /// PII and secret check of requests and responses.
    pii: Option<PiiConfig>,
    /// Checks of responses.
    output: Option<OutputConfig>,
}

impl GuardrailsSection {
    /// Returns the guard pipeline settings of this section.
    // Guard settings that `PipelineConfig` gains later keep their defaults
    // until this section reads them.
    #[allow(clippy::needless_update)]
    pub(crate) fn pipeline(&self) -> PipelineConfig {
        PipelineConfig {
            injection: self.injection.clone(),
            pii: self.pii.clone(),
            output: self.output.clone(),
            ..PipelineConfig::default()
        }
    }

    fn validated(self) -> Result<GuardrailsSection, GatewayError> {
        if self.injection.is_none() && self.pii.is_none() && self.output.is_none() {
            return Err(GatewayError::config(
                "guardrails",
                "the section enables no guard; add [guardrails.pii], [guardrails.injection] or [guardrails.output], or set enabled = false",
            ));
        }
        if self.stream_window_chars == 0 {
            return Err(GatewayError::config(
                "guardrails.stream_window_chars",
                "0 holds nothing back, so values split across chunks pass; use a number of characters longer than the values to catch, such as 256",
            ));
        }
        if self
            .tag_on_findings
            .as_deref()
            .is_some_and(|tag| tag.trim().is_empty())
        {
            return Err(GatewayError::config(
                "guardrails.tag_on_findings",
                "the tag is empty; name a deployment tag such as \"on_prem\", or remove the key",
            ));
        }
        // Building the pipeline once checks scores, operators, schemas and
        // banned-term patterns.
        llmops_guardrails::Pipeline::from_config(&self.pipeline())
            .map_err(|error| GatewayError::config("guardrails", error.to_string()))?;
        Ok(self)
    }
}

/// `[semantic_cache]`: a second response cache that serves a stored
/// response to a request whose conversation embeds close to a stored one.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SemanticCacheSection {
    /// Whether the cache is on (default true, so a section turns it on).
    #[serde(default = "default_true")]
    enabled: bool,
    /// Lowest cosine similarity served.
    #[serde(default = "default_threshold")]
    threshold: f32,
    /// Seconds a response is served after it was stored.
    #[serde(default = "default_ttl_secs")]
    ttl_secs: u64,
    /// Most responses kept; the oldest is evicted first.
    #[serde(default = "default_max_entries")]
    max_entries: usize,
    /// Caller fields that partition the cache.
    #[serde(default)]
    scope: Vec<ScopeField>,
    /// The embedder of conversations.
    #[serde(default)]
    pub(crate) embedder: EmbedderSection,
}

impl SemanticCacheSection {
    /// Returns the cache settings of this section.
    pub(crate) fn cache_config(&self) -> SemanticCacheConfig {
        SemanticCacheConfig {
            threshold: self.threshold,
            ttl: std::time::Duration::from_secs(self.ttl_secs),
            capacity: self.max_entries,
            caller_scope: self
                .scope
                .iter()
                .map(|field| field.caller_scope())
                .collect(),
        }
    }

    fn validated(self) -> Result<SemanticCacheSection, GatewayError> {
        // Written so that NaN, which TOML allows, is rejected too.
        let in_range = self.threshold > 0.0 && self.threshold <= 1.0;
        if !in_range {
            return Err(GatewayError::config(
                "semantic_cache.threshold",
                format!(
                    "{} is not a cosine similarity above 0 and at most 1; use a value such as {DEFAULT_SIMILARITY_THRESHOLD}",
                    self.threshold
                ),
            ));
        }
        if self.ttl_secs == 0 {
            return Err(GatewayError::config(
                "semantic_cache.ttl_secs",
                "0 would expire every response at once; use a number of seconds such as 3600, or set enabled = false",
            ));
        }
        if self.max_entries == 0 {
            return Err(GatewayError::config(
                "semantic_cache.max_entries",
                "0 keeps no response; use a positive number such as 10000, or set enabled = false",
            ));
        }
        self.embedder.validate()?;
        Ok(self)
    }
}

/// A caller field in `semantic_cache.scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ScopeField {
    Key,
    Team,
    User,
}

impl ScopeField {
    fn caller_scope(self) -> CallerScope {
        match self {
            ScopeField::Key => CallerScope::Key,
            ScopeField::Team => CallerScope::Team,
            ScopeField::User => CallerScope::User,
        }
    }
}

/// `[semantic_cache.embedder]`: the embedded all-MiniLM-L6-v2, or an
/// OpenAI-compatible `/embeddings` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmbedderSection {
    #[serde(default)]
    pub(crate) provider: EmbedderProvider,
    /// The remote embedding model, such as `text-embedding-3-small`.
    pub(crate) model: Option<String>,
    /// The length of the remote model's vectors, such as 1536.
    pub(crate) dimensions: Option<usize>,
    /// The remote server's base URL, the part before `/embeddings`.
    pub(crate) base_url: Option<String>,
    /// The environment variable that contains the remote server's API key.
    pub(crate) api_key_env: Option<String>,
}

/// The source of the embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EmbedderProvider {
    /// all-MiniLM-L6-v2 from llmops-local, run in this process.
    #[default]
    Local,
    /// An OpenAI-compatible server.
    Openai,
}

impl EmbedderSection {
    fn validate(&self) -> Result<(), GatewayError> {
        match self.provider {
            EmbedderProvider::Local => {
                let remote_keys = [
                    ("model", self.model.is_some()),
                    ("dimensions", self.dimensions.is_some()),
                    ("base_url", self.base_url.is_some()),
                    ("api_key_env", self.api_key_env.is_some()),
                ];
                if let Some((key, _)) = remote_keys.iter().find(|(_, set)| *set) {
                    return Err(GatewayError::config(
                        format!("semantic_cache.embedder.{key}"),
                        "only an OpenAI-compatible embedder takes this key; set provider = \"openai\", or remove the key to use the local all-MiniLM-L6-v2",
                    ));
                }
            }
            EmbedderProvider::Openai => {
                if self
                    .model
                    .as_deref()
                    .is_none_or(|model| model.trim().is_empty())
                {
                    return Err(GatewayError::config(
                        "semantic_cache.embedder.model",
                        "missing; name the embedding model, such as \"text-embedding-3-small\"",
                    ));
                }
                if self.dimensions.is_none_or(|dimensions| dimensions == 0) {
                    return Err(GatewayError::config(
                        "semantic_cache.embedder.dimensions",
                        "missing or 0; give the length of the model's vectors, such as 1536",
                    ));
                }
                let variable = self.api_key_variable();
                let needs_key = self
                    .base_url
                    .as_deref()
                    .is_none_or(|url| url == DEFAULT_OPENAI_BASE_URL);
                if needs_key && std::env::var_os(variable).is_none() {
                    return Err(GatewayError::config(
                        "semantic_cache.embedder.api_key_env",
                        format!(
                            "{variable} is not set; set it to an OpenAI API key, or point base_url at a server that needs none"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Returns the name of the variable that contains the remote API key.
    pub(crate) fn api_key_variable(&self) -> &str {
        self.api_key_env.as_deref().unwrap_or("OPENAI_API_KEY")
    }
}

fn default_true() -> bool {
    true
}

fn default_stream_window() -> usize {
    llmops_guardrails::DEFAULT_WINDOW_CHARS
}

fn default_threshold() -> f32 {
    DEFAULT_SIMILARITY_THRESHOLD
}

fn default_ttl_secs() -> u64 {
    DEFAULT_SEMANTIC_TTL.as_secs()
}

fn default_max_entries() -> usize {
    DEFAULT_SEMANTIC_CAPACITY
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "[[models]]\nname = \"chat\"\n\n[[models.deployments]]\nid = \"m\"\nprovider = \"openai\"\nmodel = \"gpt-4o-mini\"\nbase_url = \"http://127.0.0.1:9/v1\"\n";

    fn parse(sections: &str) -> Result<ServeConfig, GatewayError> {
        ServeConfig::parse(&format!("{MODEL}\n{sections}"))
    }

    fn error_of(sections: &str) -> (String, String) {
        match parse(sections) {
            Err(GatewayError::Config { key, message }) => (key, message),
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn no_sections_leave_both_off() {
        let config = parse("").unwrap();
        assert!(config.guardrails.is_none());
        assert!(config.semantic_cache.is_none());
        assert_eq!(config.gateway.models.len(), 1);
    }

    #[test]
    fn sections_are_read() {
        let config = parse(
            "[guardrails]\ntag_on_findings = \"on_prem\"\n\n[guardrails.pii]\nactions = { KR_RRN = \"block\" }\n\n[semantic_cache]\nthreshold = 0.9\nttl_secs = 60\nmax_entries = 5\nscope = [\"key\", \"user\"]\n",
        )
        .unwrap();
        let guardrails = config.guardrails.unwrap();
        assert_eq!(guardrails.tag_on_findings.as_deref(), Some("on_prem"));
        assert!(guardrails.pipeline().pii.is_some());
        let cache = config.semantic_cache.unwrap().cache_config();
        assert_eq!(cache.threshold, 0.9);
        assert_eq!(cache.ttl.as_secs(), 60);
        assert_eq!(cache.capacity, 5);
        assert_eq!(cache.caller_scope, [CallerScope::Key, CallerScope::User]);
    }

    #[test]
    fn disabled_sections_are_off() {
        let config =
            parse("[guardrails]\nenabled = false\n\n[semantic_cache]\nenabled = false\n").unwrap();
        assert!(config.guardrails.is_none());
        assert!(config.semantic_cache.is_none());
    }

    #[test]
    fn gateway_errors_keep_their_line() {
        let (key, message) = error_of("[guardrails.pii]\n\n[cache]\nttl = 3\n");
        assert_eq!(key, "line 13, column 1");
        assert!(message.contains("unknown field `ttl`"), "{message}");
    }

    #[test]
    fn bad_values_name_key_and_fix() {
        let cases = [
            ("[guardrails]\n", "guardrails", "enables no guard"),
            (
                "[guardrails]\nstream_window_chars = 0\n[guardrails.pii]\n",
                "guardrails.stream_window_chars",
                "such as 256",
            ),
            (
                "[guardrails.pii]\nmin_score = 2.0\n",
                "guardrails",
                "pii.min_score",
            ),
            (
                "[semantic_cache]\nthreshold = 1.5\n",
                "semantic_cache.threshold",
                "such as 0.95",
            ),
            (
                "[semantic_cache]\nthreshold = 0\n",
                "semantic_cache.threshold",
                "above 0",
            ),
            (
                "[semantic_cache]\nttl_secs = 0\n",
                "semantic_cache.ttl_secs",
                "such as 3600",
            ),
            (
                "[semantic_cache]\nmax_entries = 0\n",
                "semantic_cache.max_entries",
                "10000",
            ),
            (
                "[semantic_cache.embedder]\nmodel = \"x\"\n",
                "semantic_cache.embedder.model",
                "provider = \"openai\"",
            ),
            (
                "[semantic_cache.embedder]\nprovider = \"openai\"\ndimensions = 8\nbase_url = \"http://127.0.0.1:9/v1\"\n",
                "semantic_cache.embedder.model",
                "text-embedding-3-small",
            ),
            (
                "[semantic_cache.embedder]\nprovider = \"openai\"\nmodel = \"e\"\nbase_url = \"http://127.0.0.1:9/v1\"\n",
                "semantic_cache.embedder.dimensions",
                "1536",
            ),
            (
                "[semantic_cache.embedder]\nprovider = \"openai\"\nmodel = \"e\"\ndimensions = 8\napi_key_env = \"LLMOPS_TEST_UNSET_KEY_VARIABLE\"\n",
                "semantic_cache.embedder.api_key_env",
                "LLMOPS_TEST_UNSET_KEY_VARIABLE is not set",
            ),
        ];
        for (sections, expected_key, expected_fix) in cases {
            let (key, message) = error_of(sections);
            assert_eq!(key, expected_key, "{sections}");
            assert!(message.contains(expected_fix), "{sections}: {message}");
        }
    }

    #[test]
    fn unknown_keys_and_values_name_line() {
        let cases = [
            (
                "[guardrails]\nblock_status = 403\n",
                "block_status",
                "line 11",
            ),
            (
                "[guardrails.pii]\nentities = [\"SHOE_SIZE\"]\n",
                "SHOE_SIZE",
                "line 11",
            ),
            (
                "[semantic_cache]\nscope = [\"tenant\"]\n",
                "tenant",
                "line 11",
            ),
            (
                "[semantic_cache.embedder]\nprovider = \"cohere\"\n",
                "cohere",
                "line 11",
            ),
        ];
        for (sections, expected_value, expected_line) in cases {
            let (key, message) = error_of(sections);
            assert!(key.contains(expected_line), "{sections}: {key}");
            assert!(key.contains("[guardrails] or [semantic_cache]"), "{key}");
            assert!(message.contains(expected_value), "{sections}: {message}");
        }
    }

    #[test]
    fn load_names_the_file() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("gateway.toml");
        std::fs::write(&path, format!("{MODEL}\n[semantic_cache]\nttl_secs = 0\n")).unwrap();
        let error = ServeConfig::load(&path).unwrap_err().to_string();
        assert!(error.contains("gateway.toml"), "{error}");
        assert!(error.contains("semantic_cache.ttl_secs"), "{error}");
    }
}
