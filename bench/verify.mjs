// Section 1: verification, mozmarket vs jose, in one headless Chromium on the same receipts.
//
// Receipts are `cert~receipt` ES256 chains signed in Node (tests/browser/fixtures.mjs); the page
// (bench/www/page.js) is served by bench/static.mjs with the CSP script-src 'self'
// 'wasm-unsafe-eval'. Both sides get the same trusted root JWK, policy, clock and a cache seeded
// with a fresh store `ok` for every receipt (the entry text the Verifier writes, §5.5).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFixture, ecKey, cacheEntry, T, t, b64u } from '../tests/browser/fixtures.mjs';
import { launchBrowser } from '../tests/e2e/support.mjs';
import { startStatic } from './static.mjs';
import { median, percentile } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ISS = 'https://store.example';
/** The three launch contenders: mozmarket, the jose check as published, and bundled. */
const LAUNCH_KINDS = ['mozmarket', 'jose', 'jose-bundled'];
const JOSE_URL = { jose: '/bench/jose-check.js', 'jose-bundled': '/bench-build/jose-check.bundle.js' };

/**
 * The jose check as an app would ship it: one file, tree-shaken and minified by rolldown (Vite's
 * bundler, in node_modules). Written to target/bench/www/ (served at /bench-build/).
 */
async function bundleJoseCheck() {
  const { rolldown } = await import('rolldown');
  const outDir = path.join(root, 'target', 'bench', 'www');
  await mkdir(outDir, { recursive: true });
  const bundle = await rolldown({
    input: path.join(root, 'bench', 'www', 'jose-check.js'),
    resolve: { alias: { '/jose': path.join(root, 'node_modules', 'jose', 'dist', 'webapi') } },
    logLevel: 'silent',
  });
  await bundle.write({ file: path.join(outDir, 'jose-check.bundle.js'), format: 'esm', minify: true });
  await bundle.close();
}

const launchOne = (page, kind, f) =>
  page.evaluate(([k, fix, url]) => (k === 'mozmarket' ? window.bench.launchMozmarket(fix) : window.bench.launchJose(fix, url)), [kind, f, JOSE_URL[kind]]);
const PRODUCT_URL = 'https://app.example';

/** The receipts and the shared configuration handed to the page. */
function fixtures(bulkN) {
  const fx = makeFixture(ISS);
  const receipts = [];
  for (let i = 0; i < bulkN; i++) {
    receipts.push(fx.receipt({
      product: { url: PRODUCT_URL, storedata: `id=${i + 1}` },
      user: { type: 'directed-identifier', value: `u-${i + 1}` },
    }));
  }
  const f = {
    receipt: fx.receipt(),
    receipts,
    // Cached one minute before `now`, long after the refund window opened: a fresh hit (§5.5).
    cacheEntry: cacheEntry(T - 60000),
    trustedKeys: fx.trustedKeys,
    iss: ISS,
    productURL: PRODUCT_URL,
    now: T,
  };
  return { fx, f };
}

/** The sanity cases: both sides must accept the first and reject every other one. */
function sanityCases(fx) {
  const good = fx.receipt();
  const [c, j] = good.split('~');
  const [h, p, s] = j.split('.');
  const mid = Math.floor(s.length / 2);
  const flipped = s.slice(0, mid) + (s[mid] === 'A' ? 'B' : 'A') + s.slice(mid + 1);
  const other = ecKey('root-1'); // same kid as the trusted root, another key
  const cases = [
    ['a good receipt', good, 'accept'],
    ['tampered payload (storedata changed after signing)', fx.forged(), 'reject'],
    ['tampered signature (one character)', `${c}~${h}.${p}.${flipped}`, 'reject'],
    ['certificate signed by an untrusted key with the root kid', `${fx.cert({}, other)}~${j}`, 'reject'],
    ['receipt signed by a key the certificate does not certify', fx.receipt({}, { key: ecKey('sign-1') }), 'reject'],
    ['certificate typ is not certified-key', `${fx.cert({ typ: 'purchase-receipt' })}~${j}`, 'reject'],
    ['expired receipt', fx.receipt({ iat: t - 7200, nbf: t - 7200, exp: t - 3600 }), 'reject'],
    ['receipt not yet valid', fx.receipt({ nbf: t + 3600 }), 'reject'],
    ['wrong product URL', fx.receipt({ product: { url: 'https://app.example.evil.com', storedata: 'id=1' } }), 'reject'],
    ['issuer not allowed', fx.receipt({ iss: 'https://evil.example', verify: 'https://evil.example/store/ok' }), 'reject'],
    ['verify URL off the issuer host', fx.receipt({ verify: 'https://store.example.evil.com/store/ok' }), 'reject'],
    ['test-receipt (not allowed by default)', fx.receipt({ typ: 'test-receipt' }), 'reject'],
    ['alg none', `${c}~${b64u(JSON.stringify({ alg: 'none' }))}.${p}.${s}`, 'reject'],
  ];
  return cases.map(([name, receipt, expect]) => ({ name, receipt, expect }));
}

async function openBenchPage(context, origin) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/bench/page.html`);
  await page.waitForFunction(() => window.bench !== undefined, null, { timeout: 15000 });
  page.benchErrors = errors;
  return page;
}

function launchStats(list) {
  const pick = (k) => list.map((r) => r[k]);
  return {
    n: list.length,
    medianMs: median(pick('totalMs')),
    p90Ms: percentile(pick('totalMs'), 0.9),
    importMedianMs: median(pick('importMs')),
    initMedianMs: median(pick('initMs')),
    verifyMedianMs: median(pick('verifyMs')),
    ctorMedianMs: median(pick('ctorMs')),
    requests: list[0] ? list[0].requests : 0,
    bytes: list[0] ? list[0].bytes : 0,
  };
}

/**
 * Time to verdict at launch. `cold`: every page in a new browser context (empty HTTP and code
 * caches: a first visit). `warm`: new pages in one context per side, after one priming load (the
 * app's later launches: scripts and wasm from the HTTP cache, V8's code caches warm).
 */
async function launches(browser, origin, f, n, mode, log) {
  const results = Object.fromEntries(LAUNCH_KINDS.map((k) => [k, []]));
  const warmContexts = {};
  if (mode === 'warm') {
    for (const kind of LAUNCH_KINDS) {
      warmContexts[kind] = await browser.newContext();
      const page = await openBenchPage(warmContexts[kind], origin);
      await launchOne(page, kind, f);
      await page.close();
    }
  }
  try {
    for (let i = 0; i < n; i++) {
      // Rotate who goes first.
      const order = LAUNCH_KINDS.map((_, j) => LAUNCH_KINDS[(i + j) % LAUNCH_KINDS.length]);
      for (const kind of order) {
        const context = mode === 'warm' ? warmContexts[kind] : await browser.newContext();
        const page = await openBenchPage(context, origin);
        const r = await launchOne(page, kind, f);
        if (!r.ok) throw new Error(`launch (${mode}) ${kind}: no OK verdict: ${JSON.stringify(r)}; page errors: ${page.benchErrors.join('; ')}`);
        results[kind].push(r);
        await page.close();
        if (mode !== 'warm') await context.close();
      }
    }
  } finally {
    for (const c of Object.values(warmContexts)) await c.close().catch(() => {});
  }
  const out = { mozmarket: launchStats(results.mozmarket), jose: launchStats(results.jose), joseBundled: launchStats(results['jose-bundled']) };
  out.ratio = out.mozmarket.medianMs / out.jose.medianMs;
  out.ratioBundled = out.mozmarket.medianMs / out.joseBundled.medianMs;
  log(`  launch (${mode}): mozmarket ${out.mozmarket.medianMs.toFixed(1)} ms, jose ${out.jose.medianMs.toFixed(1)} ms, jose bundled ${out.joseBundled.medianMs.toFixed(1)} ms (median of ${n})`);
  return out;
}

/** Bulk receipts/s: each kind in its own fresh page, `reps` times, interleaved. */
async function bulk(browser, origin, f, { warmup, rounds, reps }, log) {
  const kinds = ['mozmarket', 'jose-parallel', 'jose-sequential'];
  const times = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? kinds : kinds.slice().reverse();
    for (const kind of order) {
      const context = await browser.newContext();
      try {
        const page = await openBenchPage(context, origin);
        const r = await page.evaluate(([k, fix, opts]) => window.bench.bulk(k, fix, opts), [kind, f, { warmup, rounds }]);
        if (!r.ok) throw new Error(`bulk ${kind}: not every receipt verified: ${JSON.stringify(r)}; page errors: ${page.benchErrors.join('; ')}`);
        times[kind].push(...r.times);
      } finally {
        await context.close();
      }
    }
  }
  const n = f.receipts.length;
  const stat = (k) => {
    const med = median(times[k]);
    return { rounds: times[k].length, roundMedianMs: med, receiptsPerSec: (n / med) * 1000, perReceiptUs: (med / n) * 1000 };
  };
  const out = { receipts: n, mozmarket: stat('mozmarket'), joseParallel: stat('jose-parallel'), joseSequential: stat('jose-sequential') };
  out.jose = out.joseParallel.receiptsPerSec >= out.joseSequential.receiptsPerSec
    ? { ...out.joseParallel, variant: 'Promise.all' }
    : { ...out.joseSequential, variant: 'sequential' };
  out.ratio = out.mozmarket.receiptsPerSec / out.jose.receiptsPerSec;
  log(`  bulk: mozmarket ${out.mozmarket.receiptsPerSec.toFixed(0)}/s, jose ${out.jose.receiptsPerSec.toFixed(0)}/s (${out.jose.variant})`);
  return out;
}

/** Where a mozmarket bulk round spends its main-thread time: V8's sampling profiler over CDP. */
async function profile(browser, origin, f, rounds) {
  const context = await browser.newContext();
  try {
    const page = await openBenchPage(context, origin);
    await page.evaluate((fix) => window.bench.profiledRound(fix), f);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    await cdp.send('Profiler.start');
    const r = await page.evaluate(([fix, n]) => window.bench.runProfiledRound(fix, n), [f, rounds]);
    const { profile: prof } = await cdp.send('Profiler.stop');
    if (!r.ok) throw new Error(`profiled round: ${JSON.stringify(r)}`);
    const byId = new Map(prof.nodes.map((node) => [node.id, node]));
    const self = new Map();
    prof.samples.forEach((id, i) => self.set(id, (self.get(id) || 0) + (prof.timeDeltas[i] || 0)));
    const buckets = {};
    const wasmFns = {};
    let total = 0;
    for (const [id, us] of self) {
      const cf = byId.get(id).callFrame;
      const url = cf.url || '';
      let b;
      if (cf.functionName === '(idle)') b = 'idle (awaiting promises/tasks)';
      else if (cf.functionName === '(garbage collector)') b = 'garbage collector';
      else if (url.endsWith('.wasm') || url.startsWith('wasm://') || /^\$|^wasm-function/.test(cf.functionName)) {
        b = 'wasm core (parse, ES256, claims, cache rules)';
        wasmFns[cf.functionName] = (wasmFns[cf.functionName] || 0) + us;
      } else if (url.includes('/pkg/core/')) b = 'wasm-bindgen glue (JS <-> wasm values)';
      else if (url.includes('/pkg/receipts.js')) b = 'receipts.js (JS shell: options, run, records)';
      else if (url.includes('/pkg/')) b = 'other package JS';
      else if (url.includes('/bench/')) b = 'bench harness (storage, loop)';
      else if (cf.functionName === '(program)') b = 'V8/Blink native (program)';
      else b = `other: ${cf.functionName || '(anonymous)'}`;
      buckets[b] = (buckets[b] || 0) + us;
      total += us;
    }
    const rows = Object.entries(buckets)
      .sort((a, b) => b[1] - a[1])
      .map(([what, us]) => ({ what, ms: us / 1000, share: us / total }));
    const topWasm = Object.entries(wasmFns).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([fn, us]) => ({ fn, ms: us / 1000 }));
    return { rounds, receipts: f.receipts.length, wallMs: r.ms, sampledMs: total / 1000, rows, topWasm };
  } finally {
    await context.close();
  }
}

/**
 * Runs section 1. `o`: {launches, bulkN, warmup, rounds, reps, profileRounds}. Throws when a side
 * fails to verify, or the sanity check fails (either side accepts a bad receipt or refuses the
 * good one).
 */
export async function runVerification(o, log = () => {}) {
  const { fx, f } = fixtures(o.bulkN);
  await bundleJoseCheck();
  const srv = await startStatic(o.pkgDir ? { pkgDir: o.pkgDir } : {});
  const browser = await launchBrowser();
  try {
    // Sanity first: if a side accepts a bad receipt, no figure is worth printing.
    const page = await openBenchPage(await browser.newContext(), srv.origin);
    const cases = sanityCases(fx);
    const sanity = await page.evaluate(([fix, cs]) => window.bench.sanity(fix, cs), [f, cases]);
    await page.context().close();
    const wrong = sanity.filter((c) => (c.mozmarket.accepted !== (c.expect === 'accept')) || (c.jose.accepted !== (c.expect === 'accept')));
    log(`  sanity: ${sanity.length - wrong.length}/${sanity.length} cases as expected on both sides`);
    if (wrong.length) {
      const e = new Error(`sanity check failed: ${JSON.stringify(wrong, null, 2)}`);
      e.sanity = sanity;
      throw e;
    }
    const launch = {
      cold: await launches(browser, srv.origin, f, o.launches, 'cold', log),
      warm: await launches(browser, srv.origin, f, o.launches, 'warm', log),
    };
    const bulkResult = await bulk(browser, srv.origin, f, o, log);
    const prof = o.profileRounds > 0 ? await profile(browser, srv.origin, f, o.profileRounds) : null;
    return {
      browser: `Chromium ${browser.version()} (headless)`,
      pkg: o.pkgDir || 'pkg/',
      receiptShape: 'cert~receipt, ES256 (P-256) root -> certified key -> receipt; cached store ok',
      sanity: sanity.map((c) => ({ name: c.name, expect: c.expect, mozmarket: c.mozmarket.detail, jose: c.jose.detail })),
      launch,
      bulk: bulkResult,
      profile: prof,
    };
  } finally {
    await browser.close().catch(() => {});
    await srv.close();
  }
}
