// Receipt sources (§7.1), the local receipt store (§7.2), addReceipt (§7.3) and listReceipts,
// with a scripted navigator.mozApps stand-in (#109–#111, #120, #121).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './harness.mjs';
import { T } from './fixtures.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  if (env) await env.close();
});

/**
 * Opens a page, installs the mozApps stand-in described by `mozApps` (or none), then runs a
 * Verifier with `opts` (JSON) and returns the summary with the stand-in's call counts.
 */
const pages = {};
async function pageFor(surface) {
  if (!pages[surface]) pages[surface] = await env.open(surface);
  return pages[surface];
}

async function withMozApps(surface, mozApps, opts, extra = {}) {
  const p = await pageFor(surface);
  return await p.page.evaluate(async ({ mozApps, opts, T, extra }) => {
    // One page per surface is reused: start from no mozApps and an empty localStorage.
    delete navigator.mozApps;
    localStorage.clear();
    const calls = mozApps ? window.H.installMozApps(mozApps) : null;
    if (extra.localStore !== undefined) localStorage.setItem('fxpayReceipts', extra.localStore);
    const o = Object.assign({}, opts, { now: () => T });
    if (extra.defaultReceiptStorage) delete o.receiptStorage;
    const log = [];
    o.onlog = (l, m) => log.push([l, m]);
    if (extra.receiptsFn === 'promise') o.receipts = () => Promise.resolve(opts.receipts);
    if (extra.receiptsFn === 'throw') o.receipts = () => { throw new Error('boom'); };
    if (extra.receiptsFn === 'reject') o.receipts = () => Promise.reject(new Error('nope'));
    if (extra.receiptsFn === 'notArray') o.receipts = () => 'x';
    const v = new window.mm.Verifier(o);
    let count = 0;
    let sync = true;
    let calledSync = false;
    const promise = v.verify(() => {
      count += 1;
      if (sync) calledSync = true;
    });
    sync = false;
    await promise;
    await new Promise((r) => setTimeout(r, extra.waitAfter || 0));
    return Object.assign(window.H.summarize(v), {
      calls: count,
      calledSync,
      mozAppsCalls: calls && calls.getSelf,
      log,
      appIsStandIn: mozApps && mozApps.app ? v.app !== null && v.app !== undefined && v.app.manifestURL === mozApps.app.manifestURL : null,
      installsProperty: v.installs_allowed_from === undefined ? 'undefined' : v.installs_allowed_from,
    });
  }, { mozApps, opts, T, extra });
}

const manifestURL = 'https://app.example/manifest.webapp';

describe('navigator.mozApps present', () => {
  for (const surface of ['esm', 'classic']) {
    const strictSurface = surface === 'esm';
    const opts = (receipts, extra = {}) =>
      strictSurface ? env.fx.strictOptions(receipts, extra) : env.fx.compatOptions(receipts, extra);
    const rcpt = () => (strictSurface ? env.fx.receipt() : env.fx.unsigned());

    test(`${surface}: receipts from the app; manifest allowlist; app origin as product URL`, async () => {
      const r = rcpt();
      const app = {
        manifestURL,
        origin: 'https://app.example',
        receipts: [r],
        manifest: { installs_allowed_from: [env.srv.origin] },
      };
      const res = await withMozApps(
        surface,
        { getSelf: 'app', app },
        opts(undefined, { installs_allowed_from: undefined, productURL: undefined, receipts: undefined }),
      );
      assert.equal(res.state, '[OK]');
      assert.equal(res.app, 'object');
      assert.equal(res.appIsStandIn, true);
      assert.equal(res.installsProperty, 'undefined');
      assert.equal(res.verifier, `[Verifier state: [OK] products: https://app.example installed app: ${manifestURL}]`);
      assert.ok(res.log.some(([l, m]) => l === 20 && m === `Got application: ${manifestURL}`));
      assert.ok(res.log.some(([l, m]) => l === 20 && m === `Using installs_allowed_from value from manifest: ["${env.srv.origin}"]`));
      assert.equal(res.mozAppsCalls, 1);
    });

    test(`${surface}: getSelf() answers null → NotInstalled`, async () => {
      const res = await withMozApps(surface, { getSelf: 'null' }, opts(undefined, { receipts: undefined }));
      assert.equal(res.state, '[NotInstalled The app is not installed]');
      assert.equal(res.app, 'null');
      assert.equal(res.calls, 1);
    });

    test(`${surface}: getSelf() fails with DENIED (#110) → MozAppsError, callback once`, async () => {
      const res = await withMozApps(surface, { getSelf: 'error', error: 'DENIED' }, opts([rcpt()]), { waitAfter: 50 });
      assert.equal(res.state, '[MozAppsError Error calling mozApps.getSelf: DENIED mozAppsError: "DENIED"]');
      assert.equal(res.calls, 1);
      assert.deepEqual(res.errors, []);
      assert.ok(res.log.some(([l, m]) => l === 50 && m === 'Got mozApps Error: DENIED'));
    });

    test(`${surface}: app with receipts: [] and no other source (#111) → NoReceipts`, async () => {
      const res = await withMozApps(
        surface,
        { getSelf: 'app', app: { manifestURL, receipts: [] } },
        opts(undefined, { receipts: undefined }),
        { waitAfter: 50 },
      );
      assert.equal(res.state, '[NoReceipts No receipts were found or installed]');
      assert.equal(res.calls, 1);
    });
  }

  test('getSelf() throws, or never answers within requestTimeout', async () => {
    let res = await withMozApps('esm', { getSelf: 'throw' }, env.fx.strictOptions([env.fx.receipt()]));
    assert.equal(
      res.state,
      '[MozAppsError Error calling mozApps.getSelf: Error: getSelf exploded mozAppsError: "Error: getSelf exploded"]',
    );
    res = await withMozApps('esm', { getSelf: 'hang' }, env.fx.strictOptions([env.fx.receipt()], { requestTimeout: 100 }));
    assert.equal(res.state, '[MozAppsError Error calling mozApps.getSelf: timeout mozAppsError: "timeout"]');
    assert.equal(res.calls, 1);
  });

  test('app.receipts undefined logs an ERROR; an array-like receipts object is read in key order', async () => {
    let res = await withMozApps('esm', { getSelf: 'app', app: { manifestURL } }, env.fx.strictOptions(undefined));
    assert.equal(res.state, '[NoReceipts No receipts were found or installed]');
    assert.ok(res.log.some(([l, m]) => l === 50 && m === `The .receipts property of the app object is undefined (app: {"manifestURL":"${manifestURL}"})`));
    const r1 = env.fx.receipt();
    const r2 = env.fx.receipt({}, { store: 'refunded' });
    res = await withMozApps(
      'esm',
      { getSelf: 'app', app: { manifestURL, receipts: { 1: r2, 0: r1 } } },
      env.fx.strictOptions(undefined),
    );
    assert.equal(res.state, '[OK]');
    assert.deepEqual(res.errors.map(([k]) => k), [r2]);
    assert.equal(res.products.length, 1);
  });

  test('app receipts, then the receipts option, then the local store, deduplicated', async () => {
    const a = env.fx.receipt();
    const b = env.fx.receipt({}, { store: 'refunded' });
    const c = env.fx.receipt({}, { store: 'invalid' });
    const res = await withMozApps(
      'esm',
      { getSelf: 'app', app: { manifestURL, receipts: [a, 'x1'] } },
      env.fx.strictOptions([b, a, 'x2']),
      { localStore: JSON.stringify([c, b, 7, 'x3']), defaultReceiptStorage: true },
    );
    // Local failures are recorded first (local stages run in list order), store answers later.
    assert.deepEqual(res.errors.map(([k]) => k).slice(0, 3), ['x1', 'x2', 'x3']);
    assert.deepEqual(res.errors.map(([k]) => k).slice(3).sort(), [b, c].sort());
    const checked = res.log.filter(([l, m]) => l === 10 && m.startsWith('Checking receipt ')).map(([, m]) => m.slice(17));
    assert.deepEqual(checked, [a, 'x1', b, 'x2', c, 'x3'].map((k) => k.slice(0, 4)));
    assert.equal(res.products.length, 1);
  });
});

describe('navigator.mozApps absent', () => {
  test('no receipts anywhere → MozAppsNotSupported, asynchronously', async () => {
    const res = await withMozApps('classic', null, env.fx.compatOptions(undefined));
    assert.equal(res.state, '[MozAppsNotSupported navigator.mozApps does not exist]');
    assert.equal(res.calls, 1);
    assert.equal(res.calledSync, false);
    assert.equal(res.app, 'undefined');
  });

  test('receipts option set but empty → NoReceipts', async () => {
    const res = await withMozApps('esm', null, env.fx.strictOptions([]));
    assert.equal(res.state, '[NoReceipts No receipts were found or installed]');
  });

  test('unreadable local store (#109): WARN, no exception, MozAppsNotSupported', async () => {
    const res = await withMozApps('classic', null, env.fx.compatOptions(undefined), {
      localStore: '{oops',
      defaultReceiptStorage: true,
    });
    assert.equal(res.state, '[MozAppsNotSupported navigator.mozApps does not exist]');
    assert.ok(res.log.some(([l, m]) => l === 40 && m === 'Ignoring unreadable local receipt store'));
  });

  test('receipts from the local store are verified', async () => {
    const r = env.fx.unsigned();
    const res = await withMozApps('classic', null, env.fx.compatOptions(undefined), {
      localStore: JSON.stringify([r]),
      defaultReceiptStorage: true,
    });
    assert.equal(res.state, '[OK]');
  });

  test('the receipts option as a function: Promise, throw, reject, not an array', async () => {
    const r = env.fx.receipt();
    let res = await withMozApps('esm', null, env.fx.strictOptions([r]), { receiptsFn: 'promise' });
    assert.equal(res.state, '[OK]');
    res = await withMozApps('esm', null, env.fx.strictOptions([r]), { receiptsFn: 'throw' });
    assert.equal(res.state, '[VerifierError Exception: Error: boom exception: "Error: boom"]');
    res = await withMozApps('esm', null, env.fx.strictOptions([r]), { receiptsFn: 'reject' });
    assert.equal(res.state, '[VerifierError Exception: Error: nope exception: "Error: nope"]');
    res = await withMozApps('esm', null, env.fx.strictOptions([r]), { receiptsFn: 'notArray' });
    assert.equal(res.state, '[VerifierError The receipts option did not provide an array]');
  });
});

describe('addReceipt (§7.3) and listReceipts (§7.2)', () => {
  let p;
  before(async () => {
    p = await env.open('esm');
  });
  after(async () => p.close());

  const add = (receipt, options, setupSpec) =>
    p.page.evaluate(async ({ receipt, options, setupSpec }) => {
      localStorage.clear();
      if (setupSpec && setupSpec.local) localStorage.setItem('fxpayReceipts', setupSpec.local);
      let calls = null;
      if (setupSpec && setupSpec.mozApps) calls = window.H.installMozApps(setupSpec.mozApps);
      else delete navigator.mozApps;
      const opts = options === 'null-storage' ? { receiptStorage: null } : options === 'failing' ? { receiptStorage: new window.H.MemoryStorage({}, { set: true }) } : undefined;
      try {
        const result = await window.mm.addReceipt(receipt, opts);
        return { ok: true, result, local: localStorage.getItem('fxpayReceipts'), appAdds: calls && calls.addReceipt.length };
      } catch (e) {
        return { ok: false, isError: e instanceof Error, message: e.message, code: e.code, local: localStorage.getItem('fxpayReceipts'), appAdds: calls && calls.addReceipt.length };
      } finally {
        delete navigator.mozApps;
      }
    }, { receipt, options, setupSpec });

  test('#120: syntactic check codes', async () => {
    const noUser = env.fx.receipt({ user: undefined });
    const certified = env.fx.receipt({ typ: 'certified-key' });
    for (const [receipt, code] of [
      [123, 'INVALID_PARAMETERS'],
      ['abc', 'INVALID_SEGMENTS_NUMBER'],
      [noUser, 'RECEIPT_USER_REQUIRED'],
      [certified, 'RECEIPT_TYPE_UNSUPPORTED'],
    ]) {
      const out = await add(receipt);
      assert.deepEqual(
        { ok: out.ok, isError: out.isError, message: out.message, code: out.code, local: out.local },
        { ok: false, isError: true, message: `Invalid receipt: ${code}`, code, local: null },
      );
    }
  });

  test('#121: local store: added, already there, 500 stored', async () => {
    const r = env.fx.receipt();
    let out = await add(r);
    assert.deepEqual(out.result, { storage: 'local', added: true });
    assert.deepEqual(JSON.parse(out.local), [r]);
    out = await add(r, undefined, { local: JSON.stringify(['a', r]) });
    assert.deepEqual(out.result, { storage: 'local', added: false });
    const full = JSON.stringify(Array.from({ length: 500 }, (_, i) => `stored${i}`));
    out = await add(r, undefined, { local: full });
    assert.equal(out.ok, false);
    assert.equal(out.code, 'TOO_MANY_RECEIPTS');
    assert.equal(out.message, 'Invalid receipt: TOO_MANY_RECEIPTS');
    out = await add(r, undefined, { local: '{oops' });
    assert.deepEqual(out.result, { storage: 'local', added: true });
    assert.deepEqual(JSON.parse(out.local), [r]);
  });

  test('no storage, write failure', async () => {
    const r = env.fx.receipt();
    let out = await add(r, 'null-storage');
    assert.deepEqual([out.ok, out.code, out.message], [false, 'NO_RECEIPT_STORAGE', 'no storage mechanism for adding receipts']);
    out = await add(r, 'failing');
    assert.deepEqual([out.ok, out.code, out.message], [false, 'STORAGE_ERROR', 'could not write the local receipt store: Error: QuotaExceededError']);
  });

  test('mozApps first: added, already exists, refused (no fallback); null app → local', async () => {
    const r = env.fx.receipt();
    const app = { manifestURL, receipts: [] };
    let out = await add(r, undefined, { mozApps: { getSelf: 'app', app } });
    assert.deepEqual([out.result, out.appAdds, out.local], [{ storage: 'mozApps', added: true }, 1, null]);
    out = await add(r, undefined, { mozApps: { getSelf: 'app', app, addReceiptError: 'RECEIPT_ALREADY_EXISTS' } });
    assert.deepEqual(out.result, { storage: 'mozApps', added: false });
    out = await add(r, undefined, { mozApps: { getSelf: 'app', app, addReceiptError: 'DENIED' } });
    assert.deepEqual([out.ok, out.code, out.message, out.local], [false, 'DENIED', 'error calling app.addReceipt: DENIED', null]);
    out = await add(r, undefined, { mozApps: { getSelf: 'null' } });
    assert.deepEqual(out.result, { storage: 'local', added: true });
    out = await add(r, undefined, { mozApps: { getSelf: 'error' } });
    assert.deepEqual(out.result, { storage: 'local', added: true });
  });

  test('listReceipts: mozApps receipts and the local store, deduplicated, nothing verified', async () => {
    const before = env.srv.hits.length;
    const out = await p.page.evaluate(async () => {
      localStorage.clear();
      localStorage.setItem('fxpayReceipts', JSON.stringify(['b', 'c', 5, 'c']));
      window.H.installMozApps({ getSelf: 'app', app: { manifestURL: 'x', receipts: ['a', 'b'] } });
      const withApp = await window.mm.listReceipts();
      const custom = await window.mm.listReceipts({ receiptStorage: new window.H.MemoryStorage({ fxpayReceipts: '["z"]' }) });
      delete navigator.mozApps;
      const without = await window.mm.listReceipts();
      const none = await window.mm.listReceipts({ receiptStorage: null });
      return { withApp, custom, without, none };
    });
    assert.deepEqual(out, { withApp: ['a', 'b', 'c'], custom: ['a', 'b', 'z'], without: ['b', 'c'], none: [] });
    assert.equal(env.srv.hits.length, before);
  });
});
