#!/usr/bin/env bash
# THE test command of mozmarket (CI runs exactly this through .ci/run):
#
#   bash scripts/test.sh
#
# Tiers, in order; the first failure stops the run:
#   setup      scripts/setup.sh (installs what is missing: wasm target, wasm-bindgen-cli,
#              chromium + chromedriver, node_modules, cargo-fuzz)
#   clippy     the workspace natively, the wasm crate on wasm32 (with tests/web.rs; and the full
#              build's UI), the fuzz crate
#   docs       scripts/doc.sh: rustdoc of the core, the server and the wasm crate, warnings denied
#   postgres   scripts/postgres.sh (when present): a loopback PostgreSQL whose URL goes to the
#              server's tests as MOZMARKET_TEST_POSTGRES_URL (SKIP_POSTGRES=1: SQLite only)
#   native     cargo test --workspace
#   fuzz       every cargo-fuzz target for FUZZ_SECONDS (default 20) each
#   wasm       wasm-bindgen tests (tests/web.rs) in headless Chromium
#   build      scripts/build-wasm.sh all (both wasm builds, wasm-opt, assemble pkg/, eval scan)
#   size       scripts/size-report.mjs (prints OVER/UNDER; SIZE_STRICT=1 makes OVER fail)
#   packaging  node --test tests/packaging/: `npm pack` of pkg/ installed into consumers built
#              from scratch (a Vite app, a plain ES-module page, a classic <script> page, a
#              TypeScript check and build), each exercised in Chromium; Node/SSR imports
#   browser    node --test tests/browser/ (when that directory has tests)
#   e2e        the debug server binary, then node --test tests/e2e/: the demo shop and the pay
#              widget against the real server (popup and mozPay purchases, chargeback and the
#              Prompter, cancel, closed popup, foreign messages, app server down, provider
#              faults, the strict-CSP page, axe-core; screenshots and latency.json in
#              target/e2e-artifacts/)
#   bench      node bench/run.mjs --quick --skip loadbench (the benchmark's smoke run: figures
#              printed, never asserted; fails if a section cannot run or a sanity check fails)
#
# Every tier's output goes to the console and to target/test-logs/<tier>.log. The last line is
# `tests: N passed, M failed`, N and M summed over the tiers' own counts (cargo's
# `test result:` lines, node's `# pass` / `# fail`, the fuzz targets); a tier that fails
# without a count of its own (clippy, a build) counts as one failure.
#
# Environment: SKIP_FUZZ=1 skips the fuzz tier (loudly), FUZZ_SECONDS sets its length.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
exec </dev/null
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_PROGRESS_WHEN=never

LOG_DIR="${CARGO_TARGET_DIR:-target}/test-logs"
mkdir -p "$LOG_DIR"
passed=0
failed=0
run_start=$SECONDS

finish() {
  echo
  echo "test.sh: total time $((SECONDS - run_start)) s"
  echo "tests: $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && exit 0
  exit 1
}

# count LOG: adds the test counts found in LOG; prints how many it found.
count() {
  local log="$1" p f
  # cargo / libtest: "test result: ok. 12 passed; 0 failed; ..."
  p=$(grep -aoE 'test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed' "$log" |
    awk '{p += $4} END {print p + 0}')
  f=$(grep -aoE 'test result: (ok|FAILED)\. [0-9]+ passed; [0-9]+ failed' "$log" |
    awk '{f += $6} END {print f + 0}')
  # node --test: TAP "# pass N" / "# fail N", or the spec reporter's "ℹ pass N".
  p=$((p + $(grep -aE '^(# |ℹ )pass [0-9]+$' "$log" | awk '{s += $3} END {print s + 0}')))
  f=$((f + $(grep -aE '^(# |ℹ )fail [0-9]+$' "$log" | awk '{s += $3} END {print s + 0}')))
  # scripts/fuzz-smoke.sh: "fuzz: N passed, M failed"
  p=$((p + $(grep -aE '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $2} END {print s + 0}')))
  f=$((f + $(grep -aE '^fuzz: [0-9]+ passed, [0-9]+ failed' "$log" | awk '{s += $4} END {print s + 0}')))
  tier_passed=$p
  tier_failed=$f
}

# tier NAME CMD...: runs CMD, shows and logs its output, adds its counts; stops on failure.
tier() {
  local name="$1"
  shift
  local log="$LOG_DIR/$name.log" start=$SECONDS status
  echo
  echo "=== [$name] $* ==="
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  count "$log"
  passed=$((passed + tier_passed))
  failed=$((failed + tier_failed))
  if [ "$status" -ne 0 ]; then
    [ "$tier_failed" -eq 0 ] && failed=$((failed + 1))
    echo
    echo "test.sh: FAILED in tier [$name] (exit status $status, $((SECONDS - start)) s): $*" >&2
    echo "test.sh: full output of that tier: $log" >&2
    finish
  fi
  echo "=== [$name] ok in $((SECONDS - start)) s (tests: $tier_passed passed) ==="
}

versions() {
  rustc --version
  cargo --version
  wasm-bindgen --version
  node --version
  /usr/bin/chromium --version 2>/dev/null | head -n 1
  /usr/bin/chromedriver --version | head -n 1
  node_modules/.bin/wasm-opt --version
  cargo fuzz --version 2>/dev/null || echo "cargo-fuzz: not installed"
}

clippy_all() {
  cargo clippy --workspace --all-targets --quiet -- -D warnings &&
    cargo clippy -p mozmarket --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings &&
    cargo clippy -p mozmarket --target wasm32-unknown-unknown --lib --features full --quiet -- -D warnings &&
    cargo clippy --manifest-path crates/core/fuzz/Cargo.toml --all-targets --quiet -- -D warnings
}

wasm_tests() {
  CHROMEDRIVER=/usr/bin/chromedriver \
    WASM_BINDGEN_TEST_TIMEOUT=120 \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/scripts/webdriver.json" \
    cargo test --target wasm32-unknown-unknown -p mozmarket
}

# The demo shop and the pay widget against the real server binary (tests/e2e/). Needs pkg/ with
# the full build (the build tier) and node_modules/axe-core (setup). One test file at a time: each
# starts its own server and Chromium, and the widget's timings (grace periods, timeouts) are
# measured. Screenshots and latency.json go to target/e2e-artifacts/ (emptied first).
e2e_tests() {
  local artifacts="${CARGO_TARGET_DIR:-target}/e2e-artifacts"
  rm -rf "$artifacts" && mkdir -p "$artifacts" &&
    cargo build -p mozmarket-server --bin mozmarket-server &&
    node --test --test-concurrency=1 tests/e2e/
}

size_report() {
  if [ -n "${SIZE_STRICT:-}" ]; then
    node scripts/size-report.mjs --strict
  else
    node scripts/size-report.mjs
  fi
}

# A throwaway PostgreSQL on loopback for the server's tests (they use SQLite without it).
# Started here, not inside a tier, because the URL must reach the native tier's environment.
start_postgres() {
  local log="$LOG_DIR/postgres.log" url status=0
  echo
  echo "=== [postgres] bash scripts/postgres.sh ==="
  url=$(bash scripts/postgres.sh 2>"$log") || status=$?
  cat "$log"
  if [ "$status" -ne 0 ] || [ -z "$url" ]; then
    failed=$((failed + 1))
    echo "test.sh: FAILED in tier [postgres] (exit status $status): bash scripts/postgres.sh" >&2
    finish
  fi
  export MOZMARKET_TEST_POSTGRES_URL="$url"
  echo "=== [postgres] ok: MOZMARKET_TEST_POSTGRES_URL=$url ==="
}

tier setup bash scripts/setup.sh
tier versions versions
tier clippy clippy_all
tier docs bash scripts/doc.sh
if [ -f scripts/postgres.sh ] && [ -z "${MOZMARKET_TEST_POSTGRES_URL:-}" ] && [ -z "${SKIP_POSTGRES:-}" ]; then
  start_postgres
fi
tier native cargo test --workspace --no-fail-fast
if [ -n "${SKIP_FUZZ:-}" ]; then
  echo
  echo "=== [fuzz] SKIPPED because SKIP_FUZZ is set: no fuzz smoke in this run ==="
else
  tier fuzz bash scripts/fuzz-smoke.sh
fi
tier wasm wasm_tests
tier build bash scripts/build-wasm.sh all
tier size size_report
tier packaging node --test --test-concurrency=1 tests/packaging/
if [ -d tests/browser ] && [ -n "$(find tests/browser -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.cjs' \) -print -quit)" ]; then
  tier browser node --test tests/browser/
else
  echo
  echo "=== [browser] no tests in tests/browser/ yet: nothing to run ==="
fi
tier e2e e2e_tests
# The benchmark's smoke run: every section but the server load (which needs a release build),
# small counts; figures printed, never asserted, but its sanity checks (both mozmarket and the jose
# peer refuse 12 bad receipts and accept the good one) and every section must run.
tier bench node bench/run.mjs --quick --skip loadbench
finish
