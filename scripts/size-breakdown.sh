#!/usr/bin/env bash
# What the verifier wasm is made of: `twiggy top -n 25` and a per-crate roll-up, on the
# optimised module with its function names kept (wasm-opt -Oz -g of the named copy that
# scripts/build-wasm.sh leaves in target/wasm-names/). Not part of the test command: the first
# run installs twiggy from crates.io (about 4 min).
#
#   bash scripts/size-breakdown.sh            # verifier build
#   bash scripts/size-breakdown.sh full       # full build
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

case "${1:-verifier}" in
  verifier) name=mozmarket_core ;;
  full) name=mozmarket_full ;;
  *) echo "usage: $0 [verifier|full]" >&2; exit 2 ;;
esac
named="$TARGET_DIR/wasm-names/${name}_bg.wasm"
if [ ! -f "$named" ]; then
  echo "size-breakdown: $named is missing: run bash scripts/build-wasm.sh ${1:-verifier} first" >&2
  exit 1
fi
if ! command -v twiggy >/dev/null 2>&1; then
  echo "size-breakdown: installing twiggy (cargo install twiggy, a few minutes) ..."
  cargo install twiggy --quiet
fi

out="$TARGET_DIR/wasm-names/${name}_bg.opt-named.wasm"
node_modules/.bin/wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$named" -o "$out"
echo "== twiggy top -n 25 ($out, $(wc -c <"$out") bytes with names) =="
twiggy top -n 25 "$out"
echo
echo "== shallow size by crate (from symbol names; 'other' = data segments and unnamed items; name section excluded) =="
twiggy top -f json "$out" | node -e '
  let text = "";
  process.stdin.on("data", (d) => (text += d)).on("end", () => {
    const items = JSON.parse(text).items ?? JSON.parse(text);
    const sums = new Map();
    let total = 0;
    for (const it of items) {
      // The name section exists only in this named copy, not in the shipped module.
      if (/subsection"?$/.test(it.name)) continue;
      const size = it.shallow_size ?? 0;
      total += size;
      // First path segment, also inside <impl X for Y> and generic names.
      const m = /([A-Za-z_][A-Za-z0-9_]*)::/.exec(it.name.replace(/\[[0-9a-f]{8,}\]/g, "").replace(/^[<&* ]+|^dyn /g, ""));
      const crate = m ? m[1] : "other";
      sums.set(crate, (sums.get(crate) ?? 0) + size);
    }
    const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, 20);
    for (const [crate, size] of rows) {
      console.log(`${String(size).padStart(9)}  ${((100 * size) / total).toFixed(1).padStart(5)}%  ${crate}`);
    }
  });
'
