//! `llmops prompt`: manage versioned prompts in the registry.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use llmops_registry::{
    LabelMove, PromptContent, PromptRef, PromptVersion, Registry, RegistryError,
};
use llmops_store::Store;
pub(crate) use llmops_store::utc_time;

use crate::failure::Failure;
use crate::input::read_text;
use crate::output::{out, outln};

/// Create, inspect, label, diff, render, export and import prompt versions.
///
/// A reference is NAME (latest version), NAME@3 (version 3) or
/// NAME:production (the version the label points to).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "LLMOPS_DB",
        default_value = "sqlite://llmops.db",
        global = true
    )]
    db: String,

    #[command(subcommand)]
    command: PromptCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PromptCommand {
    /// Publish a prompt file (YAML or JSON) as the next version, unless unchanged.
    Create {
        /// Prompt name, such as support/triage.
        name: String,
        /// Prompt file with template, model_parameters, variables and metadata; - reads standard input.
        #[arg(long, short)]
        file: PathBuf,
        /// Author recorded on the version.
        #[arg(long, env = "USER", default_value = "unknown")]
        author: String,
    },
    /// List prompts with their latest version and labels.
    List,
    /// Print one version as YAML.
    Show {
        /// NAME, NAME@VERSION or NAME:LABEL.
        reference: String,
    },
    /// Print a line diff between two versions.
    Diff {
        /// The old version: NAME@VERSION or NAME:LABEL.
        old: String,
        /// The new version.
        new: String,
    },
    /// Point a label at a version and record the move.
    Label {
        /// Prompt name.
        name: String,
        /// Label, such as production.
        label: String,
        /// Version number.
        // The argument id differs from the field name because `version` is
        // taken by the propagated `--version` flag.
        #[arg(id = "version_number", value_name = "VERSION")]
        version: u32,
        /// Why, recorded in the history.
        #[arg(long)]
        reason: String,
        /// Who, recorded in the history.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Move a label back to its previous version.
    Rollback {
        /// Prompt name.
        name: String,
        /// Label.
        label: String,
        /// Why, recorded in the history.
        #[arg(long)]
        reason: String,
        /// Who, recorded in the history.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
    /// Print the label moves of a prompt.
    History {
        /// Prompt name.
        name: String,
        /// Only this label.
        #[arg(long)]
        label: Option<String>,
    },
    /// Render a version with variables given as NAME=VALUE (VALUE is JSON, or else text).
    Render {
        /// NAME, NAME@VERSION or NAME:LABEL.
        reference: String,
        /// A variable, repeatable: --var question='Why?' --var n=3.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
    },
    /// Write prompts with versions, labels and history to a YAML or JSON file.
    Export {
        /// Output file; .json writes JSON, anything else YAML; - writes standard output.
        #[arg(long, short)]
        out: PathBuf,
        /// Prompts to export; all when none.
        names: Vec<String>,
    },
    /// Import an export file in one transaction.
    Import {
        /// The YAML or JSON file; - reads standard input.
        file: PathBuf,
        /// Who, recorded on label moves.
        #[arg(long, env = "USER", default_value = "unknown")]
        actor: String,
    },
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    block_on(run_async(args))
}

/// Runs a command's future on a single-threaded runtime.
pub(crate) fn block_on(
    future: impl std::future::Future<Output = Result<(), Failure>>,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(future)
}

/// Connects to the database and opens the registry, applying migrations.
pub(crate) async fn open_registry(url: &str) -> Result<Registry, Failure> {
    let store = Store::connect(url).await.map_err(usage_or_other)?;
    Registry::open(store).await.map_err(registry_failure)
}

async fn run_async(args: Args) -> Result<(), Failure> {
    let registry = open_registry(&args.db).await?;
    match args.command {
        PromptCommand::Create { name, file, author } => {
            let content = PromptContent::from_yaml(&read_text(&file)?).map_err(registry_failure)?;
            let published = registry
                .publish(&name, &content, &author)
                .await
                .map_err(registry_failure)?;
            let outcome = if published.created {
                "created"
            } else {
                "unchanged, latest is"
            };
            outln!(
                "{outcome} {name}@{} ({})",
                published.version,
                published.content_hash
            );
        }
        PromptCommand::List => {
            for prompt in registry.list().await.map_err(registry_failure)? {
                let labels: Vec<String> = prompt
                    .labels
                    .iter()
                    .map(|(l, v)| format!("{l}={v}"))
                    .collect();
                outln!(
                    "{}\tlatest {}\t{}",
                    prompt.name,
                    prompt.latest_version,
                    labels.join(" ")
                );
            }
        }
        PromptCommand::Show { reference } => {
            let version = resolve(&registry, &reference).await?;
            out!("{}", version_yaml(&version)?);
        }
        PromptCommand::Diff { old, new } => {
            let old_version = resolve(&registry, &old).await?;
            let new_version = resolve(&registry, &new).await?;
            let old_text = content_yaml(&old_version)?;
            let new_text = content_yaml(&new_version)?;
            outln!("--- {}@{}", old_version.name, old_version.version);
            outln!("+++ {}@{}", new_version.name, new_version.version);
            for line in line_diff(&old_text, &new_text) {
                outln!("{line}");
            }
        }
        PromptCommand::Label {
            name,
            label,
            version,
            reason,
            actor,
        } => {
            let request = LabelMove {
                prompt: &name,
                label: &label,
                version,
                actor: &actor,
                reason: &reason,
            };
            let moved = registry
                .set_label(&request)
                .await
                .map_err(registry_failure)?;
            outln!(
                "{name}:{label} {} -> {}",
                describe(moved.from_version),
                moved.to_version
            );
        }
        PromptCommand::Rollback {
            name,
            label,
            reason,
            actor,
        } => {
            let moved = registry
                .rollback(&name, &label, &actor, &reason)
                .await
                .map_err(registry_failure)?;
            outln!(
                "{name}:{label} {} -> {}",
                describe(moved.from_version),
                moved.to_version
            );
        }
        PromptCommand::History { name, label } => {
            for moved in registry
                .history(&name, label.as_deref())
                .await
                .map_err(registry_failure)?
            {
                outln!(
                    "{}\t{}\t{} -> {}\t{}\t{}",
                    utc_time(moved.at_ms),
                    moved.label,
                    describe(moved.from_version),
                    moved.to_version,
                    moved.actor,
                    moved.reason
                );
            }
        }
        PromptCommand::Render { reference, vars } => {
            let version = resolve(&registry, &reference).await?;
            let variables = parse_vars(&vars)?;
            let rendered =
                llmops_registry::render(&version, &variables).map_err(registry_failure)?;
            match rendered {
                llmops_registry::RenderedPrompt::Text(text) => outln!("{text}"),
                other => outln!(
                    "{}",
                    serde_json::to_string_pretty(&other).context("failed to print JSON")?
                ),
            }
        }
        PromptCommand::Export { out, names } => {
            let export = registry.export(&names).await.map_err(registry_failure)?;
            let text = if out.extension().is_some_and(|e| e == "json") {
                export.to_json()
            } else {
                export.to_yaml()
            }
            .map_err(registry_failure)?;
            if out.as_os_str() == "-" {
                out!("{text}");
            } else {
                crate::file_out::write_file(&out, text)?;
                eprintln!(
                    "exported {} to {}",
                    plural(export.prompts.len(), "prompt", "prompts"),
                    out.display()
                );
            }
        }
        PromptCommand::Import { file, actor } => {
            let export = llmops_registry::RegistryExport::parse(&read_text(&file)?)
                .map_err(registry_failure)?;
            let report = registry
                .import(&export, &actor)
                .await
                .map_err(registry_failure)?;
            outln!(
                "imported: {} versions added, {} already present, {} labels moved",
                report.versions_added,
                report.versions_present,
                report.labels_moved
            );
        }
    }
    Ok(())
}

async fn resolve(
    registry: &Registry,
    reference: &str,
) -> Result<std::sync::Arc<PromptVersion>, Failure> {
    let reference: PromptRef = reference.parse().map_err(registry_failure)?;
    registry
        .get(&reference.name, &reference.selector)
        .await
        .map_err(registry_failure)
}

fn describe(version: Option<u32>) -> String {
    version.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
}

fn content_yaml(version: &PromptVersion) -> anyhow::Result<String> {
    serde_yaml::to_string(&version.content).context("failed to write YAML")
}

fn version_yaml(version: &PromptVersion) -> anyhow::Result<String> {
    serde_yaml::to_string(version).context("failed to write YAML")
}

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, serde_json::Value>, Failure> {
    let mut variables = BTreeMap::new();
    for var in vars {
        let Some((name, value)) = var.split_once('=') else {
            return Err(Failure::Usage(format!(
                "--var {var:?} has no `=`; write --var NAME=VALUE"
            )));
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::from(value));
        variables.insert(name.to_owned(), value);
    }
    Ok(variables)
}

/// Returns the lines of a diff from the longest common subsequence: ` `
/// for kept, `-` for removed and `+` for added lines.
fn line_diff(old: &str, new: &str) -> Vec<String> {
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut lines = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            lines.push(format!(" {}", old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            // On a tie the removal comes first, as in unified diffs.
            lines.push(format!("-{}", old[i]));
            i += 1;
        } else {
            lines.push(format!("+{}", new[j]));
            j += 1;
        }
    }
    lines
}

pub(crate) fn usage_or_other(error: llmops_store::StoreError) -> Failure {
    if Failure::is_usage_store_error(&error) {
        Failure::Usage(error.to_string())
    } else {
        Failure::Other(error.into())
    }
}

pub(crate) fn registry_failure(error: RegistryError) -> Failure {
    match error {
        RegistryError::InvalidName { .. }
        | RegistryError::InvalidLabel { .. }
        | RegistryError::InvalidReference { .. }
        | RegistryError::InvalidPrompt { .. }
        | RegistryError::Format { .. }
        | RegistryError::Experiment(_)
        | RegistryError::UnknownArm { .. } => Failure::Usage(error.to_string()),
        other => Failure::Other(other.into()),
    }
}

/// Returns `count` with the singular or plural noun, as in "1 prompt".
fn plural(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("{count} {singular}")
    } else {
        format!("{count} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn diff_marks_changed_lines() {
        let lines = line_diff("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(lines, [" a", "-b", "+B", " c", "+d"]);
    }

    #[test]
    fn diff_of_empty_texts_is_empty() {
        assert!(line_diff("", "").is_empty());
        assert_eq!(line_diff("", "x"), ["+x"]);
    }
}
