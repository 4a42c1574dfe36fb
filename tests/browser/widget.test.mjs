// The pay widget (payments §7) in Chromium: the purchase flow end to end against a faked app
// server and provider (context.route, so the popup is covered too), the event stream (§7.4,
// F16), the requests and their headers (§7.3), events (§7.7), reset/owned/consumable/destroy
// (§7.1, F37), double activation (§5.2), and the custom elements. Every test page runs under
// `script-src 'self' 'wasm-unsafe-eval'` plus Trusted Types and `style-src 'self'`
// (pages/widget.html); `w.finish()` fails a test on any securitypolicyviolation (F38).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { payJwt, PROVIDER_ORIGIN, PRODUCT, UUID_V4, json, sseBody, deferred, sleep } from './fixtures.mjs';

/** Opens a world and always closes it (a failing test included). */
const withWorld = widgetSuite();

const VERSION_HEADER = /^[\x20-\x7e]{1,32}$/;

/** The statechange sequence as "previous>state". */
const transitions = (events) => events.filter((e) => e.type === 'mozmarket-statechange').map((e) => `${e.detail.previous}>${e.detail.state}`);

/** §7.2 "What the user sees", English, for the product name `name` (JWT: Magical Unicorn). */
function expectedView(state, name = 'Magical Unicorn') {
  const busy = (button, status) => ({ button, ariaDisabled: 'true', busy: 'true', status });
  return {
    idle: { button: 'Buy', ariaDisabled: null, busy: 'false' },
    preparing: busy('Preparing…', 'Preparing your purchase…'),
    paying: busy('Paying…', `Complete the payment for ${name} in the payment window.`),
    waiting: busy('Confirming…', 'Waiting for the payment to be confirmed…'),
    installing: busy('Finishing…', 'Saving your receipt…'),
    verifying: busy('Finishing…', 'Checking your receipt…'),
    purchased: { button: 'Purchased', ariaDisabled: 'true', busy: 'false', status: `Purchase complete: ${name}.` },
    failed: { button: 'Try again', ariaDisabled: null, busy: 'false' },
    cancelled: { button: 'Buy', ariaDisabled: null, busy: 'false', status: 'Payment cancelled.' },
  }[state];
}

/**
 * Every recorded DOM snapshot agrees with §7.2/§7.10 for the state it shows. The text of
 * `purchased_status` is checked by its own test (see "purchased_status names the product").
 */
function assertViewsConsistent(views) {
  for (const v of views) {
    if (!v) continue;
    const want = expectedView(v.state);
    assert.ok(want, `unknown rendered state ${v.state}`);
    const got = { button: v.button, ariaDisabled: v.ariaDisabled, busy: v.busy };
    if (want.status !== undefined && v.status !== '') got.status = v.status;
    const cmp = { ...want };
    if (cmp.status !== undefined && v.status === '') delete cmp.status;
    if (v.state === 'purchased') {
      delete got.status;
      delete cmp.status;
    }
    assert.deepEqual(got, cmp, `rendering of ${v.state}`);
    assert.equal(v.disabledAttr, false, 'never the disabled attribute (§7.10)');
    assert.equal(v.buttonTag, 'button');
    assert.equal(v.buttonType, 'button');
    assert.equal(v.statusRole, 'status');
    assert.equal(v.statusLive, 'polite');
    assert.equal(v.alertRole, 'alert');
    assert.equal(v.styleAttributes, 0, 'no style attributes (§7.11)');
  }
}

describe('purchase flow (§1.3, §7.2–§7.5)', () => {
  test('happy path: popup → ok → waiting → complete → installing → verifying → purchased', async () => {
    await withWorld({}, async (w) => {
      // The first buy request fails with a network error: retried once with the same key (§7.3).
      w.onBuy = ((orig) => (req, n, id) => (n === 1 ? { abort: 'failed' } : orig(req, n, id)))(w.onBuy);
      await w.context.addCookies([
        { name: 'mm_buyer', value: 'buyer-1', url: w.app },
        { name: 'mm_market_buyer', value: 'market-1', url: PROVIDER_ORIGIN, sameSite: 'None', secure: true },
      ]);
      const mounted = await w.mount({}, { callbacks: true });
      assert.deepEqual(mounted, { ok: true, state: 'idle' });
      const idle = await w.waitView('idle');
      assert.equal(idle.button, 'Buy');
      assert.equal(idle.lang, 'en');
      assert.equal(idle.status, '');
      assert.equal(idle.alert, '');

      const popup = await w.clickBuy();
      assert.ok(popup, 'a popup was opened in the click');
      await w.waitState('purchased');
      await w.closed(popup);
      await sleep(300);

      // Events (§7.7).
      const events = await w.events();
      const widgetEvents = events.filter((e) => !e.type.startsWith('callback:'));
      const buys = w.of('buy');
      assert.equal(buys.length, 2, 'one retry after the network error');
      const key = buys[0].headers['idempotency-key'];
      assert.match(key, UUID_V4);
      assert.equal(buys[1].headers['idempotency-key'], key, 'the retry reuses the Idempotency-Key');
      assert.deepEqual(transitions(widgetEvents), [
        'idle>preparing',
        'preparing>paying',
        'paying>waiting',
        'waiting>installing',
        'installing>verifying',
        'verifying>purchased',
      ]);
      for (const e of widgetEvents) {
        assert.equal(e.isCustomEvent, true);
        assert.equal(e.bubbles, true);
        assert.equal(e.composed, true);
        assert.equal(e.cancelable, false);
        assert.equal(e.target, 'host');
        if (e.type === 'mozmarket-statechange') {
          assert.equal(e.detail.productId, PRODUCT);
          assert.equal(e.detail.attemptId, key, 'the attempt id is the Idempotency-Key (§7.2)');
        }
      }
      const order = w.orders[0];
      const purchases = widgetEvents.filter((e) => e.type === 'mozmarket-purchase');
      assert.equal(purchases.length, 1, 'mozmarket-purchase exactly once');
      assert.deepEqual(purchases[0].detail, {
        productId: PRODUCT,
        orderId: order.orderId,
        transactionID: order.transactionID,
        receipt: order.receipt,
        test: false,
        verification: { local: 'ok', store: 'ok' },
        attemptId: key,
      });
      assert.deepEqual(widgetEvents.map((e) => e.type).filter((t) => t !== 'mozmarket-statechange'), ['mozmarket-purchase'], 'no failed/cancelled/warning');
      // Callbacks run first, each right before its event.
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        if (e.type.startsWith('callback:')) continue;
        const cb = { 'mozmarket-statechange': 'onStateChange', 'mozmarket-purchase': 'onPurchase' }[e.type];
        assert.equal(events[i - 1].type, `callback:${cb}`, `callback before ${e.type}`);
        assert.deepEqual(events[i - 1].detail, e.detail);
      }

      // The receipt is stored (§7.5) and the popup was closed by the widget.
      assert.deepEqual(await w.storedReceipts(), [order.receipt]);
      assert.equal(popup.isClosed(), true);

      // Requests (§7.3).
      for (const b of buys) {
        assert.equal(b.method, 'POST');
        assert.equal(b.url, `${w.app}/mozpay/product/${PRODUCT}/buy`);
        assert.equal(b.body, '{}');
        assert.equal(b.headers.accept, 'application/json');
        assert.equal(b.headers['content-type'], 'application/json');
        assert.match(b.headers['x-mozmarket-version'], VERSION_HEADER);
      }
      assert.equal(buys[1].headers.cookie, 'mm_buyer=buyer-1', 'credentials included');
      const pays = w.of('pay');
      assert.equal(pays.length, 1);
      assert.equal(pays[0].url, `${PROVIDER_ORIGIN}/mozpay/?req=${encodeURIComponent(order.jwt)}`);
      const statuses = w.of('status');
      assert.equal(statuses.length, 1, 'no statusEventsURL: one poll answered complete');
      assert.equal(statuses[0].method, 'GET');
      assert.equal(statuses[0].url, `${w.app}/mozpay/status/${order.orderId}`);
      assert.equal(statuses[0].headers.accept, 'application/json');
      assert.match(statuses[0].headers['x-mozmarket-version'], VERSION_HEADER);
      assert.equal(statuses[0].headers['idempotency-key'], undefined);
      assert.equal(w.of('events').length, 0);
      const roots = w.of('root');
      assert.equal(roots.length, 1, 'the root document is fetched once (no pinned keys)');
      assert.equal(roots[0].method, 'GET');
      assert.equal(roots[0].headers.cookie, undefined);
      assert.equal(roots[0].headers['x-mozmarket-version'], undefined);
      const verifies = w.of('verify');
      assert.equal(verifies.length, 1);
      assert.equal(verifies[0].method, 'POST');
      assert.equal(verifies[0].url, `${PROVIDER_ORIGIN}/receipts/verify`);
      assert.equal(verifies[0].body, order.receipt);
      assert.match(verifies[0].headers['content-type'], /^text\/plain/);
      assert.equal(verifies[0].headers.cookie, undefined, 'no credentials to the verify service');
      assert.equal(verifies[0].headers['x-mozmarket-version'], undefined, 'no custom headers (simple request)');
      assert.equal(w.of('preflight').length, 0, 'no CORS preflight');

      // window.open (§5.2): blank first, in the click, with the fixed name and features.
      const opens = await w.opens();
      assert.equal(opens.length, 1);
      assert.equal(opens[0].url, '');
      assert.equal(opens[0].name, 'MozmarketPay');
      const geometry = await w.eval(() => ({ x: screenX, y: screenY, w: outerWidth, h: outerHeight }));
      const L = Math.round(geometry.x + (geometry.w - 400) / 2);
      const T = Math.round(geometry.y + (geometry.h - 560) / 2);
      assert.equal(
        opens[0].features,
        `popup=yes,width=400,height=560,left=${L},top=${T},resizable=yes,scrollbars=yes,location=yes,toolbar=no,menubar=no,status=no`,
      );

      // What the buyer saw, state by state.
      const views = await w.views();
      assertViewsConsistent(views);
      for (const s of ['idle', 'preparing', 'paying', 'waiting', 'purchased']) {
        assert.ok(views.some((v) => v && v.state === s), `rendered ${s}`);
      }
      const last = views[views.length - 1];
      assert.equal(last.state, 'purchased');
      assert.equal(last.badge, null, 'no test badge for a purchase receipt');
      assert.equal(await w.state(), 'purchased');
    });
  });

  test('the blank popup shows popup_loading (text node and title) while the buy request runs', async () => {
    await withWorld({}, async (w) => {
      const gate = deferred();
      w.onBuy = ((orig) => (req, n, id) => gate.promise.then(() => orig(req, n, id)))(w.onBuy);
      w.payAuto = null;
      await w.mount();
      const popup = await w.clickBuy();
      assert.ok(popup);
      await w.waitState('preparing');
      const blank = await popup.evaluate(() => ({
        title: document.title,
        text: document.body.textContent,
        url: location.href,
        elements: document.body.children.length,
      }));
      assert.deepEqual(blank, { title: 'Loading payment…', text: 'Loading payment…', url: 'about:blank', elements: 0 });
      const s = await w.waitView('preparing');
      assert.equal(s.status, 'Preparing your purchase…');
      gate.resolve();
      await w.payPage(popup);
      await w.waitState('paying');
    });
  });

  test('event stream: status events drive waiting; no polling (§7.4)', async () => {
    await withWorld({ sse: true }, async (w) => {
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased');
      await sleep(300);
      const order = w.orders[0];
      const streams = await w.eval(() => window.W.eventSources.map((s) => ({ url: s.url, withCredentials: s.withCredentials, readyState: s.source.readyState })));
      assert.deepEqual(streams, [{ url: `${w.app}/mozpay/status/${order.orderId}/events`, withCredentials: false, readyState: 2 }]);
      assert.equal(w.of('events').length, 1);
      assert.equal(w.of('status').length, 0, 'the stream delivered complete: no poll');
      const purchases = await w.events('mozmarket-purchase');
      assert.equal(purchases.length, 1);
      assert.equal(purchases[0].detail.receipt, order.receipt);
    });
  });

  test('event stream: a pending event, then a later complete event on the same stream', async () => {
    await withWorld({ sse: true }, async (w) => {
      w.onEvents = (req, n, order) => ({
        status: 200,
        contentType: 'text/event-stream',
        body: sseBody({ status: 'pending' }, { status: 'incomplete' }, JSON.parse(w.complete(order).body)),
      });
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('status').length, 0);
      assert.equal(w.of('events').length, 1);
    });
  });

  test('F16: the stream fails midway → polling at once, same outcome, no EventSource reconnection', async () => {
    await withWorld({ sse: true }, async (w) => {
      // One pending event, then the connection ends (an `error` event).
      w.onEvents = () => ({ status: 200, contentType: 'text/event-stream', body: sseBody({ status: 'pending' }) });
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased');
      // EventSource would reconnect after `retry: 2000`: wait past it.
      await sleep(2600);
      assert.equal(w.of('events').length, 1, 'no reconnection');
      const statuses = w.of('status');
      assert.equal(statuses.length, 1, 'polling took over with an immediate request, answered complete');
      const streams = await w.eval(() => window.W.eventSources.map((s) => s.source.readyState));
      assert.deepEqual(streams, [2], 'the widget closed its EventSource');
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
      assert.equal((await w.events('mozmarket-failed')).length, 0);
    });
  });

  test('F16: the stream cannot be opened (HTTP 500) → polling', async () => {
    await withWorld({ sse: true }, async (w) => {
      w.onEvents = () => ({ status: 500, contentType: 'text/plain', body: 'oops' });
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased');
      await sleep(2600);
      assert.equal(w.of('events').length, 1);
      assert.equal(w.of('status').length, 1);
    });
  });

  test('a cross-origin statusEventsURL is opened withCredentials (§7.3)', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = ((orig) => async (req, n, id) => {
        const a = await orig(req, n, id);
        const body = JSON.parse(a.body);
        body.statusEventsURL = `${PROVIDER_ORIGIN}/app/status/${body.orderId}/events`;
        return { ...a, body: JSON.stringify(body) };
      })(w.onBuy);
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased'); // the stream fails (404), polling completes
      const streams = await w.eval(() => window.W.eventSources.map((s) => ({ url: s.url, withCredentials: s.withCredentials })));
      assert.deepEqual(streams, [{ url: `${PROVIDER_ORIGIN}/app/status/${w.orders[0].orderId}/events`, withCredentials: true }]);
      assert.equal(w.of('status').length, 1);
    });
  });

  test('useEventStream: false polls even when statusEventsURL is offered', async () => {
    await withWorld({ sse: true }, async (w) => {
      await w.mount({ useEventStream: false });
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('events').length, 0);
      assert.equal(w.of('status').length, 1);
      assert.deepEqual(await w.eval(() => window.W.eventSources.length), 0);
    });
  });

  test('status `pending` then `complete`: polls until complete; `incomplete` is pending', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = (req, n, order) => (n === 1 ? json(200, { status: 'pending' }) : n === 2 ? json(200, { status: 'incomplete' }) : w.complete(order));
      await w.mount();
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('status').length, 3);
    });
  });

  test('relative status URLs resolve against the buy URL; zamboni member names are accepted (§2.2)', async () => {
    await withWorld({}, async (w) => {
      const order = { orderId: 'o-1', productId: PRODUCT };
      order.jwt = payJwt(PRODUCT, { orderId: order.orderId });
      w.orders.push(order);
      w.extraApp.push([
        '/shop/api/',
        (entry) => {
          entry.kind = entry.path.endsWith('/buy') ? 'buy' : 'status';
          if (entry.kind === 'buy') return json(201, { orderId: 'o-1', webpayJWT: order.jwt, contribStatusURL: '../../status/o-1' });
          return w.complete(order);
        },
      ]);
      await w.mount({ buyUrl: '/shop/api/product/{id}/buy' });
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('buy')[0].url, `${w.app}/shop/api/product/${PRODUCT}/buy`);
      assert.deepEqual(w.of('status').map((r) => r.url), [`${w.app}/shop/api/status/o-1`]);
    });
  });

  test('buyUrl {id} is replaced by encodeURIComponent(productId)', async () => {
    await withWorld({}, async (w) => {
      const id = 'pony/gold édition';
      await w.mount({ productId: id });
      await w.clickBuy();
      await w.waitState('purchased');
      assert.equal(w.of('buy')[0].url, `${w.app}/mozpay/product/${encodeURIComponent(id)}/buy`);
      assert.equal(w.orders[0].productId, id);
    });
  });
});

describe('activation, reset, owned, consumable, destroy (§5.2, §7.1)', () => {
  test('a double click starts one purchase: one buy request, one popup', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = null;
      await w.mount();
      await w.page.locator('.mozmarket-buy-main').dblclick();
      await w.waitState('paying');
      await sleep(300);
      assert.equal(w.of('buy').length, 1);
      assert.equal((await w.opens()).length, 1);
      assert.equal(w.popups.length, 1);
      assert.deepEqual(transitions(await w.events()), ['idle>preparing', 'preparing>paying']);
    });
  });

  test('activating the main button while paying focuses the popup and does nothing else', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = null;
      await w.mount();
      const popup = await w.clickBuy();
      await w.payPage(popup);
      await w.waitState('paying');
      // force: Playwright treats aria-disabled="true" as disabled; the click is still a real one.
      await w.page.locator('.mozmarket-buy-main').click({ force: true });
      await sleep(300);
      assert.equal(await w.state(), 'paying');
      assert.equal(w.of('buy').length, 1);
      assert.equal((await w.opens()).length, 1);
      assert.equal(popup.isClosed(), false);
    });
  });

  test('activations in waiting, installing and verifying are ignored', async () => {
    await withWorld({}, async (w) => {
      const gate = deferred();
      w.onVerify = () => gate.promise.then(() => json(200, { status: 'ok' }));
      await w.mount();
      await w.clickBuy();
      await w.waitState('verifying');
      await w.page.locator('.mozmarket-buy-main').click({ force: true });
      await sleep(200);
      assert.equal(await w.state(), 'verifying');
      gate.resolve();
      await w.waitState('purchased');
      await w.page.locator('.mozmarket-buy-main').click({ force: true });
      await sleep(200);
      assert.equal(await w.state(), 'purchased', 'purchased ignores activation');
      assert.equal(w.of('buy').length, 1);
    });
  });

  test('reset(): back to idle from failed, cancelled and purchased; ignored while busy', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = { status: 'failed', errorCode: 'TRANS_FAILED' };
      await w.mount();
      await w.clickBuy();
      await w.waitState('failed');
      await w.eval(() => window.W.handle.reset());
      assert.equal(await w.state(), 'idle');
      let v = await w.waitView('idle');
      assert.equal(v.button, 'Buy');
      const reset1 = (await w.events('mozmarket-statechange')).at(-1).detail;
      assert.equal(reset1.previous, 'failed');
      assert.equal(reset1.state, 'idle');

      w.payAuto = { status: 'failed', errorCode: 'USER_CANCELLED' };
      await w.clickBuy();
      await w.waitState('cancelled');
      await w.eval(() => window.W.handle.reset());
      assert.equal(await w.state(), 'idle');

      w.payAuto = null;
      const popup = await w.clickBuy();
      await w.payPage(popup);
      await w.waitState('paying');
      await w.eval(() => window.W.handle.reset());
      assert.equal(await w.state(), 'paying', 'reset() does nothing while busy');
      await w.send(popup, { status: 'ok' });
      await w.waitState('purchased');
      await w.eval(() => window.W.handle.reset());
      assert.equal(await w.state(), 'idle');
      v = await w.waitView('idle');
      assert.equal(v.ariaDisabled, null);
      assert.deepEqual(transitions(await w.events()).slice(-2), ['verifying>purchased', 'purchased>idle']);
    });
  });

  test('owned: renders purchased at mount; activation does nothing', async () => {
    await withWorld({}, async (w) => {
      assert.deepEqual(await w.mount({ owned: true }), { ok: true, state: 'purchased' });
      const v = await w.waitView('purchased');
      assert.equal(v.button, 'Purchased');
      assert.equal(v.ariaDisabled, 'true');
      assert.equal(v.busy, 'false');
      assert.equal(v.badge, null);
      await w.page.locator('.mozmarket-buy-main').click({ force: true });
      await sleep(200);
      assert.equal(w.of('buy').length, 0);
      assert.equal((await w.opens()).length, 0);
      assert.deepEqual(await w.events(), [], 'no events at mount');
    });
  });

  test('consumable: purchased returns to idle at once, the announcement stays', async () => {
    await withWorld({}, async (w) => {
      // productName equals the JWT's name, so the announcement's text is exact whichever is used.
      await w.mount({ consumable: true, productName: 'Magical Unicorn' });
      await w.clickBuy();
      await w.until('two statechanges after verifying', async () => transitions(await w.events()).includes('purchased>idle'));
      assert.equal(await w.state(), 'idle');
      assert.deepEqual(transitions(await w.events()).slice(-2), ['verifying>purchased', 'purchased>idle']);
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
      const v = await w.waitView('idle');
      assert.equal(v.button, 'Buy Magical Unicorn');
      assert.equal(v.ariaDisabled, null);
      assert.equal(v.status, 'Purchase complete: Magical Unicorn.');
      // A consumable can be bought again.
      await w.clickBuy();
      await w.until('a second purchase', async () => (await w.events('mozmarket-purchase')).length === 2);
      assert.equal(w.of('buy').length, 2);
      const keys = w.of('buy').map((r) => r.headers['idempotency-key']);
      assert.notEqual(keys[0], keys[1], 'a fresh attempt id per attempt');
    });
  });

  test('F37: destroy() during paying closes the popup; no events or requests afterwards', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = null;
      await w.mount();
      const popup = await w.clickBuy();
      await w.payPage(popup);
      await w.waitState('paying');
      const before = (await w.events()).length;
      const requestsBefore = w.requests.length;
      await w.eval(() => window.W.handle.destroy());
      await w.closed(popup);
      const after = await w.eval(() => ({
        destroyed: window.W.handle.destroyed,
        children: window.W.host.childNodes.length,
      }));
      assert.deepEqual(after, { destroyed: true, children: 0 });
      await sleep(1500); // past several windowPollMs and the closed-window grace
      assert.equal((await w.events()).length, before, 'no events after destroy()');
      assert.deepEqual(w.requests.slice(requestsBefore).filter((r) => r.kind !== 'pay-script'), [], 'no requests after destroy()');
      const threw = await w.eval(() => {
        try {
          window.W.handle.reset();
          return null;
        } catch (e) {
          return { name: e.name, code: e.code };
        }
      });
      assert.deepEqual(threw, { name: 'IncorrectUsage', code: 'INCORRECT_USAGE' });
    });
  });

  test('destroy() while waiting stops polling; no events afterwards', async () => {
    await withWorld({}, async (w) => {
      w.onStatus = () => json(200, { status: 'pending' });
      await w.mount();
      await w.clickBuy();
      await w.waitState('waiting');
      await w.until('two polls', () => w.of('status').length >= 2);
      const before = (await w.events()).length;
      await w.eval(() => window.W.handle.destroy());
      const polls = w.of('status').length;
      await sleep(1500);
      assert.equal(w.of('status').length, polls);
      assert.equal((await w.events()).length, before);
    });
  });

  test('mounting twice on one element replaces the first instance (§7.1)', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.waitView('idle');
      const r = await w.eval(() => window.W.remount({ productId: 'other', providerOrigin: 'https://pay.test', label: 'Second' }));
      assert.equal(r.firstDestroyed, true);
      const v = await w.waitView('idle');
      assert.equal(v.button, 'Second');
      await sleep(100);
      const dom = await w.eval(() => ({
        widgets: window.W.host.querySelectorAll('.mozmarket-buy').length,
        buttons: Array.from(window.W.host.querySelectorAll('.mozmarket-buy-main')).map((b) => b.textContent),
      }));
      assert.deepEqual(dom, { widgets: 1, buttons: ['Second'] });
    });
  });

  test('several instances live on one page independently', async () => {
    await withWorld({}, async (w) => {
      await w.mount({ productId: 'a', label: 'A' });
      await w.mount({ productId: 'b', label: 'B' });
      const labels = await w.eval(() => Array.from(document.querySelectorAll('.mozmarket-buy-main')).map((b) => b.textContent));
      assert.deepEqual(labels, ['A', 'B']);
    });
  });
});

describe('callbacks (§7.7)', () => {
  test('a callback that throws is caught; the widget and its events carry on', async () => {
    await withWorld({}, async (w) => {
      await w.mount({}, { callbacks: 'throw' });
      await w.clickBuy();
      await w.waitState('purchased');
      const events = await w.events();
      assert.deepEqual(transitions(events), [
        'idle>preparing',
        'preparing>paying',
        'paying>waiting',
        'waiting>installing',
        'installing>verifying',
        'verifying>purchased',
      ]);
      assert.equal(events.filter((e) => e.type === 'callback:onStateChange').length, 6);
      assert.equal(events.filter((e) => e.type === 'callback:onPurchase').length, 1);
      assert.equal(events.filter((e) => e.type === 'mozmarket-purchase').length, 1);
      // w.finish() fails the test if a thrown callback error escaped as an uncaught page error.
    });
  });

  test('onFailed and onCancelled run before their events, with the same detail', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = { status: 'failed', errorCode: 'USER_CANCELLED' };
      await w.mount({}, { callbacks: true });
      await w.clickBuy();
      await w.waitState('cancelled');
      w.payAuto = { status: 'weird' };
      await w.clickBuy();
      await w.waitState('failed');
      const events = (await w.events()).filter((e) => e.type !== 'mozmarket-statechange' && e.type !== 'callback:onStateChange');
      assert.deepEqual(events.map((e) => e.type), ['callback:onCancelled', 'mozmarket-cancelled', 'callback:onFailed', 'mozmarket-failed']);
      assert.deepEqual(events[0].detail, events[1].detail);
      assert.deepEqual(events[2].detail, events[3].detail);
    });
  });
});

describe('custom elements (defineElements)', () => {
  test('loading the package defines nothing; attributes become options; shadow DOM; events reach document', async () => {
    await withWorld({}, async (w) => {
      assert.deepEqual(await w.eval(() => window.W.definedBeforeDefineElements), { buy: false, restore: false });
      const r = await w.eval(() =>
        window.W.createElement('mozmarket-buy-button', {
          product: 'shiny-pony',
          'product-name': 'Pony',
          'provider-origin': 'https://pay.test',
          locale: 'de',
        }),
      );
      assert.deepEqual(r, { hasShadow: true, shadowMode: 'open', lightChildren: 0, state: 'idle', error: null });
      const v = await w.waitView('idle');
      assert.equal(v.button, 'Pony kaufen');
      assert.equal(v.lang, 'de');
      assert.equal(await w.eval(() => document.querySelectorAll('.mozmarket-buy').length), 0, 'rendered in the shadow root only');
      await w.clickBuy();
      await w.waitState('purchased');
      const events = await w.events();
      assert.ok(events.length > 0);
      for (const e of events) {
        assert.equal(e.listener, 'document');
        assert.equal(e.target, 'host', 'dispatched on the element (composed, bubbles)');
      }
      assert.equal(events.filter((e) => e.type === 'mozmarket-purchase').length, 1);
      const after = await w.snapshot();
      assert.equal(after.button, 'Gekauft');
    });
  });

  test('the options property is merged over the attributes; boolean attributes', async () => {
    await withWorld({}, async (w) => {
      await w.eval(() =>
        window.W.createElement(
          'mozmarket-buy-button',
          { product: 'shiny-pony', 'provider-origin': 'https://pay.test', owned: '' },
          { label: 'From options' },
        ),
      );
      let v = await w.waitView('purchased');
      assert.equal(v.button, 'Purchased', 'owned attribute');
      await w.eval(() => {
        window.W.host.removeAttribute('owned');
      });
      v = await w.until('re-render', async () => {
        const s = await w.snapshot();
        return s && s.state === 'idle' && s;
      });
      assert.equal(v.button, 'From options');
    });
  });

  test('<mozmarket-restore-button> renders the restore button in its shadow root', async () => {
    await withWorld({}, async (w) => {
      const r = await w.eval(() =>
        window.W.createElement('mozmarket-restore-button', { 'provider-origin': 'https://pay.test', locale: 'fr' }),
      );
      assert.equal(r.hasShadow, true);
      assert.equal(r.error, null);
      const v = await w.waitView('idle');
      assert.equal(v.button, 'Restaurer les achats');
      assert.equal(v.lang, 'fr');
    });
  });
});
