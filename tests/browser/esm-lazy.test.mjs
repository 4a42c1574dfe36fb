// The ES entries load the WebAssembly core on demand (issue 5: no import side effects): importing
// fetches no .wasm; Verifier.states exist at once; synchronous calls that need the core throw a
// named error; init() and `await ready` load it once; runs and custom elements load it themselves;
// a failed load can be retried; init({module_or_path}) takes the wasm from elsewhere.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './harness.mjs';
import { T } from './fixtures.mjs';

const NOT_READY = 'mozmarket is not ready: await init() first';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  if (env) await env.close();
});

/** A fresh context with lazy.html loaded; `wasm` lists every .wasm request, `failWasm` 404s them. */
async function openLazy({ failWasm = false } = {}) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const wasm = [];
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e && e.message)));
  page.on('request', (r) => {
    if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname);
  });
  const state = { failWasm };
  await page.route('**/*.wasm', (route) =>
    state.failWasm ? route.fulfill({ status: 404, body: 'gone' }) : route.continue(),
  );
  await page.goto(env.srv.url('/pages/lazy.html'));
  await page.waitForFunction(() => window.mmReady === true, null, { timeout: 10000 });
  return { context, page, wasm, pageErrors, state };
}

describe('importing the ES entries', () => {
  test('fetches no wasm; class tree, templates and compat Verifiers work; sync calls throw NOT_READY', async () => {
    const p = await openLazy();
    try {
      await p.page.waitForTimeout(200);
      assert.deepEqual(p.wasm, [], 'importing index.js, full.js and element.js must not fetch the core');
      const out = await p.page.evaluate(() => {
        const { index, full } = window.lazy;
        const errors = {};
        const attempt = (name, fn) => {
          try {
            fn();
            errors[name] = null;
          } catch (e) {
            errors[name] = [e.name, e.message];
          }
        };
        attempt('trustedKeys', () => new index.Verifier({ trustedKeys: { keys: [] } }));
        attempt('rootKeyOrigins', () => new full.Verifier({ rootKeyOrigins: ['https://keys.store.example'] }));
        attempt('parseReceipt', () => new index.Verifier({ mode: 'compat' }).parseReceipt('a.b.c'));
        attempt('mountBuyButton', () => full.mountBuyButton(document.getElementById('mount'), { product: 'x' }));
        attempt('mountRestoreButton', () => full.mountRestoreButton(document.getElementById('mount'), {}));
        attempt('Prompter', () => new full.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x' }));
        return {
          errors,
          states: String(index.Verifier.states),
          errorsTree: String(full.Verifier.errors),
          instanceOk: new index.Verifier.states.OKStaleCache('x') instanceof index.Verifier.states.OK,
          compatMode: new index.Verifier({ mode: 'compat', installs_allowed_from: ['https://store.example'] }).mode,
          templates: Object.keys(full.Prompter.prototype.templates).length,
          readyKeys: ['then', 'catch', 'finally'].map((k) => typeof full.ready[k]),
          mountEmpty: document.getElementById('mount').childNodes.length,
        };
      });
      for (const k of ['trustedKeys', 'rootKeyOrigins', 'parseReceipt', 'Prompter']) {
        assert.deepEqual(out.errors[k], ['Error', NOT_READY], k);
      }
      for (const k of ['mountBuyButton', 'mountRestoreButton']) {
        assert.deepEqual(out.errors[k], ['IncorrectUsage', NOT_READY], k);
      }
      assert.equal(out.mountEmpty, 0);
      assert.match(out.states, /^\{.*NoValidReceipts.*\}$/);
      assert.match(out.errorsTree, /InvalidReceiptIssuer/);
      assert.equal(out.instanceOk, true);
      assert.equal(out.compatMode, 'compat');
      assert.equal(out.templates, 10);
      assert.deepEqual(out.readyKeys, ['function', 'function', 'function']);
      // Still nothing fetched: the failed calls did not start a load either.
      assert.deepEqual(p.wasm, []);
      // After init the same calls work, and the class tree is the core's own.
      const after = await p.page.evaluate(async (trustedKeys) => {
        const { index, full } = window.lazy;
        const before = String(index.Verifier.states);
        await index.init();
        await full.init();
        new index.Verifier({ trustedKeys });
        let mountError = null;
        try {
          full.mountRestoreButton(document.getElementById('mount'), {});
        } catch (e) {
          mountError = e.name; // the core's own option check now runs
        }
        return { same: before === String(index.Verifier.states), mountError };
      }, env.fx.trustedKeys);
      assert.deepEqual(after, { same: true, mountError: 'ConfigurationError' });
      assert.deepEqual(p.wasm.sort(), ['/pkg/core-full/mozmarket_full_bg.wasm', '/pkg/core/mozmarket_core_bg.wasm']);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.context.close();
    }
  });
});

describe('loading on demand', () => {
  test('init() and await ready load the core once; init() resolves to undefined', async () => {
    const p = await openLazy();
    try {
      const out = await p.page.evaluate(async () => {
        const { index } = window.lazy;
        const a = index.init();
        const b = index.init();
        const values = await Promise.all([a, b, index.ready, index.ready.then((v) => ['then', v])]);
        let finallyRan = false;
        await index.ready.finally(() => {
          finallyRan = true;
        });
        return { values, finallyRan, again: await index.init() };
      });
      assert.deepEqual(out.values, [undefined, undefined, undefined, ['then', undefined]]);
      assert.equal(out.finallyRan, true);
      assert.equal(out.again, undefined);
      assert.deepEqual(p.wasm, ['/pkg/core/mozmarket_core_bg.wasm']);
    } finally {
      await p.context.close();
    }
  });

  test('a verification run started before init loads the core and ends with the right state', async () => {
    const p = await openLazy();
    try {
      const good = env.fx.receipt();
      const r = await p.page.evaluate((spec) => window.H.run(spec), { opts: env.fx.compatOptions([good], { mode: 'compat' }), now: T });
      assert.equal(r.state, '[OK]');
      assert.equal(r.calls, 1);
      assert.equal(r.calledSync, false);
      assert.deepEqual(p.wasm, ['/pkg/core-full/mozmarket_full_bg.wasm']);
    } finally {
      await p.context.close();
    }
  });

  test('a failed load rejects init(), ready and runs with the load error; a later init() retries', async () => {
    const p = await openLazy({ failWasm: true });
    try {
      const failed = await p.page.evaluate(async (spec) => {
        const { index } = window.lazy;
        const out = {};
        await index.init().then(() => (out.init = 'resolved'), (e) => (out.init = e instanceof Error));
        await index.ready.catch((e) => (out.ready = e instanceof Error));
        const v = new index.Verifier(spec.opts);
        let calls = 0;
        await v.verify(() => calls++);
        out.state = String(v.state).slice(0, 26);
        out.calls = calls;
        return out;
      }, { opts: env.fx.compatOptions([env.fx.receipt()], { mode: 'compat' }) });
      assert.deepEqual(failed, { init: true, ready: true, state: '[VerifierError Exception: ', calls: 1 });
      p.state.failWasm = false;
      const retried = await p.page.evaluate(async (trustedKeys) => {
        await window.lazy.index.init();
        return String(new window.lazy.index.Verifier({ trustedKeys }).mode);
      }, env.fx.trustedKeys);
      assert.equal(retried, 'strict');
      assert.ok(p.wasm.length >= 2, `the retry fetched the wasm again: ${p.wasm}`);
    } finally {
      await p.context.close();
    }
  });

  test('init({module_or_path}) loads the wasm from another URL; a malformed input is a TypeError', async () => {
    const p = await openLazy();
    try {
      await p.page.route('**/elsewhere/core.wasm', (route) =>
        route.fulfill({ path: new URL('../../pkg/core/mozmarket_core_bg.wasm', import.meta.url).pathname, contentType: 'application/wasm' }),
      );
      const out = await p.page.evaluate(async (trustedKeys) => {
        const { index } = window.lazy;
        const bad = [];
        for (const input of ['core.wasm', 42, { path: 'x' }]) {
          await index.init(input).then(() => bad.push('resolved'), (e) => bad.push(e.name));
        }
        await index.init({ module_or_path: new URL('/elsewhere/core.wasm', location.href) });
        return { bad, strict: new index.Verifier({ trustedKeys }).mode };
      }, env.fx.trustedKeys);
      assert.deepEqual(out, { bad: ['TypeError', 'TypeError', 'TypeError'], strict: 'strict' });
      assert.deepEqual(p.wasm, ['/elsewhere/core.wasm']);
    } finally {
      await p.context.close();
    }
  });

  test('a <mozmarket-buy-button> connected before init loads the core and renders', async () => {
    const p = await openLazy();
    try {
      await p.page.evaluate((origin) => {
        const el = document.createElement('mozmarket-buy-button');
        el.setAttribute('product', 'shiny-pony');
        el.options = { buyUrl: origin + '/buy', providerOrigin: 'https://pay.test' };
        document.body.appendChild(el);
      }, env.srv.origin);
      await p.page.waitForFunction(() => document.querySelector('mozmarket-buy-button').state === 'idle', null, { timeout: 10000 });
      const out = await p.page.evaluate(() => {
        const el = document.querySelector('mozmarket-buy-button');
        const b = el.shadowRoot.querySelector('button');
        return { error: el.error && el.error.message, button: b ? b.textContent.trim().length > 0 : false };
      });
      assert.deepEqual(out, { error: null, button: true });
      assert.deepEqual(p.wasm, ['/pkg/core-full/mozmarket_full_bg.wasm']);
      assert.deepEqual(p.pageErrors, []);
    } finally {
      await p.context.close();
    }
  });
});
