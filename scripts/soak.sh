#!/usr/bin/env bash
# Soak: `expressway serve` under steady load for N minutes, good and hostile traffic mixed.
#
#   scripts/soak.sh [MINUTES]          # default 10
#   BIN=target/release/expressway WORKFLOW=w1_pass_chain LOAD=0.8 scripts/soak.sh 3
#   SOAK_SECONDS=30 MAX_SECONDS=5 scripts/soak.sh   # a short trial
#
# 1. Starts one server on a free 127.0.0.1 port with the bench workflows (--definitions).
# 2. Measures the maximum: wrk, StartSyncExecution of $WORKFLOW, closed loop, MAX_SECONDS (15).
# 3. Runs MINUTES at LOAD (0.8) of it: wrk with a fixed pause between a connection's requests
#    and as many connections as that rate needs (calibrated by a 10 s run), while a Python loop
#    sends malformed requests (bad framing, headers, JSON, members, signatures, slow and cut
#    connections) and hostile definitions (deep JSONata, deep nesting, wide Maps, a spinning
#    evaluation under TimeoutSeconds 1), and checks that each gets a 4xx/5xx in AWS's shape.
# 4. Prints throughput, latency percentiles (p99), non-2xx and socket errors of the good
#    requests, the hostile requests by answer, and the server's RSS at start, middle and end.
#    Exits non-zero if a good request failed, a hostile one went unanswered, or the server died.
# Not part of `cargo test`. Wall-clock figures move with the machine's load: say what else ran.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-10}"
SECONDS_TOTAL="${SOAK_SECONDS:-$((MINUTES * 60))}" # SOAK_SECONDS for a short trial
BIN="${BIN:-target/release/expressway}"
WORKFLOW="${WORKFLOW:-w1_pass_chain}"
LOAD="${LOAD:-0.8}"
MAX_SECONDS="${MAX_SECONDS:-15}"
THREADS="${THREADS:-2}"
PAUSE_MS=5 # a connection's pause between its requests in the paced run

for tool in wrk python3 curl; do
  command -v "$tool" >/dev/null || { echo "soak: needs $tool" >&2; exit 2; }
done
[ -x "$BIN" ] || cargo build --release --bin expressway

TMP="$(mktemp -d)"
SERVER_PID=""
HOSTILE_PID=""
MID_PID=""
cleanup() {
  [ -n "$MID_PID" ] && kill "$MID_PID" 2>/dev/null || true
  [ -n "$HOSTILE_PID" ] && kill "$HOSTILE_PID" 2>/dev/null || true
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

"$BIN" serve --listen 127.0.0.1:0 --definitions benches/workflows --log-level warn \
  >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$TMP/server.out" 2>/dev/null && break
  sleep 0.1
done
URL="$(sed -n 's/^listening on //p' "$TMP/server.out")"
[ -n "$URL" ] || { echo "soak: the server did not start" >&2; cat "$TMP/server.err" >&2; exit 1; }
rss() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$SERVER_PID/status"; }
alive() { kill -0 "$SERVER_PID" 2>/dev/null; }

# The good request: StartSyncExecution of $WORKFLOW with its bench input, as the AWS SDKs send it.
python3 scripts/lib/start_sync_lua.py "$WORKFLOW" >"$TMP/good.lua"
summary() { grep '^soak-summary' "$1" | tail -1; }
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }
rate() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1" | cut -d. -f1; }

echo "soak: $URL, $WORKFLOW, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "RSS at start: $(rss)"

# 2. The maximum, closed loop.
wrk -t"$THREADS" -c64 -d"${MAX_SECONDS}s" -s "$TMP/good.lua" "$URL/" >"$TMP/max.txt"
MAX="$(rate "$TMP/max.txt")"
TARGET="$(awk -v m="$MAX" -v l="$LOAD" 'BEGIN { printf "%d", m * l }')"
echo "maximum: $MAX req/s over ${MAX_SECONDS} s (64 connections); target $TARGET req/s (${LOAD})"

# 3a. Calibration: each connection sends one request per (pause + latency).
CONNS=$(((TARGET * PAUSE_MS + 999) / 1000))
[ "$CONNS" -ge "$THREADS" ] || CONNS=$THREADS
SOAK_PAUSE_MS=$PAUSE_MS wrk -t"$THREADS" -c"$CONNS" -d10s -s "$TMP/good.lua" "$URL/" >"$TMP/cal.txt"
GOT="$(rate "$TMP/cal.txt")"
[ "${GOT:-0}" -gt 0 ] && CONNS=$(((CONNS * TARGET + GOT / 2) / GOT))
[ "$CONNS" -ge "$THREADS" ] || CONNS=$THREADS
echo "calibration: $CONNS connections pausing ${PAUSE_MS} ms ($GOT req/s with the first guess)"

# 3b. Hostile traffic beside the good, for the whole run.
python3 - "$URL" "$SECONDS_TOTAL" >"$TMP/hostile.txt" 2>"$TMP/hostile.err" <<'EOF' &
import json, random, socket, sys, time, urllib.parse
url, seconds = urllib.parse.urlparse(sys.argv[1]), float(sys.argv[2])
rnd = random.Random(11)
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:"
ROLE = "arn:aws:iam::123456789012:role/r"

def request(op, body, extra=b"", length=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    n = len(data) if length is None else length
    return (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: AWSStepFunctions." + op.encode() + b"\r\n" + extra +
            b"Content-Length: " + str(n).encode() + b"\r\nConnection: close\r\n\r\n" + data)

def nested(n):
    return "[" * n + "]" * n

def create(name, definition):
    text = definition if isinstance(definition, str) else json.dumps(definition)
    return request("CreateStateMachine", {"name": name, "roleArn": ROLE, "type": "EXPRESS",
                                          "definition": text})

def pass_output(expr):
    return {"QueryLanguage": "JSONata", "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": True, "Output": "{% " + expr + " %}"}}}

SPIN = "($l := function($n){ $n = 0 ? 0 : $l($n - 1) }; $l(1000000000))"
# Each must be answered 4xx/5xx with an AWS-shaped JSON body (the hostile definitions may also
# be accepted, 200, where AWS accepts them). Signatures are not tried: the soak's server checks
# none (tests/server/hardening.rs covers them).
MALFORMED = {
    "bad request line": lambda: b"GARB\x01GE / HTTP/1.1\r\n\r\n",
    "header without colon": lambda: b"POST / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n",
    "uri too long": lambda: b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "too many headers": lambda: b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n",
    "no target": lambda: b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    "unknown operation": lambda: request("Frobnicate", {}),
    "json cut short": lambda: request("StartSyncExecution", b'{"stateMachineArn": "arn:aws:st'),
    "json not an object": lambda: request("StartSyncExecution", b"[1,2,3]"),
    "wrong member type": lambda: request("StartSyncExecution", {"stateMachineArn": 12}),
    "no such machine": lambda: request("StartSyncExecution", {"stateMachineArn": SM + "nope"}),
    "bad arn": lambda: request("DescribeStateMachine", {"stateMachineArn": "arn:nope"}),
    "input nested 300 deep": lambda: request("StartSyncExecution", {"stateMachineArn": SM + "w1_pass_chain", "input": nested(300)}),
    "input 1e400": lambda: request("StartSyncExecution", {"stateMachineArn": SM + "w1_pass_chain", "input": '{"n":1e400}'}),
    "declared body over the limit": lambda: request("StartSyncExecution", b"{}", length=5 << 20),
    "JSONata chain of 27,000 terms": lambda: create("chain", pass_output("+".join(["1"] * 27000))),
    "JSONata nested 5,000 deep": lambda: create("deepjsonata", pass_output("(" * 5000 + "1" + ")" * 5000)),
    "definition nested 5,000 deep": lambda: create("deepdef", '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Result":' + nested(5000) + '}}}'),
}
CREATES = {"JSONata nested 5,000 deep": "deepjsonata", "definition nested 5,000 deep": "deepdef",
           "JSONata chain of 27,000 terms": "chain"}

def send(data, timeout=10):
    """What the server wrote before closing, and why reading stopped early (None: it closed)."""
    s = socket.create_connection((url.hostname, url.port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except OSError:
            pass  # a server that stops reading early may still have answered
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except OSError as e:
                return out, str(e) or type(e).__name__
            if not d:
                return out, None
            out += d
    finally:
        s.close()

def answer(out):
    head, _, body = out.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ")[1])
    except (IndexError, ValueError):
        status = 0
    try:
        shaped = isinstance(json.loads(body), dict)
    except ValueError:
        shaped = False
    return status, shaped, body

counts, bad = {}, []
def note(kind, outcome, fine, out=b"", err=None):
    counts.setdefault(kind, {}).setdefault(outcome, 0)
    counts[kind][outcome] += 1
    if not fine:
        bad.append((kind, outcome, out[:160], err))

spins = 0
end = time.time() + seconds
next_spin = time.time() + 5
while time.time() < end:
    if time.time() >= next_spin:
        # A hostile definition that runs: an endless evaluation under TimeoutSeconds 1.
        next_spin = time.time() + 10
        name = "spin%d" % spins
        spins += 1
        send(create(name, dict(pass_output(SPIN), TimeoutSeconds=1)))
        out, err = send(request("StartSyncExecution", {"stateMachineArn": SM + name}))
        status, shaped, body = answer(out)
        timed_out = status == 200 and b'"status":"TIMED_OUT"' in body
        note("endless evaluation, TimeoutSeconds 1", "200 TIMED_OUT" if timed_out else "%d" % status, timed_out, out, err)
        send(request("DeleteStateMachine", {"stateMachineArn": SM + name}))
        continue
    kind = rnd.choice(list(MALFORMED) + ["half a head, then gone", "body cut, then gone"])
    if kind not in MALFORMED:
        s = socket.create_connection((url.hostname, url.port), timeout=5)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar" if kind.startswith("half")
                  else b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\":")
        time.sleep(0.02)
        s.close()
        note(kind, "sent and closed", True)
        continue
    out, err = send(MALFORMED[kind]())
    status, shaped, _ = answer(out)
    if status == 200 and kind in CREATES:
        send(request("DeleteStateMachine", {"stateMachineArn": SM + CREATES[kind]}))
        note(kind, "200 created", True)
        continue
    fine = status >= 400 and shaped
    outcome = ("%d" % status if shaped else "%d without an AWS body" % status) if status else "no answer (%s)" % err
    note(kind, outcome, fine, out, err)
    time.sleep(0.02)

total = sum(sum(v.values()) for v in counts.values())
print("hostile requests: %d" % total)
for kind in sorted(counts):
    print("  %-40s %s" % (kind, ", ".join("%s x%d" % kv for kv in sorted(counts[kind].items()))))
print("hostile-unanswered %d" % len(bad))
for b in bad[:10]:
    print("   ", b)
EOF
HOSTILE_PID=$!

# 3c. The paced good load, with RSS at the middle.
( sleep $((SECONDS_TOTAL / 2)); echo "RSS at middle ($((SECONDS_TOTAL / 2)) s): $(rss)" >"$TMP/rss-mid.txt" ) &
MID_PID=$!
echo "running $SECONDS_TOTAL s: $CONNS connections, pause ${PAUSE_MS} ms, beside the hostile loop"
SOAK_PAUSE_MS=$PAUSE_MS wrk -t"$THREADS" -c"$CONNS" -d"${SECONDS_TOTAL}s" --timeout 10s \
  -s "$TMP/good.lua" "$URL/" >"$TMP/soak.txt" || true
wait "$HOSTILE_PID" || true
HOSTILE_PID=""
S="$(summary "$TMP/soak.txt")"
REQS="$(field "$S" requests)"
echo
echo "== soak: $SECONDS_TOTAL s at target $TARGET req/s (${LOAD} of $MAX)"
echo "good requests: $REQS, $(rate "$TMP/soak.txt") req/s"
echo "latency: p50 $(field "$S" p50_us) us, p90 $(field "$S" p90_us) us, p99 $(field "$S" p99_us) us, p99.9 $(field "$S" p999_us) us, max $(field "$S" max_us) us"
NON2XX="$(field "$S" non2xx)"
SOCK=$(($(field "$S" connect) + $(field "$S" read) + $(field "$S" write) + $(field "$S" timeout)))
NOTOK="$(field "$S" notsucceeded)"
echo "good requests non-2xx: $NON2XX; 200 but not SUCCEEDED: $NOTOK; socket errors: $SOCK"
cat "$TMP/hostile.txt"
grep -q '^hostile-unanswered' "$TMP/hostile.txt" || { echo "the hostile loop failed:"; cat "$TMP/hostile.err"; }
cat "$TMP/rss-mid.txt" 2>/dev/null || true
if alive; then echo "RSS at end: $(rss)"; else echo "the server DIED"; fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
UNANSWERED="$(sed -n 's/^hostile-unanswered //p' "$TMP/hostile.txt")"
[ "$NON2XX" = 0 ] && [ "$NOTOK" = 0 ] && [ "$SOCK" = 0 ] && [ "${UNANSWERED:-1}" = 0 ] && alive
