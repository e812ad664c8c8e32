#!/usr/bin/env bash
# Scale-out: three `expressway serve` replicas behind nginx, one killed mid-run, no good request lost.
#
#   scripts/scale-out.sh                       # 30 s of load, replica 1 killed (SIGKILL) at 10 s
#   SECONDS_LOAD=60 KILL_AT=20 KILL_SIGNAL=TERM scripts/scale-out.sh
#   RETRY_POST=0 scripts/scale-out.sh          # without non_idempotent: see what is lost
#
# Express executions keep no durable state, so replicas share nothing but their definitions: each
# is started with the same --definitions (the bench workflows) on its own 127.0.0.1 port. nginx
# (run as a non-daemon with its own prefix and configuration in a temporary directory) balances
# them with passive health checks (max_fails=1 fail_timeout=10s: a replica that refuses or
# drops a request is left out for 10 s) and retries a request on the next replica on a connect
# error, a timeout, 502 or 503 (proxy_next_upstream).
#
# The retry caveat: StartSyncExecution is a POST, which nginx does not retry once it has been
# sent to a replica unless `non_idempotent` is listed. With it (the default here, RETRY_POST=1),
# a request whose replica died mid-execution is run again from the start on another replica: a
# workflow whose tasks have effects outside (a payment, a message) may have done part of them
# twice. Use it for workflows that are idempotent or pure (like these), or give StartExecution a
# `name`/use idempotency keys in the tasks; without it those few in-flight requests get 502.
#
# Prints wrk's throughput, latency and errors through nginx, what each replica served, and
# nginx's upstream errors (the retries it made); exits non-zero if a good request failed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-target/release/expressway}"
WORKFLOW="${WORKFLOW:-w1_pass_chain}"
SECONDS_LOAD="${SECONDS_LOAD:-30}"
KILL_AT="${KILL_AT:-10}"
KILL_SIGNAL="${KILL_SIGNAL:-KILL}"
RETRY_POST="${RETRY_POST:-1}"
CONNECTIONS="${CONNECTIONS:-64}"
NGINX="${NGINX:-/usr/sbin/nginx}"

for tool in wrk python3 curl "$NGINX"; do
  command -v "$tool" >/dev/null || { echo "scale-out: needs $tool" >&2; exit 2; }
done
[ -x "$BIN" ] || cargo build --release --bin expressway

TMP="$(mktemp -d)"
PIDS=()
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# The replicas.
PORTS=()
for i in 1 2 3; do
  "$BIN" serve --listen 127.0.0.1:0 --definitions benches/workflows --log-level warn \
    --shutdown-grace 5 >"$TMP/r$i.out" 2>"$TMP/r$i.err" &
  PIDS+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 100); do
    grep -q '^listening on' "$TMP/r$i.out" 2>/dev/null && break
    sleep 0.1
  done
  port="$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$TMP/r$i.out")"
  [ -n "$port" ] || { echo "scale-out: replica $i did not start" >&2; cat "$TMP/r$i.err" >&2; exit 1; }
  PORTS+=("$port")
done

# nginx in front, on a port the OS picks free (bound and released just before).
LB_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
NEXT="error timeout http_502 http_503"
[ "$RETRY_POST" = 1 ] && NEXT="$NEXT non_idempotent"
mkdir -p "$TMP/nginx/logs" "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  upstream expressway {
    server 127.0.0.1:${PORTS[0]} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${PORTS[1]} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${PORTS[2]} max_fails=1 fail_timeout=10s;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$LB_PORT;
    location / {
      proxy_pass http://expressway;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
      proxy_next_upstream $NEXT;
      proxy_next_upstream_tries 3;
    }
  }
}
EOF
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" &
NGINX_PID=$!
for _ in $(seq 50); do
  curl -fs "http://127.0.0.1:$LB_PORT/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$LB_PORT/health" >/dev/null || { echo "scale-out: nginx did not start" >&2; cat "$TMP/nginx/logs/error.log" >&2; exit 1; }

served() { # replica port -> SUCCEEDED executions so far
  curl -fs "http://127.0.0.1:$1/metrics" 2>/dev/null |
    sed -n 's/^expressway_executions_total{status="SUCCEEDED"} //p'
}

echo "scale-out: replicas on ${PORTS[*]}, nginx on $LB_PORT ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "proxy_next_upstream $NEXT; kill -$KILL_SIGNAL replica 1 at ${KILL_AT} s of ${SECONDS_LOAD} s; $CONNECTIONS connections"
python3 scripts/lib/start_sync_lua.py "$WORKFLOW" >"$TMP/good.lua"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_LOAD}s" --timeout 10s -s "$TMP/good.lua" \
  "http://127.0.0.1:$LB_PORT/" >"$TMP/wrk.txt" &
WRK_PID=$!
sleep "$KILL_AT"
BEFORE_KILL="$(served "${PORTS[0]}")"
kill -"$KILL_SIGNAL" "${PIDS[0]}"
{ wait "${PIDS[0]}"; } 2>/dev/null || true
echo "killed replica 1 (pid ${PIDS[0]}, port ${PORTS[0]}) after it had served ${BEFORE_KILL:-?} executions"
# Health of each replica, as a readiness probe would see it.
for i in 0 1 2; do
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:${PORTS[$i]}/health" || true)"
  echo "  /health of replica $((i + 1)): ${code:-none}"
done
wait "$WRK_PID" || true

S="$(grep '^soak-summary' "$TMP/wrk.txt" | tail -1)"
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$S"; }
RATE="$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$TMP/wrk.txt")"
NON2XX="$(field non2xx)"
NOTOK="$(field notsucceeded)"
SOCK=$(($(field connect) + $(field read) + $(field write) + $(field timeout)))
echo
echo "== through nginx: $(field requests) requests in ${SECONDS_LOAD} s, $RATE req/s"
echo "latency: p50 $(field p50_us) us, p99 $(field p99_us) us, p99.9 $(field p999_us) us, max $(field max_us) us"
echo "non-2xx: $NON2XX; 200 but not SUCCEEDED: $NOTOK; socket errors: $SOCK"
echo "served: replica 1 ${BEFORE_KILL:-?} (until killed), replica 2 $(served "${PORTS[1]}"), replica 3 $(served "${PORTS[2]}")"
if [ "$RETRY_POST" = 1 ]; then
  echo "nginx upstream errors (each request retried on the next replica):"
else
  echo "nginx upstream errors (without non_idempotent, a POST already sent is not retried: 502):"
fi
grep -oE 'upstream prematurely closed|connect\(\) failed \([0-9]+: [A-Za-z ]+\)|recv\(\) failed \([0-9]+: [A-Za-z ]+\)|no live upstreams|upstream timed out' \
  "$TMP/nginx/logs/error.log" | sort | uniq -c | sed 's/^/  /' || true
[ "$NON2XX" = 0 ] && [ "$NOTOK" = 0 ] && [ "$SOCK" = 0 ]
