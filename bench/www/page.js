// The in-page half of section 1 (bench/verify.mjs drives it through page.evaluate). It imports
// neither side at load: every measurement starts with the side's own import().
//
// The fixture `f` (from Node): {receipts, receipt, cacheEntry, trustedKeys, iss, productURL, now}.

const CACHE_PREFIX = 'receiptverifier.';

/** A storage-like object (§4.1) over a Map: the cache both sides read. */
class MemoryStorage {
  constructor(entries) {
    this.map = new Map(entries);
  }
  get length() {
    return this.map.size;
  }
  key(i) {
    const keys = Array.from(this.map.keys());
    return i < keys.length ? keys[i] : null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

/** The cache as a Verifier left it after a store `ok` for each receipt. */
const seeded = (receipts, entry) => new MemoryStorage(receipts.map((r) => [CACHE_PREFIX + r, entry]));

function mozmarketOptions(mm, f, receipts, storage) {
  return {
    mode: 'strict',
    trustedKeys: f.trustedKeys,
    installs_allowed_from: [f.iss],
    productURL: f.productURL,
    receipts,
    cacheStorage: storage,
    receiptStorage: null,
    now: () => f.now,
    onlog: null,
  };
}

const joseOptions = (f, storage) => ({
  trustedKeys: f.trustedKeys,
  installsAllowedFrom: [f.iss],
  productURL: f.productURL,
  now: f.now,
  cacheStorage: storage,
});

/** Every receipt verified from a fresh cache hit (OKCache, not a stale fallback), nothing else. */
function mozmarketVerdict(v, receipts) {
  const errors = Object.values(v.receiptErrors);
  const allCache = errors.length === receipts.length && errors.every((e) => e && e.name === 'OKCache');
  return {
    ok: v.state instanceof v.states.OK && v.products.length === receipts.length && allCache,
    state: v.state && v.state.name,
    products: v.products.length,
    errors: errors.filter((e) => !e || e.name !== 'OKCache').slice(0, 3).map((e) => `${e && e.name}: ${e && e.detail}`),
  };
}

function resources() {
  const list = performance.getEntriesByType('resource').filter((e) => !e.name.endsWith('/bench/page.js'));
  return { requests: list.length, bytes: list.reduce((n, e) => n + (e.encodedBodySize || 0), 0) };
}

/** Time to verdict at launch, mozmarket: import → ready (wasm init) → Verifier → verdict. */
async function launchMozmarket(f) {
  const storage = seeded([f.receipt], f.cacheEntry);
  const t0 = performance.now();
  const mm = await import('/pkg/index.js');
  const t1 = performance.now();
  await mm.ready;
  const t2 = performance.now();
  const v = new mm.Verifier(mozmarketOptions(mm, f, [f.receipt], storage));
  const tc = performance.now();
  await v.verify();
  const t3 = performance.now();
  return { ...mozmarketVerdict(v, [f.receipt]), importMs: t1 - t0, initMs: t2 - t1, ctorMs: tc - t2, verifyMs: t3 - t2, totalMs: t3 - t0, ...resources() };
}

/**
 * Time to verdict at launch, jose: import → checker (imports the root key) → verdict. `url`: the
 * check as published (/bench/jose-check.js importing jose's modules) or bundled in one file.
 */
async function launchJose(f, url = '/bench/jose-check.js') {
  const storage = seeded([f.receipt], f.cacheEntry);
  const t0 = performance.now();
  const jc = await import(url);
  const t1 = performance.now();
  const checker = await jc.createChecker(joseOptions(f, storage));
  const tc = performance.now();
  const r = await checker.verify(f.receipt);
  const t3 = performance.now();
  return { ok: r.ok === true, error: r.error, importMs: t1 - t0, initMs: 0, ctorMs: tc - t1, verifyMs: t3 - t1, totalMs: t3 - t0, ...resources() };
}

/** One round of mozmarket bulk verification: a Verifier with the `receipts` option, seeded cache. */
async function mozmarketRound(mm, f, storage) {
  const t0 = performance.now();
  const v = new mm.Verifier(mozmarketOptions(mm, f, f.receipts, storage));
  await v.verify();
  const ms = performance.now() - t0;
  return { ms, ...mozmarketVerdict(v, f.receipts) };
}

/** One round of jose bulk verification: a checker, then every receipt (in parallel or in turn). */
async function joseRound(jc, f, storage, parallel) {
  const t0 = performance.now();
  const checker = await jc.createChecker(joseOptions(f, storage));
  let results;
  if (parallel) {
    results = await Promise.all(f.receipts.map((r) => checker.verify(r)));
  } else {
    results = [];
    for (const r of f.receipts) results.push(await checker.verify(r));
  }
  const ms = performance.now() - t0;
  const bad = results.filter((r) => !r.ok);
  return { ms, ok: bad.length === 0 && results.length === f.receipts.length, errors: bad.slice(0, 3).map((r) => r.error) };
}

/**
 * Bulk verification in one warm page: `warmup` rounds, then `rounds` timed rounds of all
 * `f.receipts`. `kind`: 'mozmarket', 'jose-parallel' or 'jose-sequential'.
 */
async function bulk(kind, f, { warmup, rounds }) {
  const storage = seeded(f.receipts, f.cacheEntry);
  let round;
  if (kind === 'mozmarket') {
    const mm = await import('/pkg/index.js');
    await mm.ready;
    round = () => mozmarketRound(mm, f, storage);
  } else {
    const jc = await import('/bench/jose-check.js');
    round = () => joseRound(jc, f, storage, kind === 'jose-parallel');
  }
  for (let i = 0; i < warmup; i++) {
    const r = await round();
    if (!r.ok) return { ok: false, phase: 'warm-up', ...r };
  }
  const times = [];
  for (let i = 0; i < rounds; i++) {
    const r = await round();
    if (!r.ok) return { ok: false, phase: 'timed', ...r };
    times.push(r.ms);
  }
  return { ok: true, n: f.receipts.length, times };
}

/**
 * The honesty check: each side on each case, the cache seeded for every receipt (so only local
 * checks can refuse). `cases`: [{name, receipt, expect: 'accept' | 'reject'}].
 */
async function sanity(f, cases) {
  const mm = await import('/pkg/index.js');
  await mm.ready;
  const jc = await import('/bench/jose-check.js');
  const out = [];
  for (const c of cases) {
    const storage = seeded([c.receipt], f.cacheEntry);
    const v = new mm.Verifier(mozmarketOptions(mm, f, [c.receipt], storage));
    await v.verify();
    const m = mozmarketVerdict(v, [c.receipt]);
    const err = v.receiptErrors[c.receipt];
    const checker = await jc.createChecker(joseOptions(f, storage));
    const j = await checker.verify(c.receipt);
    out.push({
      name: c.name,
      expect: c.expect,
      mozmarket: { accepted: m.ok, detail: err ? `${err.name}${err.detail ? `: ${err.detail}` : ''}` : m.state },
      jose: { accepted: j.ok === true, detail: j.ok ? 'ok (cache)' : j.error },
    });
  }
  return out;
}

/**
 * Where mozmarket's bulk time goes: one round under the V8 sampling profiler is done from Node
 * (CDP); this only runs the round. Returns its verdict.
 */
async function profiledRound(f) {
  const storage = seeded(f.receipts, f.cacheEntry);
  const mm = await import('/pkg/index.js');
  await mm.ready;
  for (let i = 0; i < 3; i++) await mozmarketRound(mm, f, storage);
  window.__benchProfileReady = true;
  return null;
}

async function runProfiledRound(f, rounds) {
  const storage = seeded(f.receipts, f.cacheEntry);
  const mm = await import('/pkg/index.js');
  let total = 0;
  for (let i = 0; i < rounds; i++) {
    const r = await mozmarketRound(mm, f, storage);
    if (!r.ok) return { ok: false, ...r };
    total += r.ms;
  }
  return { ok: true, ms: total };
}

window.bench = { launchMozmarket, launchJose, bulk, sanity, profiledRound, runProfiledRound };
document.getElementById('status').textContent = 'ready';
