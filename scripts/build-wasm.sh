#!/usr/bin/env bash
# Builds the release wasm of mozmarket and its wasm-bindgen glue into pkg/.
#
#   bash scripts/build-wasm.sh            # the verifier build (default) -> pkg/core/
#   bash scripts/build-wasm.sh verifier   # same
#   bash scripts/build-wasm.sh full       # --features full           -> pkg/core-full/
#   bash scripts/build-wasm.sh all        # both
#
# Steps: cargo rustc as a cdylib only (so `lto = true` really applies: cargo skips LTO for a
# crate that is both cdylib and rlib), wasm-bindgen --target web, wasm-opt -Oz from the npm
# `binaryen` package, then js/assemble.mjs (when present) to lay out the npm package, and a
# scan of the JS that ships for eval-like code (the package must run under a CSP without
# 'unsafe-eval').
#
# Needs scripts/setup.sh to have run (wasm32 target, wasm-bindgen-cli, node_modules).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

WASM_OPT=node_modules/.bin/wasm-opt
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
# What rustc 1.95 emits for wasm32-unknown-unknown by default (its "generic" CPU): wasm-opt must
# accept these, and must not introduce others.
WASM_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

die() {
  echo "build-wasm: FAILED: $*" >&2
  exit 1
}

[ -x "$WASM_OPT" ] || die "$WASM_OPT is missing: run bash scripts/setup.sh"
command -v wasm-bindgen >/dev/null || die "wasm-bindgen is missing: run bash scripts/setup.sh"

build_one() {
  local flavour="$1" features=() out_dir out_name
  case "$flavour" in
    verifier)
      out_dir=pkg/core
      out_name=mozmarket_core
      ;;
    full)
      features=(--features full)
      out_dir=pkg/core-full
      out_name=mozmarket_full
      ;;
    *) die "unknown build '$flavour' (expected verifier, full or all)" ;;
  esac
  local start=$SECONDS
  echo "build-wasm: $flavour: cargo rustc (release, LTO) ..."
  cargo rustc --lib --release --target wasm32-unknown-unknown --crate-type cdylib \
    ${features[@]+"${features[@]}"} --quiet ||
    die "$flavour: cargo rustc failed"
  local wasm="$TARGET_DIR/wasm32-unknown-unknown/release/mozmarket.wasm"
  [ -f "$wasm" ] || die "$flavour: $wasm was not produced"

  echo "build-wasm: $flavour: wasm-bindgen -> $out_dir ..."
  rm -rf "$out_dir"
  mkdir -p "$out_dir"
  wasm-bindgen --target web --out-dir "$out_dir" --out-name "$out_name" "$wasm" ||
    die "$flavour: wasm-bindgen failed"
  local bg="$out_dir/${out_name}_bg.wasm"
  # Keep the un-optimised, named module for scripts/size-breakdown.sh.
  mkdir -p "$TARGET_DIR/wasm-names"
  cp "$bg" "$TARGET_DIR/wasm-names/${out_name}_bg.wasm"

  echo "build-wasm: $flavour: wasm-opt -Oz ..."
  local before after
  before=$(wc -c <"$bg")
  # The producers and target_features custom sections are read by no browser (wasm-bindgen has
  # already used them): about 260 bytes.
  "$WASM_OPT" -Oz "${WASM_FEATURES[@]}" --strip-producers --strip-target-features "$bg" -o "$bg.opt" ||
    die "$flavour: wasm-opt failed"
  mv "$bg.opt" "$bg"
  after=$(wc -c <"$bg")
  echo "build-wasm: $flavour: $bg $before -> $after bytes ($((SECONDS - start)) s)"
}

flavour="${1:-verifier}"
case "$flavour" in
  all) build_one verifier; build_one full ;;
  *) build_one "$flavour" ;;
esac

if [ -f js/assemble.mjs ]; then
  echo "build-wasm: node js/assemble.mjs ..."
  node js/assemble.mjs || die "js/assemble.mjs failed"
fi

# Minify what ships (wasm-bindgen glue, our ES modules, the classic script) with a source map
# beside each file: a page that loads the package directly gets the small files, and a bundler
# gets nothing it would have to undo. The tests run against these minified files.
TERSER="$PWD/node_modules/.bin/terser"
[ -x "$TERSER" ] || die "terser is missing: run scripts/setup.sh (npm install)"
for f in pkg/index.js pkg/load.js pkg/receipts.js pkg/full.js pkg/element.js pkg/widget.js pkg/prompter.js \
  pkg/core/mozmarket_core.js pkg/core-full/mozmarket_full.js \
  pkg/mozmarket-receipts.js; do
  [ -f "$f" ] || continue
  kind=(--module)
  [ "$f" = pkg/mozmarket-receipts.js ] && kind=()
  # Run from the file's own folder, so that the map's `sources` name the file beside it. The
  # bundler hints on load.js's Node-only import (@vite-ignore, webpackIgnore) are kept.
  (cd "$(dirname "$f")" && "$TERSER" "$(basename "$f")" "${kind[@]}" --compress --mangle \
    --comments '/@vite-ignore|webpackIgnore/' \
    --source-map "url='$(basename "$f").map',includeSources" -o "$(basename "$f").min") ||
    die "terser failed on $f"
  mv "$f.min" "$f"
  [ -f "$f.min.map" ] && mv "$f.min.map" "$f.map"
done
echo "build-wasm: minified the shipped JS (source maps beside it)"

# No eval-like code in anything we ship: the wasm-bindgen glue and our JS must work under a CSP
# without 'unsafe-eval' (spec §8.7): eval(, new Function, Function(, string-argument
# setTimeout/setInterval, and javascript: URLs in string literals. Lines that are comments
# (//, /*, * …) are not counted, nor `Function(` right after a quote: that is text (the glue's
# debug formatter writes `Function(name)`), not a call. Only the match and a little context is
# printed, since the minified files are one line each.
bad=$(find pkg -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.cjs' \) -print0 |
  xargs -0 -r grep -nHoE '.{0,40}((^|[^A-Za-z0-9_$])eval\(|new Function|(^|[^A-Za-z0-9_$"'"'"'`])Function\(|set(Timeout|Interval)\([[:space:]]*["'"'"'`]|["'"'"'`]javascript:).{0,20}' |
  grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|/\*|\*)' || true)
if [ -n "$bad" ]; then
  echo "$bad" >&2
  die "eval-like code (eval, Function, string timers or javascript: URLs) found in pkg/ (listed above)"
fi
echo "build-wasm: ok (no eval-like code in pkg/)"
