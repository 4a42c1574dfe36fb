#!/usr/bin/env node
// Size report of the built package (run scripts/build-wasm.sh first).
//
//   node scripts/size-report.mjs            # table, and OVER/UNDER the budget
//   node scripts/size-report.mjs --strict   # also exit 1 when OVER
//
// The budget (64 KB gzip -9) covers what an ES-module user of the verifier build loads: the
// wasm, the wasm-bindgen glue and our JS (pkg/index.js, pkg/receipts.js). The classic script
// (pkg/mozmarket-receipts.js) and the full build are listed for information.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUDGET_GZIP = 64 * 1024;
const strict = process.argv.includes('--strict');

function measure(path) {
  const bytes = readFileSync(path);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const rows = [];
const add = (label, rel, inBudget) => {
  const path = join(root, rel);
  if (!existsSync(path)) return null;
  const m = { label, file: relative(root, path), inBudget, ...measure(path) };
  rows.push(m);
  return m;
};

const wasm = add('verifier wasm', 'pkg/core/mozmarket_core_bg.wasm', true);
const glue = add('verifier JS glue', 'pkg/core/mozmarket_core.js', true);
if (!wasm || !glue) {
  console.error('size-report: FAILED: pkg/core is missing: run bash scripts/build-wasm.sh verifier');
  process.exit(1);
}
add('our JS (ESM entry)', 'pkg/index.js', true);
add('our JS (ESM core)', 'pkg/receipts.js', true);
add('classic script (not in ESM total)', 'pkg/mozmarket-receipts.js', false);
add('full wasm (info)', 'pkg/core-full/mozmarket_full_bg.wasm', false);
add('full JS glue (info)', 'pkg/core-full/mozmarket_full.js', false);

const total = rows
  .filter((r) => r.inBudget)
  .reduce((t, r) => ({ raw: t.raw + r.raw, gzip: t.gzip + r.gzip, brotli: t.brotli + r.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
  });

const table = [
  ['what', 'file', 'raw', 'gzip -9', 'brotli'],
  ...rows.map((r) => [r.label, r.file, kb(r.raw), kb(r.gzip), kb(r.brotli)]),
  ['ESM total (verifier)', '', kb(total.raw), kb(total.gzip), kb(total.brotli)],
];
const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
const line = (row) =>
  row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
console.log(line(table[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of table.slice(1, -1)) console.log(line(row));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
console.log(line(table[table.length - 1]));

const over = total.gzip > BUDGET_GZIP;
const diff = Math.abs(total.gzip - BUDGET_GZIP);
console.log(
  `size budget: ${over ? 'OVER' : 'UNDER'}: ESM verifier total ${kb(total.gzip)} gzip -9 against ` +
    `${kb(BUDGET_GZIP)} (${over ? 'over' : 'under'} by ${kb(diff)})`,
);
if (over && strict) process.exit(1);
