"""Generate AUROC reference values for llmops-eval's tests with scikit-learn.

Writes tests/data/auroc_vectors.json: seeded random score vectors (some
rounded to one decimal so that many scores tie) with binary labels, and
sklearn.metrics.roc_auc_score for each.

Run from crates/eval: python3 benches/python/make_auroc_vectors.py
Requires: pip install scikit-learn (values stored with 1.9.1)
"""

import json
import random

import sklearn
from sklearn.metrics import roc_auc_score


def case(rng, size, decimals):
    labels = [rng.random() < 0.4 for _ in range(size)]
    labels[0], labels[1] = True, False
    scores = [rng.random() + (0.3 if label else 0.0) for label in labels]
    if decimals is not None:
        scores = [round(score, decimals) for score in scores]
    return {
        "scores": scores,
        "labels": labels,
        "auroc": roc_auc_score([int(label) for label in labels], scores),
    }


def main():
    rng = random.Random(20261205)
    cases = [
        {"scores": [0.1, 0.4, 0.35, 0.8], "labels": [False, False, True, True],
         "auroc": roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])},
        {"scores": [0.5, 0.5, 0.5, 0.5], "labels": [True, False, True, False],
         "auroc": roc_auc_score([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5])},
    ]
    for size in (5, 17, 100, 1000):
        for decimals in (None, 1):
            cases.append(case(rng, size, decimals))
    output = {"scikit_learn": sklearn.__version__, "cases": cases}
    with open("tests/data/auroc_vectors.json", "w") as handle:
        json.dump(output, handle)


if __name__ == "__main__":
    main()
