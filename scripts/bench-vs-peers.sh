#!/usr/bin/env bash
# Expressway and the peers on the shared bench workflows, in one sitting, one line per
# (engine:mode, workflow): `<engine>:<mode> <workflow> <executions_per_sec>`.
#   scripts/bench-vs-peers.sh                 # expressway + aws-local-stepfunctions
#   PEERS="aws-local statebox" QUICK=1 scripts/bench-vs-peers.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared/bench}"
if [[ -n "${QUICK:-}" ]]; then common=(--seconds 1 --rounds 3 --warmup 0.5); else common=(--seconds 2 --rounds 5 --warmup 1); fi
cargo build --release --quiet
only=w1_pass_chain,w2_choice,w3_map100,w4_parallel,w5_credit
target/release/expressway bench --workflows benches/workflows --only "$only" "${common[@]}" --concurrency 1,64 \
  | awk '{ print $1 ":" $3, $2, $4 }'
PEERS="${PEERS:-aws-local}" "$SHARED/run_peers.sh"
