//! Credentials: provider API keys, tokens, private keys, JWTs and
//! high-entropy values assigned to keys such as `password` or `api_key`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::pattern::{Boundary, PatternRecognizer};
use super::validate::shannon_entropy;
use crate::entity::EntityType;

fn key_score(_value: &str) -> Option<f32> {
    Some(0.95)
}

fn openai_score(value: &str) -> Option<f32> {
    // Anthropic keys also start with `sk-`; their own recognizer reports them.
    (!value.starts_with("sk-ant-")).then_some(0.9)
}

fn stripe_score(value: &str) -> Option<f32> {
    // Publishable keys are meant for browsers, so they score lower.
    Some(if value.starts_with("pk_") { 0.6 } else { 0.95 })
}

/// Accepts a JWT whose header is base64url JSON with an `alg` member.
fn jwt_score(value: &str) -> Option<f32> {
    let header = value.split('.').next()?;
    let decoded = URL_SAFE_NO_PAD.decode(header.trim_end_matches('=')).ok()?;
    let json: serde_json::Value = serde_json::from_slice(&decoded).ok()?;
    json.get("alg").is_some().then_some(0.95)
}

/// Accepts a value assigned to a secret-like key when it is not a placeholder
/// and looks random: at least 3.0 bits of entropy per char, or 2.5 with both
/// letters and digits.
fn assigned_secret_score(value: &str) -> Option<f32> {
    let lower = value.to_ascii_lowercase();
    let placeholder = [
        "xxxx", "****", "changeme", "your_", "<", "${", "{{", "example", "redacted", "null",
        "none", "true", "false",
    ];
    if placeholder
        .iter()
        .any(|p| lower.starts_with(p) || lower == p.trim_end_matches('_'))
    {
        return None;
    }
    let entropy = shannon_entropy(value);
    let mixed =
        value.chars().any(|c| c.is_ascii_digit()) && value.chars().any(|c| c.is_ascii_alphabetic());
    (entropy >= 3.0 || (mixed && entropy >= 2.5)).then_some(0.8)
}

fn url_password_score(value: &str) -> Option<f32> {
    // Above the e-mail score, because `user:password@host` also looks like an address.
    (value.len() >= 3).then_some(0.95)
}

// Regular expressions of the recognizers below, matched on normalised text.
const AWS_ACCESS_KEY_PATTERN: &str = r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}";
const GITHUB_TOKEN_PATTERN: &str = r"gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}";
const ANTHROPIC_KEY_PATTERN: &str = r"sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{20,200}";
const OPENAI_KEY_PATTERN: &str = r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{17,200}";
const SLACK_TOKEN_PATTERN: &str = r"xox[bpars]-[0-9A-Za-z-]{10,200}";
const GOOGLE_API_KEY_PATTERN: &str = r"AIza[0-9A-Za-z_-]{35}";
const HUGGINGFACE_TOKEN_PATTERN: &str = r"hf_[A-Za-z0-9]{30,100}";
const STRIPE_KEY_PATTERN: &str = r"(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,99}";
// A block runs to its END line. A block without one, such as a truncated
// paste or a stream whose END line has not arrived, covers the optional
// `Name: value` header lines and the base64 lines that follow. The first
// base64 line needs at least 16 chars, so prose after a BEGIN line is not
// taken for key material.
const PRIVATE_KEY_PATTERN: &str = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:(?s:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)|(?:\s+[A-Za-z-]+:[^\r\n]*)*(?:\s+[A-Za-z0-9+/=]{16,})+(?:\s+[A-Za-z0-9+/=]{1,15})?)?";
const JWT_PATTERN: &str = r"eyJ[A-Za-z0-9_-]{5,}={0,2}\.[A-Za-z0-9_-]{5,}={0,2}\.[A-Za-z0-9_-]{8,}";
const ASSIGNED_SECRET_PATTERN: &str = r#"(?i)[A-Za-z0-9_.-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|credential|비밀번호|패스워드)[A-Za-z0-9_.-]{0,40}["']?\s*(?::|=|:=|=>)\s*["'`]?([^\s"'`,;]{8,})"#;
const URL_PASSWORD_PATTERN: &str = r"[a-z][a-z0-9+.-]{0,30}://[^\s:/@]{1,128}:([^\s:/@]{1,128})@";

pub(crate) fn recognizers() -> Vec<PatternRecognizer> {
    let specs = [
        PatternRecognizer::new(
            "aws_access_key",
            EntityType::AwsAccessKey,
            AWS_ACCESS_KEY_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "github_token",
            EntityType::GithubToken,
            GITHUB_TOKEN_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "anthropic_key",
            EntityType::AnthropicKey,
            ANTHROPIC_KEY_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "openai_key",
            EntityType::OpenAiKey,
            OPENAI_KEY_PATTERN,
            openai_score,
        ),
        PatternRecognizer::new(
            "slack_token",
            EntityType::SlackToken,
            SLACK_TOKEN_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "google_api_key",
            EntityType::GoogleApiKey,
            GOOGLE_API_KEY_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "huggingface_token",
            EntityType::HuggingFaceToken,
            HUGGINGFACE_TOKEN_PATTERN,
            key_score,
        ),
        PatternRecognizer::new(
            "stripe_key",
            EntityType::StripeKey,
            STRIPE_KEY_PATTERN,
            stripe_score,
        ),
        PatternRecognizer::new(
            "private_key",
            EntityType::PrivateKey,
            PRIVATE_KEY_PATTERN,
            key_score,
        ),
        PatternRecognizer::new("jwt", EntityType::Jwt, JWT_PATTERN, jwt_score),
        PatternRecognizer::new(
            "assigned_secret",
            EntityType::GenericSecret,
            ASSIGNED_SECRET_PATTERN,
            assigned_secret_score,
        )
        .map(|r| r.group(1).boundary(Boundary::None)),
        PatternRecognizer::new(
            "url_password",
            EntityType::GenericSecret,
            URL_PASSWORD_PATTERN,
            url_password_score,
        )
        .map(|r| r.group(1).boundary(Boundary::None)),
    ];
    specs
        .into_iter()
        .flatten()
        .map(|r| {
            if r.boundary == Boundary::Digit {
                r.boundary(Boundary::Alnum)
            } else {
                r
            }
        })
        .collect()
}
