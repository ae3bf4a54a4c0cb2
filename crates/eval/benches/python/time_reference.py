"""Time rouge-score ROUGE-L (plain and stemmed) and sacreBLEU sentence BLEU.

Usage: python3 time_reference.py PAIRS_JSONL OUT_JSON
Each input line is {"hypothesis": ..., "reference": ...}. Writes the wall
time and the CPU time of each metric in seconds and every score, for
comparison with the Rust implementation timed on the same file.
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
    start, cpu_start = time.perf_counter(), time.process_time()
    rouge = [scorer.score(p["reference"], p["hypothesis"])["rougeL"].fmeasure for p in pairs]
    rouge_seconds = time.perf_counter() - start
    rouge_cpu = time.process_time() - cpu_start

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    stemmed = [scorer.score(p["reference"], p["hypothesis"])["rougeL"].fmeasure for p in pairs]
    stemmed_seconds = time.perf_counter() - start
    stemmed_cpu = time.process_time() - cpu_start

    bleu_metric = BLEU(effective_order=True)
    start, cpu_start = time.perf_counter(), time.process_time()
    bleu = [bleu_metric.sentence_score(p["hypothesis"], [p["reference"]]).score for p in pairs]
    bleu_seconds = time.perf_counter() - start
    bleu_cpu = time.process_time() - cpu_start

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"rouge_l_seconds": rouge_seconds, "bleu_seconds": bleu_seconds,
                   "rouge_l_stemmed_seconds": stemmed_seconds,
                   "rouge_l_cpu_seconds": rouge_cpu, "bleu_cpu_seconds": bleu_cpu,
                   "rouge_l_stemmed_cpu_seconds": stemmed_cpu,
                   "rouge_l": rouge, "bleu": bleu, "rouge_l_stemmed": stemmed}, f)


if __name__ == "__main__":
    main()
