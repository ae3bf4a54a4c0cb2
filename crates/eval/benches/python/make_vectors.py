"""Generate reference values for llmops-eval's tests from the Python packages.

Writes tests/data/reference_vectors.json with sacreBLEU BLEU/chrF and
13a tokens, rouge-score ROUGE-1/2/L, SQuAD-style token F1, and SciPy
Wilcoxon signed-rank and binomial-test p-values.

Run from crates/eval: python3 benches/python/make_vectors.py
Requires: pip install sacrebleu==2.6.0 rouge-score==0.1.2 scipy==1.17.1
"""

import json
import random
import re
import string
from collections import Counter

import numpy as np
import rouge_score
import sacrebleu
import scipy
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF
from scipy import stats

HAND_WRITTEN = [
    ("the cat sat on the mat", ["the cat sat on the mat"]),
    ("the cat sat on the mat", ["the cat is on the mat"]),
    ("", ["a reference"]),
    ("a hypothesis", [""]),
    ("", [""]),
    ("   ", ["  x  "]),
    ("Hello, world! It's 3.5 degrees -- really.", ["Hello world, it is 3.5 degrees; really!"]),
    ("Price: $1,000.50 (approx.) e-mail me@x.org", ["price $1,000.50 approx email me@x.org"]),
    ("A &amp; B &lt;tag&gt; &quot;quoted&quot;", ["A & B <tag> \"quoted\""]),
    ("line one-\nline two\nthree", ["line oneline two three"]),
    ("ends with dash-\n", ["ends with dash-"]),
    ("2-3 years, 4-5 months", ["2 - 3 years , 4 - 5 months"]),
    ("Café déjà vu naïve résumé", ["cafe deja vu naive resume"]),
    ("東京は日本の首都です。", ["東京は日本の首都である。"]),
    ("서울은 한국의 수도입니다.", ["서울은 대한민국의 수도입니다."]),
    ("Emoji 🎉 party 🎉 time", ["emoji party time 🎉"]),
    ("İstanbul KELVIN \u212a test", ["istanbul kelvin k test"]),
    ("one", ["one two three four five"]),
    ("one two three four five six seven", ["one"]),
    ("the the the the the the the", ["the cat is on the mat"]),
    ("word", ["word"]),
    ("a b", ["a b"]),
    ("tabs\tand\u00a0nbsp\u2003em space", ["tabs and nbsp em space"]),
    ("sep\x1cfile\x1dgroup", ["sep file group"]),
    ("x.y,z .a ,b 1.2,3", ["x . y , z"]),
    ("It is a guide to action which ensures that the military always obeys the commands of the party.",
     ["It is a guide to action that ensures that the military will forever heed Party commands.",
      "It is the guiding principle which guarantees the military forces always being under the command of the Party.",
      "It is the practical guide for the army always to heed the directions of the party."]),
    ("he read the book because he was interested in world history",
     ["he was interested in world history because he read the book"]),
]

VOCAB = ("the a of and to in is was for on that with as by it at from this be are "
         "model answer data cat dog paris france capital 42 3.14 , . ! ? ; : ( ) - ' \" "
         "Über café naïve 東京 서울 données").split(" ")


def random_sentence(rng, low, high):
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(low, high)))


def generated_pairs(count, seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(count):
        reference = random_sentence(rng, 0, 25)
        words = reference.split()
        # Edit the reference so pairs overlap partially.
        hypothesis = [w for w in words if rng.random() > 0.3]
        for _ in range(rng.randint(0, 5)):
            hypothesis.insert(rng.randint(0, len(hypothesis)), rng.choice(VOCAB))
        refs = [reference]
        if rng.random() < 0.2:
            refs.append(random_sentence(rng, 1, 20))
        pairs.append((" ".join(hypothesis), refs))
    return pairs


def squad_normalize(text):
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    return [token for token in text.split() if token not in ("a", "an", "the")]


def squad_f1(prediction, reference):
    pred, ref = squad_normalize(prediction), squad_normalize(reference)
    if not pred and not ref:
        return None
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def text_vectors(pairs):
    bleu = BLEU(effective_order=True)
    chrf = CHRF()
    tokenizer = BLEU().tokenizer
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    out = []
    for hypothesis, references in pairs:
        b = bleu.sentence_score(hypothesis, references)
        rouge = scorer.score(references[0], hypothesis)
        out.append({
            "hypothesis": hypothesis,
            "references": references,
            "tokens_13a": tokenizer(hypothesis.rstrip()).split(),
            "bleu": b.score,
            "bleu_precisions": b.precisions,
            "bleu_bp": b.bp,
            "chrf": chrf.sentence_score(hypothesis, references).score,
            "rouge1": list(rouge["rouge1"]),
            "rouge2": list(rouge["rouge2"]),
            "rougeL": list(rouge["rougeL"]),
            "token_f1": squad_f1(hypothesis, references[0]),
        })
    return out


def corpus_vector(pairs):
    hypotheses = [h for h, _ in pairs]
    max_refs = max(len(r) for _, r in pairs)
    # sacreBLEU takes reference streams; a missing reference is None.
    streams = [[r[i] if i < len(r) else None for _, r in pairs] for i in range(max_refs)]
    return {
        "hypotheses": hypotheses,
        "references": [r for _, r in pairs],
        "bleu": sacrebleu.corpus_bleu(hypotheses, streams).score,
    }


def stats_vectors(seed):
    rng = np.random.default_rng(seed)
    wilcoxon = []
    cases = [
        ([0.1, 0.5, 0.3, 0.9, 0.7, 0.2], [0.2, 0.4, 0.6, 0.95, 0.1, 0.25]),
        ([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 5, 3, 8, 6, 9, 12]),
        ([0.5] * 10, [0.6, 0.4, 0.7, 0.7, 0.5, 0.6, 0.8, 0.3, 0.6, 0.6]),
    ]
    for n in (5, 12, 20, 40, 51, 80, 200):
        base = rng.uniform(0, 1, n)
        cases.append((list(base), list(base + rng.normal(0.05, 0.2, n))))
    for n in (14, 30, 60):
        base = rng.integers(0, 5, n) / 4
        cases.append((list(base), list(np.clip(base + rng.integers(-1, 2, n) / 4, 0, 1))))
    for base, cand in cases:
        base = [float(v) for v in base]
        cand = [float(v) for v in cand]
        result = stats.wilcoxon(cand, base)
        wilcoxon.append({"baseline": base, "candidate": cand,
                         "statistic": float(result.statistic), "p_value": float(result.pvalue)})
    binom = []
    for b, c in [(0, 1), (1, 0), (3, 7), (10, 10), (2, 15), (40, 60), (400, 470), (0, 12)]:
        binom.append({"baseline_only": b, "candidate_only": c,
                      "p_value": float(stats.binomtest(min(b, c), b + c, 0.5).pvalue)})
    return {"wilcoxon": wilcoxon, "mcnemar": binom}


def main():
    pairs = HAND_WRITTEN + generated_pairs(300, seed=7)
    vectors = {
        "versions": {"sacrebleu": sacrebleu.__version__, "rouge_score": "0.1.2",
                     "scipy": scipy.__version__},
        "pairs": text_vectors(pairs),
        "corpus": corpus_vector(pairs),
        "stats": stats_vectors(seed=11),
    }
    with open("tests/data/reference_vectors.json", "w", encoding="utf-8") as f:
        json.dump(vectors, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
