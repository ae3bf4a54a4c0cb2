#!/usr/bin/env python3
"""Time the official OpenAI Python client's stream decoding on the SSE bench files.

The Rust side is `cargo bench --bench sse`; this script measures the same
recorded streams, fed in the same 1,400-byte reads, through the two steps
`openai.Stream` runs per event: `SSEDecoder.iter_bytes` splits the body into
events, then `json.loads` and `construct_type` build a `ChatCompletionChunk`.
Both are internal to the package, so the version is pinned below; another
version may move them.

Usage: python3 benches/python/sse_compare.py [--seconds 3]
Exit codes: 0 on success, 3 when the openai package is missing or is not
the pinned version.
"""

import argparse
import json
import os
import sys
import time

PINNED_OPENAI = "1.99.0"
READ_SIZE = 1400
STREAM_DIR = os.path.join(
    os.path.dirname(__file__),
    "..",
    "..",
    "crates",
    "core",
    "tests",
    "data",
    "provider-wire-traffic",
    "openai",
)
STREAMS = [
    ("cached_tokens_31KB", "chat_stream_cached_tokens_include_usage.sse"),
    ("azure_19KB", "azure_chat_stream_with_prompt_filter_results.sse"),
    ("tool_calls_3KB", "chat_stream_tool_calls_include_usage.sse"),
]


def decode(body: bytes, sse_decoder_type, construct_type, chunk_type) -> int:
    pieces = (body[i : i + READ_SIZE] for i in range(0, len(body), READ_SIZE))
    chunks = 0
    for event in sse_decoder_type().iter_bytes(pieces):
        if event.data.startswith("[DONE]"):
            break
        construct_type(type_=chunk_type, value=json.loads(event.data))
        chunks += 1
    return chunks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time per stream")
    args = parser.parse_args()
    try:
        import openai
        from openai._models import construct_type
        from openai._streaming import SSEDecoder
        from openai.types.chat import ChatCompletionChunk
    except ImportError as error:
        print(f"openai {PINNED_OPENAI} is needed: pip install openai=={PINNED_OPENAI} ({error})")
        return 3
    if openai.__version__ != PINNED_OPENAI:
        print(f"found openai {openai.__version__}; pip install openai=={PINNED_OPENAI}")
        return 3

    print(f"openai {openai.__version__}, Python {sys.version.split()[0]}")
    print(f"{'stream':<22} {'events':>6} {'MiB/s':>8}")
    for name, file_name in STREAMS:
        with open(os.path.join(STREAM_DIR, file_name), "rb") as file:
            body = file.read()
        events = decode(body, SSEDecoder, construct_type, ChatCompletionChunk)
        runs = 0
        started = time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            decode(body, SSEDecoder, construct_type, ChatCompletionChunk)
            runs += 1
        elapsed = time.perf_counter() - started
        throughput = len(body) * runs / elapsed / 2**20
        print(f"{name:<22} {events:>6} {throughput:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
