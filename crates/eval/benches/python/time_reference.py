"""Time rouge-score ROUGE-L (plain and stemmed) and sacreBLEU sentence BLEU.

Usage: python3 time_reference.py PAIRS_JSONL OUT_JSON
Each input line is {"hypothesis": ..., "reference": ...}. Writes the wall
time of each metric in seconds and every score, for comparison with the
Rust implementation timed on the same file.
"""

import json
import sys
import time

from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU


def main():
    pairs_path, out_path = sys.argv[1], sys.argv[2]
    with open(pairs_path, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f]

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    start = time.perf_counter()
    rouge = [scorer.score(p["reference"], p["hypothesis"])["rougeL"].fmeasure for p in pairs]
    rouge_seconds = time.perf_counter() - start

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    start = time.perf_counter()
    stemmed = [scorer.score(p["reference"], p["hypothesis"])["rougeL"].fmeasure for p in pairs]
    stemmed_seconds = time.perf_counter() - start

    bleu_metric = BLEU(effective_order=True)
    start = time.perf_counter()
    bleu = [bleu_metric.sentence_score(p["hypothesis"], [p["reference"]]).score for p in pairs]
    bleu_seconds = time.perf_counter() - start

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"rouge_l_seconds": rouge_seconds, "bleu_seconds": bleu_seconds,
                   "rouge_l_stemmed_seconds": stemmed_seconds,
                   "rouge_l": rouge, "bleu": bleu, "rouge_l_stemmed": stemmed}, f)


if __name__ == "__main__":
    main()
