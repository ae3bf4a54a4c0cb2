"""Times Evidently's embedding drift on the data of `bench_100k generate`.

The Python side of crates/drift/benches/compare_100k.sh. Run from the
repository root:

    pip install "evidently==0.7.23"
    python3 crates/drift/benches/python/evidently_embeddings.py DIR \
        --rows 100000 --scenario drift --method report

Methods (Evidently 0.7.23, evidently.legacy.metrics.data_drift):

- report: a Report with EmbeddingsDrift and no drift_method, as a user
  would run it. The default method is the domain classifier ("model",
  SGDClassifier on a 50/50 split, drift when ROC AUC > 0.55; it bootstraps
  instead below 1,000 reference rows). The metric also runs t-SNE on up to
  2,500 rows of each window for its plot.
- model: the same domain classifier called alone, without the report and
  t-SNE.
- mmd: MMDDriftMethod with defaults (drift when MMD^2 > 0.015). It builds
  the full (reference + current)^2 kernel matrix in float64.
- distance: DistanceDriftMethod(dist="cosine"), cosine distance between
  the mean vectors, drift above 0.2.

Prints one line starting with "RESULT " holding a JSON object: the seconds
of the drift computation (wall and CPU of this process), the peak RSS of
the process (resource.getrusage, KiB on Linux), the score and the verdict.
"""

import argparse
import json
import pathlib
import resource
import time

import numpy as np
import pandas as pd

import evidently
from evidently import DataDefinition, Dataset, Report
from evidently.metrics import EmbeddingsDrift
from evidently.legacy.metrics.data_drift.embedding_drift_methods import (
    DistanceDriftMethod,
    MMDDriftMethod,
    ModelDriftMethod,
)

MODEL_THRESHOLD = 0.55  # ModelDriftMethod's default threshold in 0.7.23


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load(directory, name, rows):
    """Reads the first `rows` embeddings of a window as a DataFrame."""
    vectors = np.load(directory / f"{name}.npy", mmap_mode="r")[:rows]
    columns = [f"e{i}" for i in range(vectors.shape[1])]
    return pd.DataFrame(np.asarray(vectors), columns=columns)


def run_report(reference, current):
    """Runs EmbeddingsDrift with its default method inside a Report."""
    columns = list(reference.columns)
    definition = DataDefinition(numerical_columns=columns, embeddings={"emb": columns})
    reference_data = Dataset.from_pandas(reference, data_definition=definition)
    current_data = Dataset.from_pandas(current, data_definition=definition)
    report = Report([EmbeddingsDrift(embeddings_name="emb")])
    snapshot = report.run(current_data=current_data, reference_data=reference_data)
    score = float(snapshot.dict()["metrics"][0]["value"])
    return score, score > MODEL_THRESHOLD, "model (default, in a Report)"


def run_method(method, reference, current):
    """Calls one drift method on copies, since ModelDriftMethod adds a column."""
    score, drift, name = method(current.copy(), reference.copy())
    return float(score), bool(drift), name


METHODS = {
    "report": run_report,
    "model": lambda r, c: run_method(ModelDriftMethod(), r, c),
    "mmd": lambda r, c: run_method(MMDDriftMethod(), r, c),
    "distance": lambda r, c: run_method(DistanceDriftMethod(dist="cosine"), r, c),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("--rows", type=int, default=100_000, help="rows read from each window")
    parser.add_argument("--scenario", choices=["none", "drift"], required=True)
    parser.add_argument("--method", choices=sorted(METHODS), required=True)
    args = parser.parse_args()

    start = time.perf_counter()
    reference = load(args.directory, "reference", args.rows)
    current = load(args.directory, f"current_{args.scenario}", args.rows)
    load_seconds = time.perf_counter() - start
    load_rss = peak_rss_mib()

    wall = time.perf_counter()
    cpu = time.process_time()
    score, drift, name = METHODS[args.method](reference, current)
    result = {
        "side": "evidently",
        "evidently": evidently.__version__,
        "scenario": args.scenario,
        "rows": len(reference),
        "method": args.method,
        "method_name": name,
        "score": score,
        "drift": drift,
        "seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,
        "load_seconds": load_seconds,
        "load_peak_rss_mib": load_rss,
        "peak_rss_mib": peak_rss_mib(),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
