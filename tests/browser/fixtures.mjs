// Test receipts, signed here with node:crypto (ES256 / P-256, JWS signature = raw r||s), so the
// browser tests do not depend on our own Rust signer. Shapes follow spec §9.1 (baseline B), with
// the issuer and verify URLs on the local test server.
import { generateKeyPairSync, sign, randomBytes } from 'node:crypto';

export const T = 1700000000000;
export const t = T / 1000;
export const DAY = 86400000;

export const b64u = (x) => Buffer.from(typeof x === 'string' ? x : x).toString('base64url');
const seg = (obj) => b64u(JSON.stringify(obj));

/** A P-256 key pair with its public JWK (kid set). */
export function ecKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid } };
}

/** Compact JWS over `header.payload` with ES256 (IEEE P1363 signature). */
export function jws(header, payload, privateKey) {
  const input = seg(header) + '.' + seg(payload);
  const sig = sign('sha256', Buffer.from(input, 'ascii'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return input + '.' + b64u(sig);
}

export const KEYS_URL = 'https://keys.store.example/root.jwk';

/**
 * Keys R (root) and K (signing), certificate C and a receipt factory for issuer `iss` (the test
 * server origin). `receipt(overrides, {store})` returns `C~J` whose verify URL is
 * `${iss}/store/${store}` unless `overrides.verify` is given.
 */
export function makeFixture(iss) {
  const R = ecKey('root-1');
  const K = ecKey('sign-1');
  const certPayload = (over) => ({
    typ: 'certified-key',
    iss: KEYS_URL,
    jwk: [K.jwk],
    iat: t - 86400,
    nbf: t - 86400,
    exp: t + 31536000,
    ...over,
  });
  const cert = (over = {}, rootKey = R) => jws({ alg: 'ES256', kid: 'root-1' }, certPayload(over), rootKey.privateKey);
  const C = cert();
  const payload = (over = {}, store = 'ok') => ({
    typ: 'purchase-receipt',
    product: { url: 'https://app.example', storedata: 'id=1' },
    user: { type: 'directed-identifier', value: 'u-1' },
    iss,
    verify: `${iss}/store/${store}`,
    iat: t - 3600,
    nbf: t - 3600,
    exp: t + 2592000,
    ...over,
  });
  const jwt = (over = {}, store = 'ok', key = K) =>
    jws({ alg: 'ES256', typ: 'JWT', kid: 'sign-1' }, payload(over, store), key.privateKey);
  const receipt = (over = {}, { store = 'ok', certificate = C, key = K } = {}) =>
    certificate + '~' + jwt(over, store, key);
  /** A receipt whose J payload was changed after signing (bad signature). */
  const forged = (store = 'ok') => {
    const good = receipt({}, { store });
    const [c, j] = good.split('~');
    const [h, , s] = j.split('.');
    const p = seg(payload({ product: { url: 'https://app.example', storedata: 'id=2' } }, store));
    return c + '~' + h + '.' + p + '.' + s;
  };
  /** An unsigned-style receipt for compat tests (header/signature never read there). */
  const unsigned = (over = {}, store = 'ok') =>
    seg({ alg: 'ES256', typ: 'JWT' }) + '.' + seg(payload(over, store)) + '.' + b64u(randomBytes(64));
  return {
    R,
    K,
    C,
    iss,
    cert,
    payload,
    receipt,
    forged,
    unsigned,
    trustedKeys: { keys: [R.jwk] },
    /** Baseline B options (JSON-able; `now` is added in the page). */
    strictOptions: (receipts, extra = {}) => ({
      trustedKeys: { keys: [R.jwk] },
      installs_allowed_from: [iss],
      productURL: 'https://app.example',
      receipts,
      cacheStorage: null,
      receiptStorage: null,
      ...extra,
    }),
    /** B-C options. */
    compatOptions: (receipts, extra = {}) => ({
      installs_allowed_from: [iss],
      productURL: 'https://app.example',
      receipts,
      cacheStorage: null,
      receiptStorage: null,
      ...extra,
    }),
  };
}

/** A cache entry text as §5.5 stores it. */
export const cacheEntry = (created, result = { status: 'ok' }) => JSON.stringify({ created, result });

// ---------------------------------------------------------------------------------------------
// Pay widget fixtures (payments §3, §6.2–§6.4): pay JWTs and a simulated provider that issues
// `cert~receipt` chains the way the store does, for tests/browser/widget*.test.mjs.
// ---------------------------------------------------------------------------------------------
import { createHmac, randomUUID } from 'node:crypto';

/** The pay request `typ` (payments §0.1). */
export const PAY_TYP = 'mozilla/payments/pay/v1';

/** An HS256 compact JWT (the widget decodes pay JWTs without checking their signature). */
export function hs256Jwt(payload, secret = 'not-the-app-secret-but-32-bytes-long!', header = { alg: 'HS256', typ: 'JWT' }) {
  const input = seg(header) + '.' + seg(payload);
  return input + '.' + createHmac('sha256', secret).update(input).digest('base64url');
}

/**
 * A pay JWT (payments §3.2) for `productId`: `request` members are merged over the defaults,
 * `claims` over the top-level claims (a `null` value removes a member).
 */
export function payJwt(productId, { request = {}, claims = {}, orderId = randomUUID(), now = Math.floor(Date.now() / 1000) } = {}) {
  const strip = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));
  return hs256Jwt(
    strip({
      iss: '8e6b1f9e-2f4a-4b8e-9d2c-5b1a7c3e9f10',
      aud: '127.0.0.1:7802',
      typ: PAY_TYP,
      iat: now,
      exp: now + 3600,
      request: strip({
        id: productId,
        pricePoint: '5',
        name: 'Magical Unicorn',
        description: 'Adventure Game item',
        postbackURL: 'http://localhost:7801/mozpay/postback',
        chargebackURL: 'http://localhost:7801/mozpay/chargeback',
        productData: `mm_order=${orderId}`,
        ...request,
      }),
      ...claims,
    }),
  );
}

/** A P-256 key with the public JWK a provider publishes (`alg`, `use`, `kid`; payments §6.3). */
export function providerKey(kid) {
  const k = ecKey(kid);
  return { privateKey: k.privateKey, jwk: { ...k.jwk, alg: 'ES256', use: 'sig' } };
}

/**
 * A simulated provider at `origin` (payments §6.2–§6.4): a root key, an ephemeral key certified
 * by it, the root document, and `receipt(...)` issuing `<certificate JWT>~<receipt JWT>` with the
 * store's exact claims. Times are seconds around `now` (default: the real clock).
 */
export function makeProvider(origin, { now = () => Math.floor(Date.now() / 1000) } = {}) {
  const root = providerKey('root-20260101-3fa2');
  const eph = providerKey('eph-20260101-7c1d');
  const rootDocumentUrl = `${origin}/public_keys/root.jwk`;
  /** A certificate of `key` signed by `signer`; `over` is merged over the payload. */
  const certificate = ({ over = {}, signer = root, key = eph, kid = signer.jwk.kid } = {}) => {
    const iat = now() - 86400;
    return jws(
      { alg: 'ES256', typ: 'JWT', kid },
      {
        typ: 'certified-key',
        iss: rootDocumentUrl,
        jwk: [key.jwk],
        iat,
        nbf: iat,
        exp: iat + 213 * 86400,
        price_limit: 1000,
        ...over,
      },
      signer.privateKey,
    );
  };
  /**
   * A receipt (payments §6.2) for `productId` bought on `appOrigin`. `test` issues a
   * `test-receipt` verified at `/receipts/verify/test`; `over` is merged over the payload;
   * `cert` replaces the certificate; `key` signs the receipt JWT.
   */
  const receipt = ({ productId, appOrigin, test = false, over = {}, cert, key = eph, user = randomUUID(), contrib = 42, appId = 7 } = {}) => {
    const iat = now() - 60;
    const txn = randomUUID();
    const payload = {
      typ: test ? 'test-receipt' : 'purchase-receipt',
      product: {
        url: appOrigin,
        storedata: `id=${appId}&contrib=${contrib}&inapp_id=${encodeURIComponent(productId).replace(/%20/g, '+')}`,
      },
      user: { type: 'directed-identifier', value: user },
      iss: origin,
      verify: `${origin}/receipts/verify${test ? '/test' : ''}`,
      detail: `${origin}/receipts/detail/${txn}`,
      reissue: `${origin}/receipts/reissue`,
      iat,
      nbf: iat,
      exp: iat + 15724800,
      ...over,
    };
    const j = jws({ alg: 'ES256', typ: 'JWT', kid: key.jwk.kid }, payload, key.privateKey);
    return (cert || certificate()) + '~' + j;
  };
  return {
    origin,
    root,
    eph,
    rootDocumentUrl,
    /** `GET /public_keys/root.jwk` (payments §6.4). */
    rootDocument: () => JSON.stringify({ jwk: [root.jwk] }),
    certificate,
    receipt,
  };
}

/** A lowercase hyphenated UUID v4. */
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// ---------------------------------------------------------------------------------------------
// The widget tests' browser world: a fresh context whose app server endpoints (on the test
// server's origin, the page's own) and provider (https://pay.test) are answered by
// context.route(), so popups are covered too. Nothing here touches the real network.
// ---------------------------------------------------------------------------------------------

export const PROVIDER_ORIGIN = 'https://pay.test';
export const EVIL_ORIGIN = 'https://evil.example';
export const PRODUCT = 'shiny-pony';

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/** `text/event-stream` body: `retry: 2000`, then one `status` event per object. */
export function sseBody(...statuses) {
  return 'retry: 2000\n\n' + statuses.map((s) => `event: status\ndata: ${JSON.stringify(s)}\n\n`).join('');
}

/** A JSON answer for a world handler. */
export const json = (status, body, headers = {}) => ({ status, body: JSON.stringify(body), contentType: 'application/json', headers });

/** A deferred answer: `d.promise` resolves with what `d.resolve(answer)` is given. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Opens the world. `env` is harness.mjs's setup() result. Options: `locale` (context locale),
 * `clock` (install Playwright's fake clock before the page loads), `sse` (the buy answer offers
 * `statusEventsURL`), `initScripts` (functions, or `[function, arg]`, run before every document,
 * popups included), `contextOptions` (more browser.newContext options, e.g. `userAgent`),
 * `pageFile` (the test page under tests/browser/pages/).
 *
 * Handlers (`w.onBuy`, `w.onStatus`, `w.onEvents`, `w.onRestore`, `w.onVerify`, `w.onRoot`,
 * `w.onEvil`) answer with `{status, body, contentType, headers}`, `{abort: 'failed'}`, `'hang'`,
 * or a promise of one of these; replace them per test.
 */
export async function openWidgetWorld(env, { locale = 'en-US', clock = false, sse = false, initScripts = [], pageFile = 'widget.html', contextOptions = {} } = {}) {
  const app = env.srv.origin;
  const provider = makeProvider(PROVIDER_ORIGIN);
  const context = await env.browser.newContext({ locale, ...contextOptions });
  const w = {
    app,
    provider,
    context,
    page: null,
    requests: [],
    orders: [],
    popups: [],
    pageErrors: [],
    sse,
    /** What the pay page posts to its opener on load (null: nothing; the test drives it). */
    payAuto: { status: 'ok' },
    /** The pay page posts {status:"unloaded"} at pagehide, as the provider's does (§5.4). */
    payUnloaded: true,
    /** Members merged over the pay JWT's `request`. */
    jwtRequest: {},
    /** Top-level claims merged over the pay JWT's. */
    jwtClaims: {},
    /** The receipt a `complete` status carries for an order. */
    receiptFor: (order) => provider.receipt({ productId: order.productId, appOrigin: app }),
  };

  const record = (request, extra = {}) => {
    const u = new URL(request.url());
    const entry = {
      method: request.method(),
      url: request.url(),
      origin: u.origin,
      path: u.pathname,
      search: u.search,
      headers: request.headers(),
      body: request.postData(),
      t: Date.now(),
      ...extra,
    };
    w.requests.push(entry);
    return entry;
  };

  const respond = async (route, answerOrPromise, cors) => {
    const answer = await answerOrPromise;
    if (answer === 'hang') return;
    if (answer && answer.abort) {
      await route.abort(answer.abort).catch(() => {});
      return;
    }
    const headers = { ...(cors ? { 'Access-Control-Allow-Origin': '*' } : {}), 'Cache-Control': 'no-store', ...(answer.headers || {}) };
    await route
      .fulfill({
        status: answer.status,
        headers,
        contentType: answer.contentType || 'application/json',
        body: answer.body === undefined ? '' : answer.body,
      })
      .catch(() => {});
  };

  // The app server (§2.2–§2.6), on the page's own origin.
  w.onBuy = (req, n, productId) => {
    const orderId = randomUUID();
    const jwt = payJwt(productId, { orderId, request: w.jwtRequest, claims: w.jwtClaims });
    const order = { orderId, productId, jwt };
    w.orders.push(order);
    const body = {
      orderId,
      productId,
      jwt,
      statusURL: `/mozpay/status/${orderId}`,
      simulated: false,
    };
    if (w.sse) body.statusEventsURL = `/mozpay/status/${orderId}/events`;
    return json(201, body, { Location: body.statusURL });
  };
  /** A `complete` status answer with the order's receipt (§2.3). */
  w.complete = (order) => json(200, {
    status: 'complete',
    receipt: (order.receipt ||= w.receiptFor(order)),
    productId: order.productId,
    transactionID: (order.transactionID ||= `webpay:${randomUUID()}`),
  });
  w.onStatus = (req, n, order) => w.complete(order);
  w.onEvents = (req, n, order) => ({
    status: 200,
    contentType: 'text/event-stream',
    headers: { 'X-Accel-Buffering': 'no' },
    body: sseBody(JSON.parse(w.complete(order).body)),
  });
  w.onRestore = () => json(200, { receipts: [] });
  const orderOf = (id) => w.orders.find((o) => o.orderId === id) || { orderId: id, productId: PRODUCT };
  await context.route(
    (url) => url.origin === app && url.pathname.startsWith('/mozpay/'),
    async (route) => {
      const request = route.request();
      const entry = record(request, { kind: 'app' });
      const p = entry.path;
      let m;
      if ((m = /^\/mozpay\/product\/([^/]+)\/buy$/.exec(p))) {
        entry.kind = 'buy';
        const n = w.requests.filter((r) => r.kind === 'buy').length;
        return respond(route, w.onBuy(entry, n, decodeURIComponent(m[1])));
      }
      if ((m = /\/status\/([^/]+)\/events$/.exec(p))) {
        entry.kind = 'events';
        const n = w.requests.filter((r) => r.kind === 'events').length;
        return respond(route, w.onEvents(entry, n, orderOf(m[1])));
      }
      if ((m = /\/status\/([^/]+)$/.exec(p))) {
        entry.kind = 'status';
        const n = w.requests.filter((r) => r.kind === 'status').length;
        return respond(route, w.onStatus(entry, n, orderOf(m[1])));
      }
      if (p === '/mozpay/receipts') {
        entry.kind = 'restore';
        return respond(route, w.onRestore(entry));
      }
      return respond(route, json(404, { error_code: 'NOT_FOUND', error: 'not found' }));
    },
  );
  // Routes for app endpoints outside /mozpay/ (custom buyUrl / statusURL tests).
  w.extraApp = [];
  await context.route(
    (url) => url.origin === app && w.extraApp.some(([prefix]) => url.pathname.startsWith(prefix)),
    async (route) => {
      const entry = record(route.request(), { kind: 'extra' });
      const [, handler] = w.extraApp.find(([prefix]) => entry.path.startsWith(prefix));
      return respond(route, handler(entry));
    },
  );

  // The provider (§5.3, §6.4, §6.5).
  const payScript = (auto) => `(function () {
  'use strict';
  var APP = ${JSON.stringify(app)};
  window.sent = [];
  window.send = function (msg, target) {
    window.sent.push(msg);
    window.opener.postMessage(msg, target || APP);
  };
  window.addEventListener('pagehide', function () {
    if (${w.payUnloaded ? 'true' : 'false'} && window.opener) window.opener.postMessage({ status: 'unloaded' }, APP);
  });
  var AUTO = ${JSON.stringify(auto)};
  if (AUTO && window.opener) window.send(AUTO);
})();`;
  const html = (title, scriptSrc, bodyText) =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
    (scriptSrc ? `<script src="${scriptSrc}"></script>` : '') +
    `</head><body><h1>${bodyText}</h1></body></html>`;
  w.onVerify = () => json(200, { status: 'ok' });
  w.onRoot = () => ({ status: 200, body: provider.rootDocument(), contentType: 'application/json', headers: { 'Cache-Control': 'public, max-age=3600' } });
  const verifyHeaders = {
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': 'content-type, x-fxpay-version, x-mozmarket-version',
    'Cache-Control': 'no-cache',
  };
  await context.route(
    (url) => url.origin === PROVIDER_ORIGIN,
    async (route) => {
      const request = route.request();
      const entry = record(request, { kind: 'provider' });
      const p = entry.path;
      if (request.method() === 'OPTIONS') {
        entry.kind = 'preflight';
        return respond(route, { status: 204, headers: verifyHeaders }, true);
      }
      if (p === '/mozpay/' || p === '/mozpay/success') {
        entry.kind = p === '/mozpay/' ? 'pay' : 'pay-success';
        if (p === '/mozpay/success') {
          return respond(route, { status: 200, contentType: 'text/html', body: html('Payment complete', '/pay-page.js?success', 'Payment complete.') });
        }
        return respond(route, { status: 200, contentType: 'text/html', body: html('Payment — Magical Unicorn', '/pay-page.js', 'Confirm') });
      }
      if (p === '/pay-page.js') {
        entry.kind = 'pay-script';
        const script = payScript(entry.search === '?success' ? (w.successAuto === undefined ? null : w.successAuto) : w.payAuto);
        return respond(route, { status: 200, contentType: 'text/javascript', body: script });
      }
      if (p === '/other-window.html') {
        entry.kind = 'other-window';
        const body = html('Other window', '/other-window.js', 'Other window');
        return respond(route, { status: 200, contentType: 'text/html', body });
      }
      if (p === '/other-window.js') {
        return respond(route, {
          status: 200,
          contentType: 'text/javascript',
          body: `window.parent.postMessage({ status: 'ok' }, ${JSON.stringify(app)});`,
        });
      }
      if (p === '/public_keys/root.jwk') {
        entry.kind = 'root';
        return respond(route, w.onRoot(entry), true);
      }
      if (p === '/receipts/verify' || p === '/receipts/verify/test') {
        entry.kind = 'verify';
        const a = await w.onVerify(entry);
        if (a === 'hang' || (a && a.abort)) return respond(route, a, true);
        return respond(route, { ...a, headers: { ...verifyHeaders, ...(a.headers || {}) } }, true);
      }
      return respond(route, { status: 404, contentType: 'text/plain', body: 'not found' }, true);
    },
  );
  w.onEvil = (entry) => {
    if (entry.path === '/evil.html') {
      return { status: 200, contentType: 'text/html', body: html('Evil', '/evil.js', 'Evil') };
    }
    if (entry.path === '/evil.js') {
      return {
        status: 200,
        contentType: 'text/javascript',
        body: "(window.opener || window.parent).postMessage({ status: 'ok' }, '*');",
      };
    }
    return json(200, { status: 'ok' });
  };
  await context.route(
    (url) => url.origin === EVIL_ORIGIN,
    async (route) => {
      const entry = record(route.request(), { kind: 'evil' });
      return respond(route, w.onEvil(entry), true);
    },
  );

  for (const s of initScripts) await (Array.isArray(s) ? context.addInitScript(s[0], s[1]) : context.addInitScript(s));
  if (clock) {
    await context.clock.install({ time: Date.now() });
    // Playwright's fake clock hands out timer ids from 1e12 up, outside WebIDL `long`; web-sys
    // reads setTimeout's result as an i32, so clearTimeout would miss every fake timer (and the
    // dropped wasm closure would still be called). Browsers give small ids: map them back.
    await context.addInitScript(() => {
      const st = window.setTimeout;
      const ct = window.clearTimeout;
      const ids = new Map();
      let next = 1;
      window.setTimeout = function (f, delay, ...args) {
        const small = next++;
        ids.set(small, st.call(window, (...x) => {
          ids.delete(small);
          if (typeof f === 'function') f(...x);
        }, delay, ...args));
        return small;
      };
      window.clearTimeout = function (small) {
        const id = ids.get(small);
        if (id !== undefined) {
          ids.delete(small);
          ct.call(window, id);
        }
      };
    });
  }
  context.on('page', (p) => {
    p.on('pageerror', (e) => w.pageErrors.push(`${p.url()}: ${e && e.message}`));
  });
  const page = await context.newPage();
  w.page = page;
  page.on('popup', (p) => w.popups.push(p));
  await page.goto(env.srv.url('/pages/' + pageFile));
  await until('the widget page to load', () => page.evaluate(() => window.mmReady === true), 15000);

  // --- helpers ----------------------------------------------------------------------------
  w.eval = (fn, arg) => page.evaluate(fn, arg);
  /** Buy button options: productId and providerOrigin, plus `options`. */
  w.options = (options = {}) => ({ productId: PRODUCT, providerOrigin: PROVIDER_ORIGIN, ...options });
  w.mount = (options = {}, opts = {}) => page.evaluate(([o, x]) => window.W.mount('buy', o, x), [w.options(options), opts]);
  w.mountRaw = (kind, options, opts = {}) => page.evaluate(([k, o, x]) => window.W.mount(k, o, x), [kind, options, opts]);
  w.state = () => page.evaluate(() => window.W.state());
  w.snapshot = () => page.evaluate(() => window.W.snapshot());
  w.views = () => page.evaluate(() => window.W.views);
  w.events = (type) => page.evaluate((t) => (t ? window.W.eventsOf(t) : window.W.events), type);
  w.fetches = () => page.evaluate(() => window.W.fetches);
  w.opens = () => page.evaluate(() => window.W.opens);
  w.storedReceipts = (key) => page.evaluate((k) => window.W.receipts(k), key);
  w.of = (kind) => w.requests.filter((r) => r.kind === kind);
  w.until = (what, fn, timeoutMs = 10000) => until(what, fn, timeoutMs, () => w.diag());
  w.diag = async () => {
    try {
      return `\n  state: ${await w.state()}\n  events: ${JSON.stringify((await w.events()).map((e) => e.type + (e.detail && e.detail.state ? ':' + e.detail.state : '') + (e.detail && e.detail.code ? ':' + e.detail.code : '')))}\n  requests: ${JSON.stringify(w.requests.map((r) => `${r.kind} ${r.method} ${r.path}`))}\n  pageErrors: ${JSON.stringify(w.pageErrors)}`;
    } catch (e) {
      return `\n  (no diagnostics: ${e.message})`;
    }
  };
  /** Waits until the widget is in `state`. */
  w.waitState = (state, timeoutMs = 10000) => w.until(`state ${state}`, async () => (await w.state()) === state, timeoutMs);
  /** Waits until the rendered DOM shows `state` (yew renders asynchronously). */
  w.waitView = async (state, timeoutMs = 10000) => {
    let s;
    await w.until(`view ${state}`, async () => {
      s = await w.snapshot();
      return s && s.state === state;
    }, timeoutMs);
    return s;
  };
  /** Activates the main button with a real click; resolves with the popup (or null). */
  w.clickBuy = async (selector = '.mozmarket-buy-main', { popupWaitMs = 1000 } = {}) => {
    const before = w.popups.length;
    await page.locator(selector).click();
    const end = Date.now() + popupWaitMs;
    while (w.popups.length === before && Date.now() < end) await wait(20);
    return w.popups.length > before ? w.popups[w.popups.length - 1] : null;
  };
  /** Waits until `popup` shows the pay page. */
  w.payPage = async (popup) => {
    await w.until('the pay page in the popup', () => !popup.isClosed() && popup.url().startsWith(`${PROVIDER_ORIGIN}/mozpay/`), 10000);
    await popup.waitForLoadState('load');
    return popup;
  };
  /** Posts `msg` from the pay page in `popup` to its opener (targetOrigin: the app origin). */
  w.send = (popup, msg, target) => popup.evaluate(([m, t]) => window.send(m, t), [msg, target]);
  w.closed = (popup) => w.until('the popup to close', () => popup.isClosed(), 5000);
  w.cspViolations = () => page.evaluate(() => window.W.cspViolations());
  /** The end of a test: no CSP violation, no uncaught page error; closes the context. */
  w.finish = async () => {
    const violations = await w.cspViolations().catch(() => []);
    const errors = w.pageErrors.slice();
    await context.close().catch(() => {});
    if (violations.length || errors.length) {
      throw new Error(`securitypolicyviolation events: ${JSON.stringify(violations)}; page errors: ${JSON.stringify(errors)}`);
    }
  };
  w.close = () => context.close().catch(() => {});
  return w;
}

/** Polls `fn` until it returns a truthy value; throws after `timeoutMs`. */
export async function until(what, fn, timeoutMs = 10000, diag = async () => '') {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await wait(20);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}${await diag()}`);
}

export { wait as sleep };

/** The English UI strings of payments §7.9 (exact text). */
export const EN = {
  buy: 'Buy',
  buy_named: 'Buy {name}',
  preparing: 'Preparing…',
  preparing_status: 'Preparing your purchase…',
  popup_loading: 'Loading payment…',
  paying: 'Paying…',
  paying_status: 'Complete the payment for {name} in the payment window.',
  popup_blocked_status: 'The payment window was blocked. Select “Open payment window” to continue.',
  open_payment_window: 'Open payment window',
  cancel: 'Cancel',
  waiting: 'Confirming…',
  waiting_status: 'Waiting for the payment to be confirmed…',
  finishing: 'Finishing…',
  installing_status: 'Saving your receipt…',
  verifying_status: 'Checking your receipt…',
  purchased: 'Purchased',
  purchased_status: 'Purchase complete: {name}.',
  test_badge: 'Test purchase',
  cancelled_status: 'Payment cancelled.',
  retry: 'Try again',
  error_code: 'Error code: {code}',
  err_network: 'Could not reach the server. Check your connection and try again.',
  err_server: 'The store server sent an unexpected answer. Please try again later.',
  err_payment: 'The payment failed. You have not been charged.',
  err_unconfirmed: 'The payment could not be confirmed. If you were charged, select “Restore purchases” later.',
  err_timeout: 'The payment is taking longer than expected. If you were charged, select “Restore purchases” later.',
  err_refunded: 'This payment was refunded or reversed.',
  err_receipt: 'Your purchase could not be verified. Please contact support.',
  err_unavailable: 'Purchases are not available right now.',
  restore: 'Restore purchases',
  restoring: 'Restoring…',
  restored_status: 'Purchases restored: {count}.',
  restored_none: 'No purchases to restore.',
};

/**
 * Waits for `failed` and checks the single `mozmarket-failed` event, the §7.6 error object and
 * the alert (§7.2: message key, then `error_code`; the button shows `retry`). Returns the event
 * detail. `expected` is `{name, code, detail?, key}` (`detail` compared exactly when given).
 */
export async function expectFailed(w, expected) {
  await w.waitState('failed');
  const { default: assert } = await import('node:assert/strict');
  const failed = await w.events('mozmarket-failed');
  assert.equal(failed.length, 1, 'exactly one mozmarket-failed');
  const d = failed[0].detail;
  const attemptId = (await w.events('mozmarket-statechange')).filter((e) => e.detail.state === 'failed').at(-1).detail.attemptId;
  assert.match(attemptId, UUID_V4);
  assert.equal(d.productId, expected.productId || PRODUCT);
  assert.equal(d.attemptId, attemptId);
  assert.equal(d.code, expected.code);
  const e = d.error;
  assert.equal(e.isError, true, 'an Error object');
  assert.equal(e.name, expected.name);
  assert.equal(e.code, expected.code);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(e.productId, expected.productId || PRODUCT);
  assert.equal(e.attemptId, attemptId);
  if (expected.detail !== undefined) assert.deepEqual(e.detail, expected.detail);
  assert.equal((await w.events('mozmarket-cancelled')).length, 0, 'no mozmarket-cancelled');
  assert.equal((await w.events('mozmarket-purchase')).length, 0, 'no mozmarket-purchase');
  if (expected.key) {
    const v = await w.waitView('failed');
    assert.equal(v.button, EN.retry);
    assert.equal(v.ariaDisabled, null);
    assert.equal(v.busy, 'false');
    assert.equal(v.message, EN[expected.key]);
    assert.equal(v.code, `Error code: ${expected.code}`);
    assert.ok(v.alert.startsWith(EN[expected.key]), v.alert);
    assert.equal(v.describedBy, v.alertId, 'the button is described by the alert while failed (§7.10)');
  }
  return d;
}

/** Waits for `cancelled` and checks the single `mozmarket-cancelled` event (§7.7) and the view. */
export async function expectCancelled(w, { reason, name }) {
  await w.waitState('cancelled');
  const { default: assert } = await import('node:assert/strict');
  const cancelled = await w.events('mozmarket-cancelled');
  assert.equal(cancelled.length, 1, 'exactly one mozmarket-cancelled');
  const d = cancelled[0].detail;
  const attemptId = (await w.events('mozmarket-statechange')).filter((e) => e.detail.state === 'cancelled').at(-1).detail.attemptId;
  assert.match(attemptId, UUID_V4);
  assert.equal(d.productId, PRODUCT);
  assert.equal(d.attemptId, attemptId);
  assert.equal(d.reason, reason);
  assert.equal(d.error.isError, true);
  assert.equal(d.error.name, name);
  assert.equal(d.error.code, reason);
  assert.equal(d.error.attemptId, attemptId);
  assert.equal((await w.events('mozmarket-failed')).length, 0, 'no mozmarket-failed');
  assert.equal((await w.events('mozmarket-purchase')).length, 0, 'no mozmarket-purchase');
  const v = await w.waitView('cancelled');
  assert.equal(v.button, EN.buy);
  assert.equal(v.ariaDisabled, null);
  assert.equal(v.busy, 'false');
  assert.equal(v.status, EN.cancelled_status);
  assert.equal(v.openWindow, null);
  return d;
}
