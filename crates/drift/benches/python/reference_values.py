"""Writes reference values of the drift statistics for the Rust tests.

Run from the repository root:

    pip install scipy scikit-learn "pandas<3" evidently==0.7.23
    python3 crates/drift/benches/python/reference_values.py

The output, crates/drift/tests/data/reference_values.json, stores each
input with the value computed by scipy, scikit-learn or Evidently, and the
library versions used.
"""

import json
import pathlib

import numpy as np
import pandas as pd
import scipy
import sklearn
from scipy import stats
from scipy.spatial import distance
from sklearn.metrics import roc_auc_score

import evidently
from evidently.legacy.calculations.stattests import psi_stat_test, wasserstein_stat_test
from evidently.legacy.core import ColumnType

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "data" / "reference_values.json"
rng = np.random.default_rng(20261205)


def counts_to_series(counts):
    """Expands category counts into one categorical value per observation."""
    labels = []
    for index, count in enumerate(counts):
        labels.extend([f"c{index}"] * int(count))
    return pd.Series(labels)


def categorical_case(name, reference, current):
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    case = {"name": name, "reference": reference.tolist(), "current": current.tolist()}
    case["jensen_shannon"] = float(distance.jensenshannon(reference, current, base=2))
    psi, _ = psi_stat_test.func(
        counts_to_series(reference), counts_to_series(current), ColumnType.Categorical, 0.1
    )
    case["psi_evidently"] = float(psi)
    keep = (reference + current) > 0
    if keep.sum() >= 2:
        table = np.vstack([reference[keep], current[keep]])
        result = stats.chi2_contingency(table, correction=False)
        case["chi_square"] = [float(result.statistic), float(result.pvalue)]
    else:
        case["chi_square"] = [0.0, 1.0]
    return case


def numeric_case(name, reference, current):
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    case = {"name": name, "reference": reference.tolist(), "current": current.tolist()}
    m, n = len(reference), len(current)
    if m * n <= 10_000_000:
        result = stats.ks_2samp(reference, current, method="exact")
        case["ks"] = [float(result.statistic), float(result.pvalue)]
    else:
        statistic = stats.ks_2samp(reference, current).statistic
        effective = m * n / (m + n)
        pvalue = stats.kstwobign.sf(statistic * np.sqrt(effective))
        case["ks"] = [float(statistic), float(pvalue)]
    case["wasserstein"] = float(stats.wasserstein_distance(reference, current))
    normed, _ = wasserstein_stat_test.func(
        pd.Series(reference), pd.Series(current), ColumnType.Numerical, 0.1
    )
    case["wasserstein_normed_evidently"] = float(normed)
    return case


def auc_case(name, scores, labels):
    return {
        "name": name,
        "scores": [float(s) for s in scores],
        "labels": [bool(v) for v in labels],
        "auc": float(roc_auc_score(labels, scores)),
    }


def mmd_unbiased(x, y):
    """Unbiased MMD² with a Gaussian kernel whose width is the median
    pairwise distance of the pooled sample, written out in numpy."""
    pooled = np.vstack([x, y])
    d = distance.squareform(distance.pdist(pooled))
    upper = d[np.triu_indices(len(pooled), k=1)]
    sigma = np.median(upper)
    if sigma == 0:
        sigma = upper[upper > 0].mean()
    k = np.exp(-(d**2) / (2 * sigma**2))
    m = len(x)
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    n = len(y)
    xx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    yy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(xx + yy - 2 * kxy.mean())


def embedding_case(name, reference, current):
    reference = np.asarray(reference, dtype=np.float32)
    current = np.asarray(current, dtype=np.float32)
    a = reference.astype(float).mean(axis=0)
    b = current.astype(float).mean(axis=0)
    return {
        "name": name,
        "reference": reference.tolist(),
        "current": current.tolist(),
        "centroid_cosine": float(distance.cosine(a, b)),
        "mmd_squared": mmd_unbiased(reference.astype(float), current.astype(float)),
    }


categorical = [
    categorical_case("identical", [10, 20, 30], [10, 20, 30]),
    categorical_case("proportional", [10, 20, 30], [1, 2, 3]),
    categorical_case("shifted", [50, 30, 20], [20, 30, 50]),
    categorical_case("empty bin in current", [40, 30, 30], [60, 40, 0]),
    categorical_case("empty bin in reference", [0, 50, 50], [5, 45, 50]),
    categorical_case("empty in both", [25, 0, 75], [30, 0, 70]),
    categorical_case("disjoint", [10, 0], [0, 10]),
    categorical_case("one observation each", [1, 0, 0], [0, 0, 1]),
    categorical_case("tiny proportion", [1, 99_999, 0], [0, 50_000, 50_000]),
    categorical_case("many topics", rng.integers(0, 40, 25).tolist(), rng.integers(0, 40, 25).tolist()),
    categorical_case("new topic", [300, 200, 100, 0], [250, 200, 100, 50]),
]

numeric = [
    numeric_case("identical", [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]),
    numeric_case("one element each", [1.0], [2.0]),
    numeric_case("one element against many", [5.0], [1.0, 2.0, 3.0, 7.0, 9.0]),
    numeric_case("ties", [1, 1, 2, 2, 2, 3], [2, 2, 3, 3, 4, 4, 4]),
    numeric_case("constant reference", [3.0] * 8, [3.0, 3.0, 3.5, 4.0]),
    numeric_case("constant equal", [3.0] * 8, [3.0] * 5),
    numeric_case("normal shift", rng.normal(0, 1, 80).tolist(), rng.normal(0.5, 1, 60).tolist()),
    numeric_case("normal same", rng.normal(0, 1, 200).tolist(), rng.normal(0, 1, 150).tolist()),
    numeric_case("lengths in tokens", rng.poisson(40, 300).tolist(), rng.poisson(43, 250).tolist()),
    numeric_case("latency", rng.lognormal(6, 0.5, 90).tolist(), rng.lognormal(6.1, 0.6, 110).tolist()),
    numeric_case("large asymptotic", rng.normal(0, 1, 4000).tolist(), rng.normal(0.05, 1, 3000).tolist()),
]

aucs = [
    auc_case("separable", [0.1, 0.2, 0.8, 0.9], [False, False, True, True]),
    auc_case("reversed", [0.9, 0.8, 0.2, 0.1], [False, False, True, True]),
    auc_case("all tied", [0.5] * 6, [False, True] * 3),
    auc_case("ties across classes", [0.1, 0.4, 0.4, 0.4, 0.7, 0.7], [False, False, True, False, True, True]),
    auc_case("random", rng.random(50).tolist(), (rng.random(50) > 0.4).tolist()),
]

embeddings = [
    embedding_case("shifted", rng.normal(0, 1, (30, 8)).tolist(), rng.normal(0.6, 1, (25, 8)).tolist()),
    embedding_case("same", rng.normal(0, 1, (40, 5)).tolist(), rng.normal(0, 1, (35, 5)).tolist()),
    embedding_case(
        "duplicates", [[1.0, 0.0, 0.0]] * 6 + [[0.0, 1.0, 0.0]] * 2, [[1.0, 0.0, 0.0]] * 3 + [[0.0, 0.0, 1.0]] * 3
    ),
]

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(
    json.dumps(
        {
            "versions": {
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "scikit-learn": sklearn.__version__,
                "pandas": pd.__version__,
                "evidently": evidently.__version__,
            },
            "categorical": categorical,
            "numeric": numeric,
            "auc": aucs,
            "embeddings": embeddings,
        },
        indent=1,
    )
    + "\n"
)
print(f"wrote {OUT}")
