#!/usr/bin/env python3
"""Time Python Jinja2 on the render benchmark prompt and compare with Rust.

Run by `cargo bench -p llmops-registry --bench render`, which passes the
Rust time per render and the rendered messages as JSON. The script compiles
each message template once with Jinja2, with StrictUndefined and autoescape
off as in llmops, and checks that its outputs equal the Rust outputs. It
then times Template.render for every message in the same loop shape as the
Rust side and prints both times and their ratio. Exit codes: 0 when the
outputs match, 1 on a mismatch, 3 when Jinja2 is not installed.
"""

import argparse
import json
import platform
import sys
import time


def best_seconds_per_render(templates, variables, renders, repetitions):
    """Return the fastest wall-clock and thread CPU seconds per render."""
    best_wall = best_cpu = float("inf")
    for _ in range(repetitions):
        start, start_cpu = time.perf_counter(), time.thread_time()
        for _ in range(renders):
            for template in templates:
                template.render(variables)
        best_wall = min(best_wall, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.thread_time() - start_cpu)
    return best_wall / renders, best_cpu / renders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rust-results", required=True, help="JSON written by benches/render.rs")
    parser.add_argument("--data", required=True, help="the benchmark prompt JSON")
    args = parser.parse_args()

    try:
        import jinja2
    except ImportError:
        print("Jinja2 is not installed; install it with `pip install jinja2`", file=sys.stderr)
        return 3

    with open(args.rust_results, encoding="utf-8") as file:
        rust = json.load(file)
    with open(args.data, encoding="utf-8") as file:
        data = json.load(file)

    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    templates = [environment.from_string(message["content"]) for message in data["messages"]]
    variables = data["variables"]
    outputs = [template.render(variables) for template in templates]
    if outputs != rust["outputs"]:
        print(f"output mismatch:\nJinja2: {outputs!r}\nllmops: {rust['outputs']!r}", file=sys.stderr)
        return 1

    python_seconds, python_cpu = best_seconds_per_render(
        templates, variables, rust["renders"] // 10, rust["repetitions"]
    )
    rust_seconds, rust_cpu = rust["seconds_per_render"], rust["cpu_seconds_per_render"]
    print(f"\nJinja2 {jinja2.__version__} (Python {platform.python_version()}) vs llmops, "
          f"one thread, best of {rust['repetitions']} runs, whole chat prompt per render")
    print(f"llmops: {rust_seconds * 1e6:.3f} us/render   Jinja2: {python_seconds * 1e6:.3f} us/render   "
          f"llmops is {python_seconds / rust_seconds:.1f}x faster")
    print(f"CPU time: llmops {rust_cpu * 1e6:.3f} us/render   Jinja2: {python_cpu * 1e6:.3f} us/render   "
          f"llmops is {python_cpu / rust_cpu:.1f}x faster")
    print("Outputs identical.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
