// The widget test page's helpers (payments §7): loads the full ES module surface as window.mm and
// exposes window.W, which mounts Buy/Restore buttons, records their events, DOM snapshots,
// requests and popups, and provides stand-ins for navigator.mozPay and navigator.mozApps.
// Everything is driven from tests/browser/widget*.test.mjs through page.evaluate.
import * as mm from '/pkg/full.js';

// The ES entries load the core on demand; loaded here, before the page's fetch recorder exists,
// so that the tests' request logs hold the widget's requests only.
await mm.init();

const EVENT_TYPES = [
  'mozmarket-statechange',
  'mozmarket-purchase',
  'mozmarket-failed',
  'mozmarket-cancelled',
  'mozmarket-warning',
  'mozmarket-restored',
];
const CALLBACKS = ['onPurchase', 'onFailed', 'onCancelled', 'onStateChange', 'onWarning', 'onRestored'];

const clone = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

/** A §7.6 error object as JSON (plus whether it really is an Error). */
function plainError(e) {
  if (!e || typeof e !== 'object') return { notAnObject: String(e) };
  return {
    isError: e instanceof Error,
    name: e.name,
    code: e.code,
    message: e.message,
    detail: clone(e.detail),
    productId: e.productId,
    attemptId: e.attemptId,
  };
}

function plainDetail(d) {
  if (!d || typeof d !== 'object') return d;
  const out = {};
  for (const k of Object.keys(d)) out[k] = k === 'error' ? plainError(d[k]) : clone(d[k]);
  return out;
}

const W = {
  mm,
  /** Every widget event seen on a mount element (or on document for custom elements). */
  events: [],
  /** DOM snapshots, one per visible change. */
  views: [],
  /** Every fetch() the page made: {method, url, t}. */
  fetches: [],
  /** Every window.open() call: {url, name, features, returned}. */
  opens: [],
  /** How many of the next window.open() calls are blocked (a popup blocker). */
  blockOpens: 0,
  /** How a blocked window.open() answers: "null", or "closed" (a window already closed). */
  blockMode: 'null',
  /** EventSource instances: {url, withCredentials, source}. */
  eventSources: [],
  mozPayCalls: [],
  mozPayRequests: [],
  mozApps: null,
  host: null,
  handle: null,
  root: null,
  observer: null,
};
window.W = W;

// --- instrumentation (installed before any widget is mounted) --------------------------------

const realFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input.url;
  const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
  const entry = { method, url, t: Date.now(), tDone: null };
  W.fetches.push(entry);
  const p = realFetch.apply(this, arguments);
  p.then(
    () => {
      entry.tDone = Date.now();
    },
    () => {
      entry.tDone = Date.now();
    },
  );
  return p;
};

/** Every message event on this window: {origin, data, source: "popup"|"null"|"other"}. */
W.messages = [];
W.lastPopup = null;
window.addEventListener('message', (ev) => {
  W.messages.push({
    origin: ev.origin,
    data: clone(ev.data),
    source: ev.source === null ? 'null' : ev.source === W.lastPopup ? 'popup' : 'other',
    t: Date.now(),
  });
});

const realOpen = window.open;
window.open = function (url, name, features) {
  const entry = { url, name, features, returned: 'window' };
  W.opens.push(entry);
  if (W.blockOpens > 0) {
    W.blockOpens -= 1;
    entry.returned = W.blockMode;
    if (W.blockMode === 'closed') {
      const win = realOpen.apply(this, arguments);
      if (win) win.close();
      entry.closedAtReturn = win ? win.closed : null;
      return win;
    }
    return null;
  }
  const win = realOpen.apply(this, arguments);
  if (win) W.lastPopup = win;
  return win;
};

const RealEventSource = window.EventSource;
window.EventSource = class extends RealEventSource {
  constructor(url, init) {
    super(url, init);
    W.eventSources.push({ url: String(url), withCredentials: this.withCredentials, source: this, t: Date.now() });
  }
};

// --- mounting ---------------------------------------------------------------------------------

function recordEvent(ev, listener) {
  W.events.push({
    type: ev.type,
    detail: plainDetail(ev.detail),
    isCustomEvent: ev instanceof CustomEvent,
    bubbles: ev.bubbles,
    composed: ev.composed,
    cancelable: ev.cancelable,
    target: ev.target === W.host ? 'host' : ev.target && ev.target.localName,
    listener,
    t: Date.now(),
  });
}

function focused() {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a || a === document.body) return 'body';
  if (a.id) return '#' + a.id;
  return '.' + String(a.className).split(' ')[0];
}

/** What the widget shows now (§7.2, §7.10), or null when nothing is rendered. */
function snapshot() {
  const root = W.root;
  const c = root && root.querySelector('.mozmarket-buy');
  if (!c) return null;
  const q = (s) => c.querySelector(s);
  const text = (s) => (q(s) ? q(s).textContent : null);
  const main = q('.mozmarket-buy-main') || q('.mozmarket-restore-main');
  const status = q('.mozmarket-status');
  const alert = q('.mozmarket-alert');
  return {
    state: c.getAttribute('data-state'),
    busy: c.getAttribute('aria-busy'),
    lang: c.getAttribute('lang'),
    button: main && main.textContent,
    buttonTag: main && main.localName,
    buttonType: main && main.getAttribute('type'),
    ariaDisabled: main && main.getAttribute('aria-disabled'),
    disabledAttr: main ? main.hasAttribute('disabled') : null,
    describedBy: main && main.getAttribute('aria-describedby'),
    status: status && status.textContent,
    statusRole: status && status.getAttribute('role'),
    statusLive: status && status.getAttribute('aria-live'),
    alert: alert && alert.textContent,
    alertRole: alert && alert.getAttribute('role'),
    alertId: alert && alert.id,
    message: text('.mozmarket-alert .mozmarket-message'),
    code: text('.mozmarket-alert .mozmarket-code'),
    support: text('.mozmarket-alert .mozmarket-support'),
    supportLinks: Array.from(c.querySelectorAll('.mozmarket-alert a')).map((a) => ({
      href: a.getAttribute('href'),
      rel: a.getAttribute('rel'),
      target: a.getAttribute('target'),
    })),
    badge: text('.mozmarket-test-badge'),
    openWindow: text('.mozmarket-open-window'),
    cancel: text('.mozmarket-cancel'),
    buttons: Array.from(c.querySelectorAll('button')).map((b) => b.className),
    styleAttributes: Array.from(c.querySelectorAll('[style]')).length + (c.hasAttribute('style') ? 1 : 0),
    focus: focused(),
  };
}

function observe(root) {
  if (W.observer) W.observer.disconnect();
  W.root = root;
  W.views = [];
  const push = () => {
    const s = snapshot();
    const last = W.views[W.views.length - 1];
    if (JSON.stringify(s) !== JSON.stringify(last)) W.views.push(s);
  };
  W.observer = new MutationObserver(push);
  W.observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
  push();
}

/**
 * Mounts a Buy (`kind` "buy") or Restore ("restore") button in a fresh host element.
 * `opts.shadow` gives the host an open shadow root first; `opts.callbacks` adds recording
 * callbacks for every §7.7 callback option (`"throw"`: they throw after recording).
 */
W.mount = function (kind, options, opts = {}) {
  const host = document.createElement('div');
  host.id = 'host' + (document.querySelectorAll('[id^=host]').length + 1);
  document.body.appendChild(host);
  if (opts.shadow) host.attachShadow({ mode: 'open' });
  W.host = host;
  for (const type of EVENT_TYPES) host.addEventListener(type, (ev) => recordEvent(ev, 'host'));
  const o = Object.assign({}, options);
  if (opts.callbacks) {
    const names = kind === 'restore'
      ? ['onRestored', 'onFailed', 'onStateChange', 'onWarning']
      : ['onPurchase', 'onFailed', 'onCancelled', 'onStateChange', 'onWarning'];
    for (const name of names) {
      o[name] = (detail) => {
        W.events.push({ type: 'callback:' + name, detail: plainDetail(detail), t: Date.now() });
        if (opts.callbacks === 'throw') throw new Error('host callback failure');
      };
    }
  }
  const fn = kind === 'restore' ? mm.mountRestoreButton : mm.mountBuyButton;
  try {
    W.handle = fn(host, o);
  } catch (e) {
    return {
      threw: plainError(e),
      childNodes: host.childNodes.length,
      shadowChildNodes: host.shadowRoot ? host.shadowRoot.childNodes.length : null,
    };
  }
  observe(host.shadowRoot || host);
  return { ok: true, state: W.handle.state };
};

/** Mounts again on the same host (§7.1: replaces the first instance). */
W.remount = function (options) {
  const first = W.handle;
  W.handle = mm.mountBuyButton(W.host, options);
  observe(W.host.shadowRoot || W.host);
  return {
    firstDestroyed: first.destroyed,
    widgets: (W.host.shadowRoot || W.host).querySelectorAll('.mozmarket-buy').length,
  };
};

W.snapshot = snapshot;
W.state = () => (W.handle ? W.handle.state : null);
W.focused = focused;
W.eventsOf = (type) => W.events.filter((e) => e.type === type);
W.receipts = (key = 'mozmarketReceipts') => {
  const raw = localStorage.getItem(key);
  return raw === null ? null : JSON.parse(raw);
};
W.blur = () => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (a && a.blur) a.blur();
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  return focused();
};
W.focusOutside = () => {
  document.getElementById('outside').focus();
  return focused();
};
W.cspViolations = () => window.H.cspViolations.slice();

/** An iframe in the host page (a second window on some origin, §9.6 F02). */
W.addFrame = function (src) {
  return new Promise((resolve) => {
    const f = document.createElement('iframe');
    f.addEventListener('load', () => resolve(true), { once: true });
    f.src = src;
    document.body.appendChild(f);
  });
};

// --- navigator.mozPay and navigator.mozApps stand-ins ----------------------------------------

/** `navigator.mozPay` returning a DOMRequest-like object (§5.6); `throwName` throws instead. */
W.installMozPay = function ({ throwName } = {}) {
  Object.defineProperty(navigator, 'mozPay', {
    configurable: true,
    writable: true,
    value: function mozPay(jwts) {
      W.mozPayCalls.push({ jwts: clone(jwts), isArray: Array.isArray(jwts), thisIsNavigator: this === navigator });
      if (throwName) {
        const e = new Error('mozPay failed');
        e.name = throwName;
        throw e;
      }
      const req = { result: undefined, error: null, onsuccess: null, onerror: null, readyState: 'pending' };
      W.mozPayRequests.push(req);
      return req;
    },
  });
};

/** Completes the i-th mozPay DOMRequest: `{error: name}` fires onerror, else onsuccess. */
W.mozPayRespond = function (i, { error } = {}) {
  const req = W.mozPayRequests[i];
  req.readyState = 'done';
  if (error) {
    req.error = { name: error };
    if (req.onerror) req.onerror({ target: req });
  } else {
    req.result = null;
    if (req.onsuccess) req.onsuccess({ target: req });
  }
  return { hadOnsuccess: typeof req.onsuccess === 'function', hadOnerror: typeof req.onerror === 'function' };
};

/**
 * `navigator.mozApps` (§7.5): `getSelf()` answers an app whose `addReceipt` succeeds, or fails
 * with `addReceiptError`. `holdGetSelf` keeps getSelf pending until W.releaseGetSelf().
 */
W.installMozApps = function ({ addReceiptError = null, holdGetSelf = false } = {}) {
  const state = { receipts: [], addCalls: 0, removeCalls: 0, getSelfCalls: 0, pending: [] };
  const app = {
    receipts: state.receipts,
    addReceipt(receipt) {
      state.addCalls += 1;
      const req = { onsuccess: null, onerror: null, result: undefined, error: null };
      Promise.resolve().then(() => {
        if (addReceiptError) {
          req.error = { name: addReceiptError };
          if (req.onerror) req.onerror({ target: req });
        } else {
          state.receipts.push(receipt);
          req.result = null;
          if (req.onsuccess) req.onsuccess({ target: req });
        }
      });
      return req;
    },
    removeReceipt(receipt) {
      state.removeCalls += 1;
      const req = { onsuccess: null, onerror: null };
      Promise.resolve().then(() => {
        const i = state.receipts.indexOf(receipt);
        if (i >= 0) state.receipts.splice(i, 1);
        if (req.onsuccess) req.onsuccess({ target: req });
      });
      return req;
    },
  };
  const answer = (req) => {
    req.result = app;
    if (req.onsuccess) req.onsuccess({ target: req });
  };
  Object.defineProperty(navigator, 'mozApps', {
    configurable: true,
    writable: true,
    value: {
      getSelf() {
        state.getSelfCalls += 1;
        const req = { onsuccess: null, onerror: null, result: undefined, error: null };
        if (holdGetSelf) state.pending.push(req);
        else Promise.resolve().then(() => answer(req));
        return req;
      },
    },
  });
  W.mozApps = state;
  W.releaseGetSelf = () => {
    const n = state.pending.length;
    for (const req of state.pending.splice(0)) answer(req);
    return n;
  };
};

/** localStorage.setItem throws QuotaExceededError (§9.6 F32). */
W.breakLocalStorage = function () {
  Storage.prototype.setItem = function () {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  };
};

// --- custom elements --------------------------------------------------------------------------

/**
 * defineElements(), then a `tag` element with `attrs` (and the `options` property when given),
 * appended to the body. Events are recorded by a document listener.
 */
W.createElement = function (tag, attrs, options) {
  mm.defineElements();
  for (const type of EVENT_TYPES) {
    document.addEventListener(type, (ev) => recordEvent(ev, 'document'));
  }
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (options) el.options = options;
  document.body.appendChild(el);
  W.host = el;
  W.handle = el.handle;
  if (el.shadowRoot) observe(el.shadowRoot);
  return {
    hasShadow: !!el.shadowRoot,
    shadowMode: el.shadowRoot ? el.shadowRoot.mode : null,
    lightChildren: el.childNodes.length,
    state: el.state,
    error: el.error ? plainError(el.error) : null,
  };
};

W.definedBeforeDefineElements = {
  buy: customElements.get('mozmarket-buy-button') !== undefined,
  restore: customElements.get('mozmarket-restore-button') !== undefined,
};

window.mmReady = true;
