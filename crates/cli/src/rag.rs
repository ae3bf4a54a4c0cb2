//! `llmops rag`: ingest documents, build and switch index versions, query
//! with citations, and measure retrieval quality against qrels.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use llmops_core::tokens::TokenCounter;
use llmops_rag::beir::{BeirQuery, read_corpus, read_qrels, read_queries};
use llmops_rag::metrics::{Qrels, evaluate};
use llmops_rag::{
    ChunkingConfig, Collection, Document, Format, IndexSettings, IngestLimits, IngestOutcome,
    MetadataFilter, PackOrder, RagError, RetrievalMode, RetrievalOptions, Retriever, pack_context,
};
use llmops_store::Store;

use crate::failure::Failure;
use crate::output::{out, outln};
use crate::rag_embedder::{EmbedderArgs, query_token_limit};
use crate::records::block_on;

/// Ingest documents, build index versions and query them.
///
/// Documents and version records are kept in the database; each index
/// version is one file under --index-dir. `build` makes the new version
/// live unless --no-switch is given; `switch` moves to any built version,
/// and `rollback` returns to the previous one.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  llmops rag ingest docs/*.md handbook.pdf --meta team=search\n  llmops rag ingest --beir corpus.jsonl\n  llmops rag build --max-tokens 256 --overlap 32\n  llmops rag build --embedder openai --embedding-model text-embedding-3-small\n  llmops rag query 'How do I rotate keys?' -k 5 --budget 1000\n  llmops rag eval --queries queries.jsonl --qrels qrels/test.tsv -k 10\n  llmops rag rollback"
)]
pub(crate) struct Args {
    /// Database URL: sqlite://PATH, sqlite::memory: or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "LLMOPS_DB",
        default_value = "sqlite://llmops.db",
        global = true
    )]
    db: String,
    /// Folder for index files; each collection gets a subfolder.
    #[arg(
        long,
        env = "LLMOPS_RAG_INDEX_DIR",
        default_value = "llmops-rag",
        global = true
    )]
    index_dir: PathBuf,
    /// Collection name: ASCII letters, digits, `-` and `_`.
    #[arg(long, default_value = "default", global = true)]
    collection: String,
    #[command(flatten)]
    embedder: EmbedderArgs,

    #[command(subcommand)]
    command: RagCommand,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Mode {
    Hybrid,
    Dense,
    Keyword,
}

impl From<Mode> for RetrievalMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Hybrid => RetrievalMode::Hybrid,
            Mode::Dense => RetrievalMode::Dense,
            Mode::Keyword => RetrievalMode::Keyword,
        }
    }
}

#[derive(Debug, clap::Subcommand)]
enum RagCommand {
    /// Store documents (txt, md, html, htm, pdf); unchanged ones are skipped.
    Ingest {
        /// Files to ingest; the file path is the document id.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Read each path as a BEIR corpus.jsonl: one document per line,
        /// its `_id` as id and title plus text as content.
        #[arg(long)]
        beir: bool,
        /// Metadata for every ingested document, as KEY=VALUE; repeatable.
        #[arg(long = "meta", value_parser = parse_pair)]
        metadata: Vec<(String, String)>,
        /// Largest accepted document, in bytes.
        #[arg(long, default_value_t = llmops_rag::DEFAULT_MAX_DOCUMENT_BYTES)]
        max_bytes: usize,
    },
    /// Build a new index version from the stored documents.
    Build {
        /// Largest chunk, in tokens.
        #[arg(long, default_value_t = 256)]
        max_tokens: usize,
        /// Tokens shared by consecutive chunks.
        #[arg(long, default_value_t = 32)]
        overlap: usize,
        /// Model whose tokenizer counts chunk tokens.
        #[arg(long, default_value = "gpt-4o")]
        tokenizer: String,
        /// Record the version without making it live.
        #[arg(long)]
        no_switch: bool,
    },
    /// Make a built version live.
    Switch {
        /// The index version number.
        number: i64,
    },
    /// Make the previously live version live again.
    Rollback,
    /// List the built versions and mark the live one.
    Versions,
    /// Retrieve the chunks that best match a question.
    Query {
        /// The question.
        text: String,
        /// Chunks returned, 1 or more.
        #[arg(short, default_value_t = 5, value_parser = parse_k)]
        k: usize,
        /// Indexes used.
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
        mode: Mode,
        /// Query this index version instead of the live one.
        #[arg(long)]
        index_version: Option<i64>,
        /// Only documents whose metadata has KEY=VALUE; repeatable.
        #[arg(long = "filter", value_parser = parse_pair)]
        filters: Vec<(String, String)>,
        /// Print the hits packed into this many tokens, with citations.
        #[arg(long)]
        budget: Option<u64>,
    },
    /// Score retrieval against relevance judgements (BEIR format).
    Eval {
        /// queries.jsonl with `_id` and `text` per line.
        #[arg(long)]
        queries: PathBuf,
        /// TSV of query-id, corpus-id, score.
        #[arg(long)]
        qrels: PathBuf,
        /// Cut-off of recall, precision, nDCG and hit rate, 1 or more.
        #[arg(short, default_value_t = 10, value_parser = parse_k)]
        k: usize,
        /// Indexes used.
        #[arg(long, value_enum, default_value_t = Mode::Hybrid)]
        mode: Mode,
        /// Evaluate this index version instead of the live one.
        #[arg(long)]
        index_version: Option<i64>,
    },
}

fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

impl Args {
    /// Returns whether the command runs long enough to log its progress. A
    /// build embeds every chunk, which takes minutes on a large corpus.
    pub(crate) fn logs_progress(&self) -> bool {
        matches!(self.command, RagCommand::Build { .. })
    }
}

pub(crate) fn run(args: Args) -> Result<(), Failure> {
    block_on(run_async(args))?
}

/// Maps errors the user can fix to exit 2, in the command line's words:
/// the library's messages name its API, this names the flag or command.
fn rag_failure(error: RagError) -> Failure {
    match error {
        RagError::DocumentTooLarge { id, bytes, limit } => Failure::Usage(format!(
            "document `{id}` is {bytes} bytes, above the limit of {limit} bytes; split it, or raise --max-bytes"
        )),
        RagError::VersionNotFound {
            collection,
            version,
        } => Failure::Usage(format!(
            "index version {version} of collection `{collection}` not found; list versions with `llmops rag versions`"
        )),
        RagError::NoLiveVersion { collection } => Failure::Usage(format!(
            "collection `{collection}` has no live index version; build one with `llmops rag build`"
        )),
        RagError::InvalidConfig { setting, message } => {
            let flag = match setting {
                "tokenizer_model" => "--tokenizer",
                "max_tokens" => "--max-tokens",
                "overlap_tokens" => "--overlap",
                other => other,
            };
            Failure::Usage(format!("invalid {flag}: {message}"))
        }
        RagError::QueryTooLong { tokens, limit } => Failure::Usage(format!(
            "the query is {tokens} tokens, above the embedder's limit of {limit}; shorten it, or search with --mode keyword"
        )),
        RagError::Embedding { .. } => Failure::Other(anyhow::anyhow!(
            "{error}. With --embedder openai, --embedding-dimensions sets the expected vector length and --embedding-base-url the server"
        )),
        RagError::UnsupportedFormat { .. }
        | RagError::EmptyQuery
        | RagError::NoEarlierVersion { .. }
        | RagError::EmptyCorpus { .. }
        | RagError::InvalidEvalData { .. }
        | RagError::NoEvalData { .. } => Failure::Usage(error.to_string()),
        other => Failure::Other(anyhow::Error::new(other)),
    }
}

async fn run_async(args: Args) -> Result<(), Failure> {
    let store = Store::connect(&args.db)
        .await
        .map_err(|error| Failure::Usage(error.to_string()))?;
    let collection = Collection::open(store, &args.collection, &args.index_dir)
        .await
        .map_err(rag_failure)?;
    match args.command {
        RagCommand::Ingest {
            paths,
            beir,
            metadata,
            max_bytes,
        } => {
            let limits = IngestLimits {
                max_document_bytes: max_bytes,
            };
            ingest(&collection, &paths, beir, &metadata, limits).await
        }
        RagCommand::Build {
            max_tokens,
            overlap,
            tokenizer,
            no_switch,
        } => {
            let settings = IndexSettings {
                chunking: ChunkingConfig {
                    tokenizer_model: tokenizer,
                    max_tokens,
                    overlap_tokens: overlap,
                },
                embedder_endpoint: args.embedder.endpoint(),
                ..IndexSettings::default()
            };
            // Settings and documents are checked before a model loads.
            settings
                .chunking
                .validate(&TokenCounter::new())
                .map_err(rag_failure)?;
            if collection.document_count().await.map_err(rag_failure)? == 0 {
                return Err(rag_failure(RagError::EmptyCorpus {
                    collection: collection.name().to_owned(),
                }));
            }
            let embedder = args.embedder.for_build().await?;
            let built = collection
                .build_version(embedder.as_ref(), &settings)
                .await
                .map_err(rag_failure)?;
            outln!(
                "built version {} of `{}`: {} documents, {} chunks, embedder {}",
                built.version,
                collection.name(),
                built.documents,
                built.chunks,
                built.embedder
            );
            if !no_switch {
                collection
                    .switch_to(built.version)
                    .await
                    .map_err(rag_failure)?;
                outln!("version {} is live", built.version);
            }
            Ok(())
        }
        RagCommand::Switch { number } => {
            collection.switch_to(number).await.map_err(rag_failure)?;
            outln!("version {number} is live");
            Ok(())
        }
        RagCommand::Rollback => {
            let version = collection.rollback().await.map_err(rag_failure)?;
            outln!("rolled back: version {version} is live");
            Ok(())
        }
        RagCommand::Versions => versions(&collection).await,
        RagCommand::Query {
            text,
            k,
            mode,
            index_version,
            filters,
            budget,
        } => {
            let retriever = retriever(&collection, index_version, &args.embedder).await?;
            let mut filter = MetadataFilter::new();
            for (key, value) in filters {
                filter = filter.equals(key, value);
            }
            let options = RetrievalOptions {
                k,
                mode: mode.into(),
                filter,
                max_query_tokens: query_token_limit(retriever.index().manifest()),
                ..RetrievalOptions::default()
            };
            let hits = retriever
                .retrieve(&text, &options)
                .await
                .map_err(rag_failure)?;
            match budget {
                Some(budget) => {
                    let model = &retriever
                        .index()
                        .manifest()
                        .settings
                        .chunking
                        .tokenizer_model;
                    let counter = TokenCounter::new();
                    let packed = pack_context(&hits, budget, model, PackOrder::Relevance, &counter);
                    out!("{}", packed.text);
                    outln!(
                        "({} passages, {} tokens; {} duplicates and {} over budget left out)",
                        packed.citations.len(),
                        packed.tokens,
                        packed.duplicates,
                        packed.over_budget
                    );
                }
                None => {
                    // Standard output stays empty for scripts, and the note
                    // on standard error shows a person that the search ran.
                    if hits.is_empty() {
                        eprintln!("no chunk matched the query");
                    }
                    for (rank, hit) in hits.iter().enumerate() {
                        outln!(
                            "{}. {} bytes {}-{} score {:.4}\n   {}",
                            rank + 1,
                            hit.document_id,
                            hit.start,
                            hit.end,
                            hit.score,
                            one_line(&hit.text, 160)
                        );
                    }
                }
            }
            Ok(())
        }
        RagCommand::Eval {
            queries,
            qrels,
            k,
            mode,
            index_version,
        } => {
            let queries = read_queries(&queries).map_err(rag_failure)?;
            let qrels = read_qrels(&qrels).map_err(rag_failure)?;
            check_qrels_queries(&queries, &qrels)?;
            let retriever = retriever(&collection, index_version, &args.embedder).await?;
            let options = RetrievalOptions {
                k,
                mode: mode.into(),
                max_query_tokens: query_token_limit(retriever.index().manifest()),
                ..RetrievalOptions::default()
            };
            let mut run = HashMap::new();
            for query in &queries {
                let hits = retriever
                    .retrieve(&query.text, &options)
                    .await
                    .map_err(|error| match rag_failure(error) {
                        Failure::Usage(message) => {
                            Failure::Usage(format!("query `{}`: {message}", query.id))
                        }
                        Failure::Other(error) => {
                            Failure::Other(error.context(format!("query `{}`", query.id)))
                        }
                    })?;
                let mut ranked: Vec<String> = Vec::with_capacity(hits.len());
                for hit in hits {
                    if !ranked.contains(&hit.document_id) {
                        ranked.push(hit.document_id);
                    }
                }
                run.insert(query.id.clone(), ranked);
            }
            let report = evaluate(&run, &qrels, k);
            outln!("queries       {}", report.queries);
            outln!("recall@{k:<6} {:.4}", report.recall);
            outln!("precision@{k:<3} {:.4}", report.precision);
            outln!("mrr           {:.4}", report.mrr);
            outln!("ndcg@{k:<8} {:.4}", report.ndcg);
            outln!("hit_rate@{k:<4} {:.4}", report.hit_rate);
            Ok(())
        }
    }
}

/// Warns about judgements of queries missing from the queries file, and
/// fails when no judged query is in it, because every score would be 0.
fn check_qrels_queries(queries: &[BeirQuery], qrels: &Qrels) -> Result<(), Failure> {
    let known: HashSet<&str> = queries.iter().map(|query| query.id.as_str()).collect();
    let unknown = qrels
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .count();
    if unknown == qrels.len() {
        return Err(Failure::Usage(format!(
            "none of the {} query ids in --qrels is in --queries; pass the qrels file that belongs to these queries",
            qrels.len()
        )));
    }
    if unknown > 0 {
        eprintln!(
            "warning: {unknown} of {} query ids in --qrels are not in --queries and are skipped",
            qrels.len()
        );
    }
    Ok(())
}

fn parse_k(text: &str) -> Result<usize, String> {
    crate::input::parse_at_least_one(text, "0 results leave nothing to return or score", 10)
}

async fn ingest(
    collection: &Collection,
    paths: &[PathBuf],
    beir: bool,
    metadata: &[(String, String)],
    limits: IngestLimits,
) -> Result<(), Failure> {
    let mut counts: HashMap<&'static str, usize> = HashMap::new();
    // Every file is read before the first is stored, so a missing or
    // unreadable file stores nothing.
    let mut documents = Vec::new();
    for path in paths {
        if beir {
            let rows = read_corpus(path).map_err(rag_failure)?;
            documents.extend(
                rows.into_iter()
                    .map(|row| Document::text(row.id, format!("{} {}", row.title, row.text))),
            );
        } else {
            documents.push(read_document(path)?);
        }
    }
    for mut document in documents {
        for (key, value) in metadata {
            document.metadata.insert(key.clone(), value.clone());
        }
        let outcome = match collection.ingest(&document, limits).await {
            Ok(outcome) => outcome,
            Err(error) => {
                let stored: usize = counts.values().sum();
                if stored > 0 {
                    // Each document is stored on its own, so the ones
                    // before the failure stay; a rerun finds them
                    // unchanged.
                    let noun = if stored == 1 { "document" } else { "documents" };
                    eprintln!(
                        "stored before `{}` failed: {stored} {noun}; fix it and run the command again",
                        document.id
                    );
                }
                return Err(rag_failure(error));
            }
        };
        let name = match outcome {
            IngestOutcome::Added => "added",
            IngestOutcome::Replaced => "replaced",
            IngestOutcome::Unchanged => "unchanged",
            _ => "other",
        };
        *counts.entry(name).or_insert(0) += 1;
    }
    outln!(
        "{} added, {} replaced, {} unchanged; run `llmops rag build` to index them",
        counts.get("added").copied().unwrap_or(0),
        counts.get("replaced").copied().unwrap_or(0),
        counts.get("unchanged").copied().unwrap_or(0)
    );
    Ok(())
}

fn read_document(path: &Path) -> Result<Document, Failure> {
    if path.is_dir() {
        return Err(Failure::Usage(format!(
            "{} is a folder; pass its files instead, such as {}/*.md",
            path.display(),
            path.display()
        )));
    }
    let format = Format::from_path(path).map_err(rag_failure)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(Document::new(path.display().to_string(), format, bytes))
}

async fn versions(collection: &Collection) -> Result<(), Failure> {
    let live = collection.live_version().await.map_err(rag_failure)?;
    let versions = collection.versions().await.map_err(rag_failure)?;
    if versions.is_empty() {
        outln!("no versions; run `llmops rag build`");
    }
    for version in versions {
        let marker = if Some(version.version) == live {
            "*"
        } else {
            " "
        };
        outln!(
            "{marker} {:>4}  {}  {} docs  {} chunks  max_tokens {} overlap {}  corpus {}",
            version.version,
            version.embedder,
            version.documents,
            version.chunks,
            version.settings.chunking.max_tokens,
            version.settings.chunking.overlap_tokens,
            &version.corpus_hash[..12.min(version.corpus_hash.len())]
        );
    }
    Ok(())
}

async fn retriever(
    collection: &Collection,
    version: Option<i64>,
    embedder: &EmbedderArgs,
) -> Result<Retriever, Failure> {
    let index = match version {
        Some(version) => collection.load(version).await,
        None => collection.load_live().await,
    }
    .map_err(rag_failure)?;
    let embedder = embedder.for_index(index.manifest()).await?;
    Retriever::new(Arc::new(index), embedder).map_err(rag_failure)
}

fn one_line(text: &str, max_chars: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
