// The Restore purchases button (payments §7.8, §1.5): GET restoreUrl, each entry installed and
// verified with its own productId, the restored count, skipped entries with their codes, and the
// failure alert.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { deferred, json, sleep, EN, PROVIDER_ORIGIN } from './fixtures.mjs';

const withWorld = widgetSuite();

const VERSION_HEADER = /^[\x20-\x7e]{1,32}$/;

/** Mounts a restore button (providerOrigin https://pay.test plus `options`). */
async function mountRestore(w, options = {}) {
  const r = await w.mountRaw('restore', { providerOrigin: PROVIDER_ORIGIN, ...options });
  assert.deepEqual(r, { ok: true, state: 'idle' });
  return w.waitView('idle');
}

/** Activates the restore button and waits for mozmarket-restored or mozmarket-failed. */
async function restore(w) {
  await w.page.locator('.mozmarket-restore-main').click();
  await w.until('the end of the restore run', async () => {
    const e = await w.events();
    return e.some((x) => x.type === 'mozmarket-restored' || x.type === 'mozmarket-failed');
  });
}

const entry = (w, productId, { receipt, test = false, orderId = `order-${productId}`, transactionID = `webpay:${productId}` } = {}) => ({
  productId,
  orderId,
  transactionID,
  receipt: receipt || w.provider.receipt({ productId, appOrigin: w.app, test }),
});

describe('restore purchases (§7.8)', () => {
  test('restores ok and pending entries, skips refunded / invalid / wrong-product ones with their codes', async () => {
    await withWorld({}, async (w) => {
      const a = entry(w, 'shiny-pony');
      const b = entry(w, 'golden-saddle');
      const c = entry(w, 'magic-hay', { receipt: w.provider.receipt({ productId: 'other-product', appOrigin: w.app }) });
      const d = entry(w, 'silver-bell');
      const e = entry(w, 'old-map');
      const verdicts = new Map([
        [b.receipt, { status: 'refunded' }],
        [d.receipt, { status: 'pending' }],
        [e.receipt, { status: 'invalid', reason: 'NO_PURCHASE' }],
      ]);
      w.onVerify = (req) => json(200, verdicts.get(req.body) || { status: 'ok' });
      w.onRestore = () => json(200, { receipts: [a, b, c, d, e] });
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.equal(restored.bubbles, true);
      assert.equal(restored.composed, true);
      assert.deepEqual(restored.detail, {
        products: [
          { ...a, verification: { local: 'ok', store: 'ok' } },
          { ...d, verification: { local: 'ok', store: 'pending' } },
        ],
        skipped: [
          { productId: 'golden-saddle', transactionID: b.transactionID, code: 'PAYMENT_REFUNDED' },
          { productId: 'magic-hay', transactionID: c.transactionID, code: 'INVALID_RECEIPT_PRODUCT' },
          { productId: 'old-map', transactionID: e.transactionID, code: 'INVALID_RECEIPT' },
        ],
      });
      assert.equal((await w.events('mozmarket-restored')).length, 1);
      assert.equal((await w.events('mozmarket-failed')).length, 0);
      // Skipped entries are removed from the local store; restored ones stay.
      assert.deepEqual(await w.storedReceipts(), [a.receipt, d.receipt]);
      // Verify requests: one per locally valid entry, never for the wrong-product one.
      assert.deepEqual(w.of('verify').map((r) => r.body), [a.receipt, b.receipt, d.receipt, e.receipt]);
      const v = await w.waitView('idle');
      assert.equal(v.button, EN.restore);
      assert.equal(v.busy, 'false');
      assert.equal(v.ariaDisabled, null);
      assert.equal(v.status, 'Purchases restored: 2.');
      assert.equal(v.alert, '');
      assert.deepEqual((await w.events('mozmarket-statechange')).map((x) => `${x.detail.previous}>${x.detail.state}`), ['idle>restoring', 'restoring>idle']);
      // The request (§7.3).
      const [req] = w.of('restore');
      assert.equal(req.method, 'GET');
      assert.equal(req.url, `${w.app}/mozpay/receipts`);
      assert.equal(req.headers.accept, 'application/json');
      assert.match(req.headers['x-mozmarket-version'], VERSION_HEADER);
    });
  });

  test('restoring: button "Restoring…", aria-disabled, aria-busy; a second activation is ignored', async () => {
    await withWorld({}, async (w) => {
      const gate = deferred();
      w.onRestore = () => gate.promise.then(() => json(200, { receipts: [entry(w, 'shiny-pony')] }));
      await mountRestore(w);
      await w.page.locator('.mozmarket-restore-main').click();
      const v = await w.waitView('restoring');
      assert.equal(v.button, EN.restoring);
      assert.equal(v.ariaDisabled, 'true');
      assert.equal(v.disabledAttr, false);
      assert.equal(v.busy, 'true');
      await w.page.locator('.mozmarket-restore-main').click({ force: true });
      await sleep(200);
      assert.equal(w.of('restore').length, 1);
      gate.resolve();
      await w.until('restored', async () => (await w.events('mozmarket-restored')).length === 1);
      const after = await w.waitView('idle');
      assert.equal(after.status, 'Purchases restored: 1.');
    });
  });

  test('no purchases: "No purchases to restore."; mozmarket-restored with empty lists', async () => {
    await withWorld({}, async (w) => {
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.deepEqual(restored.detail, { products: [], skipped: [] });
      const v = await w.waitView('idle');
      assert.equal(v.status, EN.restored_none);
    });
  });

  test('an expired answer with a fresh receipt replaces the stored receipt, which is verified once more', async () => {
    await withWorld({}, async (w) => {
      const old = entry(w, 'shiny-pony');
      const fresh = w.provider.receipt({ productId: 'shiny-pony', appOrigin: w.app });
      w.onVerify = (req) => json(200, req.body === old.receipt ? { status: 'expired', receipt: fresh } : { status: 'ok' });
      w.onRestore = () => json(200, { receipts: [old] });
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.deepEqual(restored.detail.products, [{ ...old, receipt: fresh, verification: { local: 'ok', store: 'ok' } }]);
      assert.deepEqual(restored.detail.skipped, []);
      assert.deepEqual(await w.storedReceipts(), [fresh]);
      assert.deepEqual(w.of('verify').map((r) => r.body), [old.receipt, fresh]);
    });
  });

  test('a test receipt is skipped (TEST_RECEIPT_NOT_ALLOWED) unless allowTestReceipts', async () => {
    await withWorld({}, async (w) => {
      const t = entry(w, 'shiny-pony', { test: true });
      w.onRestore = () => json(200, { receipts: [t] });
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.deepEqual(restored.detail.skipped, [{ productId: 'shiny-pony', transactionID: t.transactionID, code: 'TEST_RECEIPT_NOT_ALLOWED' }]);
      assert.deepEqual(await w.storedReceipts(), []);
    });
    await withWorld({}, async (w) => {
      const t = entry(w, 'shiny-pony', { test: true });
      w.onRestore = () => json(200, { receipts: [t] });
      await mountRestore(w, { allowTestReceipts: true });
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.deepEqual(restored.detail.products, [{ ...t, verification: { local: 'ok', store: 'ok' } }]);
      assert.equal(w.of('verify')[0].path, '/receipts/verify/test');
    });
  });

  test('verify service unreachable: restored (unreachable) with a warning', async () => {
    await withWorld({}, async (w) => {
      const a = entry(w, 'shiny-pony');
      w.onVerify = () => ({ abort: 'failed' });
      w.onRestore = () => json(200, { receipts: [a] });
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.deepEqual(restored.detail.products, [{ ...a, verification: { local: 'ok', store: 'unreachable' } }]);
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.code, 'API_REQUEST_ERROR');
    });
  });

  for (const [label, answer, name, code, key] of [
    ['HTTP 500', { status: 500, contentType: 'text/plain', body: '' }, 'BadApiResponse', 'BAD_API_RESPONSE', 'err_server'],
    ['a network error', { abort: 'failed' }, 'ApiRequestError', 'API_REQUEST_ERROR', 'err_network'],
    ['an HTML body', { status: 200, contentType: 'text/html', body: '<html>login</html>' }, 'BadJsonResponse', 'BAD_JSON_RESPONSE', 'err_server'],
  ]) {
    test(`restore request fails (${label}) → failed: alert with ${key} and the code; the button shows retry`, async () => {
      await withWorld({}, async (w) => {
        w.onRestore = () => answer;
        await mountRestore(w);
        await restore(w);
        const failed = await w.events('mozmarket-failed');
        assert.equal(failed.length, 1);
        assert.equal(failed[0].detail.code, code);
        assert.equal(failed[0].detail.error.isError, true);
        assert.equal(failed[0].detail.error.name, name);
        assert.equal(failed[0].detail.error.code, code);
        assert.equal((await w.events('mozmarket-restored')).length, 0);
        const v = await w.waitView('failed');
        assert.equal(v.button, EN.retry);
        assert.equal(v.busy, 'false');
        assert.equal(v.ariaDisabled, null);
        assert.equal(v.message, EN[key]);
        assert.equal(v.code, `Error code: ${code}`);
        assert.equal(await w.eval(() => window.W.handle.state), 'failed');
        // Retry: a new run from failed.
        w.onRestore = () => json(200, { receipts: [] });
        await w.page.locator('.mozmarket-restore-main').click();
        await w.until('restored', async () => (await w.events('mozmarket-restored')).length === 1);
        const after = await w.waitView('idle');
        assert.equal(after.status, EN.restored_none);
        assert.equal(after.alert, '');
      });
    });
  }

  test('restoreUrl option; handle.restore() starts a run; locale de count announcement', async () => {
    await withWorld({}, async (w) => {
      w.extraApp.push(['/shop/receipts', () => json(200, { receipts: [entry(w, 'shiny-pony'), entry(w, 'golden-saddle')] })]);
      await mountRestore(w, { restoreUrl: '/shop/receipts', locale: 'de' });
      const v0 = await w.waitView('idle');
      assert.equal(v0.button, 'Käufe wiederherstellen');
      await w.eval(() => window.W.handle.restore());
      await w.until('restored', async () => (await w.events('mozmarket-restored')).length === 1);
      const v = await w.waitView('idle');
      assert.equal(v.status, 'Wiederhergestellte Käufe: 2.');
      assert.equal(w.of('extra')[0].url, `${w.app}/shop/receipts`);
    });
  });

  test('at most 100 entries are processed; more produce a warning', async () => {
    await withWorld({}, async (w) => {
      const one = entry(w, 'shiny-pony');
      w.onRestore = () => json(200, { receipts: Array.from({ length: 101 }, (_, i) => ({ ...one, orderId: `order-${i}` })) });
      await mountRestore(w);
      await restore(w);
      const [restored] = await w.events('mozmarket-restored');
      assert.equal(restored.detail.products.length, 100);
      assert.equal(restored.detail.products[99].orderId, 'order-99');
      assert.equal(w.of('verify').length, 100);
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.isError, true);
      assert.deepEqual(await w.storedReceipts(), [one.receipt], 'installed once (exact-string duplicates are skipped)');
      const v = await w.waitView('idle');
      assert.equal(v.status, 'Purchases restored: 100.');
    });
  });

  test('destroy() during a run: no events afterwards', async () => {
    await withWorld({}, async (w) => {
      const gate = deferred();
      w.onRestore = () => gate.promise.then(() => json(200, { receipts: [entry(w, 'shiny-pony')] }));
      await mountRestore(w);
      await w.page.locator('.mozmarket-restore-main').click();
      await w.waitView('restoring');
      const before = (await w.events()).length;
      await w.eval(() => window.W.handle.destroy());
      gate.resolve();
      await sleep(800);
      assert.equal((await w.events()).length, before);
      assert.equal(await w.eval(() => window.W.host.childNodes.length), 0);
    });
  });
});
