"""Write Cohen's kappa reference vectors computed by scikit-learn.

Run from this directory: python3 generate.py > sklearn_vectors.json
"""

import json
import random

import sklearn
from sklearn.metrics import cohen_kappa_score

random.seed(20261205)
cases = []
scales = [
    ("pass_fail", [0, 1]),
    ("one_to_five", [1, 2, 3, 4, 5]),
    ("zero_to_ten", list(range(11))),
]
for name, values in scales:
    for size in (5, 20, 137):
        for skew in (0.0, 0.6, 0.9):
            a = [random.choice(values) for _ in range(size)]
            # With probability `skew` the second rater copies the first,
            # otherwise it picks at random, so agreement varies.
            b = [x if random.random() < skew else random.choice(values) for x in a]
            entry = {"scale": name, "labels": values, "a": a, "b": b}
            for weights, key in ((None, "unweighted"), ("linear", "linear"), ("quadratic", "quadratic")):
                entry[key] = cohen_kappa_score(a, b, weights=weights)
                entry[key + "_full_scale"] = cohen_kappa_score(a, b, labels=values, weights=weights)
            cases.append(entry)

print(json.dumps({"sklearn_version": sklearn.__version__, "cases": cases}, indent=1))
