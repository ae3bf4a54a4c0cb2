-- wrk script: POST a chat completion and pace each connection so that all
-- connections together send about RATE requests per second.
--
-- Environment: RATE (requests per second, all threads together),
-- CONNECTIONS (the value of wrk's -c), MODEL, STREAM ("1" for SSE).
-- wrk measures latency from sending a request to its last byte, and
-- delay() runs between requests, so the pause is not counted as latency.

local rate = tonumber(os.getenv("RATE") or "1000")
local connections = tonumber(os.getenv("CONNECTIONS") or "50")
local model = os.getenv("MODEL") or "bench"
local stream = os.getenv("STREAM") == "1"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
if stream then
  wrk.body = '{"model":"' .. model .. '","stream":true,"messages":[{"role":"user","content":"Say hello to the benchmark"}]}'
else
  wrk.body = '{"model":"' .. model .. '","messages":[{"role":"user","content":"Say hello to the benchmark"}]}'
end

-- Each connection waits about CONNECTIONS / RATE seconds between requests.
local pause_ms = 1000 * connections / rate

function delay()
  -- Up to ±50 % jitter keeps the connections from firing in lockstep.
  return math.floor(pause_ms * (0.5 + math.random()))
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'JSON {"requests":%d,"seconds":%.3f,"errors":%d,"non_2xx":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
