#!/usr/bin/env bash
# An experimental verifier build for section 1, without touching pkg/ or the shared target dir:
# the wasm crate built exactly as scripts/build-wasm.sh builds it (cargo rustc --release, LTO,
# wasm-bindgen --target web, wasm-opt -Oz with the same flags), plus extra `cargo --config`
# settings, into target/bench/pkg-NAME/ with the JS of pkg/ beside it. Then:
#
#   bash bench/build-variant.sh base
#   bash bench/build-variant.sh crypto-o3 \
#     --config 'profile.release.package.p256.opt-level=3' \
#     --config 'profile.release.package.primeorder.opt-level=3' \
#     --config 'profile.release.package.crypto-bigint.opt-level=3' \
#     --config 'profile.release.package.elliptic-curve.opt-level=3' \
#     --config 'profile.release.package.ecdsa.opt-level=3'
#   node bench/run.mjs --only verify --pkg target/bench/pkg-crypto-o3
#
# Builds in target/bench/variant-target (a first build compiles every dependency: minutes on two
# cores). The JS files come from pkg/: build variants from the tree pkg/ was built from.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
name="${1:?usage: bench/build-variant.sh NAME [--config KEY=VALUE ...]}"
shift
out="target/bench/pkg-$name"
target="target/bench/variant-target"
WASM_FEATURES=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue)

[ -f pkg/index.js ] || { echo "build-variant: pkg/ is not built" >&2; exit 1; }
start=$SECONDS
CARGO_TARGET_DIR="$target" cargo rustc --lib --release --target wasm32-unknown-unknown \
  --crate-type cdylib --quiet "$@"
rm -rf "$out"
mkdir -p "$out"
cp pkg/index.js pkg/load.js pkg/receipts.js "$out/"
wasm-bindgen --target web --out-dir "$out/core" --out-name mozmarket_core \
  "$target/wasm32-unknown-unknown/release/mozmarket.wasm"
bg="$out/core/mozmarket_core_bg.wasm"
node_modules/.bin/wasm-opt -Oz "${WASM_FEATURES[@]}" --strip-producers --strip-target-features "$bg" -o "$bg.opt"
mv "$bg.opt" "$bg"
gz=$(gzip -9 -c "$bg" | wc -c)
echo "build-variant: $out: wasm $(wc -c <"$bg") bytes, $gz gzip -9 ($((SECONDS - start)) s)"
