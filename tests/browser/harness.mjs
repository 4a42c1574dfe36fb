// Shared setup for the browser tests: the local server, headless Chromium (playwright-core), and
// pages that have loaded one mozmarket surface.
import { chromium } from 'playwright-core';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, closedPort } from './server.mjs';
import { makeFixture } from './fixtures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgDir = path.resolve(here, '..', '..', 'pkg');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Nothing leaves 127.0.0.1: evil.test is an alias of 127.0.0.1 (a second host name for the
  // redirect tests), every other name fails to resolve. Hosts such as keys.store.example are
  // only ever answered by page.route() inside the browser.
  '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

async function requirePackage() {
  for (const f of ['index.js', 'mozmarket-receipts.js', 'core/mozmarket_core_bg.wasm']) {
    try {
      await access(path.join(pkgDir, f));
    } catch {
      throw new Error(`pkg/${f} is missing: build first (scripts/build-wasm.sh, or wasm-bindgen + node js/assemble.mjs)`);
    }
  }
}

/**
 * Starts the server and the browser. Returns helpers; call `close()` in an `after` hook.
 */
export async function setup() {
  await requirePackage();
  const srv = await startServer();
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const fx = makeFixture(srv.origin);
  const refusedPort = await closedPort();
  const contexts = new Set();

  /**
   * A fresh browser context (own localStorage) with a page that has loaded `surface`
   * ("esm", "classic" or "broken"). `routes` maps URL globs to fulfil options (or functions).
   */
  async function open(surface = 'esm', { routes = {} } = {}) {
    const context = await browser.newContext();
    contexts.add(context);
    const page = await context.newPage();
    const pageErrors = [];
    const consoleErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e && e.message)));
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    const routeHits = {};
    for (const [glob, answer] of Object.entries(routes)) {
      routeHits[glob] = 0;
      await page.route(glob, async (route) => {
        routeHits[glob] += 1;
        const a = typeof answer === 'function' ? answer(route.request()) : answer;
        await route.fulfill({
          status: a.status,
          headers: { 'Access-Control-Allow-Origin': '*', ...(a.headers || {}) },
          contentType: a.contentType || 'application/json',
          body: a.body || '',
        });
      });
    }
    const file = { classic: 'classic.html', broken: 'broken.html', full: 'full.html' }[surface] || 'esm.html';
    await page.goto(srv.url('/pages/' + file));
    await page.waitForFunction(() => window.mmReady === true, null, { timeout: 10000 });
    return {
      page,
      pageErrors,
      consoleErrors,
      routeHits,
      run: (spec) => page.evaluate((s) => window.H.run(s), spec),
      cspViolations: () => page.evaluate(() => window.H.cspViolations.slice()),
      close: async () => {
        contexts.delete(context);
        await context.close();
      },
    };
  }

  return {
    srv,
    browser,
    fx,
    open,
    /** A verify URL on a port that refuses connections. */
    refusedUrl: `http://127.0.0.1:${refusedPort}/verify/1`,
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await srv.close();
    },
  };
}
