#!/usr/bin/env bash
# Times llmops-drift and Evidently 0.7.23 embedding drift on the same
# synthetic 384-dimensional embeddings, at several window sizes.
#
# Usage, from the repository root:
#   crates/drift/benches/compare_100k.sh [DATA_DIR] [RESULTS_FILE]
#
# Environment:
#   ROWS             window sizes to run, default "10000 30000 100000"
#   MMD_MAX_ROWS     largest size for Evidently's MMD, which builds the full
#                    (2 x rows)^2 float64 kernel matrix: 3.2 GB at 10,000
#                    rows, 320 GB at 100,000. Default 10000.
#   PYTHON           interpreter with evidently==0.7.23, default python3
#   CARGO_PROFILE    cargo profile flags for the Rust side, default --release
#
# Each run prints one "RESULT {json}" line; they are collected in
# RESULTS_FILE (default DATA_DIR/results.jsonl).
set -euo pipefail

data_dir=${1:-target/drift-bench}
results=${2:-$data_dir/results.jsonl}
rows_list=${ROWS:-"10000 30000 100000"}
mmd_max_rows=${MMD_MAX_ROWS:-10000}
python=${PYTHON:-python3}
read -r -a profile <<<"${CARGO_PROFILE:---release}"
script_dir=$(cd "$(dirname "$0")" && pwd)

largest=0
for rows in $rows_list; do
    if ((rows > largest)); then largest=$rows; fi
done

nice -n 10 cargo build "${profile[@]}" -p llmops-drift --example bench_100k
bench() {
    nice -n 10 cargo run -q "${profile[@]}" -p llmops-drift --example bench_100k -- "$@"
}

if [[ ! -f $data_dir/reference.npy ]]; then
    bench generate "$data_dir" --rows "$largest"
fi
mkdir -p "$(dirname "$results")"
: >"$results"

uptime | tee -a "$results.uptime"
for rows in $rows_list; do
    for scenario in none drift; do
        echo "== llmops-drift, $rows rows, scenario $scenario"
        bench run "$data_dir" --rows "$rows" --scenario "$scenario" |
            grep '^RESULT ' | sed 's/^RESULT //' | tee -a "$results"

        methods="report model distance"
        if ((rows <= mmd_max_rows)); then methods="$methods mmd"; fi
        for method in $methods; do
            echo "== Evidently $method, $rows rows, scenario $scenario"
            "$python" "$script_dir/python/evidently_embeddings.py" "$data_dir" \
                --rows "$rows" --scenario "$scenario" --method "$method" 2>/dev/null |
                grep '^RESULT ' | sed 's/^RESULT //' | tee -a "$results"
        done
    done
done
uptime | tee -a "$results.uptime"
