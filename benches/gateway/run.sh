#!/usr/bin/env bash
# Measures the latency `llmops serve` adds in front of an OpenAI-compatible
# server, and the latency LiteLLM's proxy adds in front of the same server.
#
# Starts the llmops mock on loopback, with `llmops serve` in front of it
# and, when LITELLM names its executable, LiteLLM's proxy too. For each
# rate and mode it then sends open-loop load to the mock directly, through
# llmops and through LiteLLM, in that order. Prints one JSON
# line per run to $OUT/results.jsonl and a table at the end. Every process
# it starts listens on 127.0.0.1 only and is stopped on exit.
#
#   benches/gateway/run.sh
#   LITELLM=/tmp/litellm-venv/bin/litellm RATES="500 1000" benches/gateway/run.sh
#
# Settings (environment variables):
#   RATES            requests per second, one run each (default "500 1000 2000")
#   RUN_SECS         measured seconds per run (default 20)
#   WARMUP_SECS      seconds of load before each measured run (default 3)
#   MODES            "json", "stream" or both (default "json stream")
#   TARGETS          any of "direct llmops litellm" (default all three)
#   LITELLM          path of the `litellm` executable; unset skips LiteLLM
#   LITELLM_WORKERS  LiteLLM proxy worker processes (default 1)
#   PIN              1 pins the mock and the load generator to CPU 0 and the
#                    gateway under test to CPU 1; 0 lets them float (default 1)
#   NICE             niceness of the processes run.sh starts, e.g. -10 so
#                    other builds delay them less; negative values need
#                    root (default 0). The kernel's autogroup scheduling
#                    weighs each session as a whole, so run.sh then moves
#                    itself into a new session and sets that session's
#                    niceness too (/proc/self/autogroup); Ctrl-C from the
#                    terminal no longer reaches it, but SIGTERM does.
#   RT_PRIORITY      when set, runs the processes run.sh starts under the
#                    real-time policy SCHED_FIFO at this priority (1-99,
#                    needs root), so that other work on the machine cannot
#                    delay their wake-ups. The kernel still leaves 5% of
#                    each CPU to other work (sched_rt_runtime_us).
#   MOCK_PORT, LLMOPS_PORT, LITELLM_PORT  (default 18089, 18090, 18091)
#   OUT              folder for results and server logs (default a new
#                    folder under /tmp)
#   SKIP_BUILD       1 uses the release binaries already built
set -euo pipefail

if [[ ${NICE:-0} != 0 && -z ${GWBENCH_OWN_SESSION:-} ]]; then
    exec env GWBENCH_OWN_SESSION=1 setsid --wait "$0" "$@"
fi
if [[ ${NICE:-0} != 0 && -w /proc/self/autogroup ]]; then
    echo "$NICE" >/proc/self/autogroup
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/benches/gateway"
target_dir=${CARGO_TARGET_DIR:-$root/target}
release="$target_dir/release"

RATES=${RATES:-"500 1000 2000"}
RUN_SECS=${RUN_SECS:-20}
WARMUP_SECS=${WARMUP_SECS:-3}
MODES=${MODES:-"json stream"}
TARGETS=${TARGETS:-"direct llmops litellm"}
LITELLM=${LITELLM:-}
LITELLM_WORKERS=${LITELLM_WORKERS:-1}
PIN=${PIN:-1}
NICE=${NICE:-0}
RT_PRIORITY=${RT_PRIORITY:-}
MOCK_PORT=${MOCK_PORT:-18089}
LLMOPS_PORT=${LLMOPS_PORT:-18090}
LITELLM_PORT=${LITELLM_PORT:-18091}
OUT=${OUT:-$(mktemp -d /tmp/gwbench.XXXXXX)}
mkdir -p "$OUT"

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Command prefixes that set the niceness, the real-time policy when
# RT_PRIORITY is set and, when PIN=1, put a process on CPU 0 or CPU 1.
# nice, chrt and taskset exec the command, so `$!` is the
# server's own process id.
cpu0=(nice -n "$NICE") cpu1=(nice -n "$NICE")
if [[ -n $RT_PRIORITY ]]; then
    cpu0+=(chrt -f "$RT_PRIORITY") cpu1+=(chrt -f "$RT_PRIORITY")
fi
if [[ $PIN == 1 ]]; then
    cpu0+=(taskset -c 0) cpu1+=(taskset -c 1)
fi

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        # Each server runs in its own process group (set -m below), so this
        # also stops LiteLLM's worker processes.
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
set -m

# Waits until `url` returns 200, for at most `seconds`.
wait_ready() {
    local url=$1 seconds=$2 pid=$3 name=$4
    local deadline=$((SECONDS + seconds))
    until curl -sf --noproxy '*' -o /dev/null "$url"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited during start-up; its log is $OUT/$name.log"
            tail -n 20 "$OUT/$name.log" >&2
            exit 1
        fi
        if ((SECONDS > deadline)); then
            log "$name did not answer $url within ${seconds}s; its log is $OUT/$name.log"
            exit 1
        fi
        sleep 0.2
    done
}

# Prints the summed VmRSS in kB of a process and its descendants.
tree_rss_kb() {
    local pid=$1 total=0 child rss
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    total=$((total + ${rss:-0}))
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
        total=$((total + $(tree_rss_kb "$child")))
    done
    echo "$total"
}

# Samples the RSS of `pid`'s process tree every 200 ms until `stop_file`
# exists, then prints the largest sample in kB.
sample_rss() {
    local pid=$1 stop_file=$2 peak=0 rss
    while true; do
        rss=$(tree_rss_kb "$pid")
        ((rss > peak)) && peak=$rss
        [[ -e $stop_file ]] && break
        sleep 0.2
    done
    echo "$peak"
}

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    log "building release binaries"
    # --bin and --example select targets across both packages, so each
    # target is named.
    (cd "$root" && nice -n 10 cargo build --release -p llmops-testkit -p llmops-cli \
        --bin llmops-mock --bin llmops --example openloop)
fi

# Both gateways check a master key on every request, because LiteLLM's
# proxy refuses to start without one. The load generator sends it to every
# target; the mock ignores it.
master_key="sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export OPENLOOP_API_KEY=$master_key

# The mock and the load generator share CPU 0; the gateway gets CPU 1.
log "starting the mock on 127.0.0.1:$MOCK_PORT"
"${cpu0[@]}" "$release/llmops-mock" --host 127.0.0.1 --port "$MOCK_PORT" >"$OUT/mock.log" 2>&1 &
mock_pid=$!
pids+=("$mock_pid")
wait_ready "http://127.0.0.1:$MOCK_PORT/v1/models" 30 "$mock_pid" mock

declare -A url pid_of
url[direct]="http://127.0.0.1:$MOCK_PORT/v1"
pid_of[direct]=$mock_pid

if [[ $TARGETS == *llmops* ]]; then
    sed "s/MOCK_PORT/$MOCK_PORT/" "$here/llmops.toml" >"$OUT/llmops.toml"
    log "starting llmops serve on 127.0.0.1:$LLMOPS_PORT"
    # RUST_LOG=warn: the default info level writes a line per request.
    LLMOPS_MASTER_KEY=$master_key RUST_LOG=${LLMOPS_RUST_LOG:-warn} "${cpu1[@]}" "$release/llmops" serve --host 127.0.0.1 \
        --port "$LLMOPS_PORT" --config "$OUT/llmops.toml" >"$OUT/llmops.log" 2>&1 &
    pid_of[llmops]=$!
    pids+=("${pid_of[llmops]}")
    url[llmops]="http://127.0.0.1:$LLMOPS_PORT/v1"
    wait_ready "http://127.0.0.1:$LLMOPS_PORT/health" 60 "${pid_of[llmops]}" llmops
fi

if [[ $TARGETS == *litellm* && -n $LITELLM ]]; then
    sed "s/MOCK_PORT/$MOCK_PORT/" "$here/litellm.yaml" >"$OUT/litellm.yaml"
    log "starting LiteLLM's proxy on 127.0.0.1:$LITELLM_PORT"
    # The cost map ships inside the package, so LiteLLM need not fetch it.
    # The proxy variables send any request that is not for loopback to a
    # closed local port, so nothing leaves the machine.
    env LITELLM_MASTER_KEY="$master_key" LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
        HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
        NO_PROXY=127.0.0.1,localhost \
        "${cpu1[@]}" "$LITELLM" --config "$OUT/litellm.yaml" --host 127.0.0.1 \
        --port "$LITELLM_PORT" --num_workers "$LITELLM_WORKERS" >"$OUT/litellm.log" 2>&1 &
    pid_of[litellm]=$!
    pids+=("${pid_of[litellm]}")
    url[litellm]="http://127.0.0.1:$LITELLM_PORT/v1"
    wait_ready "http://127.0.0.1:$LITELLM_PORT/health/liveliness" 180 "${pid_of[litellm]}" litellm
elif [[ $TARGETS == *litellm* ]]; then
    log "LITELLM is not set: skipping LiteLLM"
fi

# The model requested from each target: the mock echoes any name, the
# gateways route `bench` to the mock.
declare -A model=([direct]=gpt-4o-mini [llmops]=bench [litellm]=bench)

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
uptime >"$OUT/uptime-before.txt"
results="$OUT/results.jsonl"
: >"$results"
for rate in $RATES; do
    for mode in $MODES; do
        for target in $TARGETS; do
            [[ -n ${url[$target]:-} ]] || continue
            stream_flag=()
            [[ $mode == stream ]] && stream_flag=(--stream)
            stop_file="$OUT/stop.$target.$rate.$mode"
            rm -f "$stop_file"
            sample_rss "${pid_of[$target]}" "$stop_file" >"$OUT/rss.$target.$rate.$mode" &
            sampler=$!
            log "$target $mode $rate/s for ${WARMUP_SECS}s + ${RUN_SECS}s"
            report=$("${cpu0[@]}" "$release/examples/openloop" --url "${url[$target]}" \
                --rate "$rate" --seconds "$RUN_SECS" --warmup-secs "$WARMUP_SECS" \
                --model "${model[$target]}" --label "$target" "${stream_flag[@]}")
            touch "$stop_file"
            wait "$sampler"
            rss_kb=$(cat "$OUT/rss.$target.$rate.$mode")
            load=$(cut -d' ' -f1 /proc/loadavg)
            jq -c --arg mode "$mode" --argjson rss_kb "$rss_kb" --argjson load "$load" \
                '. + {mode: $mode, peak_rss_mb: ($rss_kb / 1024), load_1m: $load}' \
                <<<"$report" | tee -a "$results" >&2
        done
    done
done
uptime >"$OUT/uptime-after.txt"
for target in "${!pid_of[@]}"; do
    hwm=$(awk '/^VmHWM:/ {print $2, $3}' "/proc/${pid_of[$target]}/status" 2>/dev/null || true)
    log "$target VmHWM of the main process after all runs: ${hwm:-unknown}"
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 "$here/table.py" "$results"
log "results: $results"
