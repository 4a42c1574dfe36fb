#!/usr/bin/env bash
# Installs what building and testing mozmarket needs on a fresh machine of this kind (Debian,
# rustup stable, node 20, root). Idempotent: every step checks first and does nothing when its
# tool is already there. Quiet when all is well; on failure prints the step's log and exits 1.
#
#   bash scripts/setup.sh            # everything
#   SETUP_SKIP_FUZZ=1 bash scripts/setup.sh   # without cargo-fuzz
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WASM_BINDGEN_VERSION=0.2.130
LOG_DIR="${TMPDIR:-/tmp}/mozmarket-setup"
mkdir -p "$LOG_DIR"

# step NAME CMD...: runs CMD with its output in a log; on failure shows the log and stops.
step() {
  local name="$1"
  shift
  local log="$LOG_DIR/$name.log"
  local start=$SECONDS
  echo "setup: $name ..."
  local status=0
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "setup: FAILED: $name: '$*' exited with status $status (log: $log)" >&2
    echo "----- last 60 lines of $log -----" >&2
    tail -n 60 "$log" >&2
    echo "----- end of log -----" >&2
    exit 1
  fi
  echo "setup: $name done in $((SECONDS - start)) s"
}

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "setup: FAILED: '$1' is not on PATH ($2)" >&2
    exit 1
  }
}

# cargo-installed tools live here; a non-login shell (CI) may not have it on PATH yet.
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
need rustup "this machine kind ships rustup stable"
need cargo "this machine kind ships rustup stable"
need node "this machine kind ships node 20"
need npm "this machine kind ships npm"

# 1. Rust target and components.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step rustup-target rustup target add wasm32-unknown-unknown
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  step rustup-clippy rustup component add clippy
fi

# 2. wasm-bindgen CLI, the exact version of the `wasm-bindgen` crate (also provides
#    wasm-bindgen-test-runner, the runner in .cargo/config.toml). No --locked: the index lacks
#    one of its locked dependencies.
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step wasm-bindgen-cli cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 3. Chromium and ChromeDriver from Debian (wasm-bindgen tests and Playwright). Another apt run
#    (a machine's own start-up install) may hold the dpkg lock: wait for it rather than fight it.
wait_for_apt() {
  local waited=0
  while pgrep -x apt-get >/dev/null 2>&1 || pgrep -x apt >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1; do
    if [ "$waited" -eq 0 ]; then echo "setup: waiting for another apt/dpkg run to finish ..."; fi
    if [ "$waited" -ge 900 ]; then
      echo "setup: FAILED: apt/dpkg still busy after 15 min" >&2
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}
install_chromium() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q chromium chromium-driver
}
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  wait_for_apt
  # Another run may just have installed them.
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "setup: FAILED: chromium/chromium-driver missing and not root (apt-get needs root)" >&2
      exit 1
    fi
    step chromium install_chromium
  fi
fi

# 4. JS dev tools (playwright-core, binaryen for wasm-opt), pinned by package-lock.json.
#    Re-run only when node_modules is missing or older than package.json / package-lock.json.
npm_stamp=node_modules/.mozmarket-setup-stamp
npm_hash() { cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1; }
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] ||
  [ "$(cat "$npm_stamp" 2>/dev/null || true)" != "$(npm_hash)" ]; then
  step npm-install npm install --no-audit --no-fund --loglevel=error
  npm_hash >"$npm_stamp"
fi

# 5. cargo-fuzz (libFuzzer). It passes nightly -Z flags to rustc; on this stable-only machine the
#    fuzz scripts run it with RUSTC_BOOTSTRAP=1 (see scripts/fuzz-smoke.sh).
if [ -z "${SETUP_SKIP_FUZZ:-}" ] && ! cargo fuzz --version >/dev/null 2>&1; then
  step cargo-fuzz cargo install cargo-fuzz
fi

exit 0
