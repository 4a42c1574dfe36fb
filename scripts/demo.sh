#!/usr/bin/env bash
# Runs the local demo (spec/payments.md §8.9): both server roles in one process, the demo app,
# its keys and products, and the demo shop page.
#
#   bash scripts/demo.sh                 # SQLite files under target/demo-data
#   bash scripts/demo.sh --fresh         # start from empty databases
#   bash scripts/demo.sh --postgres      # PostgreSQL (scripts/postgres.sh starts a throwaway one)
#   bash scripts/demo.sh -- --allowed-origin http://127.0.0.1:8000   # extra `serve` arguments
#
# Then open http://localhost:7801/ (the shop) and http://127.0.0.1:7802/dev/ (the marketplace's
# developer hub; the admin token is printed on the first start). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

DATA_DIR="${MOZMARKET_DATA_DIR:-target/demo-data}"
fresh=0
postgres=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) fresh=1 ;;
    --postgres) postgres=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "demo.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Everything a fresh machine needs (idempotent, quiet when nothing is missing), then the package
# the demo page loads. A failed build stops the demo: a page without its verifier is no demo.
bash scripts/setup.sh
bash scripts/build-wasm.sh all >&2

if [ "$postgres" = 1 ]; then
  DATABASE_URL="$(bash scripts/postgres.sh)"
  export DATABASE_URL
  if [ "$fresh" = 1 ]; then
    psql "$DATABASE_URL" -qc 'DROP SCHEMA IF EXISTS mozmarket_app CASCADE; DROP SCHEMA IF EXISTS mozmarket_market CASCADE' >&2
  fi
else
  unset DATABASE_URL
  [ "$fresh" = 1 ] && rm -rf "$DATA_DIR"
fi
mkdir -p "$DATA_DIR"

cargo build -p mozmarket-server --bin mozmarket-server >&2
exec "${CARGO_TARGET_DIR:-target}/debug/mozmarket-server" serve --demo --data-dir "$DATA_DIR" --web-root . "${extra[@]}"
