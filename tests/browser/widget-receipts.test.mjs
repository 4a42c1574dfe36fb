// The pay widget's `installing` and `verifying` states (payments §7.5): the local check of the
// `cert~receipt` chain (F21–F25), the verify service's answers (F26, F27), the receipt stores
// (mozApps, localStorage, memory; F31, F32) and the removal of a receipt added by a failed
// attempt. Receipts are issued by tests/browser/fixtures.mjs makeProvider() with the store's
// exact claims (crates/core/src/pay/receipt.rs), signed with node:crypto.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { expectFailed, providerKey, json, sleep, PROVIDER_ORIGIN, EVIL_ORIGIN, PRODUCT } from './fixtures.mjs';

const withWorld = widgetSuite();

/** Mounts and buys; the status answers `complete` with `w.receiptFor(order)`. */
async function buy(w, options = {}) {
  await w.mount(options);
  await w.clickBuy();
}

/** Waits until the local store no longer holds `receipt` (removal is asynchronous). */
async function expectRemoved(w, receipt, key) {
  await w.until('the receipt to be removed', async () => {
    const list = await w.storedReceipts(key);
    return list !== null && !list.includes(receipt);
  });
  assert.deepEqual(await w.storedReceipts(key), []);
}

const receiptOf = (w) => w.orders[0].receipt;

describe('local verification (§7.5 stage 1)', () => {
  test('F21: a test-receipt for a non-simulated purchase, allowTestReceipts false → TestReceiptNotAllowed; receipt removed', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, test: true });
      await buy(w);
      await expectFailed(w, { name: 'TestReceiptNotAllowed', code: 'TEST_RECEIPT_NOT_ALLOWED', detail: { check: 'type' }, key: 'err_receipt' });
      await expectRemoved(w, receiptOf(w));
      assert.equal(w.of('verify').length, 0, 'nothing sent to the verify service');
      await sleep(300);
      assert.equal((await w.events('mozmarket-purchase')).length, 0);
    });
  });

  test('F22: product.url ≠ appOrigin → InvalidReceipt (check product_url); receipt removed', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: 'http://other-app.test' });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'product_url' }, key: 'err_receipt' });
      await expectRemoved(w, receiptOf(w));
      assert.equal(w.of('verify').length, 0);
    });
  });

  test('appOrigin option: the receipt must name that origin', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: 'https://shop.example' });
      await buy(w, { appOrigin: 'https://shop.example' });
      await w.waitState('purchased');
    });
  });

  test('F23: storedata inapp_id ≠ productId → InvalidReceipt INVALID_RECEIPT_PRODUCT', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = () => w.provider.receipt({ productId: 'golden-saddle', appOrigin: w.app });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT_PRODUCT', detail: { check: 'product_id' }, key: 'err_receipt' });
      await expectRemoved(w, receiptOf(w));
      assert.equal(w.of('verify').length, 0);
    });
  });

  test('F24: verify https://evil.example/verify → InvalidReceipt (check verify_url); no request to that URL', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, over: { verify: `${EVIL_ORIGIN}/verify` } });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'verify_url' }, key: 'err_receipt' });
      await expectRemoved(w, receiptOf(w));
      await sleep(300);
      assert.deepEqual(w.of('evil'), [], 'no request to evil.example');
      assert.equal(w.of('verify').length, 0);
    });
  });

  test('receiptCheckSites is segment-wise: /receipts/verifyX is not below /receipts/verify', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, over: { verify: `${PROVIDER_ORIGIN}/receipts/verifyX` } });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'verify_url' }, key: 'err_receipt' });
      assert.deepEqual(w.requests.filter((r) => r.path === '/receipts/verifyX'), []);
    });
  });

  test('F25: a certificate signed by a root that is not trusted → InvalidReceipt (check signature)', async () => {
    await withWorld({}, async (w) => {
      const rogue = providerKey(w.provider.root.jwk.kid); // same kid and iss, another key
      w.receiptFor = (order) =>
        w.provider.receipt({ productId: order.productId, appOrigin: w.app, cert: w.provider.certificate({ signer: rogue }) });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'signature' }, key: 'err_receipt' });
      await expectRemoved(w, receiptOf(w));
      assert.equal(w.of('verify').length, 0);
    });
  });

  test('F25: a certificate naming another root document → InvalidReceipt (check issuer); nothing fetched from it', async () => {
    await withWorld({}, async (w) => {
      const other = providerKey('root-20260101-0bad');
      w.receiptFor = (order) =>
        w.provider.receipt({
          productId: order.productId,
          appOrigin: w.app,
          cert: w.provider.certificate({ signer: other, over: { iss: `${EVIL_ORIGIN}/public_keys/root.jwk` } }),
        });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'issuer' }, key: 'err_receipt' });
      assert.deepEqual(w.of('evil'), []);
      assert.equal(w.of('root').length, 0, 'the untrusted root is never fetched');
    });
  });

  test('a receipt signed by a key other than the certified one → InvalidReceipt (check signature)', async () => {
    await withWorld({}, async (w) => {
      const other = providerKey(w.provider.eph.jwk.kid);
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, key: other });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'signature' }, key: 'err_receipt' });
    });
  });

  test('an expired receipt → InvalidReceipt (check time)', async () => {
    await withWorld({}, async (w) => {
      const now = Math.floor(Date.now() / 1000);
      w.receiptFor = (order) =>
        w.provider.receipt({ productId: order.productId, appOrigin: w.app, over: { iat: now - 7200, nbf: now - 7200, exp: now - 3600 } });
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'time' }, key: 'err_receipt' });
    });
  });

  test('a receipt that is not cert~receipt → InvalidReceipt (check parse)', async () => {
    await withWorld({}, async (w) => {
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app }).split('~')[1];
      await buy(w);
      await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'parse' }, key: 'err_receipt' });
    });
  });

  test('pinned trustedRoots keys: no root document request', async () => {
    await withWorld({}, async (w) => {
      await buy(w, { trustedRoots: [{ url: w.provider.rootDocumentUrl, keys: [w.provider.root.jwk] }] });
      await w.waitState('purchased');
      assert.equal(w.of('root').length, 0);
    });
  });

  test('the root document is fetched once and cached for the next purchase', async () => {
    await withWorld({}, async (w) => {
      await buy(w, { consumable: true });
      await w.until('first purchase', async () => (await w.events('mozmarket-purchase')).length === 1);
      await w.clickBuy();
      await w.until('second purchase', async () => (await w.events('mozmarket-purchase')).length === 2);
      assert.equal(w.of('root').length, 1);
    });
  });
});

describe('verify service (§7.5 stage 2)', () => {
  test('F26: verify service unreachable → purchased, verification.store "unreachable", one warning', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => ({ abort: 'failed' });
      await buy(w);
      await w.waitState('purchased');
      await sleep(200);
      const [p] = await w.events('mozmarket-purchase');
      assert.deepEqual(p.detail.verification, { local: 'ok', store: 'unreachable' });
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.name, 'ApiRequestError');
      assert.equal(warnings[0].detail.error.code, 'API_REQUEST_ERROR');
      assert.equal(warnings[0].detail.attemptId, p.detail.attemptId);
      assert.deepEqual(await w.storedReceipts(), [receiptOf(w)], 'the receipt is kept');
    });
  });

  for (const [label, answer, name, code, detail] of [
    ['HTTP 500', { status: 500, contentType: 'text/plain', body: '' }, 'BadApiResponse', 'BAD_API_RESPONSE', { httpStatus: 500 }],
    ['an HTML body', { status: 200, contentType: 'text/html', body: '<html>login</html>' }, 'BadJsonResponse', 'BAD_JSON_RESPONSE', {}],
  ]) {
    test(`verify service answers ${label} → purchased (unreachable) with a ${name} warning`, async () => {
      await withWorld({}, async (w) => {
        w.onVerify = () => answer;
        await buy(w);
        await w.waitState('purchased');
        const [p] = await w.events('mozmarket-purchase');
        assert.equal(p.detail.verification.store, 'unreachable');
        const warnings = await w.events('mozmarket-warning');
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0].detail.error.name, name);
        assert.equal(warnings[0].detail.error.code, code);
        assert.deepEqual(warnings[0].detail.error.detail, detail);
      });
    });
  }

  test('verify service answers an unknown status → purchased (unreachable) with a BadApiResponse warning', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => json(200, { status: 'refundido' });
      await buy(w);
      await w.waitState('purchased');
      const [p] = await w.events('mozmarket-purchase');
      assert.equal(p.detail.verification.store, 'unreachable');
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.name, 'BadApiResponse');
    });
  });

  test('verify service times out (apiTimeoutMs) → purchased (unreachable) with an ApiRequestTimeout warning', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => 'hang';
      await buy(w, { apiTimeoutMs: 500 });
      await w.waitState('purchased');
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.code, 'API_REQUEST_TIMEOUT');
    });
  });

  test('verify service answers pending → purchased, verification.store "pending", no warning', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => json(200, { status: 'pending' });
      await buy(w);
      await w.waitState('purchased');
      const [p] = await w.events('mozmarket-purchase');
      assert.deepEqual(p.detail.verification, { local: 'ok', store: 'pending' });
      assert.equal((await w.events('mozmarket-warning')).length, 0);
    });
  });

  test('F27: verify service answers refunded → failed PaymentFailed PAYMENT_REFUNDED; receipt removed', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => json(200, { status: 'refunded' });
      await buy(w);
      await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_REFUNDED', detail: {}, key: 'err_refunded' });
      await expectRemoved(w, receiptOf(w));
    });
  });

  test('verify service answers invalid → InvalidReceipt (check store, storeReason); receipt removed', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => json(200, { status: 'invalid', reason: 'NO_PURCHASE' });
      await buy(w);
      await expectFailed(w, {
        name: 'InvalidReceipt',
        code: 'INVALID_RECEIPT',
        detail: { check: 'store', storeReason: 'NO_PURCHASE' },
        key: 'err_receipt',
      });
      await expectRemoved(w, receiptOf(w));
    });
  });

  test('verify service answers expired → InvalidReceipt (check time, storeStatus expired)', async () => {
    await withWorld({}, async (w) => {
      w.onVerify = () => json(200, { status: 'expired', receipt: 'fresh' });
      await buy(w);
      await expectFailed(w, {
        name: 'InvalidReceipt',
        code: 'INVALID_RECEIPT',
        detail: { check: 'time', storeStatus: 'expired' },
        key: 'err_receipt',
      });
    });
  });

  test('a receipt that was already stored is left alone when verification fails', async () => {
    await withWorld({}, async (w) => {
      const receipt = w.provider.receipt({ productId: PRODUCT, appOrigin: w.app });
      w.receiptFor = () => receipt;
      await w.eval((r) => localStorage.setItem('mozmarketReceipts', JSON.stringify(['other-receipt', r])), receipt);
      w.onVerify = () => json(200, { status: 'refunded' });
      await buy(w);
      await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_REFUNDED', detail: {}, key: 'err_refunded' });
      await sleep(300);
      assert.deepEqual(await w.storedReceipts(), ['other-receipt', receipt]);
    });
  });
});

describe('receipt stores (§7.5 "Installing")', () => {
  test('localStorage: the receipt is appended to the existing list', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => localStorage.setItem('mozmarketReceipts', JSON.stringify(['older-receipt'])));
      await buy(w);
      await w.waitState('purchased');
      assert.deepEqual(await w.storedReceipts(), ['older-receipt', receiptOf(w)]);
    });
  });

  test('localStorage: a receipt already present (exact string) is not added again', async () => {
    await withWorld({}, async (w) => {
      const receipt = w.provider.receipt({ productId: PRODUCT, appOrigin: w.app });
      w.receiptFor = () => receipt;
      await w.eval((r) => localStorage.setItem('mozmarketReceipts', JSON.stringify([r, 'newer-receipt'])), receipt);
      await buy(w);
      await w.waitState('purchased');
      assert.deepEqual(await w.storedReceipts(), [receipt, 'newer-receipt']);
    });
  });

  test('localStorageKey: the receipt is stored under that key', async () => {
    await withWorld({}, async (w) => {
      await buy(w, { localStorageKey: 'myReceipts' });
      await w.waitState('purchased');
      assert.deepEqual(await w.storedReceipts('myReceipts'), [receiptOf(w)]);
      assert.equal(await w.storedReceipts('mozmarketReceipts'), null);
    });
  });

  test('a corrupt local store is replaced by [] with a warning', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => localStorage.setItem('mozmarketReceipts', '{not json'));
      await buy(w);
      await w.waitState('purchased');
      assert.deepEqual(await w.storedReceipts(), [receiptOf(w)]);
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.isError, true);
    });
  });

  test('more than 500 local receipts: AddReceiptError TOO_MANY_RECEIPTS, memory store, purchased', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => localStorage.setItem('mozmarketReceipts', JSON.stringify(Array.from({ length: 500 }, (_, i) => `r${i}`))));
      await buy(w);
      await w.waitState('purchased');
      const warnings = await w.events('mozmarket-warning');
      assert.ok(warnings.length >= 1);
      assert.equal(warnings[0].detail.error.name, 'AddReceiptError');
      assert.equal(warnings[0].detail.error.code, 'ADD_RECEIPT_ERROR');
      assert.deepEqual(warnings[0].detail.error.detail, { platformCode: 'TOO_MANY_RECEIPTS' });
      assert.equal((await w.storedReceipts()).length, 500);
    });
  });

  test('F31: app.addReceipt fails with TOO_MANY_RECEIPTS → AddReceiptError warning; localStorage is used; purchased', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.installMozApps({ addReceiptError: 'TOO_MANY_RECEIPTS' }));
      await buy(w);
      await w.waitState('purchased');
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      const e = warnings[0].detail.error;
      assert.equal(e.isError, true);
      assert.equal(e.name, 'AddReceiptError');
      assert.equal(e.code, 'ADD_RECEIPT_ERROR');
      assert.deepEqual(e.detail, { platformCode: 'TOO_MANY_RECEIPTS' });
      assert.equal(warnings[0].detail.attemptId, (await w.events('mozmarket-purchase'))[0].detail.attemptId);
      assert.deepEqual(await w.storedReceipts(), [receiptOf(w)]);
      const apps = await w.eval(() => ({ add: window.W.mozApps.addCalls, receipts: window.W.mozApps.receipts.length }));
      assert.deepEqual(apps, { add: 1, receipts: 0 });
    });
  });

  test('mozApps: app.addReceipt stores the receipt; localStorage is not used', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.installMozApps());
      await buy(w);
      await w.waitState('purchased');
      const apps = await w.eval(() => ({ add: window.W.mozApps.addCalls, receipts: window.W.mozApps.receipts }));
      assert.deepEqual(apps, { add: 1, receipts: [receiptOf(w)] });
      assert.equal(await w.storedReceipts(), null);
      assert.equal((await w.events('mozmarket-warning')).length, 0);
    });
  });

  test('mozApps: RECEIPT_ALREADY_EXISTS counts as stored (no warning)', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.installMozApps({ addReceiptError: 'RECEIPT_ALREADY_EXISTS' }));
      await buy(w);
      await w.waitState('purchased');
      assert.equal((await w.events('mozmarket-warning')).length, 0);
      assert.equal(await w.storedReceipts(), null);
    });
  });

  test('mozApps: a receipt added by a failing attempt is removed with app.removeReceipt', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.installMozApps());
      w.onVerify = () => json(200, { status: 'refunded' });
      await buy(w);
      await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_REFUNDED', detail: {}, key: 'err_refunded' });
      await w.until('removeReceipt', () => w.eval(() => window.W.mozApps.removeCalls === 1));
      assert.deepEqual(await w.eval(() => window.W.mozApps.receipts), []);
    });
  });

  test('F32: localStorage.setItem throws QuotaExceededError → memory store with a warning; purchased', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.breakLocalStorage());
      await buy(w);
      await w.waitState('purchased');
      const warnings = await w.events('mozmarket-warning');
      assert.ok(warnings.length >= 1, 'a warning');
      for (const x of warnings) assert.equal(x.detail.error.name, 'AddReceiptError');
      assert.deepEqual(warnings[0].detail.error.detail, { platformCode: 'STORAGE_UNAVAILABLE' });
      assert.equal(await w.storedReceipts(), null);
      const [p] = await w.events('mozmarket-purchase');
      assert.equal(p.detail.receipt, receiptOf(w));
      assert.deepEqual(p.detail.verification, { local: 'ok', store: 'ok' });
    });
  });

  test('receiptStorage "memory": nothing written to localStorage; purchased', async () => {
    await withWorld({}, async (w) => {
      await buy(w, { receiptStorage: 'memory' });
      await w.waitState('purchased');
      assert.equal(await w.storedReceipts(), null);
    });
  });
});

describe('the local check on WebCrypto (signature equations, as in the Verifier)', () => {
  /** Counts crypto.subtle.verify calls, removes WebCrypto, or makes it fail. */
  const instrument = (w, mode) =>
    w.eval((m) => {
      window.subtleCalls = 0;
      if (m === 'absent') {
        Object.defineProperty(window, 'crypto', { value: undefined, configurable: true });
        return;
      }
      const subtle = window.crypto.subtle;
      const real = subtle.verify.bind(subtle);
      subtle.verify = (...args) => {
        window.subtleCalls += 1;
        return m === 'throws' ? Promise.reject(new Error('platform failure')) : real(...args);
      };
    }, mode);

  for (const mode of ['platform', 'absent', 'throws']) {
    test(`WebCrypto ${mode}: a good receipt is purchased, one signed by an uncertified key is refused`, async () => {
      await withWorld({}, async (w) => {
        await instrument(w, mode);
        await buy(w);
        await w.waitState('purchased');
        const calls = await w.eval(() => window.subtleCalls);
        if (mode === 'absent') assert.equal(calls, 0);
        else if (mode === 'throws') assert.ok(calls >= 1, 'the platform was asked, failed, and core decided');
        else assert.ok(calls >= 2, `${calls} platform verifications (certificate and receipt)`);
      });
      await withWorld({}, async (w) => {
        await instrument(w, mode);
        const other = providerKey(w.provider.eph.jwk.kid);
        w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, key: other });
        await buy(w);
        await expectFailed(w, { name: 'InvalidReceipt', code: 'INVALID_RECEIPT', detail: { check: 'signature' }, key: 'err_receipt' });
      });
    });
  }
});
