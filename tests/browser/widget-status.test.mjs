// The pay widget's `waiting` state (payments §7.4): the polling schedule and the overall timeout
// under Playwright's fake clock (F11), and the classification of status answers (F12–F14, the
// `failed` codes, fatal and transient HTTP answers, Retry-After).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { expectFailed, json, sseBody, sleep, PRODUCT } from './fixtures.mjs';

const withWorld = widgetSuite();

/** Page-clock times of the status requests, relative to entering `waiting`. */
async function statusTimes(w) {
  const changes = await w.events('mozmarket-statechange');
  const waitingAt = changes.find((e) => e.detail.state === 'waiting').t;
  const fetches = (await w.fetches()).filter((f) => /\/mozpay\/status\/[^/]+$/.test(new URL(f.url).pathname));
  return { waitingAt, times: fetches.map((f) => f.t - waitingAt), done: fetches.map((f) => (f.tDone === null ? null : f.tDone - waitingAt)) };
}

/** Mounts, buys, and waits for `waiting` (the pay page posts {status:"ok"} on load). */
async function toWaiting(w, options = {}) {
  await w.mount(options);
  await w.clickBuy();
  await w.until('entering waiting', async () => (await w.events('mozmarket-statechange')).some((e) => e.detail.state === 'waiting'));
}

describe('polling and the overall timeout (§7.4)', () => {
  test('F11: status 500 every time: polls at about 0, 250, 750, 1750, 3750, 5750 ms; TRANSACTION_TIMEOUT at 120 s with lastError', async () => {
    await withWorld({ clock: true }, async (w) => {
      w.onStatus = () => ({ status: 500, contentType: 'text/plain', body: '' });
      await toWaiting(w);
      await w.until('six status requests', () => w.of('status').length >= 6, 15000);
      const { waitingAt, times, done } = await statusTimes(w);
      const waits = [250, 500, 1000, 2000, 2000]; // d_k with the defaults (±10 % jitter each)
      assert.ok(times[0] >= 0 && times[0] < 100, `first request at once (${times[0]} ms)`);
      // The schedule is about 0, 250, 750, 1750, 3750, 5750 ms; each wait starts when the
      // previous answer arrived (the fake clock runs in real time, so the route's latency adds).
      for (let k = 0; k < waits.length; k++) {
        const wait = times[k + 1] - done[k];
        assert.ok(wait >= waits[k] * 0.9 - 5 && wait <= waits[k] * 1.1 + 150, `wait ${k + 1}: ${wait} ms, expected ${waits[k]} ±10 % (requests at ${times.slice(0, 6)}, answers at ${done.slice(0, 6)})`);
      }
      assert.equal(await w.state(), 'waiting');

      // Jump to one second before the deadline: still waiting (polls continue every ~2 s).
      const now = await w.eval(() => Date.now());
      await w.context.clock.fastForward(waitingAt + 120000 - now - 1000);
      await sleep(300);
      assert.equal(await w.state(), 'waiting');
      assert.equal((await w.events('mozmarket-failed')).length, 0);
      // runFor fires each timer at its own time (fastForward would fire it at the jump's end).
      await w.context.clock.runFor(1500);
      await expectFailed(w, {
        name: 'PurchaseTimeout',
        code: 'TRANSACTION_TIMEOUT',
        detail: { lastError: { name: 'BadApiResponse', code: 'BAD_API_RESPONSE', httpStatus: 500 } },
        key: 'err_timeout',
      });
      const failedAt = (await w.events('mozmarket-failed'))[0].t;
      assert.ok(Math.abs(failedAt - waitingAt - 120000) <= 50, `timed out at ${failedAt - waitingAt} ms`);
      // Nothing is polled after the attempt ended.
      const n = w.of('status').length;
      await w.context.clock.fastForward(5000);
      await sleep(300);
      assert.equal(w.of('status').length, n);
    });
  });

  test('status never completes (pending): PurchaseTimeout at purchaseTimeoutMs, no lastError', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'pending' });
      await toWaiting(w, { purchaseTimeoutMs: 1500 });
      await expectFailed(w, { name: 'PurchaseTimeout', code: 'TRANSACTION_TIMEOUT', detail: {}, key: 'err_timeout' });
      const changes = await w.events('mozmarket-statechange');
      const elapsed = changes.find((e) => e.detail.state === 'failed').t - changes.find((e) => e.detail.state === 'waiting').t;
      // Both readings are the page listener's Date.now(), taken after the widget armed its timer
      // on entering waiting, so the 1 ms clock can read up to a tick short (seen once: 1499 ms).
      assert.ok(elapsed >= 1499 && elapsed < 2000, `timeout after ${elapsed} ms`);
    });
  });

  test('429 with Retry-After: 5 → the next request waits 5 s', async () => {
    await withWorld({ clock: true }, async (w) => {
      w.onStatus = (req, n, order) => (n === 1 ? json(429, { error_code: 'RATE_LIMITED', error: 'slow down' }, { 'Retry-After': '5' }) : w.complete(order));
      await toWaiting(w);
      await sleep(1500);
      assert.equal(w.of('status').length, 1, 'not asked again after the 250 ms wait');
      await w.context.clock.runFor(3700);
      await w.waitState('purchased');
      const { times } = await statusTimes(w);
      assert.equal(times.length, 2);
      const gap = times[1] - times[0];
      assert.ok(gap >= 5000 && gap < 5400, `waited ${gap} ms`);
    });
  });

  test('429 with Retry-After: 60 → the wait is capped at 10 s', async () => {
    await withWorld({ clock: true }, async (w) => {
      w.onStatus = (req, n, order) => (n === 1 ? json(429, {}, { 'Retry-After': '60' }) : w.complete(order));
      await toWaiting(w);
      await sleep(500);
      await w.context.clock.fastForward(8500);
      await sleep(300);
      assert.equal(w.of('status').length, 1, 'still waiting at 9 s');
      await w.context.clock.runFor(1500);
      await w.waitState('purchased');
      const { times } = await statusTimes(w);
      const gap = times[1] - times[0];
      assert.ok(gap >= 10000 && gap < 10600, `waited ${gap} ms`);
    });
  });

  test('purchaseTimeoutMs counts stream time: a stream that never sends anything → TRANSACTION_TIMEOUT; the stream is closed', async () => {
    await withWorld({ sse: true }, async (w) => {
      w.onEvents = () => 'hang';
      await toWaiting(w, { purchaseTimeoutMs: 1500 });
      await expectFailed(w, { name: 'PurchaseTimeout', code: 'TRANSACTION_TIMEOUT', detail: {}, key: 'err_timeout' });
      assert.equal(w.of('status').length, 0, 'no polling while the stream is open');
      assert.deepEqual(await w.eval(() => window.W.eventSources.map((x) => x.source.readyState)), [2]);
    });
  });

  test('transient failures (network error, apiTimeoutMs, 502) are retried; the purchase completes', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = (req, n, order) => {
        if (n === 1) return { abort: 'failed' };
        if (n === 2) return 'hang';
        if (n === 3) return { status: 502, contentType: 'text/plain', body: 'Bad gateway' };
        return w.complete(order);
      };
      await toWaiting(w, { apiTimeoutMs: 400 });
      await w.waitState('purchased');
      assert.equal(w.of('status').length, 4);
      assert.equal((await w.events('mozmarket-failed')).length, 0);
      assert.equal((await w.events('mozmarket-warning')).length, 0);
    });
  });

  test('lastError of a timeout after network errors is ApiRequestError (no httpStatus)', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => ({ abort: 'failed' });
      await toWaiting(w, { purchaseTimeoutMs: 1200 });
      await expectFailed(w, {
        name: 'PurchaseTimeout',
        code: 'TRANSACTION_TIMEOUT',
        detail: { lastError: { name: 'ApiRequestError', code: 'API_REQUEST_ERROR' } },
        key: 'err_timeout',
      });
    });
  });

  test('at most one status request is in flight', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => sleep(900).then(() => json(200, { status: 'pending' }));
      await toWaiting(w, { purchaseTimeoutMs: 2500 });
      await w.waitState('failed', 5000);
      const reqs = w.of('status');
      // Requests are 900 ms apart at least: a new one only after the previous answer.
      for (let i = 1; i < reqs.length; i++) assert.ok(reqs[i].t - reqs[i - 1].t >= 880, `gap ${reqs[i].t - reqs[i - 1].t}`);
    });
  });
});

describe('classification of status answers (§7.4)', () => {
  test('F12: 200 with an HTML body → BadJsonResponse at once', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => ({ status: 200, contentType: 'text/html', body: '<html><head><title>Log in</title></head><body>Wi-Fi login</body></html>' });
      await toWaiting(w);
      await expectFailed(w, { name: 'BadJsonResponse', code: 'BAD_JSON_RESPONSE', detail: {}, key: 'err_server' });
      await sleep(500);
      assert.equal(w.of('status').length, 1, 'fatal: not asked again');
    });
  });

  test('F13: {"status":"done"} → BadApiResponse INVALID_TRANSACTION_STATE', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'done' });
      await toWaiting(w);
      await expectFailed(w, { name: 'BadApiResponse', code: 'INVALID_TRANSACTION_STATE', detail: {}, key: 'err_server' });
      assert.equal(w.of('status').length, 1);
    });
  });

  for (const [label, body] of [
    ['without receipt', { status: 'complete', productId: PRODUCT, transactionID: 'webpay:x' }],
    ['with a non-string receipt', { status: 'complete', receipt: 42 }],
    ['with a receipt over 64 KiB', { status: 'complete', receipt: 'r'.repeat(65537) }],
  ]) {
    test(`F14: {"status":"complete"} ${label} → BadApiResponse, detail.missing "receipt"`, async () => {
      await withWorld({}, async (w) => {
        w.onStatus = () => json(200, body);
        await toWaiting(w);
        await expectFailed(w, { name: 'BadApiResponse', code: 'BAD_API_RESPONSE', detail: { missing: 'receipt' }, key: 'err_server' });
        assert.equal(w.of('status').length, 1);
        assert.equal(w.of('verify').length, 0);
        assert.equal(await w.storedReceipts(), null, 'nothing stored');
      });
    });
  }

  test('404 ORDER_NOT_FOUND → BadApiResponse (fatal) with httpStatus and errorCode', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(404, { error_code: 'ORDER_NOT_FOUND', error: 'no such order' });
      await toWaiting(w);
      await expectFailed(w, {
        name: 'BadApiResponse',
        code: 'BAD_API_RESPONSE',
        detail: { httpStatus: 404, errorCode: 'ORDER_NOT_FOUND' },
        key: 'err_server',
      });
      assert.equal(w.of('status').length, 1);
    });
  });

  for (const [error, code, key, detail] of [
    ['REFUNDED', 'PAYMENT_REFUNDED', 'err_refunded', {}],
    ['REVERSED', 'PAYMENT_REVERSED', 'err_refunded', {}],
    ['RECEIPT_UNAVAILABLE', 'RECEIPT_UNAVAILABLE', 'err_unconfirmed', {}],
    ['ABANDONED', 'PAYMENT_FAILED', 'err_unconfirmed', { serverError: 'ABANDONED' }],
    ['SOMETHING_ELSE', 'PAYMENT_FAILED', 'err_unconfirmed', { serverError: 'SOMETHING_ELSE' }],
  ]) {
    test(`status failed/${error} → PaymentFailed ${code}`, async () => {
      await withWorld({}, async (w) => {
        w.onStatus = () => json(200, { status: 'failed', error, message: 'English text' });
        await toWaiting(w);
        await expectFailed(w, { name: 'PaymentFailed', code, detail, key });
        assert.equal(w.of('status').length, 1);
      });
    });
  }

  test('status failed without error → PaymentFailed PAYMENT_FAILED (detail.serverError empty)', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'failed' });
      await toWaiting(w);
      const d = await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_FAILED', key: 'err_unconfirmed' });
      assert.deepEqual(Object.keys(d.error.detail).filter((k) => k !== 'serverError'), []);
      assert.equal(d.error.detail.serverError ?? null, null, 'no server error to report');
    });
  });

  test('a status event on the stream is classified like a poll answer (failed/REFUNDED)', async () => {
    await withWorld({ sse: true }, async (w) => {
      w.onEvents = () => ({ status: 200, contentType: 'text/event-stream', body: sseBody({ status: 'failed', error: 'REFUNDED' }) });
      await toWaiting(w);
      await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_REFUNDED', detail: {}, key: 'err_refunded' });
      assert.equal(w.of('status').length, 0);
    });
  });
});
