// The pay widget's native path (payments §5.6): navigator.mozPay (a stand-in returning a
// DOMRequest-like object, tests/browser/pages/widget-page.js W.installMozPay), its outcomes
// (F29, F30), the broken-webRT workaround and `useMozPay`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { expectFailed, expectCancelled, json, sleep, EN } from './fixtures.mjs';

const withWorld = widgetSuite();

/** Installs the mozPay stand-in, mounts, clicks Buy, and waits for the mozPay call. */
async function toMozPay(w, options = {}, install = {}) {
  await w.eval((x) => window.W.installMozPay(x), install);
  await w.mount(options);
  const popup = await w.clickBuy('.mozmarket-buy-main', { popupWaitMs: 300 });
  assert.equal(popup, null, 'no popup on the mozPay path');
  if (!install.throwName) {
    await w.until('navigator.mozPay([jwt])', () => w.eval(() => window.W.mozPayCalls.length === 1));
    await w.waitState('paying');
  }
}

const respond = (w, error) => w.eval(([e]) => window.W.mozPayRespond(0, e ? { error: e } : {}), [error]);

describe('navigator.mozPay (§5.6)', () => {
  test('mozPay([jwt]) is called with the pay JWT; no window is opened; onsuccess → waiting → purchased', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w);
      const calls = await w.eval(() => window.W.mozPayCalls);
      assert.deepEqual(calls, [{ jwts: [w.orders[0].jwt], isArray: true, thisIsNavigator: true }]);
      assert.deepEqual(await w.opens(), [], 'window.open is never called');
      assert.equal(w.of('buy').length, 1);
      const v = await w.waitView('paying');
      assert.equal(v.button, EN.paying);
      assert.equal(v.ariaDisabled, 'true');
      assert.equal(v.busy, 'true');
      assert.equal(v.status, 'Complete the payment for Magical Unicorn in the payment window.');
      assert.deepEqual(await respond(w), { hadOnsuccess: true, hadOnerror: true });
      await w.waitState('purchased');
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
      assert.deepEqual(w.popups, []);
    });
  });

  test('F29: mozPay errors with BACKGROUND_APP → failed PayPlatformError, platformCode BACKGROUND_APP', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w);
      await respond(w, 'BACKGROUND_APP');
      await expectFailed(w, { name: 'PayPlatformError', code: 'PAY_PLATFORM_ERROR', detail: { platformCode: 'BACKGROUND_APP' }, key: 'err_payment' });
      assert.equal(w.of('status').length, 0);
    });
  });

  for (const code of ['PAY_REQUEST_ERROR_NO_VALID_REQUEST_FOUND', 'INTERNAL_ERROR_UNKNOWN', 'TRANS_FAILED']) {
    test(`mozPay errors with ${code} → failed PayPlatformError, platformCode ${code}`, async () => {
      await withWorld({}, async (w) => {
        await toMozPay(w);
        await respond(w, code);
        await expectFailed(w, { name: 'PayPlatformError', code: 'PAY_PLATFORM_ERROR', detail: { platformCode: code }, key: 'err_payment' });
      });
    });
  }

  test('navigator.mozPay throwing synchronously → PayPlatformError with the exception name', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w, {}, { throwName: 'NotSupportedError' });
      await expectFailed(w, { name: 'PayPlatformError', code: 'PAY_PLATFORM_ERROR', detail: { platformCode: 'NotSupportedError' }, key: 'err_payment' });
    });
  });

  test('DIALOG_CLOSED_BY_USER → cancelled (DIALOG_CLOSED_BY_USER)', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w);
      await respond(w, 'DIALOG_CLOSED_BY_USER');
      await expectCancelled(w, { reason: 'DIALOG_CLOSED_BY_USER', name: 'PayWindowClosedByUser' });
    });
  });

  test('USER_CANCELLED with onBrokenWebRT: false → cancelled (USER_CANCELLED)', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w, { onBrokenWebRT: false });
      await respond(w, 'USER_CANCELLED');
      await expectCancelled(w, { reason: 'USER_CANCELLED', name: 'UserCancelled' });
      assert.equal(w.of('status').length, 0);
    });
  });

  test('F30: USER_CANCELLED while onBrokenWebRT is true (default: the UA lacks "Mobile") → waiting; the server status decides', async () => {
    await withWorld({}, async (w) => {
      assert.equal((await w.eval(() => navigator.userAgent)).includes('Mobile'), false);
      w.onStatus = (req, n, order) => (n < 3 ? json(200, { status: 'pending' }) : w.complete(order));
      await toMozPay(w);
      await respond(w, 'USER_CANCELLED');
      await w.until('waiting', async () => (await w.events('mozmarket-statechange')).some((e) => e.detail.state === 'waiting'));
      assert.equal((await w.events('mozmarket-cancelled')).length, 0);
      await w.waitState('purchased');
      assert.equal(w.of('status').length, 3);
      assert.deepEqual((await w.events('mozmarket-statechange')).map((e) => e.detail.state), ['preparing', 'paying', 'waiting', 'installing', 'verifying', 'purchased']);
    });
  });

  test('F30: without a postback the broken-webRT attempt ends in PurchaseTimeout', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'pending' });
      await toMozPay(w, { purchaseTimeoutMs: 1500 });
      await respond(w, 'USER_CANCELLED');
      await expectFailed(w, { name: 'PurchaseTimeout', code: 'TRANSACTION_TIMEOUT', detail: {}, key: 'err_timeout' });
    });
  });

  test('onBrokenWebRT defaults to false when the user agent contains "Mobile"', async () => {
    await withWorld({ contextOptions: { userAgent: 'Mozilla/5.0 (Mobile; rv:48.0) Gecko/48.0 Firefox/48.0' } }, async (w) => {
      await toMozPay(w);
      await respond(w, 'USER_CANCELLED');
      await expectCancelled(w, { reason: 'USER_CANCELLED', name: 'UserCancelled' });
    });
  });

  test('useMozPay: "never" uses the popup even when navigator.mozPay exists', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => window.W.installMozPay());
      await w.mount({ useMozPay: 'never' });
      const popup = await w.clickBuy();
      assert.ok(popup);
      await w.waitState('purchased');
      assert.deepEqual(await w.eval(() => window.W.mozPayCalls), []);
    });
  });

  test('destroy() while mozPay runs: a later DOMRequest result emits nothing', async () => {
    await withWorld({}, async (w) => {
      await toMozPay(w);
      const before = (await w.events()).length;
      await w.eval(() => window.W.handle.destroy());
      await respond(w);
      await sleep(500);
      assert.equal((await w.events()).length, before);
      assert.equal(w.of('status').length, 0);
    });
  });
});
