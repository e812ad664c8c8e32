#!/usr/bin/env bash
# Runs cargo-fuzz targets for SECS seconds each (default 180), one after another, on a copy of the
# committed corpus (new finds stay under fuzz/target/runs/<target>, not in git), and prints one line
# per target: executions and crash artifacts (fuzz/artifacts/<target>/). Needs nightly and
# `cargo install cargo-fuzz`. TARGETS="jsonata sigv4" picks some.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-180}"
TARGETS="${TARGETS:-definition jsonpath intrinsic jsonata template execution aws_request sigv4}"
cargo +nightly fuzz build -O || { echo "fuzz build failed"; exit 1; }
BIN=fuzz/target/x86_64-unknown-linux-gnu/release
for t in $TARGETS; do
  work="fuzz/target/runs/$t"; mkdir -p "$work" "fuzz/artifacts/$t"
  cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  log="fuzz/target/runs/$t.log"
  "$BIN/$t" "$work" -artifact_prefix="fuzz/artifacts/$t/" -max_total_time="$SECS" -timeout=10 \
    -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 >"$log" 2>&1
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "$t: ${runs:-?} executions in ${SECS}s, $(ls "fuzz/artifacts/$t" | wc -l) crash artifacts"
done
