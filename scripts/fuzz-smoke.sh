#!/usr/bin/env bash
# Runs every cargo-fuzz target of crates/core/fuzz for a short time (FUZZ_SECONDS, default 20)
# from the committed seeds. The toolchain is stable only: cargo fuzz needs nightly rustc flags
# (-Zsanitizer=address, sancov passes), which RUSTC_BOOTSTRAP=1 allows.
#
#   bash scripts/fuzz-smoke.sh                 # every target, 20 s each
#   FUZZ_SECONDS=300 bash scripts/fuzz-smoke.sh receipt_parser
#
# The last line is `fuzz: N passed, M failed` (one per target). A crash leaves its input in
# crates/core/fuzz/artifacts/<target>/ and the line to reproduce it is printed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../crates/core"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export RUSTC_BOOTSTRAP=1

SECONDS_EACH="${FUZZ_SECONDS:-20}"
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=(receipt_parser chain_verifier); fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: cargo-fuzz is not installed (bash scripts/setup.sh installs it)" >&2
  echo "fuzz: 0 passed, 0 failed, ${#TARGETS[@]} skipped"
  exit 0
fi

# Build every target once. AddressSanitizer is the default; should this rustc refuse it, fall
# back to no sanitizer (libFuzzer's coverage feedback still works) and say so loudly. A build
# that fails both ways (a compile error in core or a target) is a failure.
SANITIZER=()
log=$(mktemp)
build_failed() {
  cat "$log" >&2
  echo "fuzz: FAILED: cargo fuzz build (see above)" >&2
  echo "fuzz: 0 passed, ${#TARGETS[@]} failed"
  exit 1
}
echo "fuzz: cargo fuzz build (RUSTC_BOOTSTRAP=1, address sanitizer) ..."
if ! cargo fuzz build >"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "fuzz: WARNING: the address-sanitizer build failed (above); retrying with --sanitizer none" >&2
  SANITIZER=(--sanitizer none)
  cargo fuzz build "${SANITIZER[@]}" >"$log" 2>&1 || build_failed
  echo "fuzz: WARNING: fuzzing WITHOUT AddressSanitizer" >&2
fi

passed=0
failed=0
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  seeds=()
  [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
  echo "fuzz: $t for ${SECONDS_EACH} s ..."
  # New inputs go to fuzz/corpus/<t> (git-ignored); fuzz/seeds/<t> is only read.
  if cargo fuzz run "${SANITIZER[@]}" "$t" "fuzz/corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -n 1 || true)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    echo "fuzz: $t ok (${runs:-? runs}, ${cov:-no coverage line})"
    passed=$((passed + 1))
  else
    # Show the crash report (libFuzzer prints it last), not the whole run.
    grep -vE '^#[0-9]+' "$log" | tail -n 80 >&2
    echo "fuzz: FAILED: $t found a crash or could not run (report above)" >&2
    artifact=$(grep -oE 'artifacts/[^ ]+' "$log" | tail -n 1 || true)
    if [ -n "$artifact" ]; then
      echo "fuzz: reproduce: (cd crates/core && RUSTC_BOOTSTRAP=1 cargo fuzz run $t fuzz/$artifact)" >&2
    fi
    failed=$((failed + 1))
  fi
done
rm -f "$log"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
