// The installed package used without a bundler, served as static files under the strict CSP:
//   - a plain ES-module page importing node_modules/mozmarket/… by the paths the exports map names;
//   - a page with only <mozmarket-buy-button> and mozmarket/element (the element loads the core);
//   - a classic <script> page written like an old receiptverifier.js app (mozmarket.receipts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pack, makeConsumer, writeFiles, startServer, launchBrowser, withPage, makeAppFixture, FULL_EXPORTS, TEXT, LIMIT, SETUP_LIMIT } from './lib.mjs';
import { html, esmApp, exerciseEsmApp, elementApp, ELEMENT_HTML, CLASSIC_APP, expectRefundedPrompt } from './apps.mjs';

let dir;
let browser;
let srv;
let exportsMap;

before(async () => {
  const { tarball } = await pack('pages-pack');
  dir = await makeConsumer('static-pages', tarball);
  // The paths a no-bundler user writes: node_modules/mozmarket/ + the exports map's targets.
  exportsMap = JSON.parse(await readFile(path.join(dir, 'node_modules', 'mozmarket', 'package.json'), 'utf8')).exports;
  const file = (sub) => './node_modules/mozmarket/' + (typeof exportsMap[sub] === 'string' ? exportsMap[sub] : exportsMap[sub].default).slice(2);
  await writeFiles(dir, {
    'esm.html': html('mozmarket as plain ES modules', ['./esm-app.js']),
    'esm-app.js': esmApp({ index: file('.'), full: file('./full') }),
    'element.html': ELEMENT_HTML('./element-app.js'),
    'element-app.js': elementApp(file('./element')),
    'classic.html': html('mozmarket for a receiptverifier.js app', ['fixture.js', file('./classic').slice(2), 'classic-app.js'], { classic: true }),
    'classic-app.js': CLASSIC_APP,
  });
  srv = await startServer(dir);
  srv.setFixture(await makeAppFixture(srv.origin));
  browser = await launchBrowser();
}, SETUP_LIMIT);

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

test('plain ES modules from node_modules: init, strict verify, tampered receipt, Buy button, Prompter', LIMIT, async () => {
  await withPage(browser, srv.url('/esm.html'), async (p) => {
    await exerciseEsmApp(p, {
      wasmPaths: ['/node_modules/mozmarket/core/mozmarket_core_bg.wasm', '/node_modules/mozmarket/core-full/mozmarket_full_bg.wasm'],
    });
  });
});

test('mozmarket/element alone: the element loads the full core itself and renders its Buy button', LIMIT, async () => {
  await withPage(browser, srv.url('/element.html'), async (p) => {
    const button = p.page.getByRole('button', { name: 'Buy Magic Pony' });
    await button.waitFor({ state: 'visible', timeout: 15000 });
    assert.equal(await button.isEnabled(), true);
    assert.deepEqual(await p.page.evaluate(() => window.elementExports), FULL_EXPORTS, 'mozmarket/element re-exports mozmarket/full');
    const state = await p.page.evaluate(() => document.querySelector('mozmarket-buy-button').state);
    assert.equal(state, 'idle');
    const wasm = p.requests.filter((r) => r.url.endsWith('.wasm')).map((r) => new URL(r.url).pathname);
    assert.deepEqual(wasm, ['/node_modules/mozmarket/core-full/mozmarket_full_bg.wasm'], 'only the full core, once');
  });
});

test('classic <script> page: mozmarket.receipts like receiptverifier.js (compat, strict, Prompter)', LIMIT, async () => {
  await withPage(browser, srv.url('/classic.html'), async (p) => {
    const out = await p.result();
    assert.deepEqual(out.members, ['Verifier:function', 'verify:function', 'Prompter:function', 'addReceipt:function', 'listReceipts:function', 'ready:object']);
    assert.equal(out.mode, 'compat', 'a classic Verifier without trust roots is compat');
    assert.equal(out.compat, TEXT.ok, 'compat verification (the store says ok)');
    assert.equal(out.compatIsOK, true);
    assert.equal(out.strict, TEXT.ok, 'strict verification with trustedKeys');
    assert.equal(out.strictMode, 'strict');
    await expectRefundedPrompt(p.page);
    const wasm = p.requests.filter((r) => r.url.endsWith('.wasm')).map((r) => new URL(r.url).pathname);
    assert.deepEqual(wasm, ['/node_modules/mozmarket/core-full/mozmarket_full_bg.wasm'], 'the classic script loads core-full/ next to itself');
  });
});
