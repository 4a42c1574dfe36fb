// The Prompter (spec/receipts.md §8, §9.9 #122–#132) on the full ES module surface and the
// classic global, in Chromium, on pages served with the CSP and Trusted Types policy of §8.7.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup } from './harness.mjs';
import { T } from './fixtures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');

/** §8.7, with the test server as the only origin. */
const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
  "require-trusted-types-for 'script'";

const ID = 'moz-receiptverifier-overlay';
const STORE = 'https://store.example/app';

/** §8.3, exact. */
const DEFAULT_TEMPLATES = {
  fatalInternalError:
    'We have encountered a error that keeps us from continuing.  Please contact support: <%= supportHTML %>',
  internalError:
    'We have encountered an error.  You may close this dialog to continue, but please also contact support: <%= supportHTML %>',
  storeInstall: 'Please visit the <a href="<%= quote(storeURL) %>">store page</a> to install the application.',
  refunded:
    'You purchased this app, but then got a refund.  If you still want to use the application, you must <a href="<%= quote(storeURL) %>">purchase the application again</a>.',
  invalidReceiptIssuer:
    'You purchased this application from <%= error.iss %> which is not a store we have a relationship with.  Please either <a href="<%= quote(storeURL) %>">re-purchase the application</a> or contact support: <%= supportHTML %>',
  invalidFromStore:
    'The store reports that your purchase receipt is invalid.  Please <a href="<%= quote(storeURL) %>">visit the store to reinstall the application</a>.',
  receiptFormatError:
    'Your purchase receipt is malformed.  Please <a href="<%= quote(storeURL) %>">visit the store to reinstall the application</a>.',
  genericError:
    'An error has occurred.  <a href="<%= quote(storeURL) %>">Reinstalling the application</a> may fix this problem.  If not please contact support: <%= supportHTML %>',
  mozAppsNotSupported: 'This browser or device does not support the Marketplace Apps system.',
  dialogLabel: 'Purchase verification',
};

/** The rendered text of each message template with the page helpers' storeURL/supportHTML. */
const TEXT = {
  fatalInternalError: 'We have encountered a error that keeps us from continuing.  Please contact support: help',
  internalError:
    'We have encountered an error.  You may close this dialog to continue, but please also contact support: help',
  storeInstall: 'Please visit the store page to install the application.',
  refunded:
    'You purchased this app, but then got a refund.  If you still want to use the application, you must purchase the application again.',
  invalidReceiptIssuer:
    'You purchased this application from https://other.example which is not a store we have a relationship with.  Please either re-purchase the application or contact support: help',
  invalidFromStore:
    'The store reports that your purchase receipt is invalid.  Please visit the store to reinstall the application.',
  receiptFormatError: 'Your purchase receipt is malformed.  Please visit the store to reinstall the application.',
  genericError:
    'An error has occurred.  Reinstalling the application may fix this problem.  If not please contact support: help',
  mozAppsNotSupported: 'This browser or device does not support the Marketplace Apps system.',
};
const templateOf = (text) => Object.keys(TEXT).find((k) => TEXT[k] === text) || `unknown text: ${text}`;

/** Page-side helpers (evaluated through the DevTools protocol, so no CSP applies to them). */
function installHelpers() {
  const mm = window.mm;
  const V = mm.Verifier;
  const cls = (name) => V.states[name] || V.errors[name];
  const made = [];
  const P = {
    made,
    STORE: 'https://store.example/app',
    SUPPORT: '<a href="mailto:help@example.com">help</a>',
    base(extra) {
      return Object.assign({ storeURL: P.STORE, supportHTML: P.SUPPORT }, extra);
    },
    make(name, detail, attrs) {
      const C = cls(name);
      return new C(detail, attrs);
    },
    /** A verifier-like object with the real classes: `state` by name, receipt errors by name. */
    fake(stateName, errors, over) {
      const receiptErrors = {};
      (errors || []).forEach((e, i) => {
        receiptErrors['receipt-' + i] = Array.isArray(e) ? P.make(e[0], e[1], e[2]) : P.make(e, 'detail of ' + e);
      });
      const v = {
        state: P.make(stateName, 'state detail'),
        states: V.states,
        errors: V.errors,
        receiptErrors,
        iterReceiptErrors(cb) {
          for (const k of Object.keys(this.receiptErrors)) if (cb(k, this.receiptErrors[k]) === false) break;
        },
      };
      return Object.assign(v, over || {});
    },
    prompter(opts) {
      const p = mm.Prompter(opts);
      made.push(p);
      return p;
    },
    tick: () => new Promise((r) => setTimeout(r, 0)),
    async settle() {
      await P.tick();
      await P.tick();
    },
    attrs(el) {
      return el ? Object.fromEntries([...el.attributes].map((a) => [a.name, a.value])) : null;
    },
    describe(id) {
      const oid = id || 'moz-receiptverifier-overlay';
      const root = document.getElementById(oid);
      if (!root) return null;
      const q = (s) => document.getElementById(oid + s);
      const msg = q('-message');
      const close = q('-close');
      return {
        count: document.querySelectorAll('#' + oid).length,
        parentIsBody: root.parentNode === document.body,
        rootAttrs: P.attrs(root),
        rootChildren: [...root.children].map((e) => e.tagName + '#' + e.id),
        messageAttrs: P.attrs(msg),
        messageChildren: msg ? [...msg.children].map((e) => e.tagName + '#' + e.id) : null,
        closeAttrs: P.attrs(close),
        closeChildren: close ? [...close.childNodes].map((n) => n.nodeName + '#' + (n.id || '')) : null,
        closeTextAttrs: P.attrs(q('-close-text')),
        closeText: q('-close-text') ? q('-close-text').textContent : null,
        title: q('-title') ? q('-title').textContent : null,
        titleAttrs: P.attrs(q('-title')),
        titleChildNodes: q('-title') ? [...q('-title').childNodes].map((n) => n.nodeName) : null,
        text: q('-text') ? q('-text').textContent : null,
        textAttrs: P.attrs(q('-text')),
        textHTML: q('-text') ? q('-text').innerHTML : null,
        active: P.active(),
      };
    },
    active() {
      const a = document.activeElement;
      return a ? a.id || a.tagName : null;
    },
    /** respond to a fake verifier and report what was shown. */
    async respond(opts, stateName, errors, over) {
      const v = P.fake(stateName, errors, over);
      const p = P.prompter(P.base(Object.assign({}, opts, { verifier: v })));
      await P.settle();
      const d = P.describe(p.overlay ? p.overlay.id : undefined);
      const out = {
        shown: p.overlay !== null,
        overlayIsRoot: p.overlay === (d ? document.getElementById(p.overlay.id) : null),
        blocking: p.blocking,
        closable: d ? d.closeAttrs !== null : null,
        text: d ? d.text : null,
        error: p.error === null ? null : p.error.name,
        errorIsFromVerifier: p.error === null ? null : Object.values(v.receiptErrors).includes(p.error),
        verifierKept: p.verifier === v,
      };
      p.removeOverlay();
      return out;
    },
    inertIds() {
      return [...document.body.children].filter((e) => e.hasAttribute('inert')).map((e) => e.id || e.tagName);
    },
    /** Records document key listeners added and removed from now on. */
    spyKeyListeners() {
      const added = [];
      const removed = [];
      const add = document.addEventListener;
      const rem = document.removeEventListener;
      document.addEventListener = function (type, fn, o) {
        if (type === 'keydown') added.push(fn);
        return add.call(this, type, fn, o);
      };
      document.removeEventListener = function (type, fn, o) {
        if (type === 'keydown') removed.push(fn);
        return rem.call(this, type, fn, o);
      };
      return {
        added: () => added.length,
        live: () => added.filter((f) => !removed.includes(f)).length,
        restore() {
          document.addEventListener = add;
          document.removeEventListener = rem;
        },
      };
    },
    reset() {
      for (const p of made) {
        try {
          p.removeOverlay();
        } catch (_) {
          // not a prompter any more
        }
      }
      made.length = 0;
      for (const el of document.querySelectorAll('[id$="-message"]')) {
        if (el.parentNode && el.parentNode.parentNode === document.body) el.parentNode.remove();
      }
      if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    },
  };
  window.P = P;
}

let env;
const pages = new Set();

/** A fresh context with `file` served under `csp`. */
async function openPage(file = 'prompter.html', { csp = STRICT_CSP, clock = false } = {}) {
  const context = await env.browser.newContext();
  const page = await context.newPage();
  const handle = { page, context, errors: [], dialogs: [] };
  pages.add(handle);
  page.on('pageerror', (e) => handle.errors.push(String(e && e.message)));
  page.on('dialog', (d) => {
    handle.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  if (clock) await page.clock.install({ time: T });
  await page.route('**/pages/prompter*.html', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-security-policy') delete headers[k];
    if (csp) headers['content-security-policy'] = csp;
    await route.fulfill({ response, headers });
  });
  await page.goto(env.srv.url('/pages/' + file));
  await page.waitForFunction(() => window.mmReady === true, null, { timeout: 15000 });
  if (file === 'prompter.html') await page.evaluate(installHelpers);
  handle.csp = () => page.evaluate(() => window.H.cspViolations.slice());
  handle.close = async () => {
    pages.delete(handle);
    await context.close();
  };
  return handle;
}

/** JS source for a value, keeping `undefined` (also inside objects and arrays). */
function literal(v) {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return '[' + v.map(literal).join(', ') + ']';
  if (v !== null && typeof v === 'object') {
    return '({' + Object.keys(v).map((k) => JSON.stringify(k) + ': ' + literal(v[k])).join(', ') + '})';
  }
  return JSON.stringify(v);
}

/**
 * Runs `fn(arg)` in the page and turns a thrown Error into `{threw: message}`. The call is a
 * DevTools evaluation (no CSP applies to it), built as source so that `arg` keeps its
 * `undefined` members.
 */
async function attempt(page, fn, arg) {
  const wrap = (f, a) => {
    try {
      const r = f(a);
      return { ok: r === undefined ? null : r };
    } catch (e) {
      return { threw: e instanceof Error ? e.message : 'not an Error: ' + String(e), isError: e instanceof Error };
    }
  };
  return page.evaluate(`(${wrap.toString()})(${fn.toString()}, ${literal(arg)})`);
}

before(async () => {
  env = await setup();
});
after(async () => {
  for (const h of [...pages]) await h.close().catch(() => {});
  if (env) await env.close();
});

// ---------------------------------------------------------------------------------------------

describe('construction and options (§8.1)', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    await pg.close();
  });

  test('works with and without new; initial instance members', async () => {
    const r = await pg.page.evaluate(() => {
      const a = window.mm.Prompter(window.P.base());
      const b = new window.mm.Prompter(window.P.base());
      const fields = (p) => ({ verifier: p.verifier, error: p.error, blocking: p.blocking, overlay: p.overlay });
      return {
        aIs: a instanceof window.mm.Prompter,
        bIs: b instanceof window.mm.Prompter,
        a: fields(a),
        b: fields(b),
        methods: [typeof a.respond, typeof a.removeOverlay],
        noOverlay: document.getElementById('moz-receiptverifier-overlay') === null,
      };
    });
    assert.equal(r.aIs, true);
    assert.equal(r.bIs, true);
    assert.deepEqual(r.a, { verifier: null, error: null, blocking: false, overlay: null });
    assert.deepEqual(r.b, r.a);
    assert.deepEqual(r.methods, ['function', 'function']);
    assert.equal(r.noOverlay, true);
  });

  test('option errors in the order of §8.1, with exact messages', async () => {
    const S = STORE;
    const H = 'x';
    const cases = [
      [undefined, 'You must provide a storeURL option'],
      [null, 'You must provide a storeURL option'],
      [{}, 'You must provide a storeURL option'],
      // #128, and step 2 before everything else
      [{ storeURL: S, supportHTML: H, colour: 1 }, 'Unknown option: colour'],
      [{ colour: 1, templates: 5, storeURL: 'bad' }, 'Unknown option: colour'],
      [{ storeURL: S, supportHTML: H, Verify: true }, 'Unknown option: Verify'],
      // step 3 before 4
      [{ templates: 5 }, 'Invalid templates option'],
      [{ templates: 'storeInstall' }, 'Invalid templates option'],
      [{ templates: { nope: 'x' } }, 'Unknown template: nope'],
      [{ templates: { storeInstall: 5 } }, 'Template storeInstall must be a string'],
      [{ templates: { storeInstall: null } }, 'Template storeInstall must be a string'],
      [{ templates: { genericError: 'ok', nope: 5 } }, 'Unknown template: nope'],
      [{ templates: { storeInstall: 5, nope: 'x' } }, 'Template storeInstall must be a string'],
      // #126, #127
      [{ templates: { storeInstall: '<% alert(1) %>' } }, 'Unsupported template expression in storeInstall: <% alert(1) %>'],
      [
        { templates: { storeInstall: '<%= error.iss.constructor %>' } },
        'Unsupported template expression in storeInstall: <%= error.iss.constructor %>',
      ],
      [{ templates: { refunded: 'a <%- supportHTML %> b' } }, 'Unsupported template expression in refunded: <%- supportHTML %>'],
      [{ templates: { refunded: 'a <%= storeURL' } }, 'Unsupported template expression in refunded: <%= storeURL'],
      [{ templates: { refunded: '<%= quote(supportHTML) %>' } }, 'Unsupported template expression in refunded: <%= quote(supportHTML) %>'],
      [{ templates: { refunded: '<%= window %>' } }, 'Unsupported template expression in refunded: <%= window %>'],
      [{ templates: { refunded: '<%= error["iss"] %>' } }, 'Unsupported template expression in refunded: <%= error["iss"] %>'],
      [{ templates: { dialogLabel: 'Hi <%= storeURL %>' } }, 'Unsupported template expression in dialogLabel: <%= storeURL %>'],
      // step 4
      [{ storeURL: '' }, 'You must provide a storeURL option'],
      [{ storeURL: 0, supportHTML: H }, 'You must provide a storeURL option'],
      [{ storeURL: false, supportHTML: H }, 'You must provide a storeURL option'],
      // #125
      [{ storeURL: 'javascript:alert(1)', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 'http://store.example/app', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 'store.example/app', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: '/app', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 'ftp://store.example/', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 'data:text/html,x', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 'http://127.0.0.2/', supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: [], supportHTML: H }, 'Invalid storeURL option'],
      [{ storeURL: 42, supportHTML: H }, 'Invalid storeURL option'],
      // step 4 before 5
      [{ storeURL: 'bad' }, 'Invalid storeURL option'],
      // step 5
      [{ storeURL: S }, 'You must provide a supportHTML option'],
      [{ storeURL: S, supportHTML: '' }, 'You must provide a supportHTML option'],
      [{ storeURL: S, supportHTML: 5 }, 'Invalid supportHTML option'],
      [{ storeURL: S, supportHTML: { html: 'x' } }, 'Invalid supportHTML option'],
      // step 5 before 6
      [{ storeURL: S, supportHTML: 5, overlayId: '1' }, 'Invalid supportHTML option'],
      // step 6
      [{ storeURL: S, supportHTML: H, overlayId: '' }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: '1abc' }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: 'a b' }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: 'a"]' }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: 'a'.repeat(65) }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: null }, 'Invalid overlayId option'],
      [{ storeURL: S, supportHTML: H, overlayId: 7 }, 'Invalid overlayId option'],
      // step 6 before 7 and 8
      [{ storeURL: S, supportHTML: H, overlayId: '-', verify: true, verifier: {} }, 'Invalid overlayId option'],
      // step 8: the Verifier's constructor errors propagate (ES module: strict by default)
      [{ storeURL: S, supportHTML: H, verify: true }, 'Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins'],
      [{ storeURL: S, supportHTML: H, verify: true, verifierOptions: { bogus: 1 } }, 'Illegal option to Verifier({}): bogus'],
    ];
    for (const [opts, message] of cases) {
      const r = await attempt(pg.page, (o) => window.mm.Prompter(o), opts);
      assert.equal(r.threw, message, `Prompter(${JSON.stringify(opts)})`);
      assert.equal(r.isError, true);
      const n = await attempt(pg.page, (o) => new window.mm.Prompter(o), opts);
      assert.equal(n.threw, message, `new Prompter(${JSON.stringify(opts)})`);
    }
    assert.equal(await pg.page.evaluate(() => document.getElementById('moz-receiptverifier-overlay')), null);
  });

  test('accepted values', async () => {
    const good = [
      { storeURL: STORE, supportHTML: 'x' },
      { storeURL: 'https://store.example', supportHTML: '<b>x</b>' },
      { storeURL: 'http://localhost:8080/app', supportHTML: 'x' },
      { storeURL: 'http://shop.localhost/app', supportHTML: 'x' },
      { storeURL: 'http://127.0.0.1:9000/', supportHTML: 'x' },
      { storeURL: 'http://[::1]:3000/', supportHTML: 'x' },
      { storeURL: 'HTTPS://Store.Example/App', supportHTML: 'x' },
      { storeURL: STORE, supportHTML: 'x', overlayId: 'a'.repeat(64) },
      { storeURL: STORE, supportHTML: 'x', overlayId: 'My_overlay-1' },
      { storeURL: STORE, supportHTML: 'x', overlayId: undefined, templates: undefined },
      { storeURL: STORE, supportHTML: 'x', templates: null },
      { storeURL: STORE, supportHTML: 'x', allowNoInstall: 1, ignoreInternalError: 'yes', fatalInternalError: 0 },
      { storeURL: STORE, supportHTML: 'x', verify: false, verifier: undefined, verifierOptions: { bogus: 1 } },
      {
        storeURL: STORE,
        supportHTML: 'x',
        templates: {
          genericError: 'A <%=error.iss%> B <%=  quote( error.detail )  %> C <%=\tstoreURL\n%> <%= supportHTML %>',
          dialogLabel: 'Verification <b>not</b> passed',
          refunded: '',
        },
      },
    ];
    for (const opts of good) {
      const r = await attempt(pg.page, (o) => window.mm.Prompter(o) instanceof window.mm.Prompter, opts);
      assert.deepEqual(r, { ok: true }, JSON.stringify(opts));
    }
    // A URL object is converted with String().
    const u = await attempt(pg.page, () => window.mm.Prompter({ storeURL: new URL('https://store.example/x'), supportHTML: 'x' }) !== null);
    assert.deepEqual(u, { ok: true });
    // Inherited option names are not options (own properties only).
    const inherited = await attempt(pg.page, () => {
      const o = Object.create({ storeURL: 'https://store.example/' });
      o.supportHTML = 'x';
      return window.mm.Prompter(o);
    });
    assert.equal(inherited.threw, 'You must provide a storeURL option');
  });

  test('Prompter.prototype.templates: the §8.3 defaults, read at construction, validated like overrides', async () => {
    const defaults = await pg.page.evaluate(() => Object.assign({}, window.mm.Prompter.prototype.templates));
    assert.deepEqual(defaults, DEFAULT_TEMPLATES);

    const r = await pg.page.evaluate(async () => {
      const { Prompter } = window.mm;
      const t = Prompter.prototype.templates;
      const saved = Object.assign({}, t);
      const out = {};
      const tryIt = (o) => {
        try {
          return window.P.prompter(window.P.base(o));
        } catch (e) {
          return e.message;
        }
      };
      t.storeInstall = 'Hello <% x %>';
      out.badProto = tryIt({});
      t.storeInstall = 'Go to <a href="<%= storeURL %>">the shop</a>.';
      const p = tryIt({ verifier: window.P.fake('NoReceipts') });
      await window.P.settle();
      out.changedText = document.getElementById('moz-receiptverifier-overlay-text').textContent;
      // Read at construction: a later change does not affect an existing Prompter.
      t.storeInstall = 'Changed later';
      p.respond(window.P.fake('NotInstalled'));
      await window.P.settle();
      out.afterLaterChange = document.getElementById('moz-receiptverifier-overlay-text').textContent;
      p.removeOverlay();
      // An override wins over the prototype entry.
      out.override = typeof tryIt({ templates: { storeInstall: 'Override' } });
      t.extra = 'x';
      out.unknownInProto = tryIt({});
      delete t.extra;
      t.genericError = 7;
      out.notStringInProto = tryIt({});
      for (const k of Object.keys(t)) delete t[k];
      Object.assign(t, saved);
      out.restored = typeof tryIt({});
      return out;
    });
    assert.equal(r.badProto, 'Unsupported template expression in storeInstall: <% x %>');
    assert.equal(r.changedText, 'Go to the shop.');
    assert.equal(r.afterLaterChange, 'Go to the shop.');
    assert.equal(r.override, 'object');
    assert.equal(r.unknownInProto, 'Unknown template: extra');
    assert.equal(r.notStringInProto, 'Template genericError must be a string');
    assert.equal(r.restored, 'object');
    await pg.page.evaluate(() => window.P.reset());
  });

  test('the templates option is copied: later changes to it do not matter', async () => {
    const r = await pg.page.evaluate(async () => {
      const templates = { storeInstall: 'First' };
      const p = window.P.prompter(window.P.base({ templates }));
      templates.storeInstall = '<% evil %>';
      p.respond(window.P.fake('NoReceipts'));
      await window.P.settle();
      const text = document.getElementById('moz-receiptverifier-overlay-text').textContent;
      p.removeOverlay();
      return text;
    });
    assert.equal(r, 'First');
  });
});

// ---------------------------------------------------------------------------------------------

describe('respond(verifier): every row of §8.2', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    await pg.close();
  });
  const respond = (opts, state, errors, over) =>
    pg.page.evaluate(([o, s, e]) => window.P.respond(o, s, e), [opts, state, errors, over]);
  const threw = (opts, state) =>
    attempt(pg.page, ([o, s]) => window.P.prompter(window.P.base(Object.assign({ verifier: window.P.fake(s) }, o))), [opts, state]);

  test('row 1: VerificationIncomplete throws', async () => {
    const r = await threw({}, 'VerificationIncomplete');
    assert.equal(r.threw, 'Prompter called before verification complete');
    // A real Verifier that has not run, through respond().
    const real = await attempt(pg.page, (trustedKeys) => {
      const p = window.mm.Prompter(window.P.base());
      const v = new window.mm.Verifier({ trustedKeys, receipts: [] });
      try {
        p.respond(v);
      } catch (e) {
        return [e.message, p.verifier === v, p.overlay];
      }
      return 'no throw';
    }, env.fx.trustedKeys);
    assert.deepEqual(real.ok, ['Prompter called before verification complete', true, null]);
  });

  test('row 2: OK, OKCache and OKStaleCache show nothing', async () => {
    for (const s of ['OK', 'OKCache', 'OKStaleCache']) {
      for (const opts of [{}, { fatalInternalError: true }]) {
        const r = await respond(opts, s);
        assert.equal(r.shown, false, s);
        assert.equal(r.blocking, false);
        assert.equal(r.error, null);
        assert.equal(r.verifierKept, true);
      }
    }
  });

  test('row 3: NetworkError and every network error class show nothing', async () => {
    for (const s of ['NetworkError', 'ServerError', 'ConnectionError', 'RequestTimeout', 'ServerStatusError', 'InvalidServerResponse']) {
      const r = await respond({}, s, ['Refunded']);
      assert.equal(r.shown, false, s);
      assert.equal(r.error, null);
    }
  });

  test('row 4: MozAppsNotSupported', async () => {
    let r = await respond({}, 'MozAppsNotSupported');
    assert.deepEqual([templateOf(r.text), r.blocking, r.closable, r.overlayIsRoot], ['mozAppsNotSupported', true, false, true]);
    r = await respond({ allowNoInstall: true }, 'MozAppsNotSupported');
    assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['mozAppsNotSupported', false, true]);
  });

  test('row 5: InternalError (MozAppsError, VerifierError) and its two options', async () => {
    for (const s of ['InternalError', 'MozAppsError', 'VerifierError']) {
      let r = await respond({}, s);
      assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['internalError', false, true], s);
      r = await respond({ fatalInternalError: true }, s);
      assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['fatalInternalError', true, false], s);
      r = await respond({ ignoreInternalError: true }, s);
      assert.equal(r.shown, false, s);
      r = await respond({ ignoreInternalError: true, fatalInternalError: true }, s);
      assert.equal(r.shown, false, s);
      // allowNoInstall does not make a fatal internal error closable
      r = await respond({ fatalInternalError: true, allowNoInstall: true }, s);
      assert.deepEqual([templateOf(r.text), r.blocking], ['fatalInternalError', true], s);
    }
  });

  test('row 6: NeedsInstall (NotInstalled, NoReceipts)', async () => {
    for (const s of ['NeedsInstall', 'NotInstalled', 'NoReceipts']) {
      const r = await respond({}, s);
      assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['storeInstall', true, false], s);
    }
    let r = await respond({ allowNoInstall: true }, 'NotInstalled');
    assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['storeInstall', false, true]);
    r = await respond({ allowNoInstall: true }, 'NeedsInstall');
    assert.deepEqual([templateOf(r.text), r.blocking], ['storeInstall', false]);
    r = await respond({ allowNoInstall: true }, 'NoReceipts');
    assert.equal(r.shown, false);
  });

  test('row 7: NoValidReceipts maps the best reason to its template', async () => {
    const cases = [
      [['Refunded'], 'refunded'],
      [[['InvalidReceiptIssuer', 'x', { iss: 'https://other.example' }]], 'invalidReceiptIssuer'],
      [['InvalidFromStore'], 'invalidFromStore'],
      [['ReceiptFormatError'], 'receiptFormatError'],
      [['ReceiptParseError'], 'receiptFormatError'],
      [['WrongType'], 'genericError'],
      [['ProductURLError'], 'genericError'],
      [['VerifyDomainMismatch'], 'genericError'],
      [['ReceiptExpired'], 'genericError'],
      [['ReceiptNotYetValid'], 'genericError'],
      [['ReceiptSignatureError'], 'genericError'],
      [['AlgorithmNotAllowed'], 'genericError'],
      [['UnsupportedHeader'], 'genericError'],
      [['UnknownSigningKey'], 'genericError'],
      [['InvalidSignature'], 'genericError'],
      [['CertificateError'], 'genericError'],
      [['VerifierError'], 'genericError'],
      [['ConnectionError'], 'genericError'],
      [['RequestTimeout'], 'genericError'],
      [[], 'genericError'],
    ];
    for (const [errors, template] of cases) {
      const name = errors.length ? (Array.isArray(errors[0]) ? errors[0][0] : errors[0]) : null;
      let r = await respond({}, 'NoValidReceipts', errors);
      assert.deepEqual([templateOf(r.text), r.blocking, r.closable, r.error], [template, true, false, name], String(name));
      if (name) assert.equal(r.errorIsFromVerifier, true);
      r = await respond({ allowNoInstall: true }, 'NoValidReceipts', errors);
      assert.deepEqual([templateOf(r.text), r.blocking, r.closable], [template, false, true], String(name));
    }
  });

  test('row 7: the best-reason rule', async () => {
    const cases = [
      [['ConnectionError', 'Refunded'], 'Refunded', 'refunded'],
      [['Refunded', 'ConnectionError'], 'Refunded', 'refunded'],
      [['ConnectionError', 'RequestTimeout', 'InvalidFromStore'], 'InvalidFromStore', 'invalidFromStore'],
      [['ServerStatusError', 'InvalidServerResponse'], 'InvalidServerResponse', 'genericError'],
      [['ConnectionError'], 'ConnectionError', 'genericError'],
      [['WrongType', 'Refunded'], 'WrongType', 'genericError'],
      [['ConnectionError', 'WrongType', 'Refunded'], 'WrongType', 'genericError'],
      [['ReceiptParseError', 'Refunded', 'ConnectionError'], 'ReceiptParseError', 'receiptFormatError'],
      // a state that is not an error class, recorded as a reason, is not a NetworkError
      [['OKCache', 'Refunded'], 'OKCache', 'genericError'],
    ];
    for (const [errors, best, template] of cases) {
      const r = await respond({}, 'NoValidReceipts', errors);
      assert.deepEqual([r.error, templateOf(r.text)], [best, template], errors.join(','));
    }
    // The index is the position in iterReceiptErrors order: the very object is kept.
    const same = await pg.page.evaluate(() => {
      const v = window.P.fake('NoValidReceipts', ['ConnectionError', 'Refunded', 'Refunded']);
      const p = window.P.prompter(window.P.base({ verifier: v }));
      const ok = p.error === v.receiptErrors['receipt-1'];
      p.removeOverlay();
      return ok;
    });
    assert.equal(same, true);
  });

  test('row 8: anything else throws Unexpected state in verifier', async () => {
    const r = await pg.page.evaluate(async () => {
      const V = window.mm.Verifier;
      const out = [];
      const tryState = (state, extra) => {
        const v = Object.assign({ state, states: V.states, errors: V.errors, iterReceiptErrors() {} }, extra || {});
        try {
          window.P.prompter(window.P.base()).respond(v);
          out.push('no throw');
        } catch (e) {
          out.push(e.message);
        }
      };
      tryState({});
      tryState(undefined);
      tryState('weird');
      const Custom = V.State('Custom');
      tryState(new Custom('my detail'));
      // An error class as the state that §8.2 does not list (Refunded).
      tryState(new V.errors.Refunded('gone'));
      // Classes are tested against the verifier's own states/errors (§5.1): a real OK with
      // another bundle's classes matches nothing.
      const Other = V.State('OK');
      tryState(new V.states.OK(), { states: { OK: Other }, errors: {} });
      // … and a foreign tree that has the names works.
      const F = {};
      F.NoValidReceipts = V.State('NoValidReceipts');
      F.Refunded = V.State('Refunded');
      const p = window.P.prompter(window.P.base());
      p.respond({ state: new F.NoValidReceipts('x'), states: F, errors: F, receiptErrors: { r: new F.Refunded('y') }, iterReceiptErrors(cb) { cb('r', this.receiptErrors.r); } });
      await window.P.settle();
      out.push(document.getElementById('moz-receiptverifier-overlay-text').textContent.slice(0, 40), p.error.name);
      p.removeOverlay();
      tryState(null, { state: null });
      try {
        window.P.prompter(window.P.base()).respond(null);
      } catch (e) {
        out.push(e.message);
      }
      return out;
    });
    assert.deepEqual(r, [
      'Unexpected state in verifier: [object Object]',
      'Unexpected state in verifier: undefined',
      'Unexpected state in verifier: weird',
      'Unexpected state in verifier: [Custom my detail]',
      'Unexpected state in verifier: [Refunded gone]',
      'Unexpected state in verifier: [OK]',
      'You purchased this app, but then got a r',
      'Refunded',
      'Unexpected state in verifier: null',
      'Unexpected state in verifier: undefined',
    ]);
  });

  test('responding again replaces the message; a state that lets the user in removes it', async () => {
    const r = await pg.page.evaluate(async () => {
      const p = window.P.prompter(window.P.base({ verifier: window.P.fake('NoReceipts') }));
      await window.P.settle();
      const first = p.overlay;
      p.respond(window.P.fake('NoValidReceipts', ['Refunded']));
      await window.P.settle();
      const out = {
        count: document.querySelectorAll('#moz-receiptverifier-overlay').length,
        firstGone: !first.isConnected,
        text: document.getElementById('moz-receiptverifier-overlay-text').textContent.slice(0, 20),
        error: p.error.name,
      };
      p.respond(window.P.fake('OK'));
      out.afterOk = [p.overlay, p.error, p.blocking, document.getElementById('moz-receiptverifier-overlay')];
      return out;
    });
    assert.deepEqual(r, {
      count: 1,
      firstGone: true,
      text: 'You purchased this a',
      error: 'Refunded',
      afterOk: [null, null, false, null],
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('real Verifier runs', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    assert.deepEqual(pg.dialogs, []);
    await pg.close();
  });

  /** `new Prompter({verify: true, verifierOptions})`, then what it showed once the run ended. */
  const verifyRun = (verifierOptions, opts = {}) =>
    pg.page.evaluate(
      async ([vo, o, now]) => {
        const verifierOptions = Object.assign({}, vo, { now: () => now });
        if (vo.receiptsThrow) {
          delete verifierOptions.receiptsThrow;
          verifierOptions.receipts = () => {
            throw new Error('boom');
          };
        }
        const p = window.P.prompter(window.P.base(Object.assign({ verify: true, verifierOptions }, o)));
        const sync = { verifier: p.verifier, overlay: p.overlay };
        for (let i = 0; i < 200 && p.verifier === null; i++) await new Promise((r) => setTimeout(r, 10));
        await window.P.settle();
        const d = window.P.describe();
        const out = {
          sync,
          state: p.verifier && p.verifier.state.name,
          isSurfaceVerifier: p.verifier instanceof window.mm.Verifier,
          shown: p.overlay !== null,
          blocking: p.blocking,
          closable: d ? d.closeAttrs !== null : null,
          text: d ? d.text : null,
          textHTML: d ? d.textHTML : null,
          error: p.error && p.error.name,
          errorIss: p.error && p.error.iss,
          imgs: document.querySelectorAll('img').length,
        };
        p.removeOverlay();
        return out;
      },
      [verifierOptions, opts, T],
    );

  test('#129: verify: true on a run ending in NoReceipts shows storeInstall, blocking', async () => {
    const r = await verifyRun(env.fx.strictOptions([]));
    assert.deepEqual(r.sync, { verifier: null, overlay: null });
    assert.equal(r.state, 'NoReceipts');
    assert.equal(r.isSurfaceVerifier, true);
    assert.deepEqual([templateOf(r.text), r.blocking, r.closable], ['storeInstall', true, false]);
  });

  test('OK run: nothing; refunded: the refunded message with the Refunded error', async () => {
    let r = await verifyRun(env.fx.strictOptions([env.fx.receipt()]));
    assert.deepEqual([r.state, r.shown], ['OK', false]);
    r = await verifyRun(env.fx.strictOptions([env.fx.receipt({}, { store: 'refunded' })]));
    assert.deepEqual([r.state, templateOf(r.text), r.error, r.blocking], ['NoValidReceipts', 'refunded', 'Refunded', true]);
    r = await verifyRun(env.fx.strictOptions([env.fx.forged()]));
    assert.deepEqual([r.state, templateOf(r.text), r.error], ['NoValidReceipts', 'genericError', 'InvalidSignature']);
    r = await verifyRun(env.fx.strictOptions(['not a receipt']));
    assert.deepEqual([templateOf(r.text), r.error], ['receiptFormatError', 'ReceiptParseError']);
  });

  test('network errors show nothing (the connection dropped; a server error)', async () => {
    let r = await verifyRun(env.fx.strictOptions([env.fx.receipt({}, { store: 'drop' })]));
    assert.deepEqual([r.state, r.shown], ['ConnectionError', false]);
    r = await verifyRun(env.fx.strictOptions([env.fx.receipt({}, { store: '500' })]));
    assert.deepEqual([r.state, r.shown], ['ServerStatusError', false]);
  });

  test('internal error: internalError, closable; MozAppsNotSupported: blocking', async () => {
    let r = await verifyRun({ ...env.fx.strictOptions([]), receiptsThrow: true });
    assert.deepEqual([r.state, templateOf(r.text), r.blocking, r.closable], ['VerifierError', 'internalError', false, true]);
    const o = env.fx.strictOptions([]);
    delete o.receipts;
    r = await verifyRun(o);
    assert.deepEqual([r.state, templateOf(r.text), r.blocking], ['MozAppsNotSupported', 'mozAppsNotSupported', true]);
  });

  test('#122: a hostile iss is shown as text; no element is created and no script runs', async () => {
    const iss = '<img src=x onerror=alert(1)>';
    const receipt = env.fx.unsigned({ iss });
    const r = await verifyRun(env.fx.compatOptions([receipt], { mode: 'compat' }));
    assert.equal(r.state, 'NoValidReceipts');
    assert.equal(r.error, 'InvalidReceiptIssuer');
    assert.equal(r.errorIss, iss);
    assert.equal(r.text, TEXT.invalidReceiptIssuer.replace('https://other.example', iss));
    assert.ok(r.textHTML.includes('&lt;img src=x onerror=alert(1)&gt;'), r.textHTML);
    assert.equal(r.imgs, 0);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(pg.dialogs, []);
  });
});

// ---------------------------------------------------------------------------------------------

describe('overlay structure, look and accessibility (§8.4, §8.7)', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    await pg.close();
  });

  test('closable: ids, roles, aria, tabindex, the close button, the title', async () => {
    const d = await pg.page.evaluate(async () => {
      const p = window.P.prompter(window.P.base({ verifier: window.P.fake('MozAppsError') }));
      const syncRoot = p.overlay && p.overlay.id;
      await window.P.settle();
      return Object.assign(window.P.describe(), { syncRoot, same: p.overlay === document.getElementById('moz-receiptverifier-overlay') });
    });
    assert.equal(d.syncRoot, ID);
    assert.equal(d.same, true);
    assert.equal(d.count, 1);
    assert.equal(d.parentIsBody, true);
    assert.deepEqual(d.rootAttrs, { id: ID });
    assert.deepEqual(d.rootChildren, [`DIV#${ID}-message`]);
    assert.deepEqual(d.messageAttrs, {
      id: `${ID}-message`,
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': `${ID}-title`,
      'aria-describedby': `${ID}-text`,
      tabindex: '-1',
    });
    assert.deepEqual(d.messageChildren, [`BUTTON#${ID}-close`, `DIV#${ID}-title`, `DIV#${ID}-text`]);
    assert.deepEqual(d.closeAttrs, { id: `${ID}-close`, type: 'button', 'aria-label': 'Close' });
    assert.deepEqual(d.closeChildren, [`SPAN#${ID}-close-text`]);
    assert.deepEqual(d.closeTextAttrs, { id: `${ID}-close-text`, 'aria-hidden': 'true' });
    assert.equal(d.closeText, '\u00d7');
    assert.equal(d.title, 'Purchase verification');
    assert.deepEqual(d.titleAttrs, { id: `${ID}-title` });
    assert.deepEqual(d.titleChildNodes, ['#text']);
    assert.deepEqual(d.textAttrs, { id: `${ID}-text` });
    assert.equal(d.text, TEXT.internalError);
    assert.equal(d.textHTML, 'We have encountered an error.  You may close this dialog to continue, but please also contact support: <a href="mailto:help@example.com" rel="noopener noreferrer">help</a>');
    assert.equal(d.active, `${ID}-message`);
    // The accessible name and description, as the browser computes them.
    const snap = await pg.page.locator(`#${ID}-message`).ariaSnapshot();
    assert.match(snap, /dialog "Purchase verification"/);
    assert.match(snap, /button "Close"/);
    await pg.page.evaluate(() => window.P.reset());
  });

  test('blocking: no close button; a custom overlayId names every element; dialogLabel is text', async () => {
    const d = await pg.page.evaluate(async () => {
      const p = window.P.prompter(
        window.P.base({
          overlayId: 'shop_gate-2',
          templates: { dialogLabel: '<b>Check</b> &amp; more', storeInstall: 'Buy <a href="<%= storeURL %>">here</a>' },
          verifier: window.P.fake('NotInstalled'),
        }),
      );
      await window.P.settle();
      return Object.assign(window.P.describe('shop_gate-2'), { blocking: p.blocking });
    });
    assert.equal(d.blocking, true);
    assert.deepEqual(d.rootAttrs, { id: 'shop_gate-2' });
    assert.deepEqual(d.messageChildren, ['DIV#shop_gate-2-title', 'DIV#shop_gate-2-text']);
    assert.equal(d.closeAttrs, null);
    assert.equal(d.messageAttrs['aria-labelledby'], 'shop_gate-2-title');
    assert.equal(d.messageAttrs['aria-describedby'], 'shop_gate-2-text');
    assert.equal(d.title, '<b>Check</b> &amp; more');
    assert.deepEqual(d.titleChildNodes, ['#text']);
    assert.equal(d.textHTML, `Buy <a href="${STORE}" rel="noopener noreferrer">here</a>`);
    assert.equal(d.active, 'shop_gate-2-message');
    await pg.page.evaluate(() => window.P.reset());
  });

  test('the look: a constructed stylesheet, no style attribute, the §8.4 values, contrast ≥ 4.5:1', async () => {
    const s = await pg.page.evaluate(async () => {
      const bodyStyleBefore = document.body.getAttribute('style');
      window.P.prompter(window.P.base({ verifier: window.P.fake('NoValidReceipts', ['Refunded']), allowNoInstall: true }));
      await window.P.settle();
      const cs = (id, pseudo) => getComputedStyle(document.getElementById(id), pseudo);
      const o = cs('moz-receiptverifier-overlay');
      const m = cs('moz-receiptverifier-overlay-message');
      const t = cs('moz-receiptverifier-overlay-title');
      const c = cs('moz-receiptverifier-overlay-close');
      const link = getComputedStyle(document.querySelector('#moz-receiptverifier-overlay-text a'));
      const rules = [...document.adoptedStyleSheets].flatMap((sh) => [...sh.cssRules].map((r) => r.cssText));
      const rect = document.getElementById('moz-receiptverifier-overlay-message').getBoundingClientRect();
      return {
        styleAttrs: document.querySelectorAll('[style]').length,
        styleElements: document.querySelectorAll('style').length,
        adopted: document.adoptedStyleSheets.filter((sh) =>
          [...sh.cssRules].some((r) => r.cssText.startsWith('#moz-receiptverifier-overlay '))).length,
        visitedRule: rules.find((r) => r.includes('a:visited')),
        hoverRule: rules.find((r) => r.includes('a:hover')),
        bodyStyleBefore,
        bodyStyleAfter: document.body.getAttribute('style'),
        backdrop: [o.position, o.zIndex, o.backgroundColor, o.top, o.left, o.right, o.bottom],
        box: [m.width, m.marginTop, m.paddingTop, m.paddingLeft, m.borderTopWidth, m.borderTopStyle, m.borderTopColor,
          m.borderTopLeftRadius, m.backgroundColor, m.color, m.lineHeight, m.fontFamily, m.opacity],
        centred: Math.abs(rect.left + rect.width / 2 - window.innerWidth / 2) < 1,
        title: [t.position, t.width, t.height, t.overflow, t.clipPath],
        close: [c.width, c.height, c.borderTopWidth, c.borderTopColor, c.backgroundColor, c.color, c.borderTopLeftRadius],
        link: [link.color],
      };
    });
    assert.equal(s.styleAttrs, 0);
    assert.equal(s.styleElements, 0);
    assert.equal(s.adopted, 1);
    assert.match(s.visitedRule, /color: rgb\(170, 0, 255\)/);
    assert.match(s.hoverRule, /text-decoration: underline/);
    assert.equal(s.bodyStyleBefore, s.bodyStyleAfter);
    assert.deepEqual(s.backdrop, ['fixed', '9999', 'rgba(0, 0, 0, 0.85)', '0px', '0px', '0px', '0px']);
    assert.deepEqual(s.box, ['400px', '100px', '12px', '16px', '3px', 'solid', 'rgb(204, 204, 204)', '16px',
      'rgb(255, 255, 255)', 'rgb(0, 0, 0)', '22.4px', 'Helvetica, Arial, sans-serif', '1']);
    assert.equal(s.centred, true);
    assert.deepEqual(s.title, ['absolute', '1px', '1px', 'hidden', 'inset(50%)']);
    assert.deepEqual(s.close, ['18px', '18px', '2px', 'rgb(255, 255, 255)', 'rgb(0, 0, 0)', 'rgb(255, 255, 255)', '50%']);
    assert.deepEqual(s.link, ['rgb(0, 0, 255)']);
    // WCAG contrast of the colours used on the white box.
    const lum = ([r, g, b]) => {
      const f = (c) => {
        const x = c / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
    for (const fg of [[0, 0, 0], [0, 0, 255], [170, 0, 255]]) assert.ok(ratio(fg, [255, 255, 255]) >= 4.5, String(fg));
    assert.ok(ratio([255, 255, 255], [0, 0, 0]) >= 4.5);
    await pg.page.evaluate(() => window.P.reset());
  });

  test('the close button shows a visible focus ring when reached by keyboard', async () => {
    await pg.page.evaluate(async () => {
      window.P.prompter(window.P.base({ verifier: window.P.fake('VerifierError') }));
      await window.P.settle();
    });
    await pg.page.keyboard.press('Tab');
    const f = await pg.page.evaluate(() => {
      const c = document.getElementById('moz-receiptverifier-overlay-close');
      const s = getComputedStyle(c);
      return { active: document.activeElement === c, visible: c.matches(':focus-visible'), outline: [s.outlineStyle, s.outlineWidth, s.outlineColor] };
    });
    assert.deepEqual(f, { active: true, visible: true, outline: ['solid', '3px', 'rgb(0, 0, 255)'] });
    await pg.page.evaluate(() => window.P.reset());
  });

  test('every template renders under the CSP and Trusted Types policy (#132)', async () => {
    const r = await pg.page.evaluate(async () => {
      const rows = [
        ['InternalError', [], { fatalInternalError: true }],
        ['InternalError', [], {}],
        ['NoReceipts', [], {}],
        ['NoValidReceipts', ['Refunded'], {}],
        ['NoValidReceipts', [['InvalidReceiptIssuer', 'x', { iss: 'https://other.example' }]], {}],
        ['NoValidReceipts', ['InvalidFromStore'], {}],
        ['NoValidReceipts', ['ReceiptParseError'], {}],
        ['NoValidReceipts', ['WrongType'], {}],
        ['MozAppsNotSupported', [], {}],
      ];
      const texts = [];
      for (const [s, e, o] of rows) {
        const r = await window.P.respond(o, s, e);
        texts.push(r.text);
      }
      return texts;
    });
    assert.deepEqual(r.map(templateOf), [
      'fatalInternalError', 'internalError', 'storeInstall', 'refunded', 'invalidReceiptIssuer', 'invalidFromStore',
      'receiptFormatError', 'genericError', 'mozAppsNotSupported',
    ]);
    assert.deepEqual(await pg.csp(), []);
  });

  test('the test pages really enforce the §8.7 policy (an HTML sink and an inline style are refused)', async () => {
    const own = await openPage();
    const r = await own.page.evaluate(async () => {
      const out = {};
      try {
        document.createElement('div').innerHTML = '<b>x</b>';
        out.sink = 'allowed';
      } catch (e) {
        out.sink = e.name;
      }
      const st = document.createElement('style');
      st.textContent = '#content{color:rgb(1, 2, 3)}';
      document.head.appendChild(st);
      await new Promise((res) => setTimeout(res, 50));
      out.inlineStyle = getComputedStyle(document.getElementById('content')).color;
      return out;
    });
    assert.equal(r.sink, 'TypeError');
    assert.notEqual(r.inlineStyle, 'rgb(1, 2, 3)');
    const v = await own.csp();
    assert.ok(v.some((x) => x.startsWith('require-trusted-types-for')), JSON.stringify(v));
    assert.ok(v.some((x) => x.startsWith('style-src')), JSON.stringify(v));
    await own.close();
  });

  test('without adoptedStyleSheets: one <style id="O-style"> per id, added once', async () => {
    // Inline styles need a policy that allows them: the fallback is for old browsers only.
    const own = await openPage('prompter.html', { csp: "script-src 'self' 'wasm-unsafe-eval'" });
    const r = await own.page.evaluate(async () => {
      delete Document.prototype.adoptedStyleSheets;
      const out = { adoptable: 'adoptedStyleSheets' in document };
      for (let i = 0; i < 3; i++) {
        const p = window.P.prompter(window.P.base({ verifier: window.P.fake('NoReceipts') }));
        await window.P.settle();
        out.zIndex = getComputedStyle(p.overlay).zIndex;
        p.removeOverlay();
      }
      const q = window.P.prompter(window.P.base({ overlayId: 'other', verifier: window.P.fake('NoReceipts') }));
      await window.P.settle();
      out.otherWidth = getComputedStyle(document.getElementById('other-message')).width;
      q.removeOverlay();
      out.styles = [...document.querySelectorAll('style')].map((s) => s.id + '@' + s.parentNode.nodeName);
      out.styleAttrs = document.querySelectorAll('[style]').length;
      return out;
    });
    assert.deepEqual(r, {
      adoptable: false,
      zIndex: '9999',
      otherWidth: '400px',
      styles: [`${ID}-style@HEAD`, 'other-style@HEAD'],
      styleAttrs: 0,
    });
    assert.deepEqual(own.errors, []);
    await own.close();
  });

  test('axe finds no accessibility violation in the dialog', async () => {
    // A page of its own: axe is evaluated through DevTools (no CSP applies) and may itself touch
    // HTML sinks, which must not count against the CSP checks of the other pages.
    const own = await openPage();
    await own.page.evaluate(async () => {
      window.P.prompter(
        window.P.base({
          supportHTML: 'Write to <a href="mailto:help@example.com">help@example.com</a>',
          allowNoInstall: true,
          verifier: window.P.fake('NoValidReceipts', ['WrongType']),
        }),
      );
      await window.P.settle();
    });
    const source = await readFile(path.join(repo, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    await own.page.evaluate(source);
    const violations = await own.page.evaluate(async () => {
      const r = await window.axe.run(
        { include: [['#moz-receiptverifier-overlay']] },
        { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] },
      );
      return r.violations.map((v) => ({ id: v.id, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(violations, []);
    await own.close();
  });
});

// ---------------------------------------------------------------------------------------------

describe('behaviour (§8.4): dismissing, flashing, focus, inert', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    await pg.close();
  });
  const show = (state, opts = {}, errors = []) =>
    pg.page.evaluate(
      async ([s, o, e]) => {
        document.getElementById('opener').focus();
        window.spy = window.P.spyKeyListeners();
        const p = window.P.prompter(window.P.base(Object.assign({ verifier: window.P.fake(s, e) }, o)));
        window.current = p;
        await window.P.settle();
        return { inert: window.P.inertIds(), active: window.P.active(), listeners: window.spy.live() };
      },
      [state, opts, errors],
    );
  const status = () =>
    pg.page.evaluate(() => {
      const p = window.current;
      const m = document.getElementById('moz-receiptverifier-overlay-message');
      return {
        overlay: p.overlay === null ? null : p.overlay.id,
        inDom: document.getElementById('moz-receiptverifier-overlay') !== null,
        inert: window.P.inertIds(),
        active: window.P.active(),
        listeners: window.spy.live(),
        border: m ? getComputedStyle(m).borderTopColor : null,
        focusInside: m ? m.contains(document.activeElement) : null,
      };
    });
  const cleanup = () =>
    pg.page.evaluate(() => {
      window.P.reset();
      window.spy.restore();
    });
  const SHOWN_INERT = ['content', 'opener', 'pre-inert', 'field'];

  test('showing: focus moves to the dialog, every other body child is inert, one key listener', async () => {
    const s = await show('VerifierError');
    assert.deepEqual(s, { inert: SHOWN_INERT, active: `${ID}-message`, listeners: 1 });
    await cleanup();
  });

  test('#131 closable + Escape: removed, listener gone, inert cleared exactly, focus restored', async () => {
    await show('VerifierError');
    await pg.page.keyboard.press('Escape');
    assert.deepEqual(await status(), {
      overlay: null, inDom: false, inert: ['pre-inert'], active: 'opener', listeners: 0, border: null, focusInside: null,
    });
    await cleanup();
  });

  test('closable: keyCode 27 alone also closes', async () => {
    await show('VerifierError');
    await pg.page.evaluate(() => {
      const e = new KeyboardEvent('keydown', { bubbles: true, cancelable: true, key: 'Esc' });
      Object.defineProperty(e, 'keyCode', { value: 27 });
      document.getElementById('moz-receiptverifier-overlay-message').dispatchEvent(e);
    });
    assert.equal((await status()).overlay, null);
    await cleanup();
  });

  test('closable: a click on the backdrop closes; a click inside the message does not', async () => {
    await show('NoValidReceipts', { allowNoInstall: true }, ['Refunded']);
    await pg.page.click(`#${ID}-text`);
    let st = await status();
    assert.equal(st.overlay, ID);
    assert.equal(st.border, 'rgb(204, 204, 204)');
    await pg.page.mouse.click(10, 10);
    st = await status();
    assert.deepEqual([st.overlay, st.inDom, st.inert, st.active, st.listeners], [null, false, ['pre-inert'], 'opener', 0]);
    await cleanup();
  });

  test('closable: the close button, by click, Enter and Space', async () => {
    for (const how of ['click', 'Enter', 'Space']) {
      await show('MozAppsError');
      if (how === 'click') await pg.page.click(`#${ID}-close`);
      else {
        await pg.page.focus(`#${ID}-close`);
        await pg.page.keyboard.press(how);
      }
      const st = await status();
      assert.deepEqual([st.overlay, st.inDom, st.inert, st.active, st.listeners], [null, false, ['pre-inert'], 'opener', 0], how);
      await cleanup();
    }
  });

  test('removeOverlay(): the same removal; idempotent', async () => {
    await show('VerifierError');
    await pg.page.evaluate(() => {
      window.current.removeOverlay();
      window.current.removeOverlay();
    });
    const st = await status();
    assert.deepEqual([st.overlay, st.inDom, st.inert, st.active, st.listeners], [null, false, ['pre-inert'], 'opener', 0]);
    await cleanup();
  });

  test('focus is not restored to an element that left the document', async () => {
    await pg.page.evaluate(async () => {
      const b = document.createElement('button');
      b.id = 'temp';
      b.textContent = 'temp';
      document.body.appendChild(b);
      b.focus();
      const p = window.P.prompter(window.P.base({ verifier: window.P.fake('VerifierError') }));
      await window.P.settle();
      b.remove();
      p.removeOverlay();
    });
    assert.equal(await pg.page.evaluate(() => window.P.active()), 'BODY');
    await pg.page.evaluate(() => window.P.reset());
  });

  test('focus trap: Tab and Shift+Tab cycle through the focusable elements of the message', async () => {
    await show('NoValidReceipts', {
      allowNoInstall: true,
      supportHTML: '<a href="mailto:a@example.com">mail</a> or <a href="https://help.example/">web</a>',
    }, ['WrongType']);
    const seq = [];
    const where = () => pg.page.evaluate(() => {
      const a = document.activeElement;
      return a.id || a.textContent;
    });
    for (let i = 0; i < 5; i++) {
      await pg.page.keyboard.press('Tab');
      seq.push(await where());
    }
    assert.deepEqual(seq, [`${ID}-close`, 'Reinstalling the application', 'mail', 'web', `${ID}-close`]);
    const back = [];
    for (let i = 0; i < 3; i++) {
      await pg.page.keyboard.press('Shift+Tab');
      back.push(await where());
    }
    assert.deepEqual(back, ['web', 'mail', 'Reinstalling the application']);
    await cleanup();
  });

  test('focus trap with nothing focusable: focus stays on the dialog', async () => {
    await show('MozAppsNotSupported');
    for (const k of ['Tab', 'Shift+Tab', 'Tab']) {
      await pg.page.keyboard.press(k);
      assert.equal((await status()).active, `${ID}-message`, k);
    }
    await cleanup();
  });

  test('#130 blocking: Escape and a backdrop click flash #f00; focus stays; #ccc 2000 ms after the last attempt', async () => {
    const own = await openPage('prompter.html', { clock: true });
    const p = own.page;
    await p.evaluate(async () => {
      document.getElementById('opener').focus();
      window.current = window.P.prompter(window.P.base({ verifier: window.P.fake('NoReceipts') }));
      await window.P.settle();
    });
    const st = () =>
      p.evaluate(() => {
        const m = document.getElementById('moz-receiptverifier-overlay-message');
        return {
          shown: window.current.overlay !== null && m !== null,
          border: m ? getComputedStyle(m).borderTopColor : null,
          inline: m ? m.style.borderColor : null,
          focusInside: m ? m.contains(document.activeElement) : false,
          inert: window.P.inertIds(),
        };
      });
    assert.deepEqual(await st(), { shown: true, border: 'rgb(204, 204, 204)', inline: '', focusInside: true, inert: SHOWN_INERT });
    // From here on the page's time moves only when the test says so.
    await p.clock.pauseAt((await p.evaluate(() => Date.now())) + 1000);
    await p.keyboard.press('Escape');
    let s = await st();
    assert.deepEqual([s.shown, s.border, s.focusInside], [true, 'rgb(255, 0, 0)', true]);
    await p.clock.runFor(1500);
    assert.equal((await st()).border, 'rgb(255, 0, 0)');
    // A click on the backdrop restarts the 2000 ms.
    await p.mouse.click(5, 5);
    s = await st();
    assert.deepEqual([s.shown, s.border, s.focusInside], [true, 'rgb(255, 0, 0)', true]);
    await p.clock.runFor(1500);
    assert.equal((await st()).border, 'rgb(255, 0, 0)', 'restarted by the second attempt');
    await p.clock.runFor(499);
    assert.equal((await st()).border, 'rgb(255, 0, 0)');
    await p.clock.runFor(2);
    s = await st();
    assert.deepEqual(s, { shown: true, border: 'rgb(204, 204, 204)', inline: 'rgb(204, 204, 204)', focusInside: true, inert: SHOWN_INERT });
    // Still blocking: keyCode 27 flashes too, Tab keeps focus inside.
    await p.evaluate(() => {
      const e = new KeyboardEvent('keydown', { bubbles: true, key: 'Esc' });
      Object.defineProperty(e, 'keyCode', { value: 27 });
      document.body.dispatchEvent(e);
    });
    assert.equal((await st()).border, 'rgb(255, 0, 0)');
    await p.keyboard.press('Tab');
    s = await st();
    assert.equal(s.focusInside, true);
    await p.clock.runFor(2001);
    assert.equal((await st()).border, 'rgb(204, 204, 204)');
    assert.deepEqual(await own.csp(), []);
    assert.deepEqual(own.errors, []);
    await own.close();
  });

  test('one overlay per id: an existing #O is replaced, and the replaced Prompter lets go', async () => {
    const r = await pg.page.evaluate(async () => {
      document.getElementById('opener').focus();
      // A foreign element with the id is removed.
      const foreign = document.createElement('div');
      foreign.id = 'moz-receiptverifier-overlay';
      document.body.appendChild(foreign);
      const a = window.P.prompter(window.P.base({ verifier: window.P.fake('VerifierError') }));
      await window.P.settle();
      const out = { foreignGone: !foreign.isConnected };
      const b = window.P.prompter(window.P.base({ verifier: window.P.fake('NoReceipts') }));
      await window.P.settle();
      out.count = document.querySelectorAll('#moz-receiptverifier-overlay').length;
      out.aOverlay = a.overlay;
      out.bIsShown = b.overlay === document.getElementById('moz-receiptverifier-overlay');
      out.inertWhileB = window.P.inertIds();
      out.active = window.P.active();
      a.removeOverlay(); // no longer a's overlay: nothing happens
      out.stillB = b.overlay !== null && b.overlay.isConnected;
      b.removeOverlay();
      out.inertAfter = window.P.inertIds();
      out.activeAfter = window.P.active();
      return out;
    });
    assert.deepEqual(r, {
      foreignGone: true,
      count: 1,
      aOverlay: null,
      bIsShown: true,
      inertWhileB: ['content', 'opener', 'pre-inert', 'field'],
      active: `${ID}-message`,
      stillB: true,
      inertAfter: ['pre-inert'],
      activeAfter: 'opener',
    });
  });

  test('two ids: the newer dialog handles the keys; each restores what it changed', async () => {
    const r = await pg.page.evaluate(async () => {
      document.getElementById('opener').focus();
      const a = window.P.prompter(window.P.base({ verifier: window.P.fake('VerifierError') }));
      await window.P.settle();
      const b = window.P.prompter(window.P.base({ overlayId: 'second', verifier: window.P.fake('VerifierError') }));
      await window.P.settle();
      const out = { inertBoth: window.P.inertIds() };
      document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, key: 'Escape' }));
      out.afterFirstEscape = [a.overlay !== null, b.overlay !== null, window.P.inertIds(), window.P.active()];
      document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, key: 'Escape' }));
      out.afterSecondEscape = [a.overlay !== null, b.overlay !== null, window.P.inertIds(), window.P.active()];
      return out;
    });
    assert.deepEqual(r.inertBoth, ['content', 'opener', 'pre-inert', 'field', ID]);
    // The first Escape reaches the dialog the user sees (the newer one) only. Focus goes back to
    // what had it when `second` was shown: the first dialog, which is no longer inert.
    assert.deepEqual(r.afterFirstEscape, [true, false, ['content', 'opener', 'pre-inert', 'field'], `${ID}-message`]);
    assert.deepEqual(r.afterSecondEscape, [false, false, ['pre-inert'], 'opener']);
  });

  test('no document.body yet: showing waits for DOMContentLoaded (§8.4 step 5)', async () => {
    const r = await pg.page.evaluate(async () => {
      const body = document.body;
      body.remove();
      const p = window.P.prompter(window.P.base({ verifier: window.P.fake('NoReceipts') }));
      const out = { overlayWhilePending: p.overlay && p.overlay.id, connected: p.overlay && p.overlay.isConnected };
      await window.P.settle();
      document.documentElement.appendChild(body);
      out.stillDetached = !p.overlay.isConnected;
      document.dispatchEvent(new Event('DOMContentLoaded'));
      await window.P.settle();
      out.attached = p.overlay.parentNode === document.body;
      out.text = document.getElementById('moz-receiptverifier-overlay-text').textContent;
      out.active = window.P.active();
      // A pending overlay can also be removed before it was ever shown.
      body.remove();
      const q = window.P.prompter(window.P.base({ overlayId: 'pending', verifier: window.P.fake('NoReceipts') }));
      q.removeOverlay();
      document.documentElement.appendChild(body);
      document.dispatchEvent(new Event('DOMContentLoaded'));
      await window.P.settle();
      out.pendingRemoved = document.getElementById('pending') === null && q.overlay === null;
      p.removeOverlay();
      return out;
    });
    assert.deepEqual(r, {
      overlayWhilePending: ID,
      connected: false,
      stillDetached: true,
      attached: true,
      text: TEXT.storeInstall,
      active: `${ID}-message`,
      pendingRemoved: true,
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('expansion and the sanitiser (§8.5, §8.6; #123, #124)', () => {
  let pg;
  before(async () => {
    pg = await openPage();
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    assert.deepEqual(pg.errors, []);
    assert.deepEqual(pg.dialogs, []);
    await pg.close();
  });
  const render = (supportHTML, opts = {}, state = 'VerifierError', errors = []) =>
    pg.page.evaluate(
      async ([h, o, s, e]) => {
        const p = window.P.prompter(Object.assign({ storeURL: window.P.STORE, supportHTML: h, verifier: window.P.fake(s, e) }, o));
        await window.P.settle();
        const t = document.getElementById((o.overlayId || 'moz-receiptverifier-overlay') + '-text');
        const out = {
          html: t.innerHTML,
          text: t.textContent,
          links: [...t.querySelectorAll('a')].map((a) => window.P.attrs(a)),
          scripts: document.querySelectorAll('#moz-receiptverifier-overlay script, #moz-receiptverifier-overlay iframe').length,
        };
        p.removeOverlay();
        return out;
      },
      [supportHTML, opts, state, errors],
    );
  const PREFIX = 'We have encountered an error.  You may close this dialog to continue, but please also contact support: ';

  test('#123: javascript: link unwrapped, script and iframe dropped with content, attributes removed', async () => {
    const r = await render(
      '<a href="javascript:alert(1)">x</a><script>alert(2)</script><b onclick="f()">y</b><iframe src="https://e.example"></iframe>',
    );
    assert.equal(r.html, PREFIX + 'x<b>y</b>');
    assert.deepEqual(r.links, []);
    assert.equal(r.scripts, 0);
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(pg.dialogs, []);
  });

  test('#124: a mailto link is kept with rel; an https link too, with no target', async () => {
    let r = await render('<a href="mailto:me@example.com">mail</a>');
    assert.deepEqual(r.links, [{ href: 'mailto:me@example.com', rel: 'noopener noreferrer' }]);
    r = await render('<a href="https://help.example/x?a=1&amp;b=2" target="_blank" class="c" id="i" style="color:red">help</a>');
    assert.deepEqual(r.links, [{ href: 'https://help.example/x?a=1&b=2', rel: 'noopener noreferrer' }]);
    assert.equal(r.html, PREFIX + '<a href="https://help.example/x?a=1&amp;b=2" rel="noopener noreferrer">help</a>');
  });

  test('links: resolved against document.baseURI; only https:, mailto: and loopback http: stay', async () => {
    const r = await render(
      '<a href="/help">rel</a>|<a href="http://evil.example/">http</a>|<a href="data:text/html,x">data</a>|' +
        '<a href=" JaVaScRiPt:alert(1)">js</a>|<a href="vbscript:x">vb</a>|<a>none</a>|<a href="http://localhost:1/">lh</a>',
    );
    assert.deepEqual(r.links, [
      { href: `${env.srv.origin}/help`, rel: 'noopener noreferrer' },
      { href: 'http://localhost:1/', rel: 'noopener noreferrer' },
    ]);
    assert.equal(r.text, PREFIX + 'rel|http|data|js|vb|none|lh');
  });

  test('kept, unwrapped and dropped elements; comments; character references', async () => {
    const r = await render(
      '<p class="x">P <strong>S</strong> <em>E</em> <i>I</i> <span title="t">N</span><br>after</p>' +
        '<div><u>U</u> <img src=x onerror="alert(1)"></div><!-- c --><style>b{}</style><svg><text>svg</text></svg>' +
        '<noscript>ns</noscript><textarea>ta</textarea><title>ti</title>&lt;b&gt;&amp;&copy;&#x41;',
    );
    assert.equal(
      r.html,
      PREFIX + '<p>P <strong>S</strong> <em>E</em> <i>I</i> <span>N</span><br>after</p>U &lt;b&gt;&amp;©A',
    );
  });

  test('error.* values: own properties only, escaped, JSON for objects, cut at 256 characters', async () => {
    const r = await pg.page.evaluate(async () => {
      const e = window.P.make('InvalidReceiptIssuer', 'Issuer bad', {
        iss: '<b>bold</b> & "quotes"',
        result: { status: 'invalid', n: 1 },
        count: 3,
        nothing: null,
        long: 'x'.repeat(300),
      });
      const v = window.P.fake('NoValidReceipts');
      v.receiptErrors = { r: e };
      const p = window.P.prompter(
        window.P.base({
          verifier: v,
          templates: {
            invalidReceiptIssuer:
              '[<%= error.iss %>][<%= quote(error.result) %>][<%= error.count %>][<%= error.nothing %>]' +
              '[<%= error.missing %>][<%= error.name %>][<%= error.toString %>][<%= error.detail %>][<%= error.long %>]' +
              '<a href="https://s.example/?i=<%= quote(error.iss) %>">l</a>',
          },
        }),
      );
      await window.P.settle();
      const t = document.getElementById('moz-receiptverifier-overlay-text');
      const out = { text: t.textContent, elements: t.querySelectorAll('*').length, href: t.querySelector('a').href };
      p.removeOverlay();
      return out;
    });
    assert.equal(
      r.text,
      '[<b>bold</b> & "quotes"][{"status":"invalid","n":1}][3][][][][][Issuer bad][' + 'x'.repeat(256) + '...]l',
    );
    assert.equal(r.elements, 1);
    assert.equal(r.href, 'https://s.example/?i=%3Cb%3Ebold%3C/b%3E%20&%20%22quotes%22');
  });

  test('storeURL is escaped into the link; a quote cannot break out of the attribute', async () => {
    const r = await pg.page.evaluate(async () => {
      const p = window.P.prompter(
        window.P.base({ storeURL: 'https://store.example/a"onmouseover="alert(1)&x=<y>', verifier: window.P.fake('NoReceipts') }),
      );
      await window.P.settle();
      const a = document.querySelector('#moz-receiptverifier-overlay-text a');
      const out = window.P.attrs(a);
      p.removeOverlay();
      return out;
    });
    assert.deepEqual(Object.keys(r).sort(), ['href', 'rel']);
    assert.equal(r.href, 'https://store.example/a"onmouseover="alert(1)&x=<y>');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the classic global mozmarket.receipts.Prompter', () => {
  let pg;
  before(async () => {
    pg = await openPage('prompter-classic.html');
  });
  after(async () => {
    assert.deepEqual(await pg.csp(), []);
    await pg.close();
  });

  test('exists as soon as the script ran; verify: true right away shows storeInstall once the core is there', async () => {
    await pg.page.waitForFunction(
      () => window.promptEarly.prompter && window.promptEarly.prompter.verifier !== null && window.promptEarly.prompter.overlay,
      null,
      { timeout: 15000 },
    );
    await pg.page.waitForFunction(() => document.getElementById('moz-receiptverifier-overlay-message') !== null);
    const r = await pg.page.evaluate(() => {
      const e = window.promptEarly;
      const p = e.prompter;
      return {
        hasPrompter: e.hasPrompter,
        errors: e.errors,
        verify: e.verify,
        overlayBeforeReady: e.overlayBeforeReady,
        protoBeforeReady: e.protoTemplatesBeforeReady,
        state: p.verifier.state.name,
        blocking: p.blocking,
        text: document.getElementById('moz-receiptverifier-overlay-text').textContent,
        active: document.activeElement && document.activeElement.id,
        inert: [...document.body.children].filter((x) => x.hasAttribute('inert')).map((x) => x.id || x.tagName),
        never: document.getElementById('never'),
      };
    });
    assert.equal(r.hasPrompter, true);
    assert.deepEqual(r.errors, { plain: 'mozmarket.receipts is not ready', withVerifier: 'mozmarket.receipts is not ready' });
    assert.equal(r.verify, true);
    assert.equal(r.overlayBeforeReady, null);
    assert.ok(r.protoBeforeReady === 0 || r.protoBeforeReady === 10, String(r.protoBeforeReady));
    assert.equal(r.state, 'NoReceipts');
    assert.equal(r.blocking, true);
    assert.equal(r.text, 'Please visit the store page to install the application.');
    assert.equal(r.active, `${ID}-message`);
    assert.deepEqual(r.inert, ['content', 'opener', 'SCRIPT']);
    assert.equal(r.never, null);
  });

  test('an option error of an early verify: true Prompter surfaces once the core has loaded', async () => {
    await pg.page.waitForFunction(() => window.promptEarly.asyncErrors.length > 0, null, { timeout: 15000 });
    const errs = await pg.page.evaluate(() => window.promptEarly.asyncErrors);
    assert.ok(errs.some((m) => m.includes('Invalid storeURL option')), JSON.stringify(errs));
  });

  test('after ready: the same API synchronously; the prototype templates are the defaults', async () => {
    const r = await pg.page.evaluate(async () => {
      const R = window.mozmarket.receipts;
      await R.ready;
      document.querySelector('#moz-receiptverifier-overlay') && window.promptEarly.prompter.removeOverlay();
      const v = new R.Verifier({ receipts: [], cacheStorage: null, receiptStorage: null });
      await v.verify();
      const p = new R.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x', allowNoInstall: true, verifier: v });
      const q = R.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x', verifier: v });
      const shown = q.overlay !== null && q.blocking;
      q.removeOverlay();
      let unknown;
      try {
        R.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x', colour: 1 });
      } catch (e) {
        unknown = e.message;
      }
      return {
        isPrompter: p instanceof R.Prompter,
        allowNoInstallNothing: p.overlay === null && p.verifier === v,
        shown,
        unknown,
        templates: Object.assign({}, R.Prompter.prototype.templates),
        inertLeft: [...document.body.children].filter((x) => x.hasAttribute('inert')).length,
      };
    });
    assert.equal(r.isPrompter, true);
    assert.equal(r.allowNoInstallNothing, true);
    assert.equal(r.shown, true);
    assert.equal(r.unknown, 'Unknown option: colour');
    assert.deepEqual(r.templates, DEFAULT_TEMPLATES);
    assert.equal(r.inertLeft, 0);
  });
});

describe('Node (no DOM)', () => {
  test('Prompter needs a document', async () => {
    const mod = await import(path.join(repo, 'pkg', 'full.js'));
    for (const make of [() => mod.Prompter({ storeURL: STORE, supportHTML: 'x' }), () => new mod.Prompter()]) {
      assert.throws(make, (e) => e instanceof Error && e.message === 'Prompter needs a document');
    }
    assert.deepEqual({ ...mod.Prompter.prototype.templates }, DEFAULT_TEMPLATES);
  });
});
