#!/usr/bin/env bash
# The console at /ui in headless Chromium: installs Debian's chromium (when missing) and
# playwright-core (here, under node_modules), builds the binary, runs console.test.mjs.
# Screenshots land in target/ui-screenshots.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package)"
  if [ "$(id -u)" = 0 ]; then APT=apt-get; else APT="sudo apt-get"; fi
  $APT update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $APT install -y -qq chromium >/dev/null
fi
(cd tests/ui && [ -d node_modules/playwright-core ] || npm install --silent --no-audit --no-fund >/dev/null)
cargo build --quiet --bin expressway
export EXPRESSWAY_BIN="${EXPRESSWAY_BIN:-$ROOT/target/debug/expressway}"
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
cd tests/ui && node --test console.test.mjs
