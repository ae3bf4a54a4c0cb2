"""Run examples/scan_corpus.rs and presidio_compare.py on the same dataset and
print a Markdown table with F1 per entity type and the throughput ratios.

Run from anywhere in the repository:

    python3 crates/guardrails/benches/python/compare.py [--out-dir DIR]

The Rust example is built with ``cargo build --release`` at a nice level of 19,
in ``$CARGO_TARGET_DIR`` when it is set. Both raw JSON reports are kept in
``--out-dir`` (default: a new temporary directory).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRATE = HERE.parents[1]
WORKSPACE = CRATE.parents[1]
DATASET = CRATE / "tests/data/presidio-research/synth_dataset_v2.json"
MODES = ["per_sentence", "batched", "joined_corpus"]


def run_rust(out_dir):
    """Build and run the example once, returning its JSON report."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", WORKSPACE / "target"))
    subprocess.run(
        [
            "nice",
            "-n",
            "19",
            "cargo",
            "build",
            "--release",
            "-p",
            "llmops-guardrails",
            "--example",
            "scan_corpus",
        ],
        cwd=WORKSPACE,
        check=True,
    )
    binary = target / "release/examples/scan_corpus"
    output = subprocess.run([str(binary), str(DATASET)], check=True, capture_output=True, text=True)
    (out_dir / "llmops.json").write_text(output.stdout, encoding="utf-8")
    return json.loads(output.stdout)


def run_presidio(out_dir):
    """Run the Presidio script with both configurations."""
    path = out_dir / "presidio.json"
    subprocess.run(
        [
            sys.executable,
            str(HERE / "presidio_compare.py"),
            "--dataset",
            str(DATASET),
            "--output",
            str(path),
        ],
        check=True,
    )
    return json.loads(path.read_text(encoding="utf-8"))


def print_accuracy(rust, presidio):
    runs = presidio["runs"]
    header = ["Entity", "llmops F1"] + [f"Presidio {run['configuration']} F1" for run in runs]
    print("| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for entity, metrics in list(rust["per_entity"].items()) + [("micro", rust["micro"])]:
        cells = [f"{metrics['f1']:.3f}"]
        for run in runs:
            peer = run["micro"] if entity == "micro" else run["per_entity"][entity]
            cells.append(f"{peer['f1']:.3f}")
        print(f"| {entity} | " + " | ".join(cells) + " |")


def print_throughput(rust, presidio):
    print("\n| Mode | Tool | texts/s | MiB/s | llmops / tool |")
    print("|---|---|---:|---:|---:|")
    for mode in MODES:
        ours = rust["throughput"].get(mode)
        if ours is None:
            # llmops has no batch API, so Presidio's batched mode is set
            # against llmops calling `analyze` once per sentence.
            ours = rust["throughput"]["per_sentence"]
        else:
            print(
                f"| {mode} | llmops | {ours['texts_per_second']:,.0f}"
                f" | {ours['mib_per_second']:.2f} | 1 |"
            )
        for run in presidio["runs"]:
            peer = run["throughput"][mode]
            ratio = f"{ours['texts_per_second'] / peer['texts_per_second']:,.0f}x"
            print(
                f"| {mode} | Presidio {run['configuration']} | {peer['texts_per_second']:,.0f}"
                f" | {peer['mib_per_second']:.3f} | {ratio} |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, help="directory for llmops.json and presidio.json")
    args = parser.parse_args()
    out_dir = args.out_dir or Path(tempfile.mkdtemp(prefix="guardrails-compare-"))
    out_dir.mkdir(parents=True, exist_ok=True)

    rust = run_rust(out_dir)
    presidio = run_presidio(out_dir)
    print(
        f"Presidio {presidio['presidio_version']}, spaCy {presidio['spacy_version']},"
        f" model {presidio['spacy_model']}"
    )
    print(f"llmops-guardrails {rust['version']}; raw reports in {out_dir}\n")
    print_accuracy(rust, presidio)
    print_throughput(rust, presidio)


if __name__ == "__main__":
    main()
