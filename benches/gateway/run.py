"""Measure the latency the llmops gateway and the LiteLLM proxy add to chat calls.

Starts the testkit mock (`llmops-mock`, zero latency), `llmops serve` and
the LiteLLM proxy on loopback, all three pointed at the same mock, then for
each rate runs wrk (paced by paced.lua) against the mock directly and
through each proxy. Also measures time to first SSE event on streams with
sequential requests, and samples each proxy's resident memory.

Usage:
    python3 benches/gateway/run.py --llmops BIN --mock BIN [--litellm BIN]
        [--rates 500,1000,2000] [--seconds 20] [--connections 50]
        [--stream-requests 2000] [--json OUT.json]

Prints a JSON line per measurement and a Markdown summary at the end.

NOTE: this script has not been run yet, so its process handling and the
stream reader in first_event_us are untested.
"""

import argparse
import json
import os
import pathlib
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
MOCK_MODEL = "gpt-4o-mini"
PUBLIC_MODEL = "bench"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url, process, timeout_s=90):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


def tree_rss_kib(pid):
    """Returns the summed VmRSS of a process and all its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = pathlib.Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
            children = pathlib.Path(f"/proc/{current}/task/{current}/children").read_text()
            pending.extend(int(child) for child in children.split())
        except (OSError, AttributeError):
            continue
    return total


class RssSampler:
    """Samples the peak resident memory of a process tree every 100 ms."""

    def __init__(self, pid):
        self.pid = pid
        self.peak_kib = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))
            time.sleep(0.1)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def run_wrk(url, model, rate, seconds, connections, stream=False):
    env = dict(os.environ, RATE=str(rate), CONNECTIONS=str(connections), MODEL=model,
               STREAM="1" if stream else "0")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
               "-s", str(HERE / "paced.lua"), url]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("JSON "))
    result = json.loads(line[5:])
    result["achieved_rps"] = result["requests"] / result["seconds"]
    return result


def first_event_us(host, port, path, model, count):
    """Sends `count` sequential streaming requests on one keep-alive
    connection and returns the microseconds from sending each request to
    receiving the first `data:` line."""
    body = json.dumps({"model": model, "stream": True,
                       "messages": [{"role": "user", "content": "Say hello to the benchmark"}]})
    request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Content-Type: application/json\r\nAuthorization: Bearer sk-bench\r\n"
               f"Content-Length: {len(body)}\r\n\r\n{body}").encode()
    samples = []
    connection = socket.create_connection((host, port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(count):
        started = time.perf_counter_ns()
        connection.sendall(request)
        received = b""
        while b"data:" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed before the first event")
            received += chunk
        samples.append((time.perf_counter_ns() - started) / 1000)
        # Read the rest of the chunked response, up to the final empty chunk.
        while not received.endswith(b"0\r\n\r\n"):
            chunk = connection.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed inside a response")
            received += chunk
    connection.close()
    samples.sort()
    return {
        "requests": count,
        "p50_us": samples[len(samples) // 2],
        "p99_us": samples[int(len(samples) * 0.99)],
        "mean_us": statistics.fmean(samples),
    }


def start(command, env=None, stdout=subprocess.DEVNULL):
    return subprocess.Popen(command, env=env, stdout=stdout, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llmops", required=True, help="the release `llmops` binary")
    parser.add_argument("--mock", required=True, help="the release `llmops-mock` binary")
    parser.add_argument("--litellm", help="the `litellm` proxy command; omit to skip LiteLLM")
    parser.add_argument("--rates", default="500,1000,2000")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--stream-requests", type=int, default=2000)
    parser.add_argument("--json", type=pathlib.Path)
    args = parser.parse_args()
    rates = [int(rate) for rate in args.rates.split(",")]

    workdir = pathlib.Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    processes = []
    try:
        mock_port = free_port()
        mock = start([args.mock, "--port", str(mock_port)])
        processes.append(mock)
        mock_base = f"http://127.0.0.1:{mock_port}/v1"
        wait_healthy(f"{mock_base}/models", mock)

        targets = {"direct": {"port": mock_port, "model": MOCK_MODEL, "pid": mock.pid}}

        llmops_port = free_port()
        config = workdir / "gateway.toml"
        config.write_text(
            f'[[models]]\nname = "{PUBLIC_MODEL}"\n\n[[models.deployments]]\nid = "mock"\n'
            f'provider = "openai"\nmodel = "{MOCK_MODEL}"\nbase_url = "{mock_base}"\n'
            'api_key_env = "BENCH_MOCK_KEY"\n')
        env = dict(os.environ, BENCH_MOCK_KEY="sk-mock", RUST_LOG="warn")
        llmops = start([args.llmops, "serve", "--config", str(config), "--port",
                        str(llmops_port)], env=env)
        processes.append(llmops)
        wait_healthy(f"http://127.0.0.1:{llmops_port}/health", llmops)
        targets["llmops"] = {"port": llmops_port, "model": PUBLIC_MODEL, "pid": llmops.pid}

        if args.litellm:
            litellm_port = free_port()
            litellm_config = workdir / "litellm.yaml"
            litellm_config.write_text(
                "model_list:\n"
                f"  - model_name: {PUBLIC_MODEL}\n"
                "    litellm_params:\n"
                f"      model: openai/{MOCK_MODEL}\n"
                f"      api_base: {mock_base}\n"
                "      api_key: sk-mock\n"
                "litellm_settings:\n"
                "  telemetry: false\n")
            # The local cost map keeps LiteLLM from fetching prices from the
            # internet at start-up.
            env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR")
            litellm = start([args.litellm, "--config", str(litellm_config), "--port",
                             str(litellm_port), "--host", "127.0.0.1"], env=env)
            processes.append(litellm)
            wait_healthy(f"http://127.0.0.1:{litellm_port}/health/liveliness", litellm)
            targets["litellm"] = {"port": litellm_port, "model": PUBLIC_MODEL,
                                  "pid": litellm.pid}

        results = []
        for name, target in targets.items():
            url = f"http://127.0.0.1:{target['port']}/v1/chat/completions"
            # Warm-up: connections, caches and lazy initialisation.
            run_wrk(url, target["model"], 200, 3, args.connections)
            idle_kib = tree_rss_kib(target["pid"])
            for rate in rates:
                with RssSampler(target["pid"]) as sampler:
                    result = run_wrk(url, target["model"], rate, args.seconds, args.connections)
                result.update(target=name, rate=rate, idle_rss_kib=idle_kib,
                              peak_rss_kib=sampler.peak_kib, kind="chat")
                print(json.dumps(result), flush=True)
                results.append(result)
            stream = first_event_us("127.0.0.1", target["port"], "/v1/chat/completions",
                                    target["model"], args.stream_requests)
            stream.update(target=name, kind="first_event")
            print(json.dumps(stream), flush=True)
            results.append(stream)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)

    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    print_summary(results, rates)


def print_summary(results, rates):
    chat = {(r["target"], r["rate"]): r for r in results if r["kind"] == "chat"}
    first = {r["target"]: r for r in results if r["kind"] == "first_event"}
    print("\n| target | rate | achieved req/s | p50 µs | p99 µs | p99.9 µs | errors "
          "| added p50 µs | added p99 µs | added p99.9 µs | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (target, rate), r in chat.items():
        base = chat.get(("direct", rate))
        added = ["-", "-", "-"]
        if base and target != "direct":
            added = [r[key] - base[key] for key in ("p50_us", "p99_us", "p999_us")]
        print(f"| {target} | {rate} | {r['achieved_rps']:.0f} | {r['p50_us']} | {r['p99_us']} "
              f"| {r['p999_us']} | {r['errors']} | {added[0]} | {added[1]} | {added[2]} "
              f"| {r['peak_rss_kib'] / 1024:.1f} |")
    print("\n| target | first event p50 µs | p99 µs | added p50 µs | added p99 µs |")
    print("|---|---|---|---|---|")
    base = first.get("direct")
    for target, r in first.items():
        added = ("-", "-")
        if base and target != "direct":
            added = (f"{r['p50_us'] - base['p50_us']:.0f}", f"{r['p99_us'] - base['p99_us']:.0f}")
        print(f"| {target} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | {added[0]} | {added[1]} |")


if __name__ == "__main__":
    sys.exit(main())
