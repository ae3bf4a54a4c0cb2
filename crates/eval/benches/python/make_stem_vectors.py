"""Generate Porter stems and stemmed ROUGE values for llmops-eval's tests.

Writes tests/data/porter_vectors.json with:
- "stems": NLTK's PorterStemmer() (default NLTK_EXTENSIONS mode, the one
  rouge-score uses) applied to every word of the real texts under
  tests/data (HaluEval and ARES rows, split like rouge-score's tokenizer)
  and to hand-written words that reach each rule, mixed case and
  non-ASCII words included;
- "pairs": rouge-score ROUGE-1, ROUGE-2 and ROUGE-L with use_stemmer=True
  on the text pairs of the same rows that are shorter than
  MAX_PAIR_CHARS together, which keeps the file small.

Run from crates/eval: python3 benches/python/make_stem_vectors.py
Requires: pip install rouge-score==0.1.2 (which brings nltk)
"""

import csv
import glob
import json
import re

import nltk
from nltk.stem import porter
from rouge_score import rouge_scorer

HAND_WRITTEN_WORDS = [
    # The examples of Porter (1980), one or more per rule.
    "caresses", "ponies", "ties", "caress", "cats", "feed", "agreed",
    "plastered", "bled", "motoring", "sing", "conflated", "troubled",
    "sized", "hopping", "tanned", "falling", "hissing", "fizzed", "failing",
    "filing", "happy", "sky", "relational", "conditional", "rational",
    "valenci", "hesitanci", "digitizer", "conformabli", "radicalli",
    "differentli", "vileli", "analogousli", "vietnamization", "predication",
    "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
    "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative",
    "formalize", "electriciti", "electrical", "hopeful", "goodness",
    "revival", "allowance", "inference", "airliner", "gyroscopic",
    "adjustable", "defensible", "irritant", "replacement", "adjustment",
    "dependent", "adoption", "homologou", "communism", "activate",
    "angulariti", "homologous", "effective", "bowdlerize", "probate", "rate",
    "cease", "controll", "roll", "generalizations", "oscillators",
    # NLTK's own rules and irregular forms.
    "flies", "dies", "spied", "died", "cried", "enjoy", "spy", "fly", "try",
    "skies", "dying", "lying", "tying", "news", "innings", "outings",
    "cannings", "howe", "proceed", "exceed", "succeed", "hopefulli",
    "geology", "theology", "archaeology", "analogi", "logi", "radically",
    "agreement", "yelling", "syzygy", "toy", "yyyy", "ayyy", "eyed",
    # Short words, digits and cases with nothing to strip.
    "a", "is", "as", "abs", "yes", "ied", "ies", "eed", "ing", "ed", "s", "",
    "2026s", "3rd", "covid19", "mp3s", "100", "x",
    # Mixed case and non-ASCII words, for the stemmer on its own.
    "Running", "RUNNING", "Relational", "Naïve", "cafés", "résumés",
    "İstanbul", "straße", "東京", "ÉTUDES", "\u212aelvin",
]


MAX_PAIR_CHARS = 300


def real_rows():
    """Yield (target, prediction) pairs from the stored real texts."""
    with open("tests/data/halueval/qa_one-turn_data.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield row["right_answer"], row["hallucinated_answer"]
            yield row["knowledge"], row["question"]
    with open("tests/data/halueval/general_data.first1000.jsonl", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            yield row["user_query"], row["chatgpt_response"]
    for path in sorted(glob.glob("tests/data/ares/*.tsv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                yield row["Document"], row["Answer"]
                yield row["Query"], row["Answer"]


def main():
    stemmer = porter.PorterStemmer()
    pairs = list(real_rows())

    words = set(HAND_WRITTEN_WORDS)
    for target, prediction in pairs:
        for text in (target, prediction):
            words.update(re.split(r"\s+", re.sub(r"[^a-z0-9]+", " ", text.lower())))
    stems = {word: stemmer.stem(word) for word in sorted(words)}

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    scored = []
    for target, prediction in pairs:
        if len(target) + len(prediction) >= MAX_PAIR_CHARS:
            continue
        scores = scorer.score(target, prediction)
        scored.append({
            "target": target,
            "prediction": prediction,
            **{name: [s.precision, s.recall, s.fmeasure] for name, s in scores.items()},
        })

    vectors = {
        "versions": {"nltk": nltk.__version__, "rouge_score": "0.1.2"},
        "stems": stems,
        "pairs": scored,
    }
    with open("tests/data/porter_vectors.json", "w", encoding="utf-8") as f:
        json.dump(vectors, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
