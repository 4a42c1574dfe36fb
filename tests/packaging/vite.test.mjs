// A Vite app built from scratch against the packed package: `import … from 'mozmarket'` and
// 'mozmarket/full' (the verifier's wasm through `mozmarket/wasm?url` and init({module_or_path}),
// the full core through the package's own `new URL('…wasm', import.meta.url)`), built with the
// repository's Vite 8, served from dist/ under the strict CSP and run in headless Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pack, makeConsumer, viteBuild, viteWarnings, startServer, launchBrowser, withPage, makeAppFixture, LIMIT, SETUP_LIMIT } from './lib.mjs';
import { html, esmApp, exerciseEsmApp } from './apps.mjs';

let dir;
let browser;
let srv;
let assets = [];
let build;

before(async () => {
  const { tarball } = await pack('vite-pack');
  dir = await makeConsumer('vite-app', tarball, {
    'index.html': html('mozmarket in a Vite app', ['/main.js']),
    'main.js': esmApp({
      index: 'mozmarket',
      full: 'mozmarket/full',
      extraImports: "import coreWasm from 'mozmarket/wasm?url';",
      initArg: '{ module_or_path: coreWasm }',
    }),
  });
  browser = await launchBrowser();
  // Built once here; the first test judges the build's output, the second runs it.
  build = await viteBuild(dir, { allowWarnings: true });
  assets = await readdir(path.join(dir, 'dist', 'assets'));
}, SETUP_LIMIT);

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

const sha = (b) => createHash('sha256').update(b).digest('hex');

test('vite build: no warnings; both cores emitted as .wasm assets, byte for byte', async () => {
  assert.deepEqual(viteWarnings(build.output), [], `vite build printed warnings; full output:\n${build.output}`);
  const dist = path.join(dir, 'dist');
  const wasm = assets.filter((f) => f.endsWith('.wasm')).sort();
  assert.equal(wasm.length, 2, `two .wasm assets (verifier and full core): ${assets.join(', ')}`);
  assert.match(wasm[0], /^mozmarket_core_bg-[\w-]+\.wasm$/);
  assert.match(wasm[1], /^mozmarket_full_bg-[\w-]+\.wasm$/);
  const installed = path.join(dir, 'node_modules', 'mozmarket');
  assert.equal(sha(await readFile(path.join(dist, 'assets', wasm[0]))), sha(await readFile(path.join(installed, 'core/mozmarket_core_bg.wasm'))));
  assert.equal(sha(await readFile(path.join(dist, 'assets', wasm[1]))), sha(await readFile(path.join(installed, 'core-full/mozmarket_full_bg.wasm'))));
  const js = assets.filter((f) => f.endsWith('.js'));
  const code = (await Promise.all(js.map((f) => readFile(path.join(dist, 'assets', f), 'utf8')))).join('\n');
  for (const w of wasm) assert.ok(code.includes(w), `the bundle refers to ${w}`);
  assert.ok(!assets.some((f) => /browser-external/.test(f)), `no Node-only module stubbed into the browser bundle: ${assets.join(', ')}`);
});

test('the built app in Chromium under the strict CSP: init, strict verify, tampered receipt, Buy button, Prompter', LIMIT, async () => {
  srv = await startServer(path.join(dir, 'dist'));
  srv.setFixture(await makeAppFixture(srv.origin));
  await withPage(browser, srv.url('/'), async (p) => {
    const wasm = assets.filter((f) => f.endsWith('.wasm')).map((f) => `/assets/${f}`);
    await exerciseEsmApp(p, { wasmPaths: wasm });
    const wasmRequests = p.requests.filter((r) => r.url.endsWith('.wasm')).map((r) => new URL(r.url).pathname);
    assert.deepEqual(wasmRequests.sort(), wasm.sort(), 'each core fetched once, from the emitted asset');
    assert.equal(srv.hits.filter((h) => h.path === '/store/ok').length, 1, 'the store was asked once, for the good receipt');
  });
});
