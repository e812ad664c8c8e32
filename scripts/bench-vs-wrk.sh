#!/usr/bin/env bash
# `expressway bench --endpoint` beside wrk on the same `expressway serve`, in one sitting: runs
# alternate (expressway, wrk, expressway, wrk, ...) with the same connections, threads and duration,
# each client's CPU time measured by /usr/bin/time. One line per run:
#   <round> <client> <requests/s> p99=<ms> cpu_us_per_request=<µs> busy_before=<% of the machine>
# then the median of each column per client. Every run is bounded (timeout), and the server is
# stopped by its pid on exit.
#
#   scripts/bench-vs-wrk.sh                               # w5_credit#HappyPath, 3 rounds x 10 s, 64 connections, 2 threads
#   ROUNDS=5 DURATION=10 CONNS=64 THREADS=2 scripts/bench-vs-wrk.sh
#   NOBUILD=1 BIN=target/release/expressway scripts/bench-vs-wrk.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
THREADS="${THREADS:-2}"
WORKFLOW="${WORKFLOW:-w5_credit}"
CASE="${CASE:-HappyPath}"
BIN="${BIN:-target/release/expressway}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is not installed (apt-get install time)" >&2; exit 2; }
[[ -n "${NOBUILD:-}" ]] || timeout 1800 cargo build --release --quiet --bin expressway

WORK="$(mktemp -d /tmp/bench-vs-wrk.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/defs"
cp "benches/workflows/$WORKFLOW.json" "$WORK/defs/$WORKFLOW.asl.json"
INPUT="benches/workflows/$WORKFLOW.input.json"
ARN="arn:aws:states:us-east-1:123456789012:stateMachine:$WORKFLOW#$CASE"
# wrk's request: the same StartSyncExecution body `expressway bench` sends (no signing on either side).
python3 - "$ARN" "$INPUT" >"$WORK/post.lua" <<'EOF'
import json, sys
arn, path = sys.argv[1], sys.argv[2]
body = json.dumps({"stateMachineArn": arn, "input": open(path).read()}, separators=(",", ":"))
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/x-amz-json-1.0"')
print('wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartSyncExecution"')
print("wrk.body = " + json.dumps(body))
EOF

# The server on a free port; its first stdout line is `listening on http://ADDR`.
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BIN" serve --listen 127.0.0.1:0 --definitions "$WORK/defs" \
  --mock-config examples/mock-config.json --log-file /dev/null --log-level error >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
URL="$(sed -n 's/^listening on //p' "$WORK/serve.out" | head -1)"
[[ -n "$URL" ]] || { echo "the server did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }

busy_pct() {  # whole-machine CPU use over one second (this machine is shared)
  local a b tot=0 i; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  echo $(( tot > 0 ? 100 * (tot - (b[4] - a[4] + b[5] - a[5])) / tot : 0 ))
}
to_ms() {  # wrk's 12.34us / 5.67ms / 1.2s -> ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
cpu_us() {  # user+sys seconds of /usr/bin/time's -f "%U %S" line, per request
  awk -v req="$2" '{ printf "%.1f", (req > 0 ? ($1 + $2) * 1e6 / req : 0) }' "$1"
}

echo "# $URL $WORKFLOW#$CASE, ${CONNS} connections, ${THREADS} client threads, ${DURATION}s x ${ROUNDS} rounds; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"
echo "# nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
timeout 60 wrk -t"$THREADS" -c"$CONNS" -d2s -s "$WORK/post.lua" "$URL/" >/dev/null  # warm the server
RESULTS="$WORK/results"
: >"$RESULTS"
for r in $(seq 1 "$ROUNDS"); do
  busy="$(busy_pct)"
  timeout $((DURATION + 60)) /usr/bin/time -f "%U %S" -o "$WORK/time" \
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$BIN" bench --endpoint "$URL" --state-machine-arn "$ARN" \
    --input "$INPUT" --concurrency "$CONNS" --threads "$THREADS" --duration "${DURATION}s" --warmup 0 \
    --output json >"$WORK/ours.json" || true
  read -r rps p99 n < <(python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print("%.1f %.2f %d" % (v["answered_per_s"], v["latency_us"]["p99"]/1000, v["answered"]))' "$WORK/ours.json")
  echo "$r expressway-bench $rps p99=${p99}ms cpu_us_per_request=$(cpu_us "$WORK/time" "$n") busy_before=${busy}%" | tee -a "$RESULTS"

  busy="$(busy_pct)"
  timeout $((DURATION + 60)) /usr/bin/time -f "%U %S" -o "$WORK/time" \
    wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s "$WORK/post.lua" "$URL/" >"$WORK/wrk.out" || true
  rps="$(awk '/^Requests\/sec:/ { print $2 }' "$WORK/wrk.out")"
  n="$(awk '/requests in/ { print $1 }' "$WORK/wrk.out")"
  p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$WORK/wrk.out")")"
  non2xx="$(awk '/Non-2xx/ { print $NF }' "$WORK/wrk.out")"
  echo "$r wrk $rps p99=${p99}ms cpu_us_per_request=$(cpu_us "$WORK/time" "$n") busy_before=${busy}%${non2xx:+ non2xx=$non2xx}" | tee -a "$RESULTS"
done
echo "# medians"
for c in expressway-bench wrk; do
  awk -v c="$c" '$2 == c { print $3, substr($4, 5), substr($5, 20) }' "$RESULTS" | sort -n | python3 -c '
import statistics, sys
rows = [list(map(lambda x: float(x.rstrip("ms")), l.split())) for l in sys.stdin if l.strip()]
cols = list(zip(*rows)) if rows else [[0], [0], [0]]
print("%s %.1f/s p99=%.2fms cpu_us_per_request=%.1f" % (sys.argv[1], *(statistics.median(c) for c in cols)))' "$c"
done
