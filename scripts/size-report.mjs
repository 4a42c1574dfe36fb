#!/usr/bin/env node
// Size report of the built package (run scripts/build-wasm.sh first).
//
//   node scripts/size-report.mjs            # table, and OVER/UNDER the budget
//   node scripts/size-report.mjs --strict   # also exit 1 when OVER
//
// The budgets (gzip -9) cover what an ES-module user of each build loads: the verifier build
// (64 KB: wasm, glue, index.js, load.js, receipts.js) and the full build (150 KB: its wasm and glue,
// full.js, load.js, receipts.js, prompter.js, widget.js). The classic script is listed for information.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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

// Each build: what an ES-module user of it loads, and its gzip -9 budget.
const BUILDS = [
  {
    name: 'verifier',
    budget: 64 * 1024,
    files: [
      ['wasm', 'pkg/core/mozmarket_core_bg.wasm'],
      ['JS glue', 'pkg/core/mozmarket_core.js'],
      ['ESM entry', 'pkg/index.js'],
      ['load.js', 'pkg/load.js'],
      ['receipts.js', 'pkg/receipts.js'],
    ],
  },
  {
    name: 'full',
    budget: 150 * 1024,
    files: [
      ['wasm', 'pkg/core-full/mozmarket_full_bg.wasm'],
      ['JS glue', 'pkg/core-full/mozmarket_full.js'],
      ['ESM entry', 'pkg/full.js'],
      ['load.js', 'pkg/load.js'],
      ['receipts.js', 'pkg/receipts.js'],
      ['prompter.js', 'pkg/prompter.js'],
      ['widget.js', 'pkg/widget.js'],
    ],
  },
];
const INFO = [['classic script (loads the full core)', 'pkg/mozmarket-receipts.js']];

/**
 * Measures both builds (also used by bench/run.mjs). Returns `{builds, info, missing, table,
 * verdicts}`: `builds` is `[{name, budget, files: [{label, path, raw, gzip, brotli}], total, over}]`
 * (bytes), `info` the informational files, `missing` the paths not found, and `table`/`verdicts`
 * the rows and lines the command prints.
 */
export function measureSizes() {
  const table = [['build', 'file', 'raw', 'gzip -9', 'brotli']];
  const verdicts = [];
  const builds = [];
  const info = [];
  const missing = [];
  for (const b of BUILDS) {
    const total = { raw: 0, gzip: 0, brotli: 0 };
    const files = [];
    for (const [label, rel] of b.files) {
      const path = join(root, rel);
      if (!existsSync(path)) {
        missing.push(rel);
        continue;
      }
      const m = measure(path);
      files.push({ label, path: rel, ...m });
      for (const k of Object.keys(total)) total[k] += m[k];
      table.push([`${b.name}: ${label}`, relative(root, path), kb(m.raw), kb(m.gzip), kb(m.brotli)]);
    }
    table.push([`${b.name}: ESM total`, '', kb(total.raw), kb(total.gzip), kb(total.brotli)]);
    const over = total.gzip > b.budget;
    builds.push({ name: b.name, budget: b.budget, files, total, over });
    verdicts.push({ over, text: `size budget: ${over ? 'OVER' : 'UNDER'}: ${b.name} ESM total ${kb(total.gzip)} gzip -9 against ${kb(b.budget)} (${over ? 'over' : 'under'} by ${kb(Math.abs(total.gzip - b.budget))})` });
  }
  for (const [label, rel] of INFO) {
    const path = join(root, rel);
    if (!existsSync(path)) continue;
    const m = measure(path);
    info.push({ label, path: rel, ...m });
    table.push([`info: ${label}`, relative(root, path), kb(m.raw), kb(m.gzip), kb(m.brotli)]);
  }
  return { builds, info, missing, table, verdicts };
}

function main() {
  const { table, verdicts, missing } = measureSizes();
  for (const rel of missing) console.error(`size-report: ${rel} is missing: run bash scripts/build-wasm.sh all`);
  if (missing.length) process.exit(1);
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const line = (row) =>
    row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ');
  console.log(line(table[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table.slice(1)) console.log(line(row));
  for (const v of verdicts) console.log(v.text);
  if (strict && verdicts.some((v) => v.over)) process.exit(1);
}

// The command (not when imported).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
