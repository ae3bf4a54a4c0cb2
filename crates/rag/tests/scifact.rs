//! Keyword retrieval quality on a slice of the BEIR SciFact subset.
//!
//! The full-quality run (BM25, dense and hybrid on all 300 queries, beside
//! the Python baselines) is the `scifact` example; this test keeps to BM25
//! so it runs in seconds.

use std::collections::HashMap;
use std::path::Path;

use llmops_rag::beir::{read_corpus, read_qrels, read_queries};
use llmops_rag::metrics::evaluate;
use llmops_rag::{Bm25Index, DEFAULT_B, DEFAULT_K1};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scifact")
        .join(name)
}

#[test]
fn bm25_ranks_judged_documents_high() {
    let corpus = read_corpus(&data("corpus.jsonl")).unwrap();
    let queries = read_queries(&data("queries.jsonl")).unwrap();
    let qrels = read_qrels(&data("qrels/test.tsv")).unwrap();
    assert_eq!(corpus.len(), 1_000);
    assert_eq!(queries.len(), 300);
    assert_eq!(qrels.values().map(HashMap::len).sum::<usize>(), 339);

    let texts: Vec<String> = corpus
        .iter()
        .map(|document| format!("{} {}", document.title, document.text))
        .collect();
    let index = Bm25Index::build(&texts, DEFAULT_K1, DEFAULT_B);
    let mut run = HashMap::new();
    for query in queries.iter().take(60) {
        let hits = index.search(&query.text, 10, &|_| true);
        let ranked = hits.iter().map(|&(i, _)| corpus[i].id.clone()).collect();
        run.insert(query.id.clone(), ranked);
    }
    let judged = qrels
        .into_iter()
        .filter(|(query, _)| run.contains_key(query))
        .collect();
    let report = evaluate(&run, &judged, 10);
    assert_eq!(report.queries, 60);
    // Published BM25 nDCG@10 on the full 5,183-document SciFact corpus is
    // about 0.66 (BEIR paper, Thakur et al. 2021); a 1,000-document corpus
    // with the same judged documents is easier, so 0.6 is a floor that only
    // a broken tokenizer or scorer misses.
    assert!(report.ndcg > 0.6, "nDCG@10 {}", report.ndcg);
    assert!(report.hit_rate > 0.7, "hit rate {}", report.hit_rate);
}
