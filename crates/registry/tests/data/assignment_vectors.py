#!/usr/bin/env python3
"""Compute golden assignment vectors with an independent Python version of
the llmops assignment hash, and store them as JSON.

The hash is SHA-256 over the 8-byte big-endian byte length of the
experiment id, the UTF-8 experiment id, then the UTF-8 unit id. The first 8
digest bytes, read big-endian and shifted right by 11, are divided by 2**53. The arm is
the first arm with positive weight whose cumulative share exceeds that
point. Regenerate with:

    python3 crates/registry/tests/data/assignment_vectors.py > crates/registry/tests/data/assignment_vectors.json
"""

import hashlib
import json
import platform
import sys


def top_bits(experiment_id: str, unit_id: str) -> int:
    experiment = experiment_id.encode("utf-8")
    digest = hashlib.sha256(len(experiment).to_bytes(8, "big") + experiment + unit_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 11


def unit_interval(experiment_id: str, unit_id: str) -> float:
    return top_bits(experiment_id, unit_id) / 2**53


def assign(experiment_id, unit_id, arms):
    point = unit_interval(experiment_id, unit_id)
    total = sum(weight for _, weight in arms)
    running = 0.0
    chosen = None
    for name, weight in arms:
        running += weight
        if weight <= 0:
            continue
        chosen = name
        if point < running / total:
            break
    return chosen


EXPERIMENTS = [
    ("greeting-tone", [("control", 1.0), ("friendly", 1.0)]),
    ("summary-length-v2", [("short", 0.2), ("medium", 0.5), ("long", 0.3)]),
    ("日本語-実験", [("a", 3.0), ("off", 0.0), ("b", 1.0)]),
]

UNITS = ["user-1", "user-2", "user-42", "", "ユーザー🙂", "a\u0000b", "session:9f8e7d", "x" * 300]


def main():
    cases = []
    for experiment_id, arms in EXPERIMENTS:
        for unit_id in UNITS:
            cases.append({
                "experiment_id": experiment_id,
                "arms": [{"name": name, "weight": weight} for name, weight in arms],
                "unit_id": unit_id,
                "top_53_bits": top_bits(experiment_id, unit_id),
                "unit_interval": unit_interval(experiment_id, unit_id),
                "arm": assign(experiment_id, unit_id, arms),
            })
    json.dump({"generator": "assignment_vectors.py", "python_version": platform.python_version(), "cases": cases},
              sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
