// Shared machinery of the end-to-end tests: the real `mozmarket-server` binary on two loopback
// origins (both roles in one process with the §8.9 demo bootstrap, or the two roles as separate
// processes so that the app role can be stopped and started again), headless Chromium through
// playwright-core, the marketplace's developer JSON API, and page helpers for the pay widget.
//
// Nothing leaves 127.0.0.1: the browser maps localhost and evil.test to 127.0.0.1 and fails every
// other name; the servers listen on loopback ports picked at random.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
const targetDir = path.resolve(root, process.env.CARGO_TARGET_DIR || 'target');
export const serverBin = path.join(targetDir, 'debug', 'mozmarket-server');
/** Screenshots, the latency figure and other artefacts of a run. */
export const artifacts = path.join(targetDir, 'e2e-artifacts');
const axePath = path.join(root, 'node_modules', 'axe-core', 'axe.min.js');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing leaves loopback: localhost (the app origin's host) and evil.test (a foreign origin
  // for the postMessage tests) are 127.0.0.1, where the servers listen; every other name fails
  // to resolve.
  '--host-resolver-rules=MAP localhost 127.0.0.1, MAP evil.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
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

/** Polls `fn` (a truthy result wins) until `timeoutMs`; throws naming `what`, with `diag()`. */
export async function until(what, fn, timeoutMs = 15000, everyMs = 200, diag = () => '') {
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
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${last.message})` : ''}${diag()}`);
}

/** Checks what the tests need, and builds the server binary when it is missing. */
export async function requireBuild() {
  for (const f of ['full.js', 'element.js', 'index.js']) {
    await access(path.join(root, 'pkg', f)).catch(() => {
      throw new Error(`pkg/${f} is missing: run bash scripts/build-wasm.sh all first`);
    });
  }
  await access(axePath).catch(() => {
    throw new Error('node_modules/axe-core is missing: run bash scripts/setup.sh (npm install)');
  });
  try {
    await access(serverBin);
  } catch {
    const r = spawnSync('cargo', ['build', '-p', 'mozmarket-server', '--bin', 'mozmarket-server'], {
      cwd: root,
      stdio: 'inherit',
    });
    assert.equal(r.status, 0, 'cargo build -p mozmarket-server failed');
  }
  await mkdir(artifacts, { recursive: true });
}

// ---- the server ------------------------------------------------------------------------------

const ANSI = /\x1b\[[0-9;]*m/g; // eslint-disable-line no-control-regex

/** One `mozmarket-server serve` process, its output kept. */
class ServerProcess {
  constructor(name, args, env) {
    this.name = name;
    this.args = args;
    this.out = '';
    this.err = '';
    const e = { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info', NO_COLOR: '1', ...env };
    // SQLite files in the test's data dir, a generated admin token printed on stdout.
    delete e.MOZMARKET_ADMIN_TOKEN;
    delete e.DATABASE_URL;
    if (!env || !env.MOZMARKET_APP_KEYS) delete e.MOZMARKET_APP_KEYS;
    this.child = spawn(serverBin, ['serve', ...args], { cwd: root, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d) => { this.out += d; });
    this.child.stderr.on('data', (d) => { this.err += d.replace(ANSI, ''); });
    this.exited = new Promise((r) => this.child.once('exit', (code, sig) => {
      this.err += `\n[${this.name} exited: code ${code}, signal ${sig}]\n`;
      r();
    }));
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop() {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }

  diag() {
    return `\n--- ${this.name} stdout:\n${this.out}\n--- ${this.name} stderr (tail):\n${this.err.slice(-6000)}`;
  }
}

async function answers(url) {
  try {
    const r = await fetch(url);
    return r.status < 500;
  } catch {
    return false;
  }
}

/**
 * Starts the reference server with the demo bootstrap (§8.9) on fresh SQLite files.
 *
 * - `split: false` (default): `serve --demo`, both roles in one process, exactly as
 *   scripts/demo.sh runs it.
 * - `split: true`: the marketplace as `serve --roles market --demo` and the app server as
 *   `serve --roles app` in a second process, configured with a simulation key created through the
 *   developer API; `stopApp()` / `startApp()` stop and start the app role alone (same database).
 */
export async function startServer({ split = false } = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mozmarket-e2e-'));
  const appPort = await freePort();
  let marketPort = await freePort();
  while (marketPort === appPort) marketPort = await freePort();
  const appOrigin = `http://localhost:${appPort}`;
  const marketOrigin = `http://127.0.0.1:${marketPort}`;
  const common = [
    '--data-dir', dataDir,
    '--web-root', root,
    '--app-listen', `127.0.0.1:${appPort}`,
    '--market-listen', `127.0.0.1:${marketPort}`,
    '--app-origin', appOrigin,
    '--market-origin', marketOrigin,
  ];
  const procs = [];
  const s = {
    dataDir,
    appPort,
    marketPort,
    appOrigin,
    marketOrigin,
    adminToken: '',
    market: null,
    app: null,
    diag: () => procs.map((p) => p.diag()).join(''),
  };

  const waitApp = () => until('the app origin', async () => {
    assert.ok(s.app.running, `the app server exited${s.diag()}`);
    return answers(`http://127.0.0.1:${appPort}/demo/config.json`);
  }, 20000, 100, s.diag);

  const marketProc = new ServerProcess(split ? 'market' : 'server', [...(split ? ['--roles', 'market'] : []), '--demo', ...common]);
  procs.push(marketProc);
  s.market = marketProc;
  await until('the marketplace origin', async () => {
    assert.ok(marketProc.running, `the server exited${s.diag()}`);
    return answers(`${marketOrigin}/dev/`);
  }, 20000, 100, s.diag);
  const m = await until('the admin token on stdout', () =>
    /developer hub admin token[^:]*:\s*(\S+)/.exec(marketProc.out), 10000, 100, s.diag);
  s.adminToken = m[1];

  if (!split) {
    s.app = marketProc;
    await waitApp();
  } else {
    const apps = await devApi(s, 'GET', '/dev/api/apps');
    const list = Array.isArray(apps.body) ? apps.body : apps.body.objects || apps.body.apps || [];
    const demo = list.find((a) => a.name === 'Demo app');
    assert.ok(demo, `no demo app in ${JSON.stringify(apps.body)}`);
    const key = await devApi(s, 'POST', `/dev/api/apps/${demo.id}/keys`, { kind: 'simulation' });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const appArgs = ['--roles', 'app', '--simulate', 'postback', ...common];
    const appEnv = { MOZMARKET_APP_KEYS: `${key.body.key}=${key.body.secret}` };
    s.startApp = async () => {
      const p = new ServerProcess(`app#${procs.length}`, appArgs, appEnv);
      procs.push(p);
      s.app = p;
      await waitApp();
    };
    s.stopApp = async () => {
      await s.app.stop();
      assert.equal(await answers(`http://127.0.0.1:${appPort}/demo/config.json`), false, 'the app role still answers');
    };
    await s.startApp();
  }
  s.stop = async () => {
    for (const p of procs) await p.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  /** The app role's log lines (all its processes), ANSI-free. */
  s.appLog = () => procs.filter((p) => !split || p !== marketProc).map((p) => p.err).join('\n');
  return s;
}

/** The marketplace's developer JSON API (§8.7), with the admin token. */
export async function devApi(s, method, pathname, body) {
  const r = await fetch(`${s.marketOrigin}${pathname}`, {
    method,
    headers: {
      Authorization: `Bearer ${s.adminToken}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const t = await r.text();
  let j = null;
  try { j = JSON.parse(t); } catch { j = t; }
  return { status: r.status, body: j };
}

/** Sets the provider's global mode switches (§8.5) and checks the answer. */
export async function setMode(s, settings) {
  const r = await devApi(s, 'PUT', '/dev/api/settings', settings);
  assert.equal(r.status, 200, `PUT /dev/api/settings ${JSON.stringify(settings)}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The newest marketplace transaction for `productId` (the list is newest first). */
export async function newestTransaction(s, productId) {
  const r = await devApi(s, 'GET', '/dev/api/transactions');
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.objects.find((t) => t.requestId === productId) || null;
}

/**
 * The wall-clock time (ms since the epoch) at which the app role logged that it applied the
 * postback of `transactionID` (notice.rs: "notice applied", logged right after the commit and
 * before the 200 answer), from tracing's RFC 3339 timestamps; null when not (yet) logged.
 */
export function postbackAcceptedAt(s, transactionID) {
  for (const line of s.appLog().split('\n')) {
    if (!line.includes('notice applied') || !line.includes(transactionID) || !/kind="?postback/.test(line)) continue;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)/.exec(line.trim());
    if (m) return Date.parse(m[1].replace(/(\.\d{3})\d+Z$/, '$1Z'));
  }
  return null;
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

// ---- pages -----------------------------------------------------------------------------------

/**
 * Runs in every document of a test context before its own scripts: records the widget's events
 * (with the wall-clock time) in `window.__mmEvents`, and reports every CSP violation to the test.
 */
function recorder() {
  const rec = [];
  Object.defineProperty(window, '__mmEvents', { value: rec });
  const plainError = (e) => {
    if (!e || typeof e !== 'object') return e === undefined ? null : e;
    let detail = null;
    try { detail = JSON.parse(JSON.stringify(e.detail === undefined ? null : e.detail)); } catch { detail = String(e.detail); }
    return { name: e.name, code: e.code, message: e.message, detail, productId: e.productId, attemptId: e.attemptId };
  };
  const types = ['statechange', 'purchase', 'failed', 'cancelled', 'warning', 'restored'];
  for (const type of types) {
    document.addEventListener(`mozmarket-${type}`, (ev) => {
      const d = ev.detail || {};
      const entry = { type, t: Date.now() };
      for (const [k, v] of Object.entries(d)) {
        if (k === 'error') entry.error = plainError(v);
        else {
          try { entry[k] = JSON.parse(JSON.stringify(v === undefined ? null : v)); } catch { entry[k] = String(v); }
        }
      }
      entry.composed = ev.composed;
      entry.bubbles = ev.bubbles;
      rec.push(entry);
    }, true);
  }
  document.addEventListener('securitypolicyviolation', (e) => {
    const v = { directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample };
    if (typeof window.__e2eCsp === 'function') window.__e2eCsp(v);
  }, true);
}

/**
 * A fresh browser context (own cookies, so a new buyer; own localStorage) with the recorder.
 * Returns `{context, violations, pageErrors, consoleErrors, badResponses, watch(page, name), close()}`.
 */
export async function newContext(browser, options = {}) {
  const context = await browser.newContext(options);
  const t = {
    context,
    violations: [],
    pageErrors: [],
    consoleErrors: [],
    badResponses: [],
  };
  await context.exposeBinding('__e2eCsp', ({ frame }, v) => {
    t.violations.push({ page: frame.url(), ...v });
  });
  await context.addInitScript(recorder);
  t.watch = (p, name) => {
    p.on('console', (m) => { if (m.type() === 'error') t.consoleErrors.push(`${name}: ${m.text()} (${m.location().url})`); });
    p.on('pageerror', (e) => t.pageErrors.push(`${name}: ${e && e.message}`));
    p.on('response', (r) => { if (r.status() >= 400) t.badResponses.push(`${name}: ${r.status()} ${r.request().method()} ${r.url()}`); });
  };
  context.on('page', (p) => t.watch(p, p.url().startsWith('http') ? new URL(p.url()).host : 'page'));
  t.close = () => context.close().catch(() => {});
  return t;
}

/** Opens the demo shop and waits until its script has mounted the widgets and verified. */
export async function openDemo(ctx, s, pathname = '/') {
  const page = await ctx.context.newPage();
  await page.goto(`${s.appOrigin}${pathname}`);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 20000 });
  return page;
}

/** The main button of the Buy button for `productId` (inside the element's open shadow root). */
export const mainButton = (page, productId) =>
  page.locator(`mozmarket-buy-button[product="${productId}"] .mozmarket-buy-main`);
export const container = (page, productId) =>
  page.locator(`mozmarket-buy-button[product="${productId}"] .mozmarket-buy`);

/** Waits until the widget for `productId` renders `state` (its container's data-state). */
export async function waitState(page, productId, state, timeout = 20000) {
  const c = container(page, productId);
  try {
    await c.and(page.locator(`[data-state="${state}"]`)).waitFor({ timeout });
  } catch (e) {
    const now = await c.getAttribute('data-state').catch(() => '?');
    const ev = await events(page).catch(() => []);
    throw new Error(`widget ${productId}: expected state ${state}, it is ${now}; events: ${JSON.stringify(ev.map(brief))}\n${e.message}`);
  }
}

export const events = (page) => page.evaluate(() => window.__mmEvents.slice());
export const brief = (e) => ({ type: e.type, state: e.state, code: e.error ? e.error.code : undefined, reason: e.reason, t: e.t });
export const statesOf = (evs, productId) =>
  evs.filter((e) => e.type === 'statechange' && (!productId || e.productId === productId)).map((e) => e.state);

/** Clicks the main button and returns the popup the widget opens within the click. */
export async function clickBuy(page, productId) {
  const [popup] = await Promise.all([
    page.waitForEvent('popup', { timeout: 10000 }),
    mainButton(page, productId).click(),
  ]);
  return popup;
}

/** Waits for the pay page's confirm screen in `popup`. */
export async function payPage(popup, s) {
  await popup.waitForURL((u) => u.origin === s.marketOrigin && u.pathname === '/mozpay/', { timeout: 15000 });
  await popup.waitForLoadState('domcontentloaded');
  return popup;
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/**
 * Runs axe-core on `page` and returns its violations (WCAG 2.x A/AA and best practices).
 * axe is evaluated through the DevTools protocol (page.evaluate), which no CSP or Trusted Types
 * policy applies to, so the page keeps its real policy.
 */
let axeSource = null;
export async function axe(page, { include } = {}) {
  if (!axeSource) axeSource = (await import('node:fs/promises')).readFile(axePath, 'utf8');
  const has = await page.evaluate(() => typeof window.axe === 'object');
  if (!has) await page.evaluate(await axeSource);
  return page.evaluate(async (inc) => {
    const r = await window.axe.run(inc ? { include: [inc] } : document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
    }));
  }, include || null);
}

/** axe on the page in its current state: asserts none, prints them if any. */
export async function assertAccessible(page, label, opts) {
  const v = await axe(page, opts);
  if (v.length) console.log(`e2e: axe violations in ${label}:\n${JSON.stringify(v, null, 2)}`);
  assert.deepEqual(v.map((x) => x.id), [], `axe violations in ${label}: ${JSON.stringify(v, null, 2)}`);
}

export async function writeArtifact(name, value) {
  await mkdir(artifacts, { recursive: true });
  await writeFile(path.join(artifacts, name), typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);
}
