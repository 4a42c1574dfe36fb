// End-to-end tests of the demo shop with the pay widget (spec/payments.md §1.3, §5, §7, §8.9,
// §9.6) against the real reference server: `mozmarket-server serve --demo` (both roles in one
// process, SQLite files in a fresh directory) on two loopback origins, the demo page in headless
// Chromium. Each test uses its own browser context: a new buyer (cookie) with an empty receipt
// store.
//
// Needs: pkg/ with the full build (scripts/build-wasm.sh all), node_modules/axe-core, and the
// server binary (built here when missing). Screenshots and the latency figure go to
// target/e2e-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  requireBuild, startServer, launchBrowser, newContext, openDemo, mainButton, container, waitState,
  events, statesOf, brief, clickBuy, payPage, shot, assertAccessible, writeArtifact, postbackAcceptedAt,
  until, sleep,
} from './support.mjs';

let s = null;
let browser = null;

before(async () => {
  await requireBuild();
  s = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (s) await s.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Fails with the page's own problems: CSP violations, uncaught errors, console errors. */
function assertClean(ctx) {
  assert.deepEqual(ctx.violations, [], 'CSP violations');
  assert.deepEqual(ctx.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(ctx.consoleErrors, [], `console errors (HTTP errors seen: ${JSON.stringify(ctx.badResponses)})`);
}

/** A strict Verifier (the verifier build) whose only trusted keys are /demo/config.json's. */
function verifyInPage(page) {
  return page.evaluate(async () => {
    const { Verifier, init } = await import('/pkg/index.js');
    await init();
    const config = await (await fetch('/demo/config.json')).json();
    const v = new Verifier({
      mode: 'strict',
      trustedKeys: config.trustedKeys,
      installs_allowed_from: [config.marketOrigin],
      productURL: config.appOrigin,
      typsAllowed: ['purchase-receipt', 'test-receipt'], // simulated payments issue test receipts
      receipts: JSON.parse(localStorage.getItem('mozmarketReceipts') || '[]'), // the widget's store
      onlog: null,
      cacheStorage: null, // always ask the marketplace's verify service
    });
    await v.verify();
    const errors = [];
    v.iterReceiptErrors((_r, e) => errors.push({ name: e.name, detail: e.detail || '', refunded: e instanceof v.errors.Refunded }));
    return {
      state: v.state.name,
      ok: v.state instanceof v.states.OK,
      noValid: v.state instanceof v.states.NoValidReceipts,
      products: (v.products || []).map((p) => ({ url: p.url, storedata: p.storedata })),
      errors,
      text: String(v),
      trustedKids: config.trustedKeys.keys.map((k) => k.kid),
    };
  });
}

/** Signs in to the developer hub with the admin token; returns the hub page. */
async function hubSignIn(ctx) {
  const hub = await ctx.context.newPage();
  await hub.goto(`${s.marketOrigin}/dev/`);
  await hub.locator('input[name="token"]').fill(s.adminToken);
  await Promise.all([
    hub.waitForURL(`${s.marketOrigin}/dev/`),
    hub.locator('button[type="submit"]', { hasText: 'Sign in' }).click(),
  ]);
  assert.equal(await hub.locator('input[name="token"]').count(), 0, 'the admin token was refused');
  return hub;
}

/**
 * Buys `productId` through the pay page popup: click, Confirm, and the widget's `purchased`.
 * Returns what the tests look at.
 */
async function buyWithPopup(page, productId, { screenshots = false, axeStates = false, onPaying } = {}) {
  const statusRequests = [];
  const onRequest = (r) => { if (new URL(r.url()).pathname.includes('/status/')) statusRequests.push({ t: Date.now(), url: r.url() }); };
  page.on('request', onRequest);
  const clickedAt = Date.now();
  const popup = await clickBuy(page, productId);
  await payPage(popup, s);
  await popup.locator('#confirm').waitFor();
  await waitState(page, productId, 'paying');
  if (onPaying) await onPaying(popup);
  if (screenshots) {
    await shot(page, 'paying');
    await shot(popup, 'paying-popup');
  }
  if (axeStates) await assertAccessible(page, 'the demo page, widget paying');
  const popupClosed = popup.waitForEvent('close', { timeout: 30000 });
  await popup.locator('#confirm').click();
  await waitState(page, productId, 'purchased', 30000);
  await popupClosed;
  page.off('request', onRequest);
  const evs = await events(page);
  const purchase = evs.filter((e) => e.type === 'purchase');
  assert.equal(purchase.length, 1, `one mozmarket-purchase: ${JSON.stringify(evs.map(brief))}`);
  return { popup, evs, purchase: purchase[0], statusRequests, clickedAt };
}

test('popup purchase: pay page → Confirm → purchased, a verified receipt, strict Verifier OK, latency', { timeout: 120000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    // ---- launch: nothing installed, the catalogue, one idle Buy button per product.
    const state = page.locator('#verify-state');
    assert.match(await state.textContent(), /^(NoReceipts|MozAppsNotSupported): no receipts installed yet$/);
    assert.match(await page.locator('#catalogue-state').textContent(), /^2 product\(s\)/);
    assert.equal(await page.locator('mozmarket-buy-button').count(), 2);
    await waitState(page, 'shiny-pony', 'idle');
    await waitState(page, 'magical-unicorn', 'idle');
    const main = mainButton(page, 'shiny-pony');
    assert.equal(await main.textContent(), 'Buy Shiny Pony');
    assert.equal(await main.getAttribute('type'), 'button');
    assert.equal(await container(page, 'shiny-pony').getAttribute('aria-busy'), 'false');
    assert.equal(await page.locator('#moz-receiptverifier-overlay').count(), 0, 'no Prompter at a clean launch');
    await shot(page, 'idle');
    await assertAccessible(page, 'the demo page, widgets idle');

    // ---- buy, confirm on the pay page, purchased.
    let pay = null;
    const r = await buyWithPopup(page, 'shiny-pony', {
      screenshots: true,
      axeStates: true,
      onPaying: async (popup) => {
        assert.equal(await popup.locator('#product-name').textContent(), 'Shiny Pony');
        assert.equal(await mainButton(page, 'shiny-pony').getAttribute('aria-disabled'), 'true');
        assert.equal(await container(page, 'shiny-pony').getAttribute('aria-busy'), 'true');
        pay = popup;
      },
    });
    assert.ok(pay);
    const { evs, purchase } = r;
    // Every transition, in order, for one attempt; exactly one terminal event.
    assert.deepEqual(statesOf(evs, 'shiny-pony'), ['preparing', 'paying', 'waiting', 'installing', 'verifying', 'purchased']);
    assert.deepEqual(evs.filter((e) => e.type === 'failed' || e.type === 'cancelled'), []);
    const attemptIds = new Set(evs.filter((e) => e.type === 'statechange').map((e) => e.attemptId));
    assert.equal(attemptIds.size, 1, `one attempt id: ${[...attemptIds]}`);
    assert.match(purchase.attemptId, UUID);
    assert.ok(attemptIds.has(purchase.attemptId));
    assert.equal(purchase.productId, 'shiny-pony');
    assert.match(purchase.orderId, UUID);
    assert.match(purchase.transactionID, /^simulate:[0-9a-f-]{36}$/);
    assert.equal(typeof purchase.receipt, 'string');
    assert.equal(purchase.receipt.split('~').length, 2, 'cert~receipt');
    assert.equal(purchase.test, true, 'a simulated payment gives a test receipt');
    assert.deepEqual(purchase.verification, { local: 'ok', store: 'ok' });
    assert.equal(purchase.composed, true);
    assert.equal(purchase.bubbles, true);
    // The button: purchased with the test badge, busy no more.
    assert.match(await mainButton(page, 'shiny-pony').textContent(), /^Purchased/);
    assert.match(await container(page, 'shiny-pony').textContent(), /Test purchase/);
    assert.equal(await container(page, 'shiny-pony').getAttribute('aria-busy'), 'false');
    assert.equal(await mainButton(page, 'shiny-pony').getAttribute('aria-disabled'), 'true');
    assert.match(await page.locator('mozmarket-buy-button[product="shiny-pony"] [role="status"]').textContent(), /Purchase complete: Shiny Pony\./);
    // The receipt is in the local store the Verifier reads.
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('mozmarketReceipts') || '[]'));
    assert.deepEqual(stored, [purchase.receipt]);

    // ---- confirmation latency: postback accepted by the app server -> the button shows purchased.
    const acceptedAt = await until('the app server log line for the postback', () => postbackAcceptedAt(s, purchase.transactionID), 5000, 100, s.diag);
    const purchasedAt = evs.find((e) => e.type === 'statechange' && e.state === 'purchased').t;
    const waitingAt = evs.find((e) => e.type === 'statechange' && e.state === 'waiting').t;
    const latency = purchasedAt - acceptedAt;
    const requests = r.statusRequests.filter((q) => q.t >= waitingAt - 50).length;
    console.log(`e2e: confirmation latency: ${latency} ms (postback accepted -> purchased), requests: ${requests}`);
    await writeArtifact('latency.json', {
      latencyMs: latency,
      requests,
      what: 'wall-clock ms from the app server logging "notice applied" for the postback (tracing timestamp) to the widget\'s mozmarket-statechange to purchased (Date.now() in the page); requests = status requests (GET status, event stream) the widget sent from entering waiting',
      postbackAcceptedAt: new Date(acceptedAt).toISOString(),
      purchasedAt: new Date(purchasedAt).toISOString(),
      clickToPurchasedMs: purchasedAt - r.clickedAt,
      note: 'the first purchase on a fresh server (debug build), so it includes the marketplace certifying its first ephemeral receipt key',
      requestUrls: r.statusRequests.filter((q) => q.t >= waitingAt - 50).map((q) => new URL(q.url).pathname),
      transactionID: purchase.transactionID,
    });
    assert.ok(latency > -50, `the button cannot show purchased before the postback was accepted (${latency} ms)`);
    assert.ok(latency < 10000, `confirmation latency ${latency} ms`);
    assert.ok(requests >= 1, 'the widget asked the app server');

    // ---- the page: its own launch-time verification of the new receipt, the entitlement.
    await page.waitForFunction(() => document.getElementById('verify-state').className === 'ok', null, { timeout: 15000 });
    assert.equal(await state.textContent(), 'OK');
    assert.match(await page.locator('#verified-products').textContent(), /✓ shiny-pony/);
    await until('the entitlement on the demo page', async () =>
      (await page.locator('#entitlements').textContent()).includes(purchase.transactionID), 5000);
    assert.match(await page.locator('#purchase-log').textContent(), new RegExp(`confirmed: ${purchase.transactionID}`));
    await shot(page, 'purchased');
    await assertAccessible(page, 'the demo page, widget purchased');

    // ---- the server-issued receipt passes the strict Verifier with the root JWKS as its only keys.
    const jwks = await (await fetch(`${s.marketOrigin}/.well-known/jwks.json`)).json();
    const ok = await verifyInPage(page);
    assert.equal(ok.state, 'OK', ok.text);
    assert.equal(ok.errors.length, 0, JSON.stringify(ok.errors));
    assert.equal(ok.products.length, 1, JSON.stringify(ok.products));
    assert.equal(ok.products[0].url, s.appOrigin);
    assert.deepEqual(ok.trustedKids.slice().sort(), jwks.keys.map((k) => k.kid).sort());

    // ---- a relaunch: the host knows the product is owned, the widget renders purchased at mount.
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    await waitState(page, 'shiny-pony', 'purchased');
    await waitState(page, 'magical-unicorn', 'idle');
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

test('chargeback in the developer hub: launch verification reports Refunded, the Prompter shows the refunded text', { timeout: 120000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    const { purchase } = await buyWithPopup(page, 'magical-unicorn');
    const tid = purchase.transactionID;
    const state = page.locator('#verify-state');
    await page.waitForFunction(() => document.getElementById('verify-state').className === 'ok', null, { timeout: 15000 });

    // ---- Chargeback (reason reversal) in the hub's transactions page.
    const hub = await hubSignIn(ctx);
    await hub.goto(`${s.marketOrigin}/dev/transactions`);
    const row = hub.locator('tr', { hasText: tid });
    await row.waitFor();
    await Promise.all([
      hub.waitForURL(/\/dev\/transactions\/[^/?]+\?msg=refunded$/),
      row.locator('button', { hasText: /^Chargeback$/ }).click(),
    ]);
    assert.match(await hub.locator('.banner.ok').textContent(), /chargeback notice is queued/);
    await shot(hub, 'hub-chargeback');

    // ---- the chargeback reaches the app server: the entitlement is revoked.
    await until('the chargeback on the app server (entitlement revoked)', async () => {
      const e = await page.evaluate(async () => (await fetch('/mozpay/entitlements', { headers: { 'X-Mozmarket-Version': 'e2e', Accept: 'application/json' } })).json());
      return Array.isArray(e.products) && !e.products.some((p) => p.transactionID === tid);
    }, 30000, 300, s.diag);

    // ---- relaunch. The receipt-check cache still holds the "ok" stored during the refund window
    // (spec/receipts.md §5.5): the first relaunch shows OKCache, and no Prompter.
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.equal(await state.textContent(), 'OKCache');
    assert.equal(await page.locator('#moz-receiptverifier-overlay').count(), 0);
    // The product is no longer owned on the server: its button is idle again.
    await waitState(page, 'magical-unicorn', 'idle');

    // The strict Verifier asking the marketplace (no cache) reports the refund.
    const refunded = await verifyInPage(page);
    assert.equal(refunded.state, 'NoValidReceipts', refunded.text);
    assert.equal(refunded.errors.length, 1, JSON.stringify(refunded.errors));
    assert.equal(refunded.errors[0].name, 'Refunded', JSON.stringify(refunded.errors));
    assert.ok(refunded.errors[0].refunded);

    // ---- once the cached result is gone (as when it expires), the launch verification reports
    // the refund and the Prompter tells the buyer.
    await page.evaluate(async () => {
      const { Verifier, init } = await import('/pkg/full.js');
      await init();
      const config = await (await fetch('/demo/config.json')).json();
      new Verifier({ mode: 'strict', trustedKeys: config.trustedKeys, onlog: null }).clearCache();
    });
    await page.reload();
    await page.waitForSelector('html[data-ready="true"]');
    assert.match(await state.textContent(), /^NoValidReceipts/);
    assert.equal(await state.getAttribute('class'), 'bad');
    assert.match(await page.locator('#verified-products').textContent(), /✗ a receipt failed: Refunded/);
    const overlay = page.locator('#moz-receiptverifier-overlay');
    await overlay.waitFor({ timeout: 5000 });
    const dialog = page.locator('#moz-receiptverifier-overlay-message');
    assert.equal(await dialog.getAttribute('role'), 'dialog');
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    const text = await page.locator('#moz-receiptverifier-overlay-text').textContent();
    assert.match(text, /^You purchased this app, but then got a refund\.\s+If you still want to use the application, you must purchase the application again\.$/);
    assert.equal(await page.locator('#moz-receiptverifier-overlay-text a').getAttribute('href'), `${s.appOrigin}/#shop`);
    // Closable (allowNoInstall): the focus is in the dialog, the rest of the page is inert.
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'moz-receiptverifier-overlay-message');
    assert.equal(await page.evaluate(() => document.querySelector('main').inert), true);
    await shot(page, 'prompter');
    await assertAccessible(page, 'the demo page with the Prompter overlay');
    await page.keyboard.press('Escape');
    await overlay.waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.evaluate(() => document.querySelector('main').inert), false);
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

/**
 * A scripted stand-in for Firefox OS's trusted payment UI: `navigator.mozPay` on the app origin
 * returns a DOMRequest-like EventTarget and asks the test to open the pay URL in a new page of
 * the same context (no opener), where `navigator.mozPaymentProvider` is stubbed; the pay page's
 * paymentSuccess()/paymentFailed() then settle the DOMRequest in the app page (§5.6, §5.3).
 */
function mozPayStandIn({ appOrigin, marketOrigin }) {
  if (location.origin === appOrigin) {
    const requests = [];
    Object.defineProperty(window, '__mozPayRequests', { value: requests });
    Object.defineProperty(navigator, 'mozPay', {
      configurable: true,
      enumerable: true,
      value: function mozPay(jwts) {
        if (!Array.isArray(jwts) || typeof jwts[0] !== 'string') {
          throw new DOMException('no valid request', 'PAY_REQUEST_ERROR_NO_VALID_REQUEST_FOUND');
        }
        const req = new EventTarget();
        req.onsuccess = null;
        req.onerror = null;
        req.readyState = 'pending';
        req.result = undefined;
        req.error = null;
        requests.push({ req, jwts: jwts.slice() });
        window.__e2eMozPay(requests.length - 1, jwts[0]);
        return req;
      },
    });
    window.__e2eMozPaySettle = (id, r) => {
      const { req } = requests[id];
      req.readyState = 'done';
      let ev;
      if (r.status === 'ok') {
        req.result = true;
        ev = new Event('success');
      } else {
        req.error = { name: r.code, message: r.code };
        ev = new Event('error');
      }
      req.dispatchEvent(ev);
      const handler = r.status === 'ok' ? req.onsuccess : req.onerror;
      if (typeof handler === 'function') handler.call(req, ev);
    };
  } else if (location.origin === marketOrigin) {
    Object.defineProperty(navigator, 'mozPaymentProvider', {
      configurable: true,
      enumerable: true,
      value: {
        paymentSuccess() { window.__e2eMozPayResult({ status: 'ok' }); },
        paymentFailed(code) { window.__e2eMozPayResult({ status: 'failed', code }); },
      },
    });
  }
}

test('navigator.mozPay path (scripted trusted UI): no popup, the provider page reports through mozPaymentProvider, purchased', { timeout: 120000 }, async () => {
  const ctx = await newContext(browser);
  const flows = [];
  let appPage = null;
  try {
    await ctx.context.exposeBinding('__e2eMozPay', async (_src, id, jwt) => {
      const payUi = await ctx.context.newPage();
      flows.push({ id, jwt, payUi });
      await payUi.goto(`${s.marketOrigin}/mozpay/?req=${encodeURIComponent(jwt)}`);
    });
    await ctx.context.exposeBinding('__e2eMozPayResult', async ({ page }, result) => {
      const flow = flows.find((f) => f.payUi === page);
      if (!flow) return;
      flow.result = result;
      await appPage.evaluate(({ id, r }) => window.__e2eMozPaySettle(id, r), { id: flow.id, r: result });
      await page.close(); // the trusted UI closes itself
    });
    await ctx.context.addInitScript(mozPayStandIn, { appOrigin: s.appOrigin, marketOrigin: s.marketOrigin });
    appPage = await openDemo(ctx, s);
    const popups = [];
    appPage.on('popup', (p) => popups.push(p));
    await waitState(appPage, 'shiny-pony', 'idle');
    await mainButton(appPage, 'shiny-pony').click();
    await until('the trusted pay UI', () => flows.length === 1 && flows[0].payUi, 15000);
    const payUi = flows[0].payUi;
    await payUi.locator('#confirm').waitFor();
    await waitState(appPage, 'shiny-pony', 'paying');
    assert.equal(await payUi.evaluate(() => window.opener), null, 'the trusted UI has no opener');
    await payUi.locator('#confirm').click();
    await waitState(appPage, 'shiny-pony', 'purchased', 30000);
    assert.deepEqual(flows[0].result, { status: 'ok' });
    assert.equal(popups.length, 0, 'no window is opened on the mozPay path');
    const evs = await events(appPage);
    assert.deepEqual(statesOf(evs, 'shiny-pony'), ['preparing', 'paying', 'waiting', 'installing', 'verifying', 'purchased']);
    const purchase = evs.find((e) => e.type === 'purchase');
    assert.ok(purchase, JSON.stringify(evs.map(brief)));
    assert.match(purchase.transactionID, /^simulate:/);
    assert.deepEqual(purchase.verification, { local: 'ok', store: 'ok' });
    // The pay JWT the widget handed to mozPay is the app server's, for this product.
    const payload = JSON.parse(Buffer.from(flows[0].jwt.split('.')[1], 'base64url').toString('utf8'));
    assert.equal(payload.typ, 'mozilla/payments/pay/v1');
    assert.equal(payload.request.id, 'shiny-pony');
    await appPage.waitForFunction(() => document.getElementById('verify-state').className === 'ok', null, { timeout: 15000 });
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

test('the buyer presses Cancel on the pay page → cancelled (USER_CANCELLED), popup closed by the widget', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    const popup = await clickBuy(page, 'magical-unicorn');
    await payPage(popup, s);
    await popup.locator('#cancel').waitFor();
    await waitState(page, 'magical-unicorn', 'paying');
    const closed = popup.waitForEvent('close', { timeout: 10000 });
    await popup.locator('#cancel').click();
    await waitState(page, 'magical-unicorn', 'cancelled');
    await closed;
    const evs = await events(page);
    const cancelled = evs.filter((e) => e.type === 'cancelled');
    assert.equal(cancelled.length, 1, JSON.stringify(evs.map(brief)));
    assert.equal(cancelled[0].reason, 'USER_CANCELLED');
    assert.equal(cancelled[0].error.name, 'UserCancelled');
    assert.equal(cancelled[0].error.code, 'USER_CANCELLED');
    assert.deepEqual(evs.filter((e) => e.type === 'failed' || e.type === 'purchase'), []);
    assert.deepEqual(statesOf(evs, 'magical-unicorn'), ['preparing', 'paying', 'cancelled']);
    // The idle text again, enabled, the polite announcement.
    const main = mainButton(page, 'magical-unicorn');
    assert.equal(await main.textContent(), 'Buy Magical Unicorn');
    assert.notEqual(await main.getAttribute('aria-disabled'), 'true');
    assert.match(await page.locator('mozmarket-buy-button[product="magical-unicorn"] [role="status"]').textContent(), /Payment cancelled\./);
    // §7.10: entering cancelled focuses the main button (focus was inside the widget).
    assert.equal(await page.evaluate(() => {
      const host = document.querySelector('mozmarket-buy-button[product="magical-unicorn"]');
      return document.activeElement === host && host.shadowRoot.activeElement && host.shadowRoot.activeElement.className;
    }), 'mozmarket-buy-main');
    await shot(page, 'cancelled');
    await assertAccessible(page, 'the demo page, widget cancelled');
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

test('the buyer closes the pay window → after the 3 s grace, cancelled (DIALOG_CLOSED_BY_USER)', { timeout: 60000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    const popup = await clickBuy(page, 'shiny-pony');
    await payPage(popup, s);
    await popup.locator('#confirm').waitFor();
    await waitState(page, 'shiny-pony', 'paying');
    const closedAt = Date.now();
    await popup.close();
    await waitState(page, 'shiny-pony', 'cancelled', 15000);
    const evs = await events(page);
    const cancelled = evs.filter((e) => e.type === 'cancelled');
    assert.equal(cancelled.length, 1, JSON.stringify(evs.map(brief)));
    assert.equal(cancelled[0].reason, 'DIALOG_CLOSED_BY_USER');
    assert.equal(cancelled[0].error.name, 'PayWindowClosedByUser');
    assert.equal(cancelled[0].error.code, 'DIALOG_CLOSED_BY_USER');
    // The grace period runs in `waiting` (§5.5) and lasts closedGraceMs = 3000.
    assert.deepEqual(statesOf(evs, 'shiny-pony'), ['preparing', 'paying', 'waiting', 'cancelled']);
    const waitingAt = evs.find((e) => e.type === 'statechange' && e.state === 'waiting').t;
    const graceMs = cancelled[0].t - waitingAt;
    assert.ok(graceMs >= 2900 && graceMs < 8000, `grace ${graceMs} ms`);
    assert.ok(cancelled[0].t - closedAt >= 2900, `cancelled ${cancelled[0].t - closedAt} ms after the close`);
    assert.deepEqual(evs.filter((e) => e.type === 'failed' || e.type === 'purchase'), []);
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

test('a postMessage from a foreign origin is ignored: one UNKNOWN_MESSAGE_ORIGIN warning, still paying, then the purchase completes', { timeout: 90000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    const statusRequests = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname.includes('/status/')) statusRequests.push(r.url()); });
    const popup = await clickBuy(page, 'shiny-pony');
    await payPage(popup, s);
    await popup.locator('#confirm').waitFor();
    await waitState(page, 'shiny-pony', 'paying');
    // A window on another origin (evil.test is 127.0.0.1 too) that the app page opened, so that
    // it can reach the opener: it posts the pay page's success message.
    const evilOrigin = `http://evil.test:${s.appPort}`;
    const [evil] = await Promise.all([
      page.waitForEvent('popup'),
      page.evaluate((u) => { window.open(u, 'e2e-evil'); }, `${evilOrigin}/www/demo.css`),
    ]);
    await evil.waitForLoadState('domcontentloaded');
    assert.equal(await evil.evaluate(() => location.origin), evilOrigin);
    await evil.evaluate(() => window.opener.postMessage({ status: 'ok' }, '*'));
    await until('the UNKNOWN_MESSAGE_ORIGIN warning', async () =>
      (await events(page)).some((e) => e.type === 'warning'), 5000, 100);
    // A second forged message in the same attempt: ignored without a second warning.
    await evil.evaluate(() => window.opener.postMessage({ status: 'ok' }, '*'));
    await sleep(1000);
    let evs = await events(page);
    const warnings = evs.filter((e) => e.type === 'warning');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.equal(warnings[0].error.name, 'UnknownMessageOrigin');
    assert.equal(warnings[0].error.code, 'UNKNOWN_MESSAGE_ORIGIN');
    assert.equal(warnings[0].error.detail.origin, evilOrigin);
    assert.equal(warnings[0].productId, 'shiny-pony');
    assert.equal(await container(page, 'shiny-pony').getAttribute('data-state'), 'paying');
    assert.deepEqual(statesOf(evs, 'shiny-pony'), ['preparing', 'paying']);
    assert.deepEqual(statusRequests, [], 'a forged message triggers no status request');
    await evil.close();
    // The real pay page still finishes the purchase.
    await popup.locator('#confirm').click();
    await waitState(page, 'shiny-pony', 'purchased', 30000);
    evs = await events(page);
    assert.equal(evs.filter((e) => e.type === 'purchase').length, 1);
    assert.equal(evs.filter((e) => e.type === 'warning').length, 1);
    assertClean(ctx);
  } finally {
    await ctx.close();
  }
});

test('strict CSP page (/strict.html, Trusted Types): a full purchase with no securitypolicyviolation', { timeout: 90000 }, async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.context.newPage();
    const res = await page.goto(`${s.appOrigin}/strict.html`);
    assert.equal(res.headers()['content-security-policy'],
      `default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' ${s.marketOrigin}; require-trusted-types-for 'script'`);
    await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
    const main = page.locator('#buy .mozmarket-buy-main');
    await page.locator('#buy .mozmarket-buy[data-state="idle"]').waitFor();
    assert.equal(await main.textContent(), 'Buy Shiny Pony');
    // Inline script and eval are refused on this page (the policy is live), without a report from
    // the widget's own code.
    const [popup] = await Promise.all([page.waitForEvent('popup'), main.click()]);
    await payPage(popup, s);
    await popup.locator('#confirm').click();
    await page.locator('#buy .mozmarket-buy[data-state="purchased"]').waitFor({ timeout: 30000 });
    assert.match(await page.locator('#result').textContent(), /^purchased shiny-pony: simulate:/);
    assert.equal(await page.evaluate(() => window.mozmarketStrictButton.state), 'purchased');
    await shot(page, 'strict-purchased');
    const evs = await events(page);
    assert.deepEqual(statesOf(evs), ['preparing', 'paying', 'waiting', 'installing', 'verifying', 'purchased']);
    assert.deepEqual(ctx.violations, [], `securitypolicyviolation events: ${JSON.stringify(ctx.violations)}`);
    assert.deepEqual(ctx.pageErrors, []);
    assert.deepEqual(ctx.consoleErrors, []);
    // The policy is live and the listener hears it: an image from another origin is refused and
    // reported (and that is the only report).
    await page.evaluate((u) => {
      const img = new Image();
      img.alt = '';
      img.src = u;
      document.body.appendChild(img);
    }, `http://evil.test:${s.appPort}/favicon.ico`);
    await until('the probe\'s securitypolicyviolation', () => ctx.violations.length > 0, 5000, 100);
    assert.ok(ctx.violations.every((v) => /^img-src/.test(v.directive) && v.blocked.startsWith('http://evil.test')), JSON.stringify(ctx.violations));
  } finally {
    await ctx.close();
  }
});
