// Shared set-up for the packaging tests (tests/packaging/*.test.mjs): the package as a user gets
// it (`npm pack` of pkg/), consumer projects written from scratch under target/packaging/<name>/
// and installed from that tarball offline, a static server for them on 127.0.0.1 (strict CSP, a
// faked store, the test fixture), and headless Chromium pages that fail on CSP violations,
// console errors and uncaught exceptions.
//
// Nothing here reaches outside 127.0.0.1: npm runs with --offline (the consumers have no other
// dependency), Vite and TypeScript are the repository's own (node_modules/), and Chromium gets the
// browser tests' host-resolver rules (every name but 127.0.0.1 fails to resolve).
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../browser/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '..', '..');
/** The package directory to pack: pkg/ (MOZMARKET_PACKAGING_PKG_DIR points elsewhere, e.g. a trial build). */
export const pkgDir = process.env.MOZMARKET_PACKAGING_PKG_DIR ? path.resolve(process.env.MOZMARKET_PACKAGING_PKG_DIR) : path.join(repo, 'pkg');
/** Everything the packaging tests write: target/packaging/ (gitignored with target/). */
export const workRoot = path.join(repo, 'target', 'packaging');
export const npmCache = path.join(workRoot, '.npm-cache');
export const VITE = path.join(repo, 'node_modules', 'vite', 'bin', 'vite.js');
export const TSC = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

/** Limits for node:test: a browser test, and a set-up hook (packing, installing, building). */
export const LIMIT = { timeout: 180000 };
export const SETUP_LIMIT = { timeout: 300000 };

/** The CSP every consumer page is served with (README: the package works under it). */
export const CSP = "script-src 'self' 'wasm-unsafe-eval'";

export const STORE_URL = 'https://store.example/app';
export const SUPPORT_HTML = '<a href="mailto:help@example.com">help</a>';

/** Expected texts (spec §4.5, §8.3), exact. */
export const TEXT = {
  ok: '[OK]',
  nvr: '[NoValidReceipts No receipts passed verification]',
  invalidSignature: '[InvalidSignature Signature verification failed part: 1]',
  refunded: '[Refunded Application payment was refunded result: {"status":"refunded"}]',
  refundedPrompt:
    'You purchased this app, but then got a refund.  If you still want to use the application, you must purchase the application again.',
};

/** The exports a side-effect-free ES entry has (the API of issue 5). */
export const INDEX_EXPORTS = ['Verifier', 'addReceipt', 'init', 'listReceipts', 'ready', 'verify'];
export const FULL_EXPORTS = [...INDEX_EXPORTS, 'Prompter', 'defineElements', 'mountBuyButton', 'mountRestoreButton'].sort();

/** Empties and creates target/packaging/<name>/. */
export async function freshDir(name) {
  const dir = path.join(workRoot, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Runs `cmd args` in `cwd`; resolves with {code, stdout, stderr, output}. Rejects on a non-zero
 * exit unless `allowFailure`, and after `timeoutMs` (the process group is killed), with the
 * command and its output in the message.
 */
export function run(cmd, args, { cwd, env = {}, timeoutMs = 120000, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env: {
        ...process.env,
        // npm: quiet, offline, no telemetry-ish requests, a cache of our own.
        npm_config_update_notifier: 'false',
        npm_config_fund: 'false',
        npm_config_audit: 'false',
        npm_config_cache: npmCache,
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const what = `${path.basename(cmd)} ${args.join(' ')} (in ${path.relative(repo, cwd || '.') || '.'})`;
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(new Error(`timed out after ${timeoutMs} ms: ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${what}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const res = { code, signal, stdout, stderr, output: stdout + stderr };
      if ((code !== 0 || signal) && !allowFailure) {
        reject(new Error(`exit ${code}${signal ? ` (${signal})` : ''}: ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      } else {
        resolve(res);
      }
    });
  });
}

async function exists(p) {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * `npm pack` of pkg/ into a fresh target/packaging/<name>/. Returns {dir, tarball, info} where
 * `info` is npm's JSON report (`files`: what the tarball holds).
 */
export async function pack(name) {
  for (const f of ['package.json', 'index.js', 'full.js', 'mozmarket-receipts.js']) {
    if (!(await exists(path.join(pkgDir, f)))) {
      throw new Error(`pkg/${f} is missing: build the package first (bash scripts/build-wasm.sh all)`);
    }
  }
  const dir = await freshDir(name);
  const { stdout } = await run('npm', ['pack', pkgDir, '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: dir,
    timeoutMs: 60000,
  });
  const info = JSON.parse(stdout)[0];
  return { dir, tarball: path.join(dir, info.filename), info };
}

/**
 * A consumer project written from scratch in a fresh target/packaging/<name>/: its own
 * package.json (ES module, no dependency but the tarball), `files` ({relative path: text}), then
 * `npm install --offline <tarball>`. Returns the project directory.
 */
export async function makeConsumer(name, tarball, files = {}) {
  const dir = await freshDir(name);
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: `mozmarket-consumer-${name}`, version: '0.0.0', private: true, type: 'module' }, null, 2) + '\n',
  );
  await writeFiles(dir, files);
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], { cwd: dir, timeoutMs: 90000 });
  const installed = JSON.parse(await readFile(path.join(dir, 'node_modules', 'mozmarket', 'package.json'), 'utf8'));
  if (installed.name !== 'mozmarket') throw new Error(`${name}: node_modules/mozmarket is not the package`);
  return dir;
}

export async function writeFiles(dir, files) {
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, text);
  }
}

/**
 * `vite build` of the project in `dir` with the repository's Vite. Returns the build output; fails
 * on a non-zero exit, and (unless `allowWarnings`) on any warning Vite or a plugin printed.
 */
export async function viteBuild(dir, { allowWarnings = false } = {}) {
  const res = await run(process.execPath, [VITE, 'build', '--logLevel', 'info'], { cwd: dir, timeoutMs: 120000 });
  const warnings = viteWarnings(res.output);
  if (warnings.length && !allowWarnings) {
    throw new Error(
      `vite build in ${path.relative(repo, dir)} printed warnings (a consumer's build must be clean):\n  ` +
        warnings.join('\n  ') +
        `\n--- full output\n${res.output}`,
    );
  }
  return res;
}

/** The warning lines of a Vite build's output. */
export function viteWarnings(output) {
  return output
    .split('\n')
    .filter((l) => /\[plugin |warning|warn\b|externalized|\(!\)|deprecated|error/i.test(l));
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.ts': 'text/plain; charset=utf-8',
};

/**
 * A static server on 127.0.0.1 (free port) for `root`, every answer with the CSP header:
 *
 * - /store/ok, /store/refunded   the faked store's verify endpoints (CORS, like a real store)
 * - /favicon.ico                 204 (browsers ask for it; not part of any app)
 * - /fixture.json, /fixture.js   the fixture the test set with `setFixture` (JSON; a classic script
 *                                 defining `window.FIXTURE`)
 * - anything else                 a file under `root` (`/` → index.html)
 *
 * Every request is recorded in `hits`.
 */
export async function startServer(root) {
  const hits = [];
  const sockets = new Set();
  let fixture = null;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    hits.push({ method: req.method, path: url.pathname, body: Buffer.concat(chunks).toString('utf8') });
    const send = (status, type, body, extra = {}) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
        ...extra,
      });
      res.end(body);
    };
    try {
      if (url.pathname.startsWith('/store/')) {
        const cors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'content-type' };
        if (req.method === 'OPTIONS') return send(204, 'text/plain', '', cors);
        const status = { '/store/ok': 'ok', '/store/refunded': 'refunded' }[url.pathname];
        if (!status) return send(404, 'application/json', '{"error":"unknown store script"}', cors);
        return send(200, 'application/json', JSON.stringify({ status }), cors);
      }
      // Browsers ask for a favicon on their own; not part of any app (and no console error).
      if (url.pathname === '/favicon.ico') return send(204, 'image/x-icon', '');
      if (url.pathname === '/fixture.json') return send(200, 'application/json', JSON.stringify(fixture));
      if (url.pathname === '/fixture.js') {
        return send(200, MIME['.js'], `window.FIXTURE = ${JSON.stringify(fixture)};\n`);
      }
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.join(root, rel);
      if (!file.startsWith(root + path.sep)) return send(403, 'text/plain', 'forbidden');
      let data;
      try {
        data = await readFile(file);
      } catch {
        return send(404, 'text/plain', 'not found');
      }
      return send(200, MIME[path.extname(file)] || 'application/octet-stream', data);
    } catch (e) {
      return send(500, 'text/plain', String(e));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    hits,
    url: (p) => origin + p,
    setFixture: (f) => {
      fixture = f;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The receipts the consumer apps verify, for a store on `origin` (tests/browser/fixtures.mjs:
 * ES256 keys made here, baseline B shapes): a good one, a tampered one (payload changed after
 * signing), one the store says was refunded, and an unsigned one for compat mode.
 */
export async function makeAppFixture(origin) {
  const { makeFixture, T } = await import('../browser/fixtures.mjs');
  const fx = makeFixture(origin);
  return {
    iss: origin,
    now: T,
    trustedKeys: fx.trustedKeys,
    productURL: 'https://app.example',
    good: fx.receipt(),
    forged: fx.forged(),
    refunded: fx.receipt({}, { store: 'refunded' }),
    unsigned: fx.unsigned(),
    unsignedRefunded: fx.unsigned({}, 'refunded'),
    storeURL: STORE_URL,
    supportHTML: SUPPORT_HTML,
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30000 });
}

/**
 * Opens `url` in a fresh context. Every `securitypolicyviolation`, console error and uncaught
 * exception is recorded (the listener is installed before any page script runs); `finish()`
 * throws if there was any, then closes the context.
 */
export async function openPage(browser, url, { waitFor = null, timeoutMs = 20000 } = {}) {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  const page = await context.newPage();
  const consoleErrors = [];
  const pageErrors = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String((e && e.stack) || e)));
  page.on('request', (r) => requests.push({ url: r.url(), type: r.resourceType(), method: r.method() }));
  await page.goto(url, { timeout: timeoutMs });
  const problems = async () => {
    const csp = await page.evaluate(() => window.__cspViolations.slice()).catch((e) => [`(could not read: ${e.message})`]);
    const out = [];
    if (csp.length) out.push(`securitypolicyviolation events: ${JSON.stringify(csp)}`);
    if (consoleErrors.length) out.push(`console errors: ${JSON.stringify(consoleErrors)}`);
    if (pageErrors.length) out.push(`uncaught exceptions: ${JSON.stringify(pageErrors)}`);
    return out;
  };
  const p = {
    page,
    context,
    consoleErrors,
    pageErrors,
    requests,
    problems,
    /** Waits for `body[data-done]`; returns the app's JSON report from #out (fails on "error"). */
    async result(ms = timeoutMs) {
      try {
        await page.waitForSelector('body[data-done]', { timeout: ms, state: 'attached' });
      } catch (e) {
        const text = await page.locator('#out').textContent().catch(() => '');
        throw new Error(`the app did not finish within ${ms} ms (${e.message.split('\n')[0]}); #out: ${text}; ${(await problems()).join('; ')}`);
      }
      const done = await page.getAttribute('body', 'data-done');
      const text = await page.locator('#out').textContent();
      if (done !== 'ok') throw new Error(`the app failed: ${text}; ${(await problems()).join('; ')}`);
      return JSON.parse(text);
    },
    /** No CSP violation, console error or uncaught exception; closes the context. */
    async finish() {
      const out = await problems();
      await context.close().catch(() => {});
      if (out.length) throw new Error(`page ${url}: ${out.join('; ')}`);
    },
    close: () => context.close().catch(() => {}),
  };
  if (waitFor) await page.waitForSelector(waitFor, { timeout: timeoutMs });
  return p;
}

/** openPage(), `fn(page)`, then finish(); a failure of `fn` also reports the page's problems. */
export async function withPage(browser, url, fn, opts) {
  const p = await openPage(browser, url, opts);
  try {
    await fn(p);
  } catch (e) {
    const problems = await p.problems().catch(() => []);
    await p.close();
    if (problems.length && e && typeof e.message === 'string') e.message += `\n  page problems: ${problems.join('; ')}`;
    throw e;
  }
  await p.finish();
}
