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
# The JS SDK, pinned so that every run tests the same client (a release from before the SDK's
# announced move to Node >= 22 in January 2027, aws/aws-sdk-js-v3#7983; CI machines have Node 20).
JS_SDK="${EXPRESSWAY_JS_SDK:-@aws-sdk/client-sfn@3.1178.0}"
# On Node < 22 that SDK warns once per process that later releases will need Node 22
# (NodeVersionSupportWarning). The version we pin supports Node 20, so the warning is noise here:
# the SDK's own switch turns it off (and does nothing on Node >= 22).
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
fi

passed=0; failed=0; failures=()
suite() { # name, command...
  local name="$1" r; shift
  local t0=$SECONDS
  echo "=== $name"
  if "$@"; then passed=$((passed+1)); r=ok; else failed=$((failed+1)); failures+=("$name"); r=FAILED; fi
  echo "=== $name: $r in $((SECONDS - t0)) s"
}
# Says what a quiet, slow step is doing, and how long it took.
step() { # what, command...
  local what="$1"; shift
  local t0=$SECONDS
  echo "--- $what"
  if "$@"; then echo "--- $what: $((SECONDS - t0)) s"; else echo "--- $what: FAILED"; return 1; fi
}

setup_python() {
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || return 1
  if "$VENV/bin/python" -c "import boto3, awscli, pytest" 2>/dev/null; then
    echo "--- boto3, awscli, pytest already in $VENV"
    return 0
  fi
  step "pip install boto3 awscli pytest into $VENV (about a minute the first time)" \
    "$VENV/bin/pip" install -q --disable-pip-version-check boto3 awscli pytest
}
setup_node() {
  mkdir -p "$NODE_DIR" || return 1
  local have
  have="$(cd "$NODE_DIR" && node -p 'require("@aws-sdk/client-sfn/package.json").version' 2>/dev/null)"
  if [ -n "$have" ] && [ "@aws-sdk/client-sfn@$have" = "$JS_SDK" ]; then
    echo "--- $JS_SDK already in $NODE_DIR"
    return 0
  fi
  step "npm install $JS_SDK into $NODE_DIR" \
    sh -c "cd '$NODE_DIR' && npm install --silent --no-audit --no-fund --no-save '$JS_SDK' >/dev/null"
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
  # Built apart from the run, so that the build's minute is announced and timed.
  if step "building the Rust SDK client test (aws-sdk-sfn, no TLS; a minute or more the first time)" \
      cargo test --quiet -p rust-sdk-test --no-run; then
    suite rust-sdk cargo test --quiet -p rust-sdk-test
  else
    failed=$((failed+1)); failures+=("rust-sdk build")
  fi
fi

[ ${#failures[@]} -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
