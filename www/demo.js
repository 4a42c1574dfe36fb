// The mozmarket demo shop (spec/payments.md §1.1, §8.9). No inline script: the page's CSP is
// `script-src 'self' 'wasm-unsafe-eval'` with `require-trusted-types-for 'script'`.
//
// What the page does, as a web app that sells in-app products would:
// - at launch, verifies the receipts it holds with the strict Verifier (the marketplace's root
//   keys from /demo/config.json are the only trusted keys) and, when that fails (a refund, a
//   tampered receipt), lets the Prompter tell the buyer what to do;
// - shows one <mozmarket-buy-button> per catalogue product and a <mozmarket-restore-button>; the
//   widget runs the whole purchase (pay page popup or navigator.mozPay, waiting for the app
//   server, installing and verifying the receipt);
// - grants nothing itself: it re-reads what the server says the buyer owns after every event.
//
// All text goes into the DOM as text, never as markup. The module also exports the options it
// gives the widget, so that a test (or a developer in the console) can mount another button with
// the same configuration: `(await import('/www/demo.js')).createBuyButton(product, overrides)`.

const VERSION = 'demo-0.2';
/** The widget's local receipt store (its `localStorageKey` default, payments §0.1). */
const WIDGET_STORE_KEY = 'mozmarketReceipts';
const $ = (id) => document.getElementById(id);

/** /demo/config.json: {appOrigin, marketOrigin, pathPrefix, trustedKeys, products}. */
export let config = null;
/** The full ES module (/pkg/full.js), or the verifier-only one when the widget is not built. */
export let mozmarket = null;
let widget = false; // whether the full build (with the widget and the Prompter) loaded
let prompter = null;

function text(el, value, cls) {
  el.textContent = value;
  el.className = cls || '';
}

function log(line) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${line}`;
  $('purchase-log').appendChild(li);
}

async function api(path) {
  const headers = { 'X-Mozmarket-Version': VERSION, Accept: 'application/json' };
  const res = await fetch(path, { credentials: 'same-origin', headers, cache: 'no-store' });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  return { status: res.status, body };
}

// ---- configuration handed to the widget --------------------------------------------------------

/** The certificate `iss` of the marketplace's receipts: its root-document URL (§6.3). */
function rootDocumentUrl() {
  return `${config.marketOrigin}/public_keys/root.jwk`;
}

/**
 * The trusted roots: the root keys pinned from /demo/config.json when the app server has them
 * (the demo bootstrap), otherwise the marketplace's root document fetched by the widget.
 */
function trustedRoots() {
  const keys = config.trustedKeys && Array.isArray(config.trustedKeys.keys) ? config.trustedKeys.keys : null;
  return keys ? [{ url: rootDocumentUrl(), keys }] : [{ url: rootDocumentUrl() }];
}

const SUPPORT = () => ({ text: 'Questions about a purchase? The demo shop can help.', url: `${config.appOrigin}/#support` });

/** The `options` property of every Buy button on the page (merged over its attributes). */
export function buyButtonOptions(overrides = {}) {
  return { trustedRoots: trustedRoots(), support: SUPPORT(), ...overrides };
}

/**
 * A <mozmarket-buy-button> for `product` ({id, name}); `overrides` go into its `options`
 * property. Not attached to the document: the caller places it.
 */
export function createBuyButton(product, overrides = {}, { owned = false } = {}) {
  const el = document.createElement('mozmarket-buy-button');
  el.setAttribute('product', product.id);
  if (product.name) el.setAttribute('product-name', product.name);
  el.setAttribute('buy-url', `${config.pathPrefix}/product/{id}/buy`);
  el.setAttribute('provider-origin', config.marketOrigin);
  el.setAttribute('app-origin', config.appOrigin);
  // The demo app server signs simulated pay requests (§8.9): they end in test receipts.
  el.setAttribute('allow-test-receipts', '');
  if (owned) el.setAttribute('owned', '');
  el.options = buyButtonOptions(overrides);
  return el;
}

/** The <mozmarket-restore-button>, with the verification options of §7.8 only. */
export function createRestoreButton(overrides = {}) {
  const el = document.createElement('mozmarket-restore-button');
  el.setAttribute('restore-url', `${config.pathPrefix}/receipts`);
  el.setAttribute('app-origin', config.appOrigin);
  el.setAttribute('allow-test-receipts', '');
  el.options = {
    trustedRoots: trustedRoots(),
    receiptCheckSites: [`${config.marketOrigin}/receipts/verify`, `${config.marketOrigin}/receipts/verify/test`],
    support: SUPPORT(),
    ...overrides,
  };
  return el;
}

// ---- launch-time verification ------------------------------------------------------------------

/**
 * The receipts the widget installed. Without navigator.mozApps the Buy and Restore buttons keep
 * them in localStorage["mozmarketReceipts"] (payments §7.5), a key the Verifier does not read (it
 * reads fxpay's "fxpayReceipts", receipts §7.2): the app hands them over with the `receipts`
 * option.
 */
function widgetReceipts() {
  try {
    const list = JSON.parse(window.localStorage.getItem(WIDGET_STORE_KEY) || '[]');
    return Array.isArray(list) ? list.filter((r) => typeof r === 'string') : [];
  } catch {
    return [];
  }
}

function newVerifier() {
  return new mozmarket.Verifier({
    mode: 'strict',
    trustedKeys: config.trustedKeys || { keys: [] },
    installs_allowed_from: [config.marketOrigin],
    productURL: config.appOrigin,
    typsAllowed: ['purchase-receipt', 'test-receipt'], // simulated payments issue test receipts
    receipts: widgetReceipts(),
    onlog: null,
  });
}

/** Verifies the installed receipts; on a failure the Prompter shows the buyer what to do. */
export async function verifyNow() {
  const out = $('verify-state');
  if (!mozmarket) {
    text(out, 'the package (/pkg/) is not built: run scripts/build-wasm.sh all', 'bad');
    return null;
  }
  text(out, 'checking…');
  const v = await newVerifier().verify();
  const name = v.state && v.state.name;
  const good = v.state instanceof v.states.OK; // OK, OKCache, OKStaleCache
  // Nothing installed yet: nothing to check.
  const empty = name === 'NoReceipts' || name === 'MozAppsNotSupported';
  const shown = empty ? `${name}: no receipts installed yet` : `${name}${v.state.detail ? ` — ${v.state.detail}` : ''}`;
  text(out, shown, good ? 'ok' : empty ? '' : 'bad');
  const list = $('verified-products');
  list.replaceChildren();
  for (const p of v.products || []) {
    const li = document.createElement('li');
    const params = new URLSearchParams(p.storedata || '');
    li.textContent = `✓ ${params.get('inapp_id') || p.storedata} (${p.url})`;
    list.appendChild(li);
  }
  v.iterReceiptErrors((receipt, error) => {
    const li = document.createElement('li');
    li.className = 'bad';
    li.textContent = `✗ a receipt failed: ${error.name}${error.detail ? ` — ${error.detail}` : ''}`;
    list.appendChild(li);
  });
  showPrompter(v);
  return v;
}

/**
 * The Prompter for the failures the buyer can act on: receipts that no longer verify (refunded,
 * invalid, tampered) and internal errors. A shop that sells in-app products lets everyone in,
 * so "nothing installed yet" shows nothing (allowNoInstall), and every message is closable.
 */
function showPrompter(v) {
  if (prompter) {
    prompter.removeOverlay();
    prompter = null;
  }
  if (!widget || !mozmarket.Prompter) return;
  const bad = v.state instanceof v.states.NoValidReceipts || v.state instanceof v.states.InternalError;
  if (!bad) return;
  prompter = new mozmarket.Prompter({
    storeURL: `${config.appOrigin}/#shop`,
    supportHTML: '<a href="mailto:support@example.com">support@example.com</a>',
    allowNoInstall: true,
    verifier: v,
  });
}

// ---- what the server says the buyer owns -------------------------------------------------------

async function entitlements() {
  const r = await api(`${config.pathPrefix}/entitlements`);
  return r.status === 200 && r.body && Array.isArray(r.body.products) ? r.body.products : null;
}

export async function showEntitlements(products) {
  const owned = products || await entitlements();
  const list = $('entitlements');
  list.replaceChildren();
  if (!owned) {
    const li = document.createElement('li');
    li.className = 'bad';
    li.textContent = 'The app server did not answer.';
    list.appendChild(li);
    return;
  }
  if (owned.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'Nothing yet.';
    list.appendChild(li);
  }
  for (const p of owned) {
    const li = document.createElement('li');
    li.textContent = `${p.productId} — ${p.transactionID} (since ${new Date(p.grantedAt).toLocaleString()})`;
    list.appendChild(li);
  }
}

// ---- the shop ----------------------------------------------------------------------------------

function showProducts(owned) {
  const list = $('products');
  list.replaceChildren();
  if (!config.products) {
    text($('catalogue-state'), 'The marketplace catalogue is unavailable.', 'bad');
    return;
  }
  text($('catalogue-state'), `${config.products.length} product(s) from the marketplace catalogue.`, 'note');
  const ownedIds = new Set((owned || []).map((p) => p.productId));
  for (const p of config.products) {
    const li = document.createElement('li');
    li.dataset.product = p.id;
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = `price tier ${p.pricePoint}`;
    const desc = document.createElement('span');
    desc.className = 'desc';
    desc.textContent = p.description;
    li.append(name, price, desc);
    if (widget) {
      li.appendChild(createBuyButton(p, {}, { owned: ownedIds.has(p.id) }));
    } else {
      const note = document.createElement('span');
      note.className = 'bad';
      note.textContent = 'The pay widget (pkg/full.js) is not built: run scripts/build-wasm.sh all.';
      li.appendChild(note);
    }
    list.appendChild(li);
  }
}

function describeError(e) {
  if (!e) return '';
  const d = e.detail || {};
  const extra = ['providerCode', 'platformCode', 'serverError', 'check', 'errorCode', 'httpStatus']
    .filter((k) => d[k] !== undefined && d[k] !== null)
    .map((k) => `${k} ${d[k]}`);
  return `${e.name || 'Error'} ${e.code || ''}${extra.length ? ` (${extra.join(', ')})` : ''}`;
}

/** The widget's events bubble out of its shadow root (composed): one listener for all buttons. */
function listen() {
  document.addEventListener('mozmarket-statechange', (ev) => {
    const d = ev.detail || {};
    log(`${d.productId}: ${d.previous} → ${d.state}`);
  });
  document.addEventListener('mozmarket-purchase', async (ev) => {
    const d = ev.detail || {};
    log(`${d.productId}: confirmed: ${d.transactionID}`);
    log(`${d.productId}: receipt installed and verified (store: ${d.verification && d.verification.store}${d.test ? ', test receipt' : ''})`);
    await verifyNow();
    await showEntitlements();
  });
  document.addEventListener('mozmarket-failed', async (ev) => {
    const d = ev.detail || {};
    log(`${d.productId}: failed: ${describeError(d.error)}`);
    await showEntitlements();
  });
  document.addEventListener('mozmarket-cancelled', (ev) => {
    const d = ev.detail || {};
    log(`${d.productId}: cancelled (${d.reason})`);
  });
  document.addEventListener('mozmarket-warning', (ev) => {
    const d = ev.detail || {};
    log(`${d.productId || 'restore'}: warning: ${describeError(d.error)}`);
  });
  document.addEventListener('mozmarket-restored', async (ev) => {
    const d = ev.detail || {};
    const restored = (d.products || []).map((p) => p.productId);
    const skipped = (d.skipped || []).map((s) => `${s.productId} (${s.code})`);
    log(`restore: ${restored.length} restored${restored.length ? `: ${restored.join(', ')}` : ''}` +
      `${skipped.length ? `; skipped: ${skipped.join(', ')}` : ''}`);
    await verifyNow();
    await showEntitlements();
  });
}

async function loadPackage() {
  try {
    mozmarket = await import('/pkg/full.js');
    if (mozmarket.ready) await mozmarket.ready;
    await import('/pkg/element.js'); // registers <mozmarket-buy-button> and <mozmarket-restore-button>
    widget = true;
    return;
  } catch (e) {
    mozmarket = null;
    widget = false;
  }
  try {
    mozmarket = await import('/pkg/index.js');
    if (mozmarket.ready) await mozmarket.ready;
  } catch {
    mozmarket = null;
  }
}

async function main() {
  const res = await fetch('/demo/config.json', { credentials: 'same-origin', cache: 'no-store' });
  config = await res.json();
  if (!config.trustedKeys) {
    // An app server started without the demo bootstrap (`serve --roles app`) pins no root keys:
    // take the marketplace's published root JWKS once at start (trust on first use, a demo
    // shortcut; a real app pins the store's keys in its own configuration).
    try {
      config.trustedKeys = await (await fetch(`${config.marketOrigin}/.well-known/jwks.json`, { credentials: 'omit' })).json();
    } catch {
      config.trustedKeys = null;
    }
  }
  $('hub-link').href = `${config.marketOrigin}/dev/`;
  $('tx-link').href = `${config.marketOrigin}/dev/transactions`;
  if (window.location.origin !== config.appOrigin) {
    log(`open this page at ${config.appOrigin}: the pay page only talks to the registered app origin`);
  }
  await loadPackage();
  listen();
  const owned = await entitlements();
  showProducts(owned);
  if (widget) {
    $('restore-slot').replaceChildren(createRestoreButton());
  }
  $('verify-again').addEventListener('click', () => verifyNow());
  await showEntitlements(owned);
  await verifyNow();
  document.documentElement.dataset.ready = 'true';
}

main().catch((e) => text($('verify-state'), `the demo failed to start: ${e}`, 'bad'));
