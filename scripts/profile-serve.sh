#!/usr/bin/env bash
# Instructions per StartSyncExecution request of `expressway serve`, under callgrind: stable on a
# loaded machine where wall-clock rates are not. The server runs under valgrind; a client sends
# WARMUP requests, the counters are zeroed, REQUESTS more are sent over CONNS kept-alive
# connections, the counters are dumped, and the server is stopped. Prints Ir per request (all
# threads) and, with TOP=n, the n costliest functions (inclusive) from callgrind_annotate.
#
#   scripts/profile-serve.sh                         # target/release/expressway, w1_pass_chain
#   BIN=/tmp/old/expressway REQUESTS=4000 TOP=40 scripts/profile-serve.sh
#
# The binary is not built here (build it first); everything started is stopped by pid on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${BIN:-$ROOT/target/release/expressway}"
WORKFLOW="${WORKFLOW:-w1_pass_chain}"
REQUESTS="${REQUESTS:-2000}"
WARMUP="${WARMUP:-200}"
CONNS="${CONNS:-8}"
TOP="${TOP:-0}"
OUT="${OUT:-/tmp/profile-serve.$$}"
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

mkdir -p "$OUT/defs"
cp "benches/workflows/$WORKFLOW.json" "$OUT/defs/$WORKFLOW.asl.json"
PID=""
cleanup() { if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" \
  "$BIN" serve --listen 127.0.0.1:0 --definitions "$OUT/defs" --log-level warn \
  >"$OUT/serve.out" 2>"$OUT/serve.err" &
PID=$!
for _ in $(seq 1 600); do grep -q '^listening on' "$OUT/serve.out" 2>/dev/null && break; sleep 0.1; done
URL="$(sed -n 's/^listening on http:\/\/\([^ ]*\).*/\1/p' "$OUT/serve.out" | head -1)"
[[ -n "$URL" ]] || { echo "serve did not start under valgrind" >&2; cat "$OUT/serve.err" >&2; exit 1; }

client() {  # client N: N requests over CONNS connections; fails on any answer but SUCCEEDED
  timeout 900 python3 - "$URL" "$WORKFLOW" "$1" "$CONNS" <<'EOF'
import http.client, json, sys, threading
addr, wf, n, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
host, port = addr.rsplit(":", 1)
inp = json.dumps(json.load(open(f"benches/workflows/{wf}.input.json")), separators=(",", ":"))
body = json.dumps({"stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:{wf}",
                   "input": inp}, separators=(",", ":")).encode()
headers = {"Content-Type": "application/x-amz-json-1.0",
           "X-Amz-Target": "AWSStepFunctions.StartSyncExecution"}
bad = []
def worker(count):
    c = http.client.HTTPConnection(host, int(port), timeout=120)
    for _ in range(count):
        c.request("POST", "/", body, headers)
        r = c.getresponse()
        out = r.read()
        if r.status != 200 or json.loads(out).get("status") != "SUCCEEDED":
            bad.append((r.status, out[:200]))
    c.close()
ts = [threading.Thread(target=worker, args=(n // conns + (i < n % conns),)) for i in range(conns)]
for t in ts: t.start()
for t in ts: t.join()
if bad:
    sys.exit(f"{len(bad)} bad answers, first: {bad[0]}")
EOF
}
client "$WARMUP"
callgrind_control -z "$PID" >/dev/null
client "$REQUESTS"
callgrind_control -d "$PID" >/dev/null
sleep 1
DUMP="$(ls -t "$OUT"/callgrind.out.* 2>/dev/null | head -1)"
[[ -n "$DUMP" ]] || DUMP="$(ls -t "$OUT"/callgrind.out* | head -1)"
# Each thread writes its own part with --separate-threads; without it one file holds all.
total="$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
echo "$(basename "$BIN") $WORKFLOW requests=$REQUESTS conns=$CONNS Ir_total=$total Ir_per_request=$((total / REQUESTS)) dump=$DUMP"
if [[ "$TOP" -gt 0 ]]; then
  callgrind_annotate --inclusive=yes "$DUMP" 2>/dev/null | sed -n '/^Ir/,$p' | head -n "$((TOP + 3))"
fi
