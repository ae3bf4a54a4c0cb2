//! `llmops guard`: find PII, secrets and prompt injection in a file, and
//! write an anonymised copy.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use llmops_guardrails::{
    Analyzer, Anonymizer, Finding, GuardError, InjectionDetector, MIN_HASH_KEY_BYTES, Operator,
    PipelineConfig, PlaceholderScope,
};
use serde_json::json;

use crate::failure::Failure;
use crate::output::outln;

/// Exit code of `guard scan` when it found a sensitive value or an injection.
const FOUND_EXIT_CODE: u8 = 3;

/// Injection score at or above which `guard scan` counts an injection,
/// when no config sets `[injection] threshold`.
const DEFAULT_INJECTION_THRESHOLD: f32 = 0.5;

/// Find PII, secrets and prompt injection in text, or write it anonymised.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes of `guard scan`: 0 when nothing was found, 3 when a sensitive value or a prompt injection was found, 2 for a bad argument, 1 for any other failure.\n\nExamples:\n  llmops guard scan prompt.txt\n  git diff | llmops guard scan - --json\n  llmops guard redact export.csv --operator mask --out export.masked.csv"
)]
pub(crate) struct Args {
    /// A guardrails TOML config (`[pii]` min_score, entities and operator,
    /// `[injection]` threshold); built-in defaults when absent.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: GuardCommand,
}

#[derive(Debug, clap::Subcommand)]
enum GuardCommand {
    /// Print one line per finding (type, position, score, recognizer) and the
    /// prompt-injection score. Found values are never printed, at most their
    /// last 2 characters.
    #[command(
        after_help = "Exit codes: 0 when nothing was found, 3 when a sensitive value or a prompt injection was found, 2 for a bad argument, 1 for any other failure."
    )]
    Scan {
        /// The file to scan, or - for standard input.
        file: PathBuf,
        /// Print the findings and the injection score as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the text with every finding replaced.
    Redact {
        /// The file to anonymise, or - for standard input.
        file: PathBuf,
        /// Replacement: typed placeholders such as <KR_RRN_1>, <REDACTED>,
        /// a mask keeping the last 4 characters, or a keyed hash.
        #[arg(long, value_enum)]
        operator: Option<OperatorName>,
        /// The HMAC key file for --operator hash; its bytes are the key.
        #[arg(long, value_name = "PATH")]
        hash_key_file: Option<PathBuf>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OperatorName {
    Placeholder,
    Redact,
    Mask,
    Hash,
}

/// The scan settings taken from a config.
struct Settings {
    analyzer: Analyzer,
    injection_threshold: f32,
    operator: Option<Operator>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, Failure> {
    let settings = load_settings(args.config.as_deref())?;
    match args.command {
        GuardCommand::Scan { file, json } => scan(&settings, &file, json),
        GuardCommand::Redact {
            file,
            operator,
            hash_key_file,
            out,
        } => {
            let operator = match operator {
                Some(name) => to_operator(name, hash_key_file.as_deref())?,
                None => settings.operator.clone().unwrap_or(Operator::Placeholder),
            };
            redact(&settings, &file, operator, out.as_deref())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_settings(path: Option<&Path>) -> Result<Settings, Failure> {
    let config = match path {
        None => PipelineConfig::default(),
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read the config {}", path.display()))?;
            toml::from_str::<PipelineConfig>(&source).map_err(|error| {
                Failure::Usage(format!(
                    "{}: {}",
                    path.display(),
                    GuardError::InvalidConfig {
                        message: error.to_string()
                    }
                ))
            })?
        }
    };
    // Building a pipeline checks the values, such as scores outside 0 to 1.
    if let Some(path) = path {
        llmops_guardrails::Pipeline::from_config(&config)
            .map_err(|error| Failure::Usage(format!("{}: {error}", path.display())))?;
    }

    let mut analyzer = Analyzer::new();
    let mut operator = None;
    if let Some(pii) = &config.pii {
        analyzer = analyzer.with_min_score(pii.min_score);
        if let Some(entities) = &pii.entities {
            analyzer = analyzer.with_entities(entities.clone());
        }
        operator = pii.operator.clone();
    }
    let injection_threshold = config
        .injection
        .as_ref()
        .map_or(DEFAULT_INJECTION_THRESHOLD, |injection| injection.threshold);
    Ok(Settings {
        analyzer,
        injection_threshold,
        operator,
    })
}

fn to_operator(name: OperatorName, hash_key_file: Option<&Path>) -> Result<Operator, Failure> {
    Ok(match name {
        OperatorName::Placeholder => Operator::Placeholder,
        OperatorName::Redact => Operator::Redact,
        OperatorName::Mask => Operator::Mask {
            keep_last: 4,
            mask_char: '*',
        },
        OperatorName::Hash => {
            let Some(path) = hash_key_file else {
                return Err(Failure::Usage(
                    "--operator hash needs a secret key; pass --hash-key-file PATH".to_owned(),
                ));
            };
            let key = std::fs::read(path)
                .with_context(|| format!("failed to read the hash key {}", path.display()))?;
            let operator = Operator::Hash { key };
            operator.validate().map_err(|_| {
                Failure::Usage(format!(
                    "the hash key file {} holds fewer than {MIN_HASH_KEY_BYTES} bytes; write at least 32 random bytes to it, such as with `head -c 32 /dev/urandom > {}`",
                    path.display(),
                    path.display()
                ))
            })?;
            operator
        }
    })
}

/// Reads the input as bytes, so invalid UTF-8 is reported at its offset.
fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
            .context("failed to read standard input")?;
        return Ok(bytes);
    }
    Ok(std::fs::read(path).with_context(|| format!("failed to read {}", path.display()))?)
}

fn input_name(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Decodes the input as UTF-8, naming the first invalid byte's offset.
fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, Failure> {
    std::str::from_utf8(bytes).map_err(|error| {
        Failure::Other(anyhow::anyhow!(
            "{} is not valid UTF-8 text: invalid byte at byte offset {}; convert it to UTF-8 first, such as with `iconv -f CP949 -t UTF-8`",
            input_name(path),
            error.valid_up_to()
        ))
    })
}

fn scan(settings: &Settings, path: &Path, as_json: bool) -> Result<ExitCode, Failure> {
    let bytes = read_input(path)?;
    let text = decode(path, &bytes)?;
    let findings = settings
        .analyzer
        .analyze(text)
        .context("the PII analyzer failed")?;
    let injection = InjectionDetector::new()
        .detect(text)
        .context("the injection detector failed")?;
    let injection_found = injection.score >= settings.injection_threshold;

    if as_json {
        let report = json!({
            "findings": findings.iter().map(|finding| finding_json(text, finding)).collect::<Vec<_>>(),
            "injection": {
                "score": shortest(injection.score),
                "threshold": shortest(settings.injection_threshold),
                "detected": injection_found,
                "signals": injection.signals,
            },
        });
        let rendered = serde_json::to_string_pretty(&report).context("failed to print JSON")?;
        outln!("{rendered}");
    } else {
        for finding in &findings {
            let (line, column) = line_column(text, finding.bytes.start);
            outln!(
                "{}\t{line}:{column}\tbytes {}..{}\tscore {:.2}\t{}\t{}",
                finding.entity,
                finding.bytes.start,
                finding.bytes.end,
                finding.score,
                finding.recognizer,
                masked(finding.value(text))
            );
        }
        outln!(
            "prompt injection score {:.2} (threshold {:.2}): {}",
            injection.score,
            settings.injection_threshold,
            if injection_found {
                "detected"
            } else {
                "not detected"
            }
        );
    }

    if findings.is_empty() && !injection_found {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(FOUND_EXIT_CODE))
    }
}

fn finding_json(text: &str, finding: &Finding) -> serde_json::Value {
    let (line, column) = line_column(text, finding.bytes.start);
    json!({
        "entity": finding.entity,
        "line": line,
        "column": column,
        "bytes": [finding.bytes.start, finding.bytes.end],
        "chars": [finding.chars.start, finding.chars.end],
        "score": shortest(finding.score),
        "recognizer": finding.recognizer,
        "masked": masked(finding.value(text)),
    })
}

/// Returns the 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, byte_offset: usize) -> (usize, usize) {
    let before = text.get(..byte_offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Masks a found value to `…` plus its last 2 characters, or to `…` alone
/// for values under 8 characters, where 2 characters would reveal too much.
fn masked(value: &str) -> String {
    let count = value.chars().count();
    if count < 8 {
        return "…".to_owned();
    }
    let tail: String = value.chars().skip(count - 2).collect();
    format!("…{tail}")
}

fn redact(
    settings: &Settings,
    path: &Path,
    operator: Operator,
    out: Option<&Path>,
) -> Result<(), Failure> {
    let bytes = read_input(path)?;
    let text = decode(path, &bytes)?;
    let findings = settings
        .analyzer
        .analyze(text)
        .context("the PII analyzer failed")?;
    let mut scope = PlaceholderScope::new();
    let redacted = Anonymizer::new(operator).anonymize(text, &findings, &mut scope);
    tracing::debug!(findings = findings.len(), "anonymised the input");

    match out {
        Some(out) => crate::file_out::write_file(out, redacted)?,
        None => std::io::stdout()
            .write_all(redacted.as_bytes())
            .context("failed to write standard output")?,
    }
    Ok(())
}

/// Widens an `f32` score to the `f64` with the same shortest decimal form,
/// so JSON shows 0.9 rather than 0.8999999761581421.
fn shortest(score: f32) -> f64 {
    score.to_string().parse().unwrap_or(f64::from(score))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{line_column, masked};

    proptest! {
        #[test]
        fn line_column_matches_char_walk(text in "[a-c가\n é]{0,40}") {
            let mut line = 1;
            let mut column = 1;
            for (offset, character) in text.char_indices() {
                prop_assert_eq!(line_column(&text, offset), (line, column));
                if character == '\n' {
                    line += 1;
                    column = 1;
                } else {
                    column += 1;
                }
            }
            prop_assert_eq!(line_column(&text, text.len()), (line, column));
        }

        #[test]
        fn masked_reveals_at_most_two_chars(value in "\\PC{0,30}") {
            let shown = masked(&value);
            prop_assert!(shown.starts_with('…'));
            prop_assert!(shown.chars().count() <= 3);
            prop_assert!(value.ends_with(shown.trim_start_matches('…')));
        }
    }

    #[test]
    fn line_column_counts_chars_after_newline() {
        let text = "가나\n다라 x";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, text.find('x').unwrap()), (2, 4));
    }

    #[test]
    fn masked_keeps_two_chars_of_long_values() {
        assert_eq!(masked("900101-1234568"), "…68");
        assert_eq!(masked("short"), "…");
        assert_eq!(masked(""), "…");
    }
}
