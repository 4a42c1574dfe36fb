// The installed package in Node, as server-side rendering and a server use it. Each scenario is a
// script of the consumer project run by its own `node` (clean globals), reporting one JSON line:
//   - importing mozmarket, mozmarket/full and mozmarket/element: no throw, no fetch, no .wasm
//     read, no browser global touched (window, document, navigator, …), no global defined;
//   - init() in Node (the wasm read from disk), strict verification through the `receipts` option
//     and verifyReceipts, against a store on 127.0.0.1; a run started before init() loads the core;
//   - init({module_or_path}) with the `mozmarket/wasm` and `mozmarket/wasm-full` subpaths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { pack, makeConsumer, run, startServer, makeAppFixture, INDEX_EXPORTS, FULL_EXPORTS, TEXT, SETUP_LIMIT } from './lib.mjs';

let dir;
let srv;
let fixture;

// Spies shared by the scripts: fetch calls, reads of .wasm files (fs and fs/promises, also
// through the ES namespace), and new globals.
const SPIES = `import { createRequire, syncBuiltinESMExports } from 'node:module';
const require = createRequire(import.meta.url);
const fs = require('node:fs');
export const report = { fetches: [], wasmReads: [] };
const realFetch = globalThis.fetch;
export function spyFetch(input, init) {
  report.fetches.push(String(input && input.url ? input.url : input));
  return realFetch.call(this, input, init);
}
globalThis.fetch = spyFetch;
const noteRead = (p) => {
  const s = String(p && p.href ? p.href : p);
  if (s.endsWith('.wasm')) report.wasmReads.push(s.slice(s.lastIndexOf('node_modules/')));
};
for (const [obj, name] of [[fs.promises, 'readFile'], [fs, 'readFile'], [fs, 'readFileSync']]) {
  const orig = obj[name];
  obj[name] = function (p, ...rest) {
    noteRead(p);
    return orig.call(this, p, ...rest);
  };
}
syncBuiltinESMExports();
const baseline = new Set(Object.getOwnPropertyNames(globalThis));
export const newGlobals = () => Object.getOwnPropertyNames(globalThis).filter((k) => !baseline.has(k));
export const message = (fn) => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};
export const done = (out) => {
  process.stdout.write(JSON.stringify({ ...out, ...report, newGlobals: newGlobals() }) + '\\n');
};
`;

// Imports with traps on the browser globals (and fetch): any read, even typeof, is recorded.
const IMPORTS = `import { report, done, newGlobals, message, spyFetch } from './spies.mjs';
const TRAPPED = ['window', 'document', 'navigator', 'location', 'self', 'localStorage', 'sessionStorage',
  'customElements', 'HTMLElement', 'XMLHttpRequest', 'EventSource', 'indexedDB', 'fetch'];
const touched = [];
const saved = new Map();
for (const name of TRAPPED) {
  saved.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
  const d = saved.get(name);
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      touched.push(name);
      return d ? ('value' in d ? d.value : d.get.call(globalThis)) : undefined;
    },
    set(v) {
      touched.push(name + '=');
    },
  });
}
const untrap = () => {
  for (const [name, d] of saved) {
    if (d) Object.defineProperty(globalThis, name, d);
    else delete globalThis[name];
  }
};
const out = {};
try {
  const index = await import('mozmarket');
  const full = await import('mozmarket/full');
  out.touchedByIndexAndFull = [...new Set(touched)];
  untrap();
  out.globalsAfterIndexAndFull = newGlobals();
  const element = await import('mozmarket/element');
  out.exports = { index: Object.keys(index).sort(), full: Object.keys(full).sort(), element: Object.keys(element).sort() };
  out.sameFunctions = element.mountBuyButton === full.mountBuyButton && element.Verifier === full.Verifier;
  out.fetchesAtImport = report.fetches.length;
  out.wasmReadsAtImport = report.wasmReads.length;
  // Before init(): what needs the core synchronously says so; nothing is loaded by asking.
  out.notReady = {
    trustedKeys: message(() => new index.Verifier({ trustedKeys: { keys: [] } })),
    parseReceipt: message(() => new index.Verifier({ mode: 'compat' }).parseReceipt('a.b.c')),
    mountBuyButton: message(() => full.mountBuyButton({ nodeType: 1 }, { productId: 'x' })),
  };
  out.prompter = message(() => new full.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x' }));
  out.states = String(index.Verifier.states).startsWith('{');
  out.wasmReadsBeforeInit = report.wasmReads.length;
  out.fetchIsOurs = globalThis.fetch === spyFetch;
} catch (e) {
  out.error = String((e && e.stack) || e);
}
done(out);
`;

// init() in Node, then the server-side uses.
const VERIFY = `import { report, done } from './spies.mjs';
import { init, ready, Verifier, verify } from 'mozmarket';
import * as full from 'mozmarket/full';
const fx = JSON.parse(process.env.MM_FIXTURE);
const out = {};
const strict = (receipts, V = Verifier) =>
  new V({ trustedKeys: fx.trustedKeys, installs_allowed_from: [fx.iss], productURL: fx.productURL, receipts, now: () => fx.now });
try {
  // A run started before init() loads the core itself (full: a compat Verifier works at once).
  const early = new full.Verifier({ mode: 'compat', installs_allowed_from: [fx.iss], productURL: fx.productURL, receipts: [fx.unsigned], now: () => fx.now });
  out.earlyBeforeRun = report.wasmReads.slice();
  out.early = String((await early.verify()).state);
  out.wasmAfterEarly = report.wasmReads.slice();
  out.fullInit = await full.init();
  out.fullReady = await full.ready;

  out.inits = await Promise.all([init(), init()]);
  out.again = await init();
  out.ready = await ready;
  out.wasmReads = report.wasmReads.slice();
  const good = await strict([fx.good]).verify();
  out.good = String(good.state);
  out.defaults = { cacheStorage: good.cacheStorage, receiptStorage: good.receiptStorage };
  const forged = await strict([fx.forged]).verify();
  out.forged = [String(forged.state), ...Object.values(forged.receiptErrors).map(String)];
  // A server checking what a client sent (README: "On a server").
  const server = new Verifier({ trustedKeys: fx.trustedKeys, installs_allowed_from: [fx.iss], now: () => fx.now });
  await server.verifyReceipts(JSON.parse(JSON.stringify({ receipts: [fx.good, fx.refunded], origin: fx.productURL })));
  out.server = [String(server.state), server.products.length, ...Object.values(server.receiptErrors).map(String)];
  let calls = 0;
  const v = await verify(() => calls++, { trustedKeys: fx.trustedKeys, installs_allowed_from: [fx.iss], productURL: fx.productURL, receipts: [fx.good], now: () => fx.now });
  out.verifyFn = [String(v.state), calls];
  out.full = String((await strict([fx.good], full.Verifier).verify()).state);
  out.parsed = strict([]).parseReceipt(fx.good).typ;
} catch (e) {
  out.error = String((e && e.stack) || e);
}
done(out);
`;

// init({module_or_path}) with the package's raw .wasm subpaths.
const INIT_INPUT = `import { report, done } from './spies.mjs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { init, Verifier } from 'mozmarket';
import * as full from 'mozmarket/full';
const fx = JSON.parse(process.env.MM_FIXTURE);
const out = {};
const strict = (V) => new V({ trustedKeys: fx.trustedKeys, installs_allowed_from: [fx.iss], productURL: fx.productURL, receipts: [fx.good], now: () => fx.now });
try {
  const wasm = fileURLToPath(import.meta.resolve('mozmarket/wasm'));
  const wasmFull = fileURLToPath(import.meta.resolve('mozmarket/wasm-full'));
  out.paths = [wasm, wasmFull].map((p) => p.slice(p.lastIndexOf('node_modules/')));
  const module = await WebAssembly.compile(await readFile(wasm));
  await init({ module_or_path: module });
  await full.init({ module_or_path: await readFile(wasmFull) });
  out.wasmReads = report.wasmReads.slice();
  out.index = String((await strict(Verifier).verify()).state);
  out.full = String((await strict(full.Verifier).verify()).state);
  out.wasmReadsAfter = report.wasmReads.slice();
} catch (e) {
  out.error = String((e && e.stack) || e);
}
done(out);
`;

before(async () => {
  const { tarball } = await pack('ssr-pack');
  dir = await makeConsumer('ssr', tarball, {
    'spies.mjs': SPIES,
    'imports.mjs': IMPORTS,
    'verify.mjs': VERIFY,
    'init-input.mjs': INIT_INPUT,
  });
  srv = await startServer(dir);
  fixture = await makeAppFixture(srv.origin);
  srv.setFixture(fixture);
}, SETUP_LIMIT);

after(async () => {
  if (srv) await srv.close();
});

async function node(script) {
  const { stdout } = await run(process.execPath, [script], { cwd: dir, env: { MM_FIXTURE: JSON.stringify(fixture) }, timeoutMs: 60000 });
  const line = stdout.trim().split('\n').at(-1);
  const out = JSON.parse(line);
  assert.equal(out.error, undefined, `${script} threw: ${out.error}`);
  return out;
}

test('importing mozmarket, mozmarket/full and mozmarket/element in Node: no I/O, no browser globals, no new globals', async () => {
  const out = await node('imports.mjs');
  assert.deepEqual(out.touchedByIndexAndFull, [], 'browser globals (or fetch) read while importing mozmarket and mozmarket/full');
  assert.deepEqual(out.globalsAfterIndexAndFull, [], 'globals defined by importing mozmarket and mozmarket/full');
  assert.deepEqual(out.newGlobals, [], 'globals defined by importing mozmarket/element');
  assert.equal(out.fetchesAtImport, 0);
  assert.deepEqual(out.fetches, []);
  assert.equal(out.wasmReadsAtImport, 0, 'no .wasm read at import');
  assert.deepEqual(out.wasmReads, [], 'no .wasm read before init()');
  assert.equal(out.fetchIsOurs, true, 'globalThis.fetch left alone');
  assert.deepEqual(out.exports, { index: INDEX_EXPORTS, full: FULL_EXPORTS, element: FULL_EXPORTS });
  assert.equal(out.sameFunctions, true, 'mozmarket/element re-exports mozmarket/full (one instance)');
  for (const [k, m] of Object.entries(out.notReady)) assert.match(m, /not ready/i, `${k} before init()`);
  assert.match(out.prompter, /not ready|needs a document/, 'the Prompter before init(), without a DOM');
  assert.equal(out.states, true, 'Verifier.states exist before init()');
});

test('init() in Node reads the wasm from disk; strict verification, verifyReceipts and verify() against a 127.0.0.1 store', async () => {
  const before = srv.hits.length;
  const out = await node('verify.mjs');
  assert.deepEqual(out.earlyBeforeRun, [], 'constructing a compat Verifier loads nothing');
  assert.equal(out.early, TEXT.ok, 'a run before init() loads the core itself');
  assert.deepEqual(out.wasmAfterEarly, ['node_modules/mozmarket/core-full/mozmarket_full_bg.wasm']);
  assert.equal(out.fullInit, undefined);
  assert.equal(out.fullReady, undefined);
  assert.deepEqual(out.inits, [null, null], 'init() resolves to undefined (JSON null)');
  assert.equal(out.again, undefined);
  assert.equal(out.ready, undefined);
  assert.deepEqual(out.wasmReads, ['node_modules/mozmarket/core-full/mozmarket_full_bg.wasm', 'node_modules/mozmarket/core/mozmarket_core_bg.wasm'], 'each core read once');
  assert.equal(out.good, TEXT.ok);
  assert.deepEqual(out.defaults, { cacheStorage: null, receiptStorage: null }, 'no storage in Node');
  assert.deepEqual(out.forged, [TEXT.nvr, TEXT.invalidSignature]);
  assert.deepEqual(out.server, [TEXT.ok, 1, TEXT.refunded]);
  assert.deepEqual(out.verifyFn, [TEXT.ok, 1]);
  assert.equal(out.full, TEXT.ok);
  assert.equal(out.parsed, 'purchase-receipt');
  assert.deepEqual(out.newGlobals, [], 'no globals defined by init() or verification');
  assert.ok(out.fetches.length > 0, 'the store was asked over fetch');
  for (const u of out.fetches) assert.ok(u.startsWith(srv.origin + '/store/'), `only the test store is fetched: ${u}`);
  assert.ok(srv.hits.length > before);
});

test('init({module_or_path}) with the mozmarket/wasm and mozmarket/wasm-full subpaths (a Module, then bytes)', async () => {
  const out = await node('init-input.mjs');
  assert.deepEqual(out.paths, ['node_modules/mozmarket/core/mozmarket_core_bg.wasm', 'node_modules/mozmarket/core-full/mozmarket_full_bg.wasm']);
  assert.deepEqual(out.wasmReads, out.paths, 'only the reads of the script itself');
  assert.equal(out.index, TEXT.ok);
  assert.equal(out.full, TEXT.ok);
  assert.deepEqual(out.wasmReadsAfter, out.paths, 'init({module_or_path}) means the package reads nothing itself');
  assert.deepEqual(out.newGlobals, []);
});

test('the SSR project is plain: only the tarball was installed', async () => {
  const lock = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(dir, 'package-lock.json'), 'utf8'));
  assert.deepEqual(Object.keys(lock.packages).sort(), ['', 'node_modules/mozmarket']);
});
