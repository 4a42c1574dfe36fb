// The mozmarket demo shop (spec/payments.md §1.1, §8.9). No inline script: the page's CSP is
// `script-src 'self' 'wasm-unsafe-eval'`. Until the pay widget exists, this file runs the purchase
// flow by hand: buy → pay page popup → wait for the app server (events, else polling) → install
// the receipt → verify it. All text goes into the DOM as text, never as markup.

const VERSION = 'demo-0.1';
const $ = (id) => document.getElementById(id);
let config = null;
let mozmarket = null;

function text(el, value, cls) {
  el.textContent = value;
  el.className = cls || '';
}

function log(line) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()}  ${line}`;
  $('purchase-log').appendChild(li);
}

async function api(path, init = {}) {
  const headers = { 'X-Mozmarket-Version': VERSION, Accept: 'application/json', ...(init.headers || {}) };
  const res = await fetch(path, { credentials: 'same-origin', ...init, headers });
  let body = null;
  try { body = await res.json(); } catch { body = null; }
  return { status: res.status, body };
}

// ---- launch-time verification -------------------------------------------------------------

function newVerifier() {
  return new mozmarket.Verifier({
    mode: 'strict',
    trustedKeys: config.trustedKeys || { keys: [] },
    installs_allowed_from: [config.marketOrigin],
    productURL: config.appOrigin,
    typsAllowed: ['purchase-receipt', 'test-receipt'],
    onlog: null,
  });
}

async function verifyNow() {
  const out = $('verify-state');
  if (!mozmarket) {
    text(out, 'the verifier package (/pkg/) is not built: run scripts/build-wasm.sh', 'bad');
    return;
  }
  text(out, 'checking…');
  const v = await newVerifier().verify();
  const name = v.state && v.state.name;
  const good = name === 'OK' || name === 'OKCache' || name === 'OKStaleCache';
  // Without navigator.mozApps and without receipts in the local store there is nothing to check.
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
}

async function restore() {
  const r = await api(`${config.pathPrefix}/receipts`);
  if (r.status !== 200) {
    log(`restore failed: HTTP ${r.status} ${r.body && r.body.error_code}`);
    return;
  }
  for (const entry of r.body.receipts) {
    if (mozmarket) {
      try {
        await mozmarket.addReceipt(entry.receipt);
      } catch (e) {
        log(`could not install the receipt for ${entry.productId}: ${e.code || e}`);
      }
    }
  }
  log(`restore: ${r.body.receipts.length} receipt(s) from the app server`);
  await verifyNow();
  await showEntitlements();
}

async function showEntitlements() {
  const r = await api(`${config.pathPrefix}/entitlements`);
  const list = $('entitlements');
  list.replaceChildren();
  if (r.status !== 200) return;
  if (r.body.products.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'Nothing yet.';
    list.appendChild(li);
  }
  for (const p of r.body.products) {
    const li = document.createElement('li');
    li.textContent = `${p.productId} — ${p.transactionID} (since ${new Date(p.grantedAt).toLocaleString()})`;
    list.appendChild(li);
  }
}

// ---- purchase ------------------------------------------------------------------------------

let busy = false;

function openBlankPopup() {
  const w = 400;
  const h = 560;
  const left = Math.round(window.screenX + (window.outerWidth - w) / 2);
  const top = Math.round(window.screenY + (window.outerHeight - h) / 2);
  const popup = window.open('', 'MozmarketPay',
    `popup=yes,width=${w},height=${h},left=${left},top=${top},resizable=yes,scrollbars=yes,location=yes,toolbar=no,menubar=no,status=no`);
  if (popup && !popup.closed) {
    try {
      popup.document.title = 'Loading payment…';
      popup.document.body.replaceChildren(popup.document.createTextNode('Loading payment…'));
    } catch { /* not same-origin any more */ }
    return popup;
  }
  return null;
}

function waitForStatus(buy) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (s) => { if (!done) { done = true; resolve(s); } };
    const started = Date.now();
    const poll = async (delay) => {
      if (done) return;
      if (Date.now() - started > 120000) { finish({ status: 'failed', error: 'TRANSACTION_TIMEOUT' }); return; }
      const r = await api(buy.statusURL).catch(() => ({ status: 0 }));
      if (r.status === 200 && r.body && r.body.status !== 'pending' && r.body.status !== 'incomplete') {
        finish(r.body);
        return;
      }
      setTimeout(() => poll(Math.min(delay * 2, 2000)), delay);
    };
    if (buy.statusEventsURL && 'EventSource' in window) {
      const es = new EventSource(buy.statusEventsURL);
      es.addEventListener('status', (ev) => {
        const s = JSON.parse(ev.data);
        log(`status event: ${s.status}${s.error ? ` (${s.error})` : ''}`);
        if (s.status === 'complete' || s.status === 'failed') { es.close(); finish(s); }
      });
      es.onerror = () => { es.close(); poll(250); };
    } else {
      poll(250);
    }
  });
}

async function purchase(product, button) {
  if (busy) return;
  busy = true;
  button.disabled = true;
  $('pay-link-row').hidden = true;
  const popup = openBlankPopup();
  const state = $('purchase-state');
  try {
    text(state, `Buying ${product.name}…`);
    const key = crypto.randomUUID();
    const r = await api(`${config.pathPrefix}/product/${encodeURIComponent(product.id)}/buy`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: '{}',
    });
    if (r.status !== 201 && r.status !== 200) {
      if (popup) popup.close();
      text(state, `Buy failed: HTTP ${r.status} ${r.body ? r.body.error_code : ''}`, 'bad');
      return;
    }
    const buy = r.body;
    log(`order ${buy.orderId} created${buy.simulated ? ' (simulated payment)' : ''}`);
    const payURL = `${config.marketOrigin}/mozpay/?req=${encodeURIComponent(buy.jwt)}`;
    $('pay-link').href = payURL;
    let popupResult = Promise.resolve();
    if (popup) {
      popup.location = payURL;
      popupResult = new Promise((resolve) => {
        const onMessage = (ev) => {
          if (ev.origin !== config.marketOrigin || ev.source !== popup) return;
          if (!ev.data || typeof ev.data.status !== 'string' || ev.data.status === 'unloaded') return;
          window.removeEventListener('message', onMessage);
          log(`pay page says: ${ev.data.status}${ev.data.errorCode ? ` (${ev.data.errorCode})` : ''}`);
          if (ev.data.status === 'ok') popup.close();
          resolve(ev.data);
        };
        window.addEventListener('message', onMessage);
      });
    } else {
      $('pay-link-row').hidden = false;
    }
    text(state, 'Complete the payment in the marketplace window…');
    // The server's status decides (a client-side "ok" grants nothing); the pay page's message
    // only tells when to stop waiting for the window.
    const serverStatus = waitForStatus(buy);
    const message = await Promise.race([popupResult.then((m) => m || { status: 'ok' }), serverStatus.then((s) => ({ final: s }))]);
    if (message.status === 'failed') {
      text(state, `Payment not completed: ${message.errorCode || 'failed'}`, 'bad');
      return;
    }
    text(state, 'Waiting for the app server to confirm the payment…');
    const final = message.final || await serverStatus;
    if (final.status !== 'complete') {
      text(state, `The purchase failed: ${final.error}${final.message ? ` — ${final.message}` : ''}`, 'bad');
      await showEntitlements();
      return;
    }
    log(`confirmed: ${final.transactionID}`);
    if (mozmarket) {
      const added = await mozmarket.addReceipt(final.receipt).catch((e) => ({ error: e }));
      log(added.error ? `receipt not installed: ${added.error.code}` : `receipt installed (${added.storage})`);
    }
    text(state, `Purchased ${product.name}.`, 'ok');
    await verifyNow();
    await showEntitlements();
  } catch (e) {
    if (popup) popup.close();
    text(state, `Error: ${e && e.message ? e.message : e}`, 'bad');
  } finally {
    busy = false;
    button.disabled = false;
  }
}

function showProducts() {
  const list = $('products');
  list.replaceChildren();
  if (!config.products) {
    text($('catalogue-state'), 'The marketplace catalogue is unavailable.', 'bad');
    return;
  }
  text($('catalogue-state'), `${config.products.length} product(s) from the marketplace catalogue.`, 'note');
  for (const p of config.products) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name;
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = `price tier ${p.pricePoint}`;
    const desc = document.createElement('span');
    desc.className = 'desc';
    desc.textContent = p.description;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = `Buy ${p.name}`;
    button.addEventListener('click', () => purchase(p, button));
    li.append(name, price, desc, button);
    list.appendChild(li);
  }
}

async function main() {
  const res = await fetch('/demo/config.json', { credentials: 'same-origin' });
  config = await res.json();
  $('hub-link').href = `${config.marketOrigin}/dev/`;
  $('tx-link').href = `${config.marketOrigin}/dev/transactions`;
  if (window.location.origin !== config.appOrigin) {
    log(`open this page at ${config.appOrigin}: the pay page only talks to the registered app origin`);
  }
  showProducts();
  try {
    mozmarket = await import('/pkg/index.js');
    if (mozmarket.ready) await mozmarket.ready;
  } catch (e) {
    mozmarket = null;
  }
  $('verify-again').addEventListener('click', () => verifyNow());
  $('restore').addEventListener('click', () => restore());
  await verifyNow();
  await showEntitlements();
}

main().catch((e) => text($('verify-state'), `the demo failed to start: ${e}`, 'bad'));
