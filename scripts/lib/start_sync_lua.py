"""Prints a wrk script that sends StartSyncExecution of one bench workflow, as the AWS SDKs send it.

Usage: python3 scripts/lib/start_sync_lua.py WORKFLOW > good.lua   (from the repository root)
The script pauses SOAK_PAUSE_MS between a connection's requests when that is set, counts 200s
whose execution did not succeed, and ends with one line:
soak-summary notsucceeded=N requests=N non2xx=N connect=N read=N write=N timeout=N p50_us=N ...
(scripts/soak.sh, scripts/scale-out.sh).
"""
import json, sys
name = sys.argv[1]
inp = json.load(open(f"benches/workflows/{name}.input.json"))
body = json.dumps({
    "stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}",
    "input": json.dumps(inp, separators=(",", ":")),
}, separators=(",", ":"))
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/x-amz-json-1.0"')
print('wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartSyncExecution"')
print("wrk.body = " + json.dumps(body))
print("""
local pause = tonumber(os.getenv("SOAK_PAUSE_MS") or "0")
if pause > 0 then
  function delay() return pause end
end
-- A 200 whose execution did not succeed is counted too (per thread, summed at the end).
local threads = {}
function setup(thread) table.insert(threads, thread) end
failed = 0
function response(status, headers, body)
  if status == 200 and not string.find(body, '"status":"SUCCEEDED"', 1, true) then
    failed = failed + 1
  end
end
function done(summary, latency, requests)
  local notok = 0
  for _, t in ipairs(threads) do notok = notok + (t:get("failed") or 0) end
  io.write(string.format("soak-summary notsucceeded=%d requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\\n",
    notok, summary.requests, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
""")
