#!/usr/bin/env node
// The mozmarket benchmark (issue 5): `npm run bench` → one report on stdout, and the same as JSON
// in target/bench/report.json. What each figure means: bench/README.md.
//
//   node bench/run.mjs                      # full run
//   node bench/run.mjs --quick              # small counts (a CI smoke run, about 1-2 min after builds)
//   node bench/run.mjs --skip latency,loadbench
//   node bench/run.mjs --only verify
//   node bench/run.mjs --server release     # section 2 against a release build of the server
//
// Sections: verify (1, mozmarket vs jose in Chromium), latency (2, real server), size (3),
// loadbench (4). Timings are printed, never asserted. The exit status is 1 when a section fails
// to run or a sanity check fails (a side accepting a tampered receipt), 2 on a usage error.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const SECTIONS = ['verify', 'latency', 'size', 'loadbench'];

const USAGE = `usage: node bench/run.mjs [--quick] [--skip LIST] [--only LIST] [--server debug|release]
       [--launches N] [--receipts N] [--purchases N] [--orders N] [--concurrency N] [--out FILE]
       [--pkg DIR]   (section 1 against another build of the package, e.g. from bench/build-variant.sh)
sections (LIST is comma-separated): ${SECTIONS.join(', ')}`;

function parseArgs(argv) {
  const o = { quick: false, skip: new Set(), server: 'debug', out: path.join(root, 'target', 'bench', 'report.json') };
  const nums = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const name = a.split('=')[0];
    const list = (v) => {
      const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
      for (const x of xs) if (!SECTIONS.includes(x)) throw new Error(`unknown section ${x}`);
      return xs;
    };
    if (name === '--quick') o.quick = true;
    else if (name === '--skip') for (const x of list(value())) o.skip.add(x);
    else if (name === '--only') {
      const only = list(value());
      for (const x of SECTIONS) if (!only.includes(x)) o.skip.add(x);
    } else if (name === '--server') {
      o.server = value();
      if (o.server !== 'debug' && o.server !== 'release') throw new Error('--server is debug or release');
    } else if (name === '--out') o.out = path.resolve(value());
    else if (name === '--pkg') o.pkgDir = path.resolve(value());
    else if (['--launches', '--receipts', '--purchases', '--orders', '--concurrency'].includes(name)) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
      nums[name.slice(2)] = n;
    } else if (name === '--help' || name === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  const q = o.quick;
  o.verify = {
    launches: nums.launches ?? (q ? 4 : 20),
    bulkN: nums.receipts ?? (q ? 100 : 300),
    warmup: 1,
    rounds: q ? 2 : 3,
    reps: q ? 1 : 2,
    profileRounds: 1,
    pkgDir: o.pkgDir,
  };
  o.latency = { purchases: nums.purchases ?? (q ? 2 : 8), intervalMs: 1000, server: o.server };
  o.loadbench = { orders: nums.orders ?? (q ? 2000 : 20000), concurrency: nums.concurrency ?? 64, seconds: q ? 10 : undefined };
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`bench: ${e.message}\n${USAGE}`);
  process.exit(2);
}

const started = Date.now();
/** The environment as given (useReleaseServer changes CARGO_TARGET_DIR for support.mjs only). */
const originalEnv = { ...process.env };
const progress = (line) => process.stderr.write(`${line}\n`);

/** Builds (or checks fresh) what a section needs; cargo is quiet when nothing changed. */
function cargoBuild(args, what) {
  progress(`bench: cargo build ${args.join(' ')} (${what}) ...`);
  const r = spawnSync('cargo', ['build', '--quiet', ...args], { cwd: root, env: originalEnv, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`cargo build ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

function requirePkg(files) {
  for (const f of files) {
    if (!existsSync(path.join(root, 'pkg', f))) throw new Error(`pkg/${f} is missing: the package is not built (scripts/build-wasm.sh all)`);
  }
}

/**
 * tests/e2e/support.mjs starts `<CARGO_TARGET_DIR or target>/debug/mozmarket-server`, read when
 * the module loads. For `--server release` the bench points it at a directory of its own whose
 * debug/mozmarket-server is a link to target/release/mozmarket-server, before support.mjs is
 * first imported (every section module is imported dynamically below for that reason).
 */
function useReleaseServer() {
  const dir = path.join(root, 'target', 'bench', 'release-server');
  const link = path.join(dir, 'debug', 'mozmarket-server');
  mkdirSync(path.dirname(link), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(path.join(root, 'target', 'release', 'mozmarket-server'), link);
  const previous = process.env.CARGO_TARGET_DIR;
  process.env.CARGO_TARGET_DIR = dir;
  return () => {
    if (previous === undefined) delete process.env.CARGO_TARGET_DIR;
    else process.env.CARGO_TARGET_DIR = previous;
  };
}

// ---- formatting ------------------------------------------------------------------------------

const ms = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ms`);
const x = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '—');
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

/** Every figure with a goal, for the summary and the JSON. */
const goals = [];
function goal(figure, value, unit, goalText, ratio, met) {
  goals.push({ figure, value, unit, goal: goalText, ratio, met });
  return `${met === null ? 'no goal' : met ? 'MET' : 'NOT MET'}`;
}

function printVerification(v, out) {
  out.push(`  ${v.browser}; ${v.receiptShape}; package: ${v.pkg === 'pkg/' ? 'pkg/' : path.relative(root, v.pkg)}`);
  out.push(`  sanity: ${v.sanity.length}/${v.sanity.length} cases as expected on both sides (the good receipt accepted; tampered`);
  out.push('    payload, tampered signature, untrusted root, uncertified signing key, bad certificate typ, expired,');
  out.push('    not yet valid, wrong product, issuer not allowed, verify host off the issuer, test-receipt, alg none: refused)');
  out.push('');
  out.push('  time to verdict at launch: import + init + one receipt (chain, policy, cached store answer)');
  out.push('  jose = the check importing jose as published (unbundled ES modules); jose 1-file = the same check');
  out.push('  bundled, tree-shaken and minified by rolldown, as an app would ship it');
  const W = 12;
  out.push(`  ${pad('', 30)}${lpad('mozmarket', W)}${lpad('jose', W)}${lpad('jose 1-file', W)}   mm/jose  mm/1-file  goal`);
  for (const mode of ['cold', 'warm']) {
    const l = v.launch[mode];
    const label = mode === 'cold' ? 'cold: new context' : 'warm: cached, new page';
    const v1 = goal(`time to verdict at launch (${mode}), mozmarket/jose`, l.ratio, 'ratio', '≤ 1.0× jose', l.ratio, l.ratio <= 1);
    const v2 = goal(`time to verdict at launch (${mode}), mozmarket/jose bundled`, l.ratioBundled, 'ratio', '≤ 1.0× jose', l.ratioBundled, l.ratioBundled <= 1);
    const row = (name, k, fmt = ms) => `  ${pad(name, 30)}${lpad(fmt(l.mozmarket[k]), W)}${lpad(fmt(l.jose[k]), W)}${lpad(fmt(l.joseBundled[k]), W)}`;
    out.push(`${row(`${label} (median)`, 'medianMs')}   ${lpad(x(l.ratio), 7)}  ${lpad(x(l.ratioBundled), 9)}  ≤ 1.00×: ${v1} / ${v2}`);
    out.push(`${row('  p90', 'p90Ms')}   ${lpad(x(l.mozmarket.p90Ms / l.jose.p90Ms), 7)}  ${lpad(x(l.mozmarket.p90Ms / l.joseBundled.p90Ms), 9)}`);
    out.push(row('  import (median)', 'importMedianMs'));
    out.push(`  ${pad('  wasm init (median)', 30)}${lpad(ms(l.mozmarket.initMedianMs), W)}${lpad('—', W)}${lpad('—', W)}`);
    out.push(`${row('  verify (median)', 'verifyMedianMs')}   (configuration + verdict)`);
    out.push(`${row('    of which configuration', 'ctorMedianMs')}   (new Verifier / createChecker: root key)`);
    if (mode === 'cold') {
      out.push(`  ${pad('  requests', 30)}${lpad(l.mozmarket.requests, W)}${lpad(l.jose.requests, W)}${lpad(l.joseBundled.requests, W)}`);
      out.push(`  ${pad('  bytes loaded (as served)', 30)}${lpad(kb(l.mozmarket.bytes), W)}${lpad(kb(l.jose.bytes), W)}${lpad(kb(l.joseBundled.bytes), W)}`);
    }
  }
  out.push(`  (${v.launch.cold.mozmarket.n} fresh pages per contender and mode, interleaved, first mover rotated)`);
  out.push('');
  const b = v.bulk;
  out.push(`  bulk verification, warm: ${b.receipts} distinct receipts (same certificate) per round, each chain + policy + cached`);
  out.push(`  store answer; median round of ${b.mozmarket.rounds} (after warm-up)`);
  const verdict = goal('bulk verification throughput, mozmarket/jose', b.ratio, 'ratio', '≥ 1.0× jose', b.ratio, b.ratio >= 1);
  out.push(`    mozmarket (one Verifier per round, receipts option)  ${lpad(b.mozmarket.receiptsPerSec.toFixed(0), 6)} receipts/s  (${ms(b.mozmarket.perReceiptUs / 1000)} per receipt)`);
  out.push(`    jose, Promise.all                                    ${lpad(b.joseParallel.receiptsPerSec.toFixed(0), 6)} receipts/s  (${ms(b.joseParallel.perReceiptUs / 1000)} per receipt)`);
  out.push(`    jose, one after another                              ${lpad(b.joseSequential.receiptsPerSec.toFixed(0), 6)} receipts/s  (${ms(b.joseSequential.perReceiptUs / 1000)} per receipt)`);
  out.push(`    mozmarket/jose (jose's faster variant: ${b.jose.variant})            ${lpad(x(b.ratio), 8)}   goal ≥ 1.00×  ${verdict}`);
  if (v.profile) {
    const p = v.profile;
    out.push('');
    out.push(`  where mozmarket's bulk time goes: V8 sampling profile of ${p.rounds} round(s) of ${p.receipts} receipts (main thread, ${ms(p.wallMs)})`);
    for (const r of p.rows.filter((row) => row.share >= 0.005)) out.push(`    ${lpad((r.share * 100).toFixed(1), 5)}%  ${lpad(ms(r.ms), 9)}  ${r.what}`);
    if (p.topWasm.length) out.push(`    hottest wasm functions: ${p.topWasm.map((f) => `${f.name || f.fn} ${ms(f.ms)}`).join(', ')}`);
  }
}

function printLatency(l, out) {
  out.push(`  server: ${l.server}; ${l.widget.n} purchases per client, interleaved, each a new buyer (+1 warm-up each, not counted:`);
  out.push(`  widget ${ms(l.warmup.widgetMs)}, poller ${ms(l.warmup.pollerMs)})`);
  out.push(`  ${pad('', 34)}${lpad('median', 9)}${lpad('min', 9)}${lpad('max', 9)}   requests (median / max)`);
  const w = l.widget;
  const p = l.poller;
  out.push(`  ${pad('widget (server-sent events)', 34)}${lpad(ms(w.medianMs), 9)}${lpad(ms(w.minMs), 9)}${lpad(ms(w.maxMs), 9)}   ${w.medianRequests} / ${w.maxRequests}`);
  out.push(`  ${pad(`fxpay-style poller (${l.pollIntervalMs} ms)`, 34)}${lpad(ms(p.medianMs), 9)}${lpad(ms(p.minMs), 9)}${lpad(ms(p.maxMs), 9)}   ${p.medianRequests} / ${p.maxRequests}`);
  const v1 = goal('confirmation latency, widget median', w.medianMs, 'ms', '≤ 100 ms', w.medianMs / 100, w.medianMs <= 100);
  const v2 = goal('requests while waiting, widget (max)', w.maxRequests, 'requests', '≤ 3', w.maxRequests / 3, w.maxRequests <= 3);
  const v3 = goal('confirmation latency, poller median (reference)', p.medianMs, 'ms', '≤ 100 ms', p.medianMs / 100, p.medianMs <= 100);
  const v4 = goal('requests while waiting, poller (max, reference)', p.maxRequests, 'requests', '≤ 3', p.maxRequests / 3, p.maxRequests <= 3);
  out.push(`  widget: median ${ms(w.medianMs)} against ≤ 100 ms: ${x(w.medianMs / 100)} of the goal, ${v1}; requests ${w.maxRequests} against ≤ 3: ${v2}`);
  out.push(`  poller: median ${ms(p.medianMs)} against ≤ 100 ms: ${x(p.medianMs / 100)} of the goal, ${v3}; requests ${p.maxRequests} against ≤ 3: ${v4}`);
  out.push(`  widget/poller latency ${x(l.ratio)}; requests ${x(w.medianRequests / p.medianRequests)}`);
  out.push(`  from the client's own start of waiting (pay page success message): widget ${ms(w.medianFromWaitingMs)}, poller ${ms(p.medianFromWaitingMs)} (median);`);
  out.push(`  waiting began after the postback was already accepted in ${w.waitingAfterAccepted}/${w.n} (widget) and ${p.waitingAfterAccepted}/${p.n} (poller) purchases`);
  const s = w.medianSteps;
  out.push('  widget timeline, median ms after the postback was accepted (server log lines, page-side probes):');
  out.push(`    entered waiting ${ms(s.waiting)} (negative: before the postback), event stream opened ${ms(s.sseOpened)}`);
  out.push(`    receipt issued (marketplace) ${ms(s.receiptIssued)}, receipt stored (app server) ${ms(s.receiptStored)}`);
  out.push(`    SSE "complete" delivered ${ms(s.sseComplete)}, installing ${ms(s.installing)}, verifying ${ms(s.verifying)}`);
  out.push(`    verify service call ${ms(s.verifyServiceStart)} → ${ms(s.verifyServiceEnd)}, purchased ${ms(s.purchased)}`);
  const sp = w.medianSpans;
  out.push('  widget spans, median per purchase (ms):');
  out.push(`    server: accept → receipt stored ${ms(sp.serverStore)}; pay page: accept → widget waiting ${ms(sp.payPageToWaiting)}`);
  out.push(`    delivery: max(stored, waiting) → SSE "complete" ${ms(sp.delivery)}; install: → verifying ${ms(sp.install)}`);
  out.push(`    local check: → verify request ${ms(sp.localCheck)}; verify service call ${ms(sp.verifyService)}; → purchased ${ms(sp.finish)}`);
  const ps = p.medianSteps;
  out.push(`  poller, median ms after accept: waiting ${ms(ps.waiting)}, first poll answered ${ms(ps.firstPollAnswered)}, complete seen ${ms(ps.complete)}`);
}

function printSizes(sz, out) {
  const rows = [['build', 'file', 'raw', 'gzip -9', 'brotli']];
  for (const b of sz.builds) {
    for (const f of b.files) rows.push([`${b.name}: ${f.label}`, f.path, kb(f.raw), kb(f.gzip), kb(f.brotli)]);
    rows.push([`${b.name}: ESM total`, '', kb(b.total.raw), kb(b.total.gzip), kb(b.total.brotli)]);
  }
  for (const f of sz.info) rows.push([`info: ${f.label}`, f.path, kb(f.raw), kb(f.gzip), kb(f.brotli)]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) out.push(`  ${r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')}`);
  for (const b of sz.builds) {
    const verdict = goal(`bundle size, ${b.name} build (ESM total, gzip -9)`, b.total.gzip, 'bytes', `≤ ${kb(b.budget)}`, b.total.gzip / b.budget, !b.over);
    out.push(`  ${pad(`${b.name}:`, 10)}${kb(b.total.gzip)} gzip -9 against ${kb(b.budget)}: ${x(b.total.gzip / b.budget)} of the budget, ${verdict}`);
  }
}

function printLoadbench(lb, out) {
  out.push(`  ${lb.command}`);
  for (const r of lb.results) {
    out.push(`  ${r.backend}: ${r.noticesPerSec.toFixed(0)} notices/s (${r.acknowledged} acknowledged of ${r.postbacksSent} sent in ${r.elapsedS} s,`);
    out.push(`    concurrency ${r.concurrency}), latency p50 ${ms(r.latencyP50Ms)} / p99 ${ms(r.latencyP99Ms)}, failed ${r.failed}, acknowledged but missing ${r.missing}`);
    out.push(`    writer: ${r.writer}`);
    goal(`reference server notices/s (${r.backend})`, r.noticesPerSec, 'notices/s', 'none set', null, null);
    out.push('    goal: none set for this figure (tracked from run to run)');
  }
}

// ---- the run ---------------------------------------------------------------------------------

const report = {
  tool: 'mozmarket bench (bench/run.mjs)',
  startedAt: new Date(started).toISOString(),
  mode: opts.quick ? 'quick' : 'full',
  machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0] ? os.cpus()[0].model : '?', loadAverageAtStart: os.loadavg().map((n) => Number(n.toFixed(2))), node: process.version },
  options: { verify: opts.verify, latency: opts.latency, loadbench: opts.loadbench, skipped: [...opts.skip] },
  sections: {},
  failures: [],
  goals,
};
const printed = [];

async function section(key, title, fn, print) {
  if (opts.skip.has(key)) {
    report.sections[key] = { skipped: true };
    printed.push(`${title}\n  skipped`);
    return;
  }
  progress(`bench: ${title} ...`);
  const t0 = Date.now();
  const out = [title];
  try {
    const result = await fn();
    result.seconds = Math.round((Date.now() - t0) / 100) / 10;
    report.sections[key] = result;
    print(result, out);
  } catch (e) {
    const message = e && e.stack ? e.stack : String(e);
    report.sections[key] = { failed: true, error: message, sanity: e && e.sanity };
    report.failures.push({ section: key, error: String(e && e.message ? e.message : e) });
    out.push(`  FAILED: ${message.split('\n').join('\n  ')}`);
  }
  printed.push(out.join('\n'));
}

let restoreEnv = () => {};
if (opts.server === 'release' && !opts.skip.has('latency')) restoreEnv = useReleaseServer();

await section('verify', '1. Verification: mozmarket vs jose (jose 6.2.17, WebCrypto build), same receipts, one headless Chromium', async () => {
  const pkgDir = opts.verify.pkgDir || path.join(root, 'pkg');
  for (const f of ['index.js', 'load.js', 'receipts.js', 'core/mozmarket_core.js', 'core/mozmarket_core_bg.wasm']) {
    if (!existsSync(path.join(pkgDir, f))) throw new Error(`${path.relative(root, pkgDir)}/${f} is missing: the package is not built (scripts/build-wasm.sh all)`);
  }
  const { runVerification } = await import('./verify.mjs');
  const r = await runVerification(opts.verify, progress);
  if (r.profile && !opts.verify.pkgDir) {
    // Function names of the hottest wasm functions, when a named copy of this exact module exists.
    const { nameWasmFunctions } = await import('./wasm-names.mjs');
    const names = nameWasmFunctions(r.profile.topWasm.map((f) => f.fn));
    for (const f of r.profile.topWasm) if (names[f.fn]) f.name = names[f.fn];
  }
  return r;
}, printVerification);

await section('latency', `2. Confirmation latency against the real server (postback accepted → purchased / poll sees complete)`, async () => {
  requirePkg(['full.js', 'element.js', 'index.js', 'core-full/mozmarket_full_bg.wasm']);
  cargoBuild(['-p', 'mozmarket-server', '--bin', 'mozmarket-server', ...(opts.server === 'release' ? ['--release'] : [])], `the ${opts.server} server for section 2`);
  const { runLatency } = await import('./latency.mjs');
  return runLatency(opts.latency, progress);
}, printLatency);
restoreEnv();

await section('size', '3. Bundle sizes (scripts/size-report.mjs; budgets on the ES-module total, gzip -9)', async () => {
  const { measureSizes } = await import('../scripts/size-report.mjs');
  const r = measureSizes();
  if (r.missing.length) throw new Error(`missing: ${r.missing.join(', ')} (scripts/build-wasm.sh all)`);
  return { builds: r.builds, info: r.info, verdicts: r.verdicts.map((v) => v.text) };
}, printSizes);

await section('loadbench', '4. Reference server: postback notices/s (mozmarket-loadbench, release build, SQLite)', async () => {
  const { runLoadbench } = await import('./loadbench.mjs');
  return runLoadbench(opts.loadbench, progress, originalEnv);
}, printLoadbench);

report.finishedAt = new Date().toISOString();
report.seconds = Math.round((Date.now() - started) / 100) / 10;
report.machine.loadAverageAtEnd = os.loadavg().map((n) => Number(n.toFixed(2)));

const header = [
  `mozmarket bench — ${report.startedAt} — ${report.mode} run, ${report.seconds} s`,
  `machine: ${report.machine.cpus} CPU(s) (${report.machine.cpuModel}), node ${process.version}; load average ${report.machine.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end`,
  'timings are printed, never asserted; every figure: value, goal, ratio (see bench/README.md for what each one measures)',
];
const summary = ['Summary (goal, ratio, verdict)'];
for (const g of goals) {
  const value = g.unit === 'ms' ? ms(g.value) : g.unit === 'bytes' ? kb(g.value) : g.unit === 'ratio' ? x(g.value) : `${Math.round(g.value * 100) / 100} ${g.unit}`;
  summary.push(`  ${pad(g.figure, 62)} ${lpad(value, 14)}  goal ${pad(g.goal, 12)} ${lpad(g.ratio === null ? '' : x(g.ratio), 8)}  ${g.met === null ? '—' : g.met ? 'MET' : 'NOT MET'}`);
}
if (report.failures.length) {
  summary.push('');
  for (const f of report.failures) summary.push(`  FAILED: section ${f.section}: ${f.error.split('\n')[0]}`);
}
const text = [header.join('\n'), ...printed, summary.join('\n')].join('\n\n');
console.log(text);

mkdirSync(path.dirname(opts.out), { recursive: true });
report.text = text;
writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
progress(`bench: report written to ${path.relative(process.cwd(), opts.out) || opts.out}`);
if (report.failures.length) process.exit(1);
