"""Print Markdown tables from the JSON lines that run.sh collects.

Each line is one openloop report plus `mode`, `peak_rss_mb` and `load_1m`.
"Added" is a gateway's percentile minus the direct run's percentile at the
same rate and mode: the difference of two distributions, not a
per-request difference.

    python3 benches/gateway/table.py results.jsonl
"""

import json
import sys

PERCENTILES = [("p50", "p50"), ("p99", "p99"), ("p99.9", "p999")]


def fmt(value):
    return "-" if value is None else f"{value:.2f}"


def added(run, direct, key, field):
    if direct is None or run.get(key) is None or direct.get(key) is None:
        return None
    return run[key][field] - direct[key][field]


def main(path):
    with open(path, encoding="utf-8") as file:
        runs = [json.loads(line) for line in file if line.strip()]
    groups = {}
    for run in runs:
        groups.setdefault((run["mode"], run["target_rate"]), []).append(run)

    for (mode, rate), group in sorted(groups.items()):
        direct = next((run for run in group if run["label"] == "direct"), None)
        key = "first_token_ms" if mode == "stream" else "latency_ms"
        measure = "first token" if mode == "stream" else "full response"
        print(f"\n{mode}, {rate:g} requests/s, {measure} latency in ms\n")
        head = ["target", "achieved/s", "errors"]
        head += [name for name, _ in PERCENTILES]
        head += [f"added {name}" for name, _ in PERCENTILES]
        head += ["peak RSS MB", "load"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for run in group:
            values = run.get(key) or {}
            cells = [
                run["label"],
                f"{run['achieved_rate']:.0f}",
                f"{100 * run['error_rate']:.2f}%",
            ]
            cells += [fmt(values.get(field)) for _, field in PERCENTILES]
            if run["label"] == "direct":
                cells += ["-"] * len(PERCENTILES)
            else:
                cells += [fmt(added(run, direct, key, f)) for _, f in PERCENTILES]
            cells += [f"{run['peak_rss_mb']:.1f}", f"{run['load_1m']:.2f}"]
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: table.py RESULTS.jsonl")
    main(sys.argv[1])
