// The ES module in Node (18+): the wasm is read from disk, HTTP goes through fetch, there is no
// navigator and no localStorage (§0.3).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { startServer } from './server.mjs';
import { makeFixture, T } from './fixtures.mjs';

const pkgIndex = new URL('../../pkg/index.js', import.meta.url);
let srv;
let fx;
let mm;
before(async () => {
  await access(pkgIndex);
  srv = await startServer();
  fx = makeFixture(srv.origin);
  mm = await import(pkgIndex.href);
});
after(async () => {
  if (srv) await srv.close();
});

test('exports and ready', async () => {
  assert.deepEqual(Object.keys(mm).sort(), ['Verifier', 'addReceipt', 'init', 'listReceipts', 'ready', 'verify']);
  assert.equal(await mm.ready, undefined);
  assert.equal(await mm.init(), undefined);
  assert.equal(typeof globalThis.XMLHttpRequest, 'undefined');
});

test('baseline B verifies over fetch; verifyReceipts for a client-sent app', async () => {
  const r = fx.receipt();
  const v = new mm.Verifier({ ...fx.strictOptions([r]), now: () => T });
  await v.verify();
  assert.equal(String(v.state), '[OK]');
  assert.equal(v.cacheStorage, null);
  assert.equal(v.receiptStorage, null);
  const hit = srv.hitsOn('/store/ok').at(-1);
  assert.equal(hit.body, r);

  const server = new mm.Verifier({
    trustedKeys: fx.trustedKeys,
    installs_allowed_from: [srv.origin],
    now: () => T,
  });
  const app = JSON.parse(JSON.stringify({ receipts: [fx.receipt(), fx.receipt({}, { store: 'refunded' })], origin: 'https://app.example' }));
  await server.verifyReceipts(app);
  assert.equal(String(server.state), '[OK]');
  assert.equal(server.products.length, 1);
  assert.equal(Object.values(server.receiptErrors).map(String)[0], '[Refunded Application payment was refunded result: {"status":"refunded"}]');
});

test('no mozApps and no receipts option: MozAppsNotSupported; no default storage in Node', async () => {
  const v = new mm.Verifier({ trustedKeys: fx.trustedKeys, installs_allowed_from: [srv.origin] });
  let calls = 0;
  const p = v.verify(() => calls++);
  assert.equal(calls, 0);
  await p;
  assert.equal(calls, 1);
  assert.equal(String(v.state), '[MozAppsNotSupported navigator.mozApps does not exist]');
  await assert.rejects(mm.addReceipt(fx.receipt()), (e) => e.code === 'NO_RECEIPT_STORAGE' && e.message === 'no storage mechanism for adding receipts');
  assert.deepEqual(await mm.listReceipts(), []);
});

test('timeout over fetch: RequestTimeout once', async () => {
  const r = fx.receipt({}, { store: 'hang' });
  const v = new mm.Verifier({ ...fx.strictOptions([r], { requestTimeout: 100 }), now: () => T });
  let calls = 0;
  await v.verify(() => calls++);
  await new Promise((res) => setTimeout(res, 200));
  assert.equal(calls, 1);
  assert.equal(String(v.state), `[RequestTimeout The request timed out after 100 milliseconds url: "${srv.origin}/store/hang"]`);
});
