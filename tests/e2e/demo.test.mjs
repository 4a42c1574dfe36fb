// End-to-end test of the local demo (spec/payments.md §8.9) against the real reference server:
// `mozmarket-server serve --demo` on two free loopback ports (app origin http://localhost:<p1>,
// marketplace origin http://127.0.0.1:<p2>), the demo shop page in headless Chromium, a purchase
// through the pay page popup, launch-time verification with the strict Verifier and the
// marketplace's root key as the trusted key, then a refund in the developer hub and the
// verification that reports it.
//
// Needs: pkg/ (scripts/build-wasm.sh verifier) and the server binary (built once here when
// missing). Screenshots go to test-results/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const targetDir = path.resolve(root, process.env.CARGO_TARGET_DIR || 'target');
const serverBin = path.join(targetDir, 'debug', 'mozmarket-server');
const shots = path.join(root, 'test-results', 'e2e');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing leaves loopback: localhost (the app origin's host) is 127.0.0.1, where the server
  // listens; every other name fails to resolve.
  '--host-resolver-rules=MAP localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

let server = null; // the child process
let serverOut = ''; // its stdout
let serverErr = ''; // its stderr
let dataDir = null;
let browser = null;
let appOrigin = '';
let marketOrigin = '';
let adminToken = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` (truthy result wins) until `timeoutMs`; throws with `what` and the server log. */
async function until(what, fn, timeoutMs = 15000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}\n` +
    `server stdout:\n${serverOut}\nserver stderr (tail):\n${serverErr.slice(-4000)}`);
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  const t = setTimeout(() => server.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

before(async () => {
  for (const f of ['index.js', 'core/mozmarket_core_bg.wasm']) {
    await access(path.join(root, 'pkg', f)).catch(() => {
      throw new Error(`pkg/${f} is missing: run bash scripts/build-wasm.sh verifier first`);
    });
  }
  try {
    await access(serverBin);
  } catch {
    const r = spawnSync('cargo', ['build', '-p', 'mozmarket-server', '--bin', 'mozmarket-server'], {
      cwd: root,
      stdio: 'inherit',
    });
    assert.equal(r.status, 0, 'cargo build -p mozmarket-server failed');
  }
  await mkdir(shots, { recursive: true });
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'mozmarket-e2e-'));
  const appPort = await freePort();
  let marketPort = await freePort();
  while (marketPort === appPort) marketPort = await freePort();
  appOrigin = `http://localhost:${appPort}`;
  marketOrigin = `http://127.0.0.1:${marketPort}`;

  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' };
  // A generated admin token (printed on stdout), and SQLite files in the fresh data dir.
  delete env.MOZMARKET_ADMIN_TOKEN;
  delete env.DATABASE_URL;
  delete env.MOZMARKET_APP_KEYS;
  server = spawn(serverBin, [
    'serve', '--demo',
    '--data-dir', dataDir,
    '--web-root', root,
    '--app-listen', `127.0.0.1:${appPort}`,
    '--market-listen', `127.0.0.1:${marketPort}`,
    '--app-origin', appOrigin,
    '--market-origin', marketOrigin,
  ], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.setEncoding('utf8');
  server.stderr.setEncoding('utf8');
  server.stdout.on('data', (d) => { serverOut += d; });
  server.stderr.on('data', (d) => { serverErr += d; });
  server.on('exit', (code, sig) => { serverErr += `\n[server exited: code ${code}, signal ${sig}]\n`; });

  // Both origins answer (Node talks to 127.0.0.1 directly; the browser uses the host names).
  await until('the app origin', async () => {
    assert.equal(server.exitCode, null, 'the server exited');
    return (await fetch(`http://127.0.0.1:${appPort}/demo/config.json`)).ok;
  });
  await until('the marketplace origin', async () => {
    const r = await fetch(`${marketOrigin}/dev/`);
    return r.status === 200;
  });
  const m = await until('the admin token on stdout', () =>
    /developer hub admin token[^:]*:\s*(\S+)/.exec(serverOut));
  adminToken = m[1];

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await stopServer();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Verifies in the page with a fresh strict Verifier, trusted keys = /demo/config.json's. */
function verifyInPage(page) {
  return page.evaluate(async () => {
    const { Verifier } = await import('/pkg/index.js');
    const config = await (await fetch('/demo/config.json')).json();
    const v = new Verifier({
      mode: 'strict',
      trustedKeys: config.trustedKeys,
      installs_allowed_from: [config.marketOrigin],
      productURL: config.appOrigin,
      typsAllowed: ['purchase-receipt', 'test-receipt'], // as the demo page: simulated payments issue test receipts
      onlog: null,
      cacheStorage: null, // always ask the marketplace's verify service, never a cached result
    });
    await v.verify();
    const errors = [];
    v.iterReceiptErrors((_r, e) => errors.push({
      name: e.name,
      detail: e.detail || '',
      refunded: e instanceof v.errors.Refunded,
    }));
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

test('demo: buy through the pay page, strict launch verification OK, refund in the hub → Refunded', { timeout: 90000 }, async () => {
  const context = await browser.newContext();
  const violations = [];
  const consoleErrors = [];
  const pageErrors = [];
  const badResponses = [];
  await context.exposeBinding('__e2eCsp', ({ frame }, v) => {
    violations.push({ page: frame.url(), ...v });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__e2eCsp({ directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber });
    });
  });
  const watch = (p, name) => {
    p.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${name}: ${m.text()} (${m.location().url})`); });
    p.on('pageerror', (e) => pageErrors.push(`${name}: ${e && e.message}`));
    p.on('response', (r) => { if (r.status() >= 400) badResponses.push(`${name}: ${r.status()} ${r.request().method()} ${r.url()}`); });
  };
  try {
    const page = await context.newPage();
    watch(page, 'demo');

    // ---- launch: the catalogue, and launch-time verification with nothing installed yet.
    await page.goto(`${appOrigin}/`);
    const state = page.locator('#verify-state');
    await page.waitForFunction(() => document.getElementById('verify-state').textContent !== 'checking…');
    assert.match(await state.textContent(), /^(NoReceipts|MozAppsNotSupported): no receipts installed yet$/);
    await page.locator('#products button').first().waitFor();
    assert.match(await page.locator('#catalogue-state').textContent(), /^[1-9][0-9]* product\(s\)/);
    await page.screenshot({ path: path.join(shots, '1-launch.png'), fullPage: true });

    // ---- buy: the pay page opens as a popup; confirm there.
    const button = page.locator('#products button').first();
    const productName = (await button.textContent()).replace(/^Buy /, '');
    const [popup] = await Promise.all([page.waitForEvent('popup'), button.click()]);
    watch(popup, 'pay');
    await popup.waitForURL((u) => u.origin === marketOrigin && u.pathname === '/mozpay/', { timeout: 15000 });
    await popup.locator('#confirm').waitFor();
    assert.equal(await popup.locator('#product-name').textContent(), productName);
    await popup.screenshot({ path: path.join(shots, '2-pay-page.png'), fullPage: true });
    const popupClosed = popup.waitForEvent('close', { timeout: 30000 });
    await popup.locator('#confirm').click();

    // ---- the app page: purchase complete (server status), receipt installed, verification OK.
    await page.waitForFunction(
      () => /^Purchased /.test(document.getElementById('purchase-state').textContent) ||
        document.getElementById('purchase-state').className === 'bad',
      null, { timeout: 30000 });
    assert.equal(await page.locator('#purchase-state').textContent(), `Purchased ${productName}.`,
      `purchase log: ${await page.locator('#purchase-log').textContent()}`);
    await popupClosed; // the demo closes the window on the pay page's "ok" message
    // The page's own launch-time verification of the new receipt: a fresh (not cached) OK.
    await page.waitForFunction(() => document.getElementById('verify-state').className !== '', null, { timeout: 15000 });
    assert.equal(await state.textContent(), 'OK');
    assert.equal(await state.getAttribute('class'), 'ok');
    assert.match(await page.locator('#verified-products').textContent(), /✓ /);
    const log = await page.locator('#purchase-log').textContent();
    assert.match(log, /receipt installed/);
    const confirmed = await page.locator('#purchase-log li', { hasText: 'confirmed: ' }).textContent();
    const tid = /confirmed: (\S+)$/.exec(confirmed)?.[1];
    assert.ok(tid, `no transaction ID in the purchase log: ${log}`);
    let owned = '';
    await until(`the entitlement for ${tid} on the demo page`, async () => {
      owned = await page.locator('#entitlements').textContent();
      if (!owned.includes(tid)) throw new Error(`#entitlements shows: ${JSON.stringify(owned)}`);
      return true;
    }, 5000);
    await page.screenshot({ path: path.join(shots, '3-purchased.png'), fullPage: true });

    // Acceptance criterion: the server-issued receipt is accepted by the strict Verifier whose
    // only trusted keys are the marketplace's root JWKS.
    const jwksRes = await fetch(`${marketOrigin}/.well-known/jwks.json`);
    assert.equal(jwksRes.status, 200);
    const jwks = await jwksRes.json();
    const ok = await verifyInPage(page);
    assert.equal(ok.state, 'OK', ok.text);
    assert.ok(ok.ok, ok.text);
    assert.equal(ok.errors.length, 0, JSON.stringify(ok.errors));
    assert.equal(ok.products.length, 1, JSON.stringify(ok.products));
    assert.equal(ok.products[0].url, appOrigin);
    // The trusted keys are exactly the marketplace's published root JWKS.
    assert.ok(ok.trustedKids.length >= 1);
    assert.deepEqual(ok.trustedKids.slice().sort(), jwks.keys.map((k) => k.kid).sort());

    // ---- refund in the developer hub (signed in with the admin token from stdout).
    const hub = await context.newPage();
    watch(hub, 'hub');
    await hub.goto(`${marketOrigin}/dev/`);
    await hub.locator('input[name="token"]').fill(adminToken);
    await Promise.all([hub.waitForURL(`${marketOrigin}/dev/`), hub.locator('button[type="submit"]', { hasText: 'Sign in' }).click()]);
    assert.equal(await hub.locator('input[name="token"]').count(), 0, 'the admin token was refused');
    await hub.goto(`${marketOrigin}/dev/transactions`);
    const row = hub.locator('tr', { hasText: tid });
    await row.waitFor();
    await hub.screenshot({ path: path.join(shots, '4-hub-transactions.png'), fullPage: true });
    await Promise.all([
      hub.waitForURL(/\/dev\/transactions\/[^/?]+\?msg=refunded$/),
      row.locator('button', { hasText: /^Refund$/ }).click(),
    ]);
    assert.match(await hub.locator('.banner.ok').textContent(), /chargeback notice is queued/);
    await hub.screenshot({ path: path.join(shots, '5-hub-refunded.png'), fullPage: true });

    // ---- the chargeback reaches the app server: the entitlement is revoked.
    await until('the chargeback on the app server (entitlement revoked)', async () => {
      const r = await page.evaluate(async () => (await fetch('/mozpay/entitlements', { headers: { 'X-Mozmarket-Version': 'demo-0.1', Accept: 'application/json' } })).json());
      return Array.isArray(r.products) && !r.products.some((p) => p.transactionID === tid);
    }, 30000, 300);

    // ---- relaunch. The page's receipt-check cache still holds the "ok" it stored during the
    // refund window, and spec/receipts.md §5.5 (refund-window rule) makes that a hit until the
    // window (40 min) has closed: the first relaunch shows OKCache, not the refund.
    await page.reload();
    await page.waitForFunction(() => document.getElementById('verify-state').textContent !== 'checking…', null, { timeout: 15000 });
    assert.equal(await state.textContent(), 'OKCache');
    await page.screenshot({ path: path.join(shots, '6-relaunch-cached.png'), fullPage: true });

    // The strict Verifier asking the marketplace (no cache) reports the refund.
    const refunded = await verifyInPage(page);
    assert.equal(refunded.state, 'NoValidReceipts', refunded.text);
    assert.ok(refunded.noValid, refunded.text);
    assert.equal(refunded.errors.length, 1, JSON.stringify(refunded.errors));
    assert.equal(refunded.errors[0].name, 'Refunded', JSON.stringify(refunded.errors));
    assert.ok(refunded.errors[0].refunded, JSON.stringify(refunded.errors));

    // Once the cached result is gone (as when it expires), the demo page's launch-time
    // verification shows the refund itself.
    await page.evaluate(async () => {
      const { Verifier } = await import('/pkg/index.js');
      const config = await (await fetch('/demo/config.json')).json();
      new Verifier({ mode: 'strict', trustedKeys: config.trustedKeys, onlog: null }).clearCache();
    });
    await page.reload();
    await page.waitForFunction(() => document.getElementById('verify-state').textContent !== 'checking…', null, { timeout: 15000 });
    const shown = await state.textContent();
    assert.match(shown, /^NoValidReceipts/, shown);
    assert.equal(await state.getAttribute('class'), 'bad');
    assert.match(await page.locator('#verified-products').textContent(), /✗ a receipt failed: Refunded/);
    assert.equal(await page.locator('#verified-products li', { hasText: '✓' }).count(), 0);
    await until('the entitlements list after the relaunch', async () =>
      (await page.locator('#entitlements').textContent()) === 'Nothing yet.', 5000);
    await page.screenshot({ path: path.join(shots, '7-refunded.png'), fullPage: true });

    assert.deepEqual(violations, [], 'CSP violations');
    assert.deepEqual(pageErrors, [], 'uncaught page errors');
    assert.deepEqual(consoleErrors, [], `console errors (HTTP errors seen: ${JSON.stringify(badResponses)})`);
  } finally {
    await context.close().catch(() => {});
  }
});
