// The pay widget's popup web flow (payments §5.1–§5.5): the postMessage receiver rules (F01–F05,
// F09, F10), the blocked popup (F06), closed-window detection (F07, F08), and failures while
// preparing: buy errors (F17, §7.3/§7.4) and JWT acceptance (F18–F20, §7.2).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import {
  expectFailed,
  expectCancelled,
  payJwt,
  json,
  sleep,
  EN,
  PROVIDER_ORIGIN,
  EVIL_ORIGIN,
  PRODUCT,
  UUID_V4,
} from './fixtures.mjs';

const withWorld = widgetSuite();

/** Mounts, clicks Buy and waits for `paying` with the pay page loaded (it posts nothing). */
async function toPaying(w, options = {}) {
  w.payAuto = null;
  await w.mount(options);
  const popup = await w.clickBuy();
  assert.ok(popup, 'popup opened');
  await w.payPage(popup);
  await w.waitState('paying');
  return popup;
}

const transitions = async (w) => (await w.events('mozmarket-statechange')).map((e) => `${e.detail.previous}>${e.detail.state}`);

describe('postMessage receiver (§5.4)', () => {
  test('F01: {status:"ok"} from https://evil.example is ignored: one UNKNOWN_MESSAGE_ORIGIN warning, no status request', async () => {
    await withWorld({}, async (w) => {
      // In Chromium the {status:"unloaded"} a page posts at pagehide during a *cross-site*
      // navigation arrives with event.source === null, which fails the source test and would be
      // the attempt's first foreign message. The pay page therefore posts nothing at pagehide
      // here, so that the only foreign message is evil.example's (sent by the popup itself).
      w.payUnloaded = false;
      const popup = await toPaying(w);
      const attemptId = (await w.events('mozmarket-statechange'))[0].detail.attemptId;
      // The popup itself navigates to evil.example, whose page posts {status:"ok"} to "*".
      await popup.evaluate((u) => {
        location.href = u;
      }, `${EVIL_ORIGIN}/evil.html`);
      await w.until('the evil page', () => popup.url().startsWith(EVIL_ORIGIN));
      await popup.waitForLoadState('load');
      // A second foreign message in the same attempt: still one warning.
      await popup.evaluate(() => window.opener.postMessage({ status: 'ok' }, '*'));
      await sleep(800);
      assert.equal(await w.state(), 'paying');
      assert.equal(w.of('status').length, 0, 'no status request');
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1, 'one warning per attempt');
      assert.equal(warnings[0].detail.productId, PRODUCT);
      assert.equal(warnings[0].detail.attemptId, attemptId);
      const e = warnings[0].detail.error;
      assert.equal(e.isError, true);
      assert.equal(e.name, 'UnknownMessageOrigin');
      assert.equal(e.code, 'UNKNOWN_MESSAGE_ORIGIN');
      assert.deepEqual(e.detail, { origin: EVIL_ORIGIN });
      assert.equal(e.attemptId, attemptId);
      // The purchase continues: back on the pay page, "ok" is accepted.
      w.payAuto = { status: 'ok' };
      await popup.evaluate((u) => {
        location.href = u;
      }, w.of('pay')[0].url);
      await w.waitState('purchased');
      assert.equal((await w.events('mozmarket-warning')).length, 1);
    });
  });

  test('F02: {status:"ok"} from the pay origin but another window (an iframe) is ignored', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      await w.eval((u) => window.W.addFrame(u), `${PROVIDER_ORIGIN}/other-window.html`);
      await sleep(800);
      assert.equal(await w.state(), 'paying');
      assert.equal(w.of('status').length, 0);
      // §5.4 rule 3: a message failing the source test warns like a foreign origin.
      const warnings = await w.events('mozmarket-warning');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0].detail.error.code, 'UNKNOWN_MESSAGE_ORIGIN');
      assert.deepEqual(warnings[0].detail.error.detail, { origin: PROVIDER_ORIGIN });
      await w.send(popup, { status: 'ok' });
      await w.waitState('purchased');
    });
  });

  test('F03: event.data that is not a plain object with a string status is ignored (no warning)', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      for (const data of ['{"status":"ok"}', [{ status: 'ok' }], { status: 1 }, { state: 'ok' }, null, 'ok']) {
        await w.send(popup, data);
      }
      await sleep(800);
      assert.equal(await w.state(), 'paying');
      assert.equal(w.of('status').length, 0);
      assert.equal((await w.events('mozmarket-warning')).length, 0);
      assert.equal(popup.isClosed(), false);
      await w.send(popup, { status: 'ok' });
      await w.waitState('purchased');
    });
  });

  test('F04: {status:"weird"} → failed UnknownMessageStatus; the popup is closed', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      await w.send(popup, { status: 'weird' });
      await expectFailed(w, { name: 'UnknownMessageStatus', code: 'UNKNOWN_MESSAGE_STATUS', detail: {}, key: 'err_unconfirmed' });
      await w.closed(popup);
      assert.equal(w.of('status').length, 0);
    });
  });

  for (const [label, msg, providerCode] of [
    ['without errorCode', { status: 'failed' }, 'MISSING_ERROR_CODE'],
    ['with a lower-case errorCode', { status: 'failed', errorCode: 'trans_failed' }, 'MISSING_ERROR_CODE'],
    ['with a numeric errorCode', { status: 'failed', errorCode: 42 }, 'MISSING_ERROR_CODE'],
    ['with a 65-character errorCode', { status: 'failed', errorCode: 'A'.repeat(65) }, 'MISSING_ERROR_CODE'],
    ['with errorCode TRANS_FAILED', { status: 'failed', errorCode: 'TRANS_FAILED' }, 'TRANS_FAILED'],
  ]) {
    test(`F05: {status:"failed"} ${label} → failed FailedWindowMessage, providerCode ${providerCode}`, async () => {
      await withWorld({}, async (w) => {
        w.payAuto = msg;
        await w.mount();
        const popup = await w.clickBuy();
        await expectFailed(w, {
          name: 'FailedWindowMessage',
          code: 'PAY_WINDOW_FAIL_MESSAGE',
          detail: { providerCode },
          key: 'err_payment',
        });
        await w.closed(popup);
        assert.deepEqual(await transitions(w), ['idle>preparing', 'preparing>paying', 'paying>failed']);
      });
    });
  }

  test('F09: the provider reports USER_CANCELLED → cancelled; the widget closes the popup', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      await w.send(popup, { status: 'failed', errorCode: 'USER_CANCELLED' });
      await expectCancelled(w, { reason: 'USER_CANCELLED', name: 'UserCancelled' });
      await w.closed(popup);
      assert.equal(w.of('status').length, 0);
      // A later message from anywhere changes nothing (the listener is gone).
      assert.equal(await w.state(), 'cancelled');
    });
  });

  test('F10: {status:"unloaded"} while the popup navigates to the success screen is ignored', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      // The pay page posts {status:"unloaded"} at pagehide; the success page posts nothing yet.
      await popup.evaluate(() => {
        location.href = '/mozpay/success';
      });
      await w.until('the success page', () => popup.url() === `${PROVIDER_ORIGIN}/mozpay/success`);
      await popup.waitForLoadState('load');
      await sleep(1000); // well past unloadedGraceMs (300) and two window checks
      assert.equal(await w.state(), 'paying');
      assert.equal(popup.isClosed(), false);
      assert.equal(w.of('status').length, 0);
      assert.deepEqual(await transitions(w), ['idle>preparing', 'preparing>paying']);
      // Chromium delivers a message posted at pagehide with event.source === null once the
      // document has navigated, so the widget cannot tell it came from the popup: §5.4 rule 3
      // makes it a foreign message (at most one warning per attempt), ignored all the same.
      const warnings = await w.events('mozmarket-warning');
      assert.ok(warnings.length <= 1, 'at most one UnknownMessageOrigin warning per attempt');
      for (const x of warnings) assert.deepEqual([x.detail.error.code, x.detail.error.detail], ['UNKNOWN_MESSAGE_ORIGIN', { origin: PROVIDER_ORIGIN }]);
      await w.send(popup, { status: 'ok' });
      await w.waitState('purchased');
      await w.closed(popup);
    });
  });

  test('{status:"ok"} → waiting: the popup is closed, polling starts, focus moves to the main button', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'pending' });
      const popup = await toPaying(w);
      assert.equal(await w.eval(() => window.W.blur()), 'body');
      await w.send(popup, { status: 'ok' });
      await w.waitState('waiting');
      await w.closed(popup);
      const v = await w.waitView('waiting');
      assert.equal(v.button, EN.waiting);
      assert.equal(v.status, EN.waiting_status);
      assert.equal(v.focus, '.mozmarket-buy-main', '§7.10: leaving paying focuses the main button');
      await w.until('a status poll', () => w.of('status').length >= 1);
    });
  });
});

describe('popup blocked (§5.2, F06)', () => {
  test('F06: blocked sub-state, exactly one buy request; "Open payment window" opens the pay URL', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.eval(() => {
        window.W.blockOpens = 1;
      });
      const none = await w.clickBuy();
      assert.equal(none, null, 'window.open returned null');
      await w.waitState('paying');
      const v = await w.until('blocked controls', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null && s;
      });
      assert.equal(v.state, 'paying');
      assert.equal(v.button, EN.paying);
      assert.equal(v.ariaDisabled, 'true');
      assert.equal(v.busy, 'true');
      assert.equal(v.openWindow, EN.open_payment_window);
      assert.equal(v.cancel, EN.cancel);
      assert.equal(v.status, EN.popup_blocked_status);
      assert.equal(v.focus, '.mozmarket-open-window', 'focus moves to open_payment_window');
      assert.deepEqual(v.buttons, ['mozmarket-buy-main', 'mozmarket-open-window', 'mozmarket-cancel']);
      assert.equal(w.of('buy').length, 1, 'the buy request is still made, once');
      assert.equal(w.of('pay').length, 0);

      const popup = await w.clickBuy('.mozmarket-open-window');
      assert.ok(popup, 'Open payment window opened the popup');
      await w.payPage(popup);
      const opens = await w.opens();
      assert.equal(opens.length, 2);
      assert.equal(opens[0].url, '');
      assert.equal(opens[0].returned, 'null');
      assert.equal(opens[1].url, `${PROVIDER_ORIGIN}/mozpay/?req=${encodeURIComponent(w.orders[0].jwt)}`);
      assert.equal(opens[1].name, 'MozmarketPay');
      assert.equal(opens[1].features, opens[0].features);
      await w.waitState('purchased');
      assert.equal(w.of('buy').length, 1);
      assert.equal((await w.events('mozmarket-failed')).length, 0);
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
    });
  });

  test('F06: window.open returning a window that is already closed counts as blocked', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.eval(() => {
        window.W.blockOpens = 1;
        window.W.blockMode = 'closed';
      });
      await w.page.locator('.mozmarket-buy-main').click();
      await w.waitState('paying');
      const v = await w.until('blocked controls', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null && s;
      });
      assert.equal(v.status, EN.popup_blocked_status);
      const opens = await w.opens();
      assert.equal(opens[0].closedAtReturn, true);
      assert.equal(w.of('buy').length, 1);
      assert.equal(w.of('pay').length, 0, 'the closed window is not navigated');
    });
  });

  test('F06: still blocked after "Open payment window": the sub-state remains; Cancel → cancelled POPUP_BLOCKED', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.eval(() => {
        window.W.blockOpens = 2;
      });
      await w.clickBuy();
      await w.until('blocked controls', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null;
      });
      assert.equal(await w.clickBuy('.mozmarket-open-window'), null);
      await sleep(300);
      const v = await w.snapshot();
      assert.equal(v.state, 'paying');
      assert.equal(v.openWindow, EN.open_payment_window);
      assert.equal(v.status, EN.popup_blocked_status);
      assert.equal((await w.opens()).length, 2);
      await w.page.locator('.mozmarket-cancel').click();
      await expectCancelled(w, { reason: 'POPUP_BLOCKED', name: 'PayWindowBlocked' });
      const after = await w.snapshot();
      assert.equal(after.cancel, null, 'the blocked controls are gone');
      assert.equal(after.focus, '.mozmarket-buy-main', '§7.10: entering cancelled focuses the main button');
      assert.equal(w.of('buy').length, 1);
      assert.equal(w.of('pay').length, 0);
    });
  });
});

describe('closed-window detection (§5.5)', () => {
  test('F07: closed before confirming: after the 3 s grace with status pending → cancelled DIALOG_CLOSED_BY_USER', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'pending' });
      const popup = await toPaying(w);
      await popup.close();
      await expectCancelled(w, { reason: 'DIALOG_CLOSED_BY_USER', name: 'PayWindowClosedByUser' });
      assert.deepEqual(await transitions(w), ['idle>preparing', 'preparing>paying', 'paying>waiting', 'waiting>cancelled']);
      const changes = await w.events('mozmarket-statechange');
      const waitingAt = changes.find((e) => e.detail.state === 'waiting').t;
      const cancelledAt = changes.find((e) => e.detail.state === 'cancelled').t;
      const grace = cancelledAt - waitingAt;
      assert.ok(grace >= 2950 && grace < 3600, `grace period ${grace} ms (closedGraceMs 3000)`);
      const polls = w.of('status');
      assert.ok(polls.length >= 2, `status asked at once, then polled (${polls.length})`);
      assert.ok(polls[0].t - waitingAt < 300, 'the first status request at once');
      const n = polls.length;
      await sleep(800);
      assert.equal(w.of('status').length, n, 'polling stops with the attempt');
    });
  });

  test('F08: closed right after paying, before "ok": the grace poll sees complete → purchased', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      await popup.close();
      await w.waitState('purchased');
      assert.deepEqual(await transitions(w), [
        'idle>preparing',
        'preparing>paying',
        'paying>waiting',
        'waiting>installing',
        'installing>verifying',
        'verifying>purchased',
      ]);
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
      assert.equal((await w.events('mozmarket-cancelled')).length, 0);
    });
  });

  test('closed window, the grace poll sees failed → failed PaymentFailed', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'failed', error: 'ABANDONED' });
      const popup = await toPaying(w);
      await popup.close();
      await expectFailed(w, { name: 'PaymentFailed', code: 'PAYMENT_FAILED', detail: { serverError: 'ABANDONED' }, key: 'err_unconfirmed' });
    });
  });

  test('F36: a host page with Cross-Origin-Opener-Policy: same-origin ends the attempt cancelled (DIALOG_CLOSED_BY_USER)', async () => {
    await withWorld({}, async (w) => {
      // Reload the page with a COOP header added (the page is otherwise the same document).
      await w.context.route(
        (url) => url.origin === w.app && url.pathname === '/pages/widget.html',
        async (route) => {
          const response = await route.fetch();
          await route.fulfill({ response, headers: { ...response.headers(), 'cross-origin-opener-policy': 'same-origin' } });
        },
      );
      await w.page.reload();
      await w.until('reload', () => w.eval(() => window.mmReady === true));
      w.onStatus = () => json(200, { status: 'pending' });
      w.payAuto = { status: 'ok' };
      await w.mount();
      await w.clickBuy();
      await expectCancelled(w, { reason: 'DIALOG_CLOSED_BY_USER', name: 'PayWindowClosedByUser' });
    });
  });
});

describe('failures while preparing (§7.3, §7.4, F17)', () => {
  test('F17: buy fails with network errors twice → exactly one retry with the same key; ApiRequestError; blank popup closed', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => ({ abort: 'failed' });
      await w.mount();
      const popup = await w.clickBuy();
      assert.ok(popup);
      await expectFailed(w, { name: 'ApiRequestError', code: 'API_REQUEST_ERROR', detail: {}, key: 'err_network' });
      await w.closed(popup);
      const buys = w.of('buy');
      assert.equal(buys.length, 2);
      assert.match(buys[0].headers['idempotency-key'], UUID_V4);
      assert.equal(buys[1].headers['idempotency-key'], buys[0].headers['idempotency-key']);
      await sleep(300);
      assert.equal(w.of('buy').length, 2, 'no further retry');
      assert.equal(w.of('pay').length, 0);
    });
  });

  test('buy timeout (apiTimeoutMs) twice → one retry with the same key; ApiRequestTimeout', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => 'hang';
      await w.mount({ apiTimeoutMs: 300 });
      const popup = await w.clickBuy();
      await expectFailed(w, { name: 'ApiRequestTimeout', code: 'API_REQUEST_TIMEOUT', detail: {}, key: 'err_network' });
      await w.closed(popup);
      const buys = w.of('buy');
      assert.equal(buys.length, 2);
      assert.equal(buys[1].headers['idempotency-key'], buys[0].headers['idempotency-key']);
    });
  });

  test('buy 404 PRODUCT_NOT_FOUND → BadApiResponse with httpStatus and errorCode; no retry', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => json(404, { error_code: 'PRODUCT_NOT_FOUND', error: 'no such product' });
      await w.mount();
      const popup = await w.clickBuy();
      await expectFailed(w, {
        name: 'BadApiResponse',
        code: 'BAD_API_RESPONSE',
        detail: { httpStatus: 404, errorCode: 'PRODUCT_NOT_FOUND' },
        key: 'err_server',
      });
      await w.closed(popup);
      assert.equal(w.of('buy').length, 1);
    });
  });

  test('buy 503 → BadApiResponse at once (every buy failure but a network error or timeout is fatal)', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => json(503, { error_code: 'CATALOGUE_UNAVAILABLE', error: 'down' });
      await w.mount();
      await w.clickBuy();
      await expectFailed(w, {
        name: 'BadApiResponse',
        code: 'BAD_API_RESPONSE',
        detail: { httpStatus: 503, errorCode: 'CATALOGUE_UNAVAILABLE' },
        key: 'err_server',
      });
      assert.equal(w.of('buy').length, 1);
    });
  });

  test('buy 200 with an HTML body → BadJsonResponse', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => ({ status: 200, contentType: 'text/html', body: '<html><body>Wi-Fi login</body></html>' });
      await w.mount();
      await w.clickBuy();
      await expectFailed(w, { name: 'BadJsonResponse', code: 'BAD_JSON_RESPONSE', detail: {}, key: 'err_server' });
    });
  });

  test('buy body without jwt / statusURL → BadApiResponse with detail.missing', async () => {
    for (const [body, missing] of [
      [{ orderId: 'o', statusURL: '/mozpay/status/o' }, 'jwt'],
      [{ orderId: 'o', jwt: payJwt(PRODUCT) }, 'statusURL'],
    ]) {
      await withWorld({}, async (w) => {
        w.onBuy = () => json(201, body);
        await w.mount();
        await w.clickBuy();
        await expectFailed(w, { name: 'BadApiResponse', code: 'BAD_API_RESPONSE', detail: { missing }, key: 'err_server' });
      });
    }
  });

  test('no navigator.mozPay and window.open is not a function → PayPlatformUnavailable', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() => {
        window.open = undefined;
      });
      await w.mount();
      await w.page.locator('.mozmarket-buy-main').click();
      await expectFailed(w, { name: 'PayPlatformUnavailable', code: 'PAY_PLATFORM_UNAVAILABLE', detail: {}, key: 'err_unavailable' });
    });
  });
});

describe('JWT acceptance (§5.1, §7.2, F18–F20)', () => {
  test('F18: typ mozilla-local/payments/pay/v1 (not mapped) → InvalidJwt UNEXPECTED_JWT_TYPE; popup closed without navigating', async () => {
    await withWorld({}, async (w) => {
      w.jwtClaims = { typ: 'mozilla-local/payments/pay/v1' };
      await w.mount();
      const popup = await w.clickBuy();
      await expectFailed(w, { name: 'InvalidJwt', code: 'UNEXPECTED_JWT_TYPE', detail: {}, key: 'err_unavailable' });
      await w.closed(popup);
      assert.equal(w.of('pay').length, 0, 'the popup never loaded a pay page');
      assert.deepEqual(w.requests.filter((r) => r.origin === PROVIDER_ORIGIN), []);
    });
  });

  test('extraProviderUrls maps another typ (merged over the default map)', async () => {
    await withWorld({}, async (w) => {
      w.jwtClaims = { typ: 'mozilla-local/payments/pay/v1' };
      await w.mount({ extraProviderUrls: { 'mozilla-local/payments/pay/v1': `${PROVIDER_ORIGIN}/mozpay/?req={jwt}&local=1` } });
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('pay')[0].search, `?req=${encodeURIComponent(w.orders[0].jwt)}&local=1`);
    });
  });

  const invalid = [
    ['jwt "abc"', () => 'abc'],
    ['request.id ≠ productId', () => payJwt('another-product')],
    ['no request object', () => payJwt(PRODUCT, { claims: { request: null } })],
    ['request that is a string', () => payJwt(PRODUCT, { claims: { request: 'shiny-pony' } })],
    ['no typ', () => payJwt(PRODUCT, { claims: { typ: null } })],
    ['longer than 8192 bytes', () => payJwt(PRODUCT, { request: { description: 'x'.repeat(8200) } })],
    ['duplicate member names', () => {
      const h = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
      const p = Buffer.from(JSON.stringify({ typ: 'mozilla/payments/pay/v1', request: { id: PRODUCT } }).replace('{"typ"', '{"typ":"x","typ"')).toString('base64url');
      return `${h}.${p}.${Buffer.from('sig').toString('base64url')}`;
    }],
  ];
  for (const [label, make] of invalid) {
    test(`F19: ${label} → InvalidJwt INVALID_JWT_DATA; popup closed without navigating`, async () => {
      await withWorld({}, async (w) => {
        w.onBuy = () => json(201, { orderId: 'o-1', productId: PRODUCT, jwt: make(), statusURL: '/mozpay/status/o-1' });
        await w.mount();
        const popup = await w.clickBuy();
        await expectFailed(w, { name: 'InvalidJwt', code: 'INVALID_JWT_DATA', detail: {}, key: 'err_unavailable' });
        await w.closed(popup);
        assert.equal(w.of('pay').length, 0);
      });
    });
  }

  test('a JWT of exactly 8192 bytes is accepted', async () => {
    await withWorld({}, async (w) => {
      let jwt = null;
      for (let n = 5500; n < 6000 && !jwt; n++) {
        for (const name of ['Magical Unicorn', 'Magical Unicorns']) {
          const t = payJwt(PRODUCT, { orderId: 'o-1', now: 1700000000, request: { name, description: 'd'.repeat(n) } });
          if (t.length === 8192) jwt = t;
        }
      }
      assert.equal(jwt.length, 8192);
      w.onBuy = () => json(201, { orderId: 'o-1', productId: PRODUCT, jwt, statusURL: '/mozpay/status/o-1' });
      w.payAuto = null;
      await w.mount();
      await w.clickBuy();
      await w.waitState('paying');
    });
  });

  test('F20: simulated JWT while allowTestReceipts is false → TestReceiptNotAllowed before the pay page opens', async () => {
    await withWorld({}, async (w) => {
      w.jwtRequest = { simulate: { result: 'postback' } };
      await w.mount();
      const popup = await w.clickBuy();
      await expectFailed(w, { name: 'TestReceiptNotAllowed', code: 'TEST_RECEIPT_NOT_ALLOWED', key: 'err_receipt' });
      await w.closed(popup);
      assert.equal(w.of('pay').length, 0, 'the pay page never opened');
      assert.equal(w.of('status').length, 0);
    });
  });

  test('simulated JWT with allowTestReceipts: true → the test receipt is accepted; purchased with the test badge', async () => {
    await withWorld({}, async (w) => {
      w.jwtRequest = { simulate: { result: 'postback' } };
      w.receiptFor = (order) => w.provider.receipt({ productId: order.productId, appOrigin: w.app, test: true });
      await w.mount({ allowTestReceipts: true });
      await w.clickBuy();
      await w.waitState('purchased');
      const [p] = await w.events('mozmarket-purchase');
      assert.equal(p.detail.test, true);
      assert.deepEqual(p.detail.verification, { local: 'ok', store: 'ok' });
      assert.equal(w.of('verify')[0].path, '/receipts/verify/test');
      const v = await w.waitView('purchased');
      assert.equal(v.badge, EN.test_badge);
    });
  });
});
