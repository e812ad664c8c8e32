#!/usr/bin/env bash
# StartSyncExecution through `expressway serve` against the bare hyper server of
# ../shared/bench/hyper-ceiling, interleaved in one sitting (A B A B …, the same wrk -t/-c/-d),
# so that the machine's load falls on both alike. Prints one line per run (req/s, p50, p99,
# errors), then the medians and the ratio expressway ÷ hyper.
#
#   scripts/bench-http.sh                          # 5 pairs x 10 s, wrk -t2 -c64, w1_pass_chain
#   RUNS=3 DURATION=5 WORKFLOW=w3_map100 scripts/bench-http.sh
#   SKIP_BUILD=1 BIN=target/release/expressway scripts/bench-http.sh
#
# Every wrk is bounded (timeout), both servers listen on 127.0.0.1 only and are stopped by pid on
# exit. A run answered with anything but 2xx, or with socket errors, is reported as such (a
# refused request is cheap and would flatter the figure).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${RUNS:-5}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-64}"
WRK_THREADS="${WRK_THREADS:-2}"
SERVER_THREADS="${SERVER_THREADS:-2}"   # hyper-echo's workers; expressway uses one per core
WORKFLOW="${WORKFLOW:-w1_pass_chain}"
BIN="${BIN:-$ROOT/target/release/expressway}"
CEILING_BUILD="${CEILING_BUILD:-/tmp/hyper-echo}"
CEILING_SRC="${CEILING_SRC:-}"
if [[ -z "$CEILING_SRC" ]]; then
  for d in "$ROOT/../shared/bench/hyper-ceiling" /work/shared/bench/hyper-ceiling; do
    [[ -d "$d" ]] && { CEILING_SRC="$d"; break; }
  done
fi
[[ -n "$CEILING_SRC" ]] || { echo "hyper-ceiling sources not found; set CEILING_SRC" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

WORK="$(mktemp -d /tmp/bench-http.XXXXXX)"
EXP_PID=""
HYP_PID=""
cleanup() {
  for p in "$EXP_PID" "$HYP_PID"; do
    if [[ -n "$p" ]]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "${SKIP_BUILD:-}" ]]; then
  timeout 1800 cargo build --release --quiet --bin expressway
fi
mkdir -p "$CEILING_BUILD"
cp -r "$CEILING_SRC/Cargo.toml" "$CEILING_SRC/Cargo.lock" "$CEILING_SRC/src" "$CEILING_BUILD/"
(cd "$CEILING_BUILD" && timeout 900 cargo build --release --quiet)
HYPER_BIN="$CEILING_BUILD/target/release/hyper-echo"

# The request: the workflow's bench input as the `input` string of StartSyncExecution.
mkdir -p "$WORK/defs"
cp "benches/workflows/$WORKFLOW.json" "$WORK/defs/$WORKFLOW.asl.json"
ARN="arn:aws:states:us-east-1:123456789012:stateMachine:$WORKFLOW"
BODY="$(python3 -c 'import json,sys
inp = json.dumps(json.load(open(sys.argv[1])), separators=(",", ":"))
print(json.dumps({"stateMachineArn": sys.argv[2], "input": inp}, separators=(",", ":")))' \
  "benches/workflows/$WORKFLOW.input.json" "$ARN")"
cat >"$WORK/start-sync.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "AWSStepFunctions.StartSyncExecution"
wrk.body = [==[$BODY]==]
EOF

# expressway: port 0, the bound address read from its first stdout line.
"$BIN" serve --listen 127.0.0.1:0 --definitions "$WORK/defs" --log-level warn \
  >"$WORK/serve.out" 2>"$WORK/serve.err" &
EXP_PID=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
EXP_URL="$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$WORK/serve.out" | head -1)"
[[ -n "$EXP_URL" ]] || { echo "expressway serve did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }
EXP_URL="$EXP_URL/"

# hyper-echo takes a port number: one the kernel just handed out and released.
HYP_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
"$HYPER_BIN" "$HYP_PORT" "$SERVER_THREADS" 2>"$WORK/hyper.err" &
HYP_PID=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$HYP_PORT") 2>/dev/null && break; sleep 0.1; done
HYP_URL="http://127.0.0.1:$HYP_PORT/"

# The request must succeed before it is measured.
check="$(python3 - "$EXP_URL" "$BODY" <<'EOF'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST", headers={
    "Content-Type": "application/x-amz-json-1.0",
    "X-Amz-Target": "AWSStepFunctions.StartSyncExecution"})
with urllib.request.urlopen(req, timeout=10) as r:
    out = json.load(r)
print(out.get("status"))
EOF
)"
[[ "$check" == "SUCCEEDED" ]] || { echo "StartSyncExecution of $WORKFLOW answered status=$check" >&2; exit 1; }

to_ms() {  # wrk's latency figure (850.00us, 1.23ms, 1.05s) in milliseconds
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else { sub(/s$/, "", v); printf "%.3f", v * 1000 } }'
}
busy_pct() {  # whole-machine CPU use over one second
  local a b tot=0 i; a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  echo $(( tot > 0 ? 100 * (tot - (b[4] - a[4] + b[5] - a[5])) / tot : 0 ))
}
# run NAME URL: one wrk run; appends "rps p50 p99" to $WORK/NAME.
run() {
  local name="$1" url="$2" out rps p50 p99 errs
  out="$(timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$WORK/start-sync.lua" "$url")"
  rps="$(awk '/^Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(to_ms "$(awk '/^ +50%/ {print $2}' <<<"$out")")"
  p99="$(to_ms "$(awk '/^ +99%/ {print $2}' <<<"$out")")"
  errs="$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' \n' ' ' || true)"
  printf '%-10s run=%s req_per_s=%s p50_ms=%s p99_ms=%s %s\n' "$name" "$r" "$rps" "$p50" "$p99" "$errs"
  echo "$rps $p50 $p99" >>"$WORK/$name"
}

echo "# $(date -u +%FT%TZ) $WORKFLOW StartSyncExecution, wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s x $RUNS pairs, hyper-echo $SERVER_THREADS workers, $(nproc) cores"
echo "# uptime:$(uptime | sed 's/.*up[^,]*,//'); machine busy $(busy_pct)% before the first run"
for name_url in "expressway $EXP_URL" "hyper $HYP_URL"; do  # warm-up, not counted
  timeout 30 wrk -t"$WRK_THREADS" -c"$CONNS" -d2s -s "$WORK/start-sync.lua" "${name_url#* }" >/dev/null
done
for r in $(seq 1 "$RUNS"); do
  run expressway "$EXP_URL"
  run hyper "$HYP_URL"
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$WORK/$1" | median; }
e_rps="$(col expressway 1)"; h_rps="$(col hyper 1)"
e_p50="$(col expressway 2)"; h_p50="$(col hyper 2)"
e_p99="$(col expressway 3)"; h_p99="$(col hyper 3)"
pair_ratio="$(paste -d' ' "$WORK/expressway" "$WORK/hyper" | awk '{print $1 / $4}' | median)"
echo "median expressway req_per_s=$e_rps p50_ms=$e_p50 p99_ms=$e_p99"
echo "median hyper      req_per_s=$h_rps p50_ms=$h_p50 p99_ms=$h_p99"
awk -v er="$e_rps" -v hr="$h_rps" -v ep="$e_p99" -v hp="$h_p99" -v pr="$pair_ratio" 'BEGIN {
  printf "ratio req_per_s=%.3f (median of per-pair ratios %.3f) p99=%.2fx (target >= 0.70, p99 <= 1.5x)\n",
    er / hr, pr, ep / hp }'
echo "# uptime at the end:$(uptime | sed 's/.*up[^,]*,//')"
