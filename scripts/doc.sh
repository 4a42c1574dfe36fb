#!/usr/bin/env bash
# Builds mozmarket's Rust API reference with rustdoc, and fails on any rustdoc warning (broken or
# private intra-doc links, bad code blocks, bare URLs, missing docs where a crate asks for them):
#
#   bash scripts/doc.sh
#
#   mozmarket-core    natively                                  -> target/doc/mozmarket_core/
#   mozmarket-server  natively (library and binaries)           -> target/doc/mozmarket_server/
#   mozmarket         for wasm32-unknown-unknown, --features full (the bindings and the yew UI)
#                                                   -> target/wasm32-unknown-unknown/doc/mozmarket/
#
# Only the workspace's own crates are documented (--no-deps). The JS API is documented in the
# TypeScript declarations js/index.d.ts, js/full.d.ts, js/prompter.d.ts and js/classic.d.ts
# (shipped in pkg/ as index.d.ts, full.d.ts, prompter.d.ts, mozmarket-receipts.d.ts).
#
# Needs the wasm32-unknown-unknown target (bash scripts/setup.sh installs it). scripts/test.sh
# runs this as its `docs` tier.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_PROGRESS_WHEN=never
# Every rustdoc warning is an error. Appended to what the caller set, so local flags still apply.
export RUSTDOCFLAGS="${RUSTDOCFLAGS:+$RUSTDOCFLAGS }-D warnings"

target_dir="${CARGO_TARGET_DIR:-target}"

echo "doc.sh: mozmarket-core and mozmarket-server (native)"
cargo doc --no-deps --quiet -p mozmarket-core -p mozmarket-server

echo "doc.sh: mozmarket (wasm32-unknown-unknown, --features full)"
cargo doc --no-deps --quiet -p mozmarket --target wasm32-unknown-unknown --features full

for page in \
  "$target_dir/doc/mozmarket_core/index.html" \
  "$target_dir/doc/mozmarket_server/index.html" \
  "$target_dir/wasm32-unknown-unknown/doc/mozmarket/index.html"; do
  if [ ! -f "$page" ]; then
    echo "doc.sh: ERROR: $page was not written" >&2
    exit 1
  fi
done

echo "doc.sh: API reference written (rustdoc warnings: 0):"
echo "  $target_dir/doc/mozmarket_core/index.html          mozmarket-core (the decisions)"
echo "  $target_dir/doc/mozmarket_server/index.html        mozmarket-server (the reference server)"
echo "  $target_dir/wasm32-unknown-unknown/doc/mozmarket/index.html   mozmarket (the wasm bindings, full build)"
echo "  JS API: js/index.d.ts, js/full.d.ts, js/prompter.d.ts, js/classic.d.ts (TSDoc)"
