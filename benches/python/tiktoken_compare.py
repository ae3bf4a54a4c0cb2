#!/usr/bin/env python3
"""Time Python tiktoken on the token benchmark texts and compare with Rust.

Run by `cargo bench --bench tokens`, which passes the Rust counts and times
as JSON. For each corpus and encoding this script counts every text with
`Encoding.encode_ordinary`, in the same per-text loop as the Rust side,
checks that each count equals the Rust count, and prints both throughputs
and their ratio. Exit codes: 0 when all counts match, 1 on a mismatch,
3 when the tiktoken package is not installed.

tiktoken downloads its rank files on first use. Without network access, this
script fills a temporary TIKTOKEN_CACHE_DIR from the rank files bundled in
the tiktoken-rs crate sources under CARGO_HOME; tiktoken checks each file
against the SHA-256 it expects, so both sides provably use the same ranks.
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

RANK_FILE_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"


def load_texts(data_dir: str) -> dict[str, list[str]]:
    """Read the corpora the same way benches/tokens.rs does."""
    def read(name):
        with open(os.path.join(data_dir, name), encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    scifact = [f"{row['title']}\n{row['text']}" for row in read("scifact-corpus.jsonl")]
    klue = [row["text"] for row in read("klue-ner-dev-first300.spans.jsonl")]
    return {"scifact": scifact, "klue": klue}


def offline_cache_dir(encodings: list[str]) -> str | None:
    """Build a tiktoken cache from tiktoken-rs's bundled rank files, if found."""
    cargo_home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    asset_dirs = sorted(glob.glob(os.path.join(cargo_home, "registry/src/*/tiktoken-rs-*/assets")))
    if not asset_dirs:
        return None
    cache_dir = tempfile.mkdtemp(prefix="tiktoken-cache-")
    for name in encodings:
        source = os.path.join(asset_dirs[-1], f"{name}.tiktoken")
        # tiktoken names cache entries by the SHA-1 of the download URL.
        key = hashlib.sha1(RANK_FILE_URL.format(name=name).encode()).hexdigest()
        shutil.copyfile(source, os.path.join(cache_dir, key))
    return cache_dir


def best_seconds(encoding, texts: list[str], repetitions: int) -> float:
    best = float("inf")
    for _ in range(repetitions):
        start = time.perf_counter()
        total = 0
        for text in texts:
            total += len(encoding.encode_ordinary(text))
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rust-results", required=True, help="JSON written by benches/tokens.rs")
    parser.add_argument("--data-dir", required=True, help="folder with the benchmark texts")
    args = parser.parse_args()

    try:
        import tiktoken
    except ImportError:
        print("tiktoken is not installed; install it with `pip install tiktoken`", file=sys.stderr)
        return 3

    with open(args.rust_results, encoding="utf-8") as file:
        rust = json.load(file)
    texts = load_texts(args.data_dir)
    encodings = sorted({run["encoding"] for run in rust["runs"]})
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        cache_dir = offline_cache_dir(encodings)
        if cache_dir:
            os.environ["TIKTOKEN_CACHE_DIR"] = cache_dir

    print(f"\nPython tiktoken {tiktoken.__version__} vs llmops-core (tiktoken-rs), "
          f"one thread, best of {rust['repetitions']} runs, per-text encode_ordinary")
    print(f"{'corpus/encoding':<24}{'texts':>6}{'tokens':>9}{'Rust MB/s':>11}{'Python MB/s':>13}{'Rust/Python':>13}")
    mismatches = 0
    for run in rust["runs"]:
        encoding = tiktoken.get_encoding(run["encoding"])
        corpus = texts[run["corpus"]]
        counts = [len(encoding.encode_ordinary(text)) for text in corpus]
        if counts != run["counts"]:
            differing = [i for i, (ours, theirs) in enumerate(zip(counts, run["counts"])) if ours != theirs]
            print(f"count mismatch on {run['corpus']}/{run['encoding']}: texts {differing[:10]} "
                  f"(lengths {len(counts)} and {len(run['counts'])})", file=sys.stderr)
            mismatches += 1
            continue
        python_seconds = best_seconds(encoding, corpus, rust["repetitions"])
        megabytes = run["bytes"] / 1e6
        label = f"{run['corpus']}/{run['encoding']}"
        print(f"{label:<24}{len(corpus):>6}{sum(counts):>9}{megabytes / run['seconds']:>11.2f}"
              f"{megabytes / python_seconds:>13.2f}{python_seconds / run['seconds']:>12.2f}x")
    if mismatches:
        print(f"{mismatches} corpus/encoding pairs have differing counts", file=sys.stderr)
        return 1
    print("All counts identical.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
