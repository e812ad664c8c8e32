#!/usr/bin/env bash
# Installs what the client tests need (quietly, under /tmp) and runs them against
# `expressway serve`: boto3 (pytest), the AWS CLI, @aws-sdk/client-sfn (node --test) and
# aws-sdk-sfn (cargo test -p rust-sdk-test). Every suite runs even if one fails; the last line
# is "clients: N passed, M failed" (suites), and the exit code is non-zero if any failed.
# SKIP_RUST_SDK=1 skips the Rust SDK suite (its first build takes a few minutes on 2 cores).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
VENV="${EXPRESSWAY_CLIENTS_VENV:-/tmp/expressway-clients-venv}"
NODE_DIR="${EXPRESSWAY_CLIENTS_NODE:-/tmp/expressway-clients-node}"
export EXPRESSWAY_BIN="${EXPRESSWAY_BIN:-$ROOT/target/debug/expressway}"

passed=0; failed=0; failures=()
suite() { # name, command...
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); failures+=("$name"); fi
}

setup_python() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || return 1
  "$VENV/bin/pip" install -q --disable-pip-version-check boto3 awscli pytest
}
setup_node() {
  mkdir -p "$NODE_DIR" && [ -d "$NODE_DIR/node_modules/@aws-sdk/client-sfn" ] ||
    (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --no-save @aws-sdk/client-sfn@3 >/dev/null)
}

suite build cargo build --quiet --bin expressway
if setup_python; then
  suite boto3 "$VENV/bin/python" -m pytest -q tests/clients/boto3_test.py
  suite aws-cli env AWS="$VENV/bin/aws" bash tests/clients/cli_test.sh
else
  failed=$((failed+1)); failures+=("python setup")
fi
if setup_node; then
  suite js-sdk env NODE_PATH="$NODE_DIR/node_modules" node --test tests/clients/js/sfn.test.mjs
else
  failed=$((failed+1)); failures+=("node setup")
fi
if [ "${SKIP_RUST_SDK:-0}" != 1 ]; then
  suite rust-sdk cargo test --quiet -p rust-sdk-test
fi

[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
