#!/usr/bin/env bash
# Builds the comparison binary and runs `bench`, first printing the machine
# and version facts that a benchmark record needs.
#
# Usage: benches/llama-cpp-compare/run.sh [MODEL.gguf] [bench options...]
# Set RUSTFLAGS="-C target-cpu=native" to build both engines for this CPU.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
model="${1:-$HOME/.cache/llmops/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
shift || true
target_dir="${CARGO_TARGET_DIR:-$here/target}"

(cd "$here" && CARGO_TARGET_DIR="$target_dir" cargo build --release)

echo "date:      $(date -u +%Y-%m-%dT%H:%MZ)"
echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
echo "nproc:     $(nproc)"
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "rustc:     $(rustc --version)"
echo "RUSTFLAGS: ${RUSTFLAGS:-}"
for crate in llama-cpp-2 llama-cpp-sys-2 candle-core; do
  version="$(grep -A1 "^name = \"$crate\"" "$here/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"
  echo "$crate: $version"
done

"$target_dir/release/llama-cpp-compare" bench --model "$model" "$@"
