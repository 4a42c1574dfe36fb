// Strict mode on the ES module surface: baseline B, every store answer (§3.3, §9.7), transports
// (§3.1), root-key documents (§2.3.3, #56–#59), the run contract (§2.2, §4.2) and the API of §4/§5.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './harness.mjs';
import { T, DAY, cacheEntry, KEYS_URL } from './fixtures.mjs';
import { CAPTIVE_PORTAL } from './server.mjs';

const NVR = '[NoValidReceipts No receipts passed verification]';

let env;
let pg;
before(async () => {
  env = await setup();
  pg = await env.open('esm');
});
after(async () => {
  if (env) await env.close();
});

const V = (name) => `${env.srv.origin}/store/${name}`;
const runStrict = (receipts, extra = {}, spec = {}) =>
  pg.run({ opts: env.fx.strictOptions(receipts, extra), now: T, ...spec });

/** The 8-character windows of a receipt must never show up in a log line (§4.4). */
function assertLogsDoNotLeak(log, receipt) {
  for (const [, message] of log) {
    for (let i = 0; i + 8 <= receipt.length; i += 4) {
      assert.ok(!message.includes(receipt.substr(i, 8)), `log leaks receipt text: ${message}`);
    }
  }
}

describe('baseline B (strict, ES module)', () => {
  test('verifies: [OK], one product, no receipt errors, exact logs and request', async () => {
    const r = env.fx.receipt();
    const before = env.srv.hitsOn('/store/ok').length;
    const res = await runStrict([r]);
    assert.equal(res.state, '[OK]');
    assert.equal(res.stateName, 'OK');
    assert.deepEqual(res.products, [{ url: 'https://app.example', storedata: 'id=1' }]);
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.verifications, { [r]: { status: 'ok' } });
    assert.equal(res.verifier, '[Verifier state: [OK] products: https://app.example]');
    assert.equal(res.calls, 1);
    assert.equal(res.calledSync, false);
    assert.equal(res.resolvedToVerifier, true);
    assert.equal(res.app, 'undefined');
    assert.equal(res.stateIsStateObject, true);
    assert.equal(res.stateIsError, false);

    const messages = res.log.map(([level, m]) => `${level} ${m}`);
    assert.ok(messages.includes(`10 Checking receipt ${r.slice(0, 4)}`), messages.join('\n'));
    assert.ok(messages.includes(`20 POSTing to ${V('ok')}`));
    assert.ok(messages.includes(`20 Request to ${V('ok')} completed with status: 200`));
    assert.ok(messages.includes(`20 Receipt (${r.slice(0, 4)}...) completed with result: {"status":"ok"}`));
    assert.equal(messages[messages.length - 1], '10 Finished all receipt verification');
    assertLogsDoNotLeak(res.log, r);

    // §3.1: POST of the whole receipt, no custom headers, no credentials, simple request.
    const hits = env.srv.hitsOn('/store/ok').slice(before);
    assert.equal(hits.length, 1);
    assert.equal(hits[0].method, 'POST');
    assert.equal(hits[0].body, r);
    assert.equal(hits[0].headers['content-type'], 'text/plain;charset=UTF-8');
    assert.equal(hits[0].headers.cookie, undefined);
    assert.equal(env.srv.hits.filter((h) => h.method === 'OPTIONS').length, 0, 'no CORS preflight');
    for (const name of Object.keys(hits[0].headers)) assert.ok(!name.startsWith('x-'), `custom header ${name}`);
  });

  test('toString of a failed run shows [error is state] and the receipt ends', async () => {
    const r = env.fx.receipt({}, { store: '404' });
    const res = await runStrict([r]);
    const err = `[ServerStatusError Server responded with 404 to ${V('404')} status: 404 url: "${V('404')}"]`;
    assert.equal(res.state, err);
    assert.equal(
      res.verifier,
      `[Verifier state: ${err} Error(${r.substr(0, 4)}...${r.substr(r.length - 4)}): [error is state]]`,
    );
  });
});

describe('store answers (§3.3, #88–#102), strict', () => {
  const cases = [
    ['404', () => `[ServerStatusError Server responded with 404 to ${V('404')} status: 404 url: "${V('404')}"]`, 'same'],
    ['500', () => `[ServerStatusError Server responded with non-200 status: 500 status: 500 url: "${V('500')}"]`, 'same'],
    ['201-ok', () => `[ServerStatusError Server responded with non-200 status: 201 status: 201 url: "${V('201-ok')}"]`, 'same'],
    ['html', () => `[InvalidServerResponse Invalid JSON from server text: ${JSON.stringify(CAPTIVE_PORTAL)}]`, 'same'],
    ['empty', () => '[InvalidServerResponse Invalid JSON from server text: ""]', 'same'],
    ['null', () => '[InvalidServerResponse Server did not respond with a JSON object (null) text: "null"]', 'same'],
    ['array', () => '[InvalidServerResponse Server did not respond with a JSON object ([]) text: "[]"]', 'same'],
    ['string', () => '[InvalidServerResponse Server did not respond with a JSON object ("ok") text: "\\"ok\\""]', 'same'],
    ['unknown', () => '[InvalidServerResponse Store replied with unknown status: refundido result: {"status":"refundido"}]', 'same'],
    ['unknown-OK', () => '[InvalidServerResponse Store replied with unknown status: OK result: {"status":"OK"}]', 'same'],
    ['unknown-null', () => '[InvalidServerResponse Store replied with unknown status: null result: {"status":null}]', 'same'],
    ['empty-object', () => '[InvalidServerResponse Store replied with unknown status: undefined result: {}]', 'same'],
    ['refunded', () => '[Refunded Application payment was refunded result: {"status":"refunded"}]', NVR],
    ['invalid', () => '[InvalidFromStore The store reports the receipt is invalid result: {"status":"invalid","reason":"NO_PURCHASE"}]', NVR],
    ['expired', () => '[ReceiptExpired Receipt expired result: {"status":"expired"}]', NVR],
    ['huge', () => `[InvalidServerResponse Server response too large url: "${V('huge')}"]`, 'same'],
  ];
  for (const [store, expected, final] of cases) {
    test(`${store}`, async () => {
      const r = env.fx.receipt({}, { store });
      const res = await runStrict([r]);
      assert.deepEqual(res.errors, [[r, expected()]]);
      assert.equal(res.state, final === 'same' ? expected() : final);
      assert.deepEqual(res.products, []);
      assert.equal(res.calls, 1);
    });
  }

  test('pending (#100): verified, not cached, the store is asked again', async () => {
    const r = env.fx.receipt({}, { store: 'pending' });
    const before = env.srv.hitsOn('/store/pending').length;
    const res = await runStrict([r], {}, { cache: {} });
    assert.equal(res.state, '[OK]');
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.verifications, { [r]: { status: 'pending' } });
    assert.deepEqual(res.cache, {});
    const res2 = await runStrict([r], {}, { cache: res.cache });
    assert.equal(res2.state, '[OK]');
    assert.equal(env.srv.hitsOn('/store/pending').length - before, 2);
  });

  test('never answers, requestTimeout 100 (#98): RequestTimeout once, callback once', async () => {
    const r = env.fx.receipt({}, { store: 'hang' });
    const res = await runStrict([r], { requestTimeout: 100 }, { waitAfter: 400 });
    const err = `[RequestTimeout The request timed out after 100 milliseconds url: "${V('hang')}"]`;
    assert.deepEqual(res.errors, [[r, err]]);
    assert.equal(res.state, err);
    assert.equal(res.calls, 1);
    assert.ok(res.log.some(([l, m]) => l === 50 && m === `Request to ${V('hang')} timed out`));
    assert.ok(!res.log.some(([, m]) => m.includes('completed with status')));
  });

  test('connection refused (#88)', async () => {
    const r = env.fx.receipt({ verify: env.refusedUrl });
    const res = await runStrict([r]);
    const err = `[ConnectionError Server could not be contacted url: "${env.refusedUrl}"]`;
    assert.deepEqual(res.errors, [[r, err]]);
    assert.equal(res.state, err);
    assert.ok(res.log.some(([, m]) => m === `Request to ${env.refusedUrl} completed with status: 0`));
  });

  test('two receipts: unreachable then ok (#103): first NetworkError wins, one product', async () => {
    const r1 = env.fx.receipt({ verify: env.refusedUrl });
    const r2 = env.fx.receipt();
    const res = await runStrict([r1, r2]);
    const err = `[ConnectionError Server could not be contacted url: "${env.refusedUrl}"]`;
    assert.equal(res.state, err);
    assert.deepEqual(res.errors, [[r1, err]]);
    assert.equal(res.products.length, 1);
  });

  test('redirect to another path on the verify host: accepted', async () => {
    const r = env.fx.receipt({}, { store: 'redirect' });
    const res = await runStrict([r]);
    assert.equal(res.state, '[OK]');
  });

  test('all store checks of a run are in flight together', async () => {
    const rs = [env.fx.receipt({}, { store: 'hang' }), env.fx.receipt({}, { store: 'hang' })];
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
      const started = performance.now();
      await v.verify();
      return { elapsed: performance.now() - started, errors: Object.keys(v.receiptErrors).length };
    }, { opts: env.fx.strictOptions(rs, { requestTimeout: 300 }), T });
    assert.equal(out.errors, 2);
    assert.ok(out.elapsed < 590, `timeouts ran concurrently (${out.elapsed} ms)`);
  });
});

describe('redirects and transports', () => {
  test('302 to http://evil.test/… (#101): strict rejects the final URL', async () => {
    const r = env.fx.receipt({}, { store: 'redirect-evil' });
    const before = env.srv.hitsOn('/store/ok').length;
    const res = await runStrict([r]);
    const err = `[InvalidServerResponse Store response came from an unexpected URL url: "${V('redirect-evil')}"]`;
    assert.deepEqual(res.errors, [[r, err]]);
    assert.equal(res.state, err);
    const followed = env.srv.hitsOn('/store/ok').slice(before);
    assert.equal(followed.length, 1);
    assert.equal(followed[0].headers.host, `evil.test:${env.srv.port}`);
  });

  test('302 to http://evil.test/…: compat accepts it', async () => {
    const r = env.fx.receipt({}, { store: 'redirect-evil' });
    const res = await pg.run({ opts: { ...env.fx.compatOptions([r]), mode: 'compat' }, now: T });
    assert.equal(res.state, '[OK]');
  });

  test('fetch is used when there is no XMLHttpRequest', async () => {
    const p = await env.open('esm');
    try {
      await p.page.evaluate(() => {
        window.XMLHttpRequest = undefined;
      });
      const ok = env.fx.receipt();
      const nf = env.fx.receipt({}, { store: '404' });
      const hang = env.fx.receipt({}, { store: 'hang' });
      const before = env.srv.hitsOn('/store/ok').length;
      let res = await p.run({ opts: env.fx.strictOptions([ok]), now: T });
      assert.equal(res.state, '[OK]');
      const hit = env.srv.hitsOn('/store/ok')[before];
      assert.equal(hit.body, ok);
      assert.equal(hit.headers['content-type'], 'text/plain;charset=UTF-8');
      res = await p.run({ opts: env.fx.strictOptions([nf]), now: T });
      assert.equal(res.state, `[ServerStatusError Server responded with 404 to ${V('404')} status: 404 url: "${V('404')}"]`);
      res = await p.run({ opts: env.fx.strictOptions([hang], { requestTimeout: 100 }), now: T, waitAfter: 300 });
      assert.equal(res.state, `[RequestTimeout The request timed out after 100 milliseconds url: "${V('hang')}"]`);
      assert.equal(res.calls, 1);
      res = await p.run({ opts: env.fx.strictOptions([env.fx.receipt({ verify: env.refusedUrl })]), now: T });
      assert.equal(res.state, `[ConnectionError Server could not be contacted url: "${env.refusedUrl}"]`);
    } finally {
      await p.close();
    }
  });

  test('an XMLHttpRequest double on the global is used, looked up at request time', async () => {
    const p = await env.open('esm');
    try {
      const r = env.fx.receipt();
      const out = await p.page.evaluate(async ({ opts, T, evil }) => {
        const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
        // Installed after construction: the transport is looked up per request.
        const xhr = window.H.installFakeXHR({ status: 200, body: '{"status":"ok"}', responseURL: evil });
        await v.verify();
        return { state: String(v.state), requests: xhr.summary() };
      }, { opts: env.fx.strictOptions([r]), T, evil: 'https://evil.example/ok' });
      assert.equal(out.state, `[InvalidServerResponse Store response came from an unexpected URL url: "${V('ok')}"]`);
      assert.deepEqual(out.requests, [
        { method: 'POST', url: V('ok'), async: true, body: r, headers: [], withCredentials: false },
      ]);
    } finally {
      await p.close();
    }
  });
});

describe('root key documents (§2.3.3)', () => {
  const rootOpts = (receipts, extra = {}) => {
    const o = env.fx.strictOptions(receipts, { rootKeyOrigins: ['https://keys.store.example'], ...extra });
    delete o.trustedKeys;
    return o;
  };

  test('a valid document anchors the chain; one shared request; cached for the instance', async () => {
    const doc = JSON.stringify({ jwk: [env.fx.R.jwk] });
    const p = await env.open('esm', { routes: { [KEYS_URL]: { status: 200, body: doc } } });
    try {
      const rs = [env.fx.receipt(), env.fx.receipt()];
      const out = await p.page.evaluate(async ({ opts, T }) => {
        const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
        await v.verify();
        const first = String(v.state);
        const products = v.products.length;
        await v.verify();
        return { first, products, second: String(v.state) };
      }, { opts: rootOpts(rs), T });
      assert.deepEqual(out, { first: '[OK]', products: 2, second: '[OK]' });
      assert.equal(p.routeHits[KEYS_URL], 1);
    } finally {
      await p.close();
    }
  });

  test('the document answers 404 (#58): that error, no stale fallback', async () => {
    const p = await env.open('esm', { routes: { [KEYS_URL]: { status: 404, body: 'nope' } } });
    try {
      const r = env.fx.receipt();
      const res = await p.run({
        opts: rootOpts([r]),
        now: T,
        cache: { ['receiptverifier.' + r]: cacheEntry(T - 2 * DAY) },
      });
      const err = `[ServerStatusError Server responded with 404 to ${KEYS_URL} status: 404 url: "${KEYS_URL}"]`;
      assert.deepEqual(res.errors, [[r, err]]);
      assert.equal(res.state, err);
      assert.deepEqual(res.products, []);
      assert.equal(p.routeHits[KEYS_URL], 1);
    } finally {
      await p.close();
    }
  });

  for (const [label, answer] of [
    ['an HTML page', { status: 200, body: CAPTIVE_PORTAL, contentType: 'text/html' }],
    // A real redirect, followed to this server, which serves a valid document there.
    ['a redirect to another URL', () => ({ status: 302, body: '', headers: { Location: env.srv.url('/keys/root.jwk') } })],
  ]) {
    test(`the document answers ${label} (#59)`, async () => {
      env.srv.setRootDocument(JSON.stringify({ jwk: [env.fx.R.jwk] }));
      const p = await env.open('esm', { routes: { [KEYS_URL]: answer } });
      try {
        const r = env.fx.receipt();
        const res = await p.run({ opts: rootOpts([r]), now: T });
        const err = `[InvalidServerResponse Invalid root key document from ${KEYS_URL} url: "${KEYS_URL}"]`;
        assert.deepEqual(res.errors, [[r, err]]);
        assert.equal(res.state, err);
      } finally {
        await p.close();
      }
    });
  }

  test('an iss outside rootKeyOrigins (#56, #57): UnknownSigningKey, no request', async () => {
    const p = await env.open('esm', { routes: { 'https://**': { status: 200, body: '{}' } } });
    try {
      for (const iss of ['https://keys.store.example.evil.com/root.jwk', 'http://keys.store.example/root.jwk']) {
        const r = env.fx.receipt({}, { certificate: env.fx.cert({ iss }) });
        const res = await p.run({ opts: rootOpts([r]), now: T });
        assert.deepEqual(res.errors, [[r, '[UnknownSigningKey No trusted key matches the JWT header part: 0]']]);
        assert.equal(res.state, NVR);
      }
      assert.equal(p.routeHits['https://**'], 0);
    } finally {
      await p.close();
    }
  });
});

describe('cache and strict order', () => {
  test('forged receipt planted in the cache (#105): InvalidSignature, no OKCache, no request', async () => {
    const forged = env.fx.forged('ok');
    const before = env.srv.hitsOn('/store/ok').length;
    const res = await runStrict([forged], {}, { cache: { ['receiptverifier.' + forged]: cacheEntry(T) } });
    assert.deepEqual(res.errors, [[forged, '[InvalidSignature Signature verification failed part: 1]']]);
    assert.equal(res.state, NVR);
    assert.equal(env.srv.hitsOn('/store/ok').length, before);
  });
});

describe('receipt list edge cases', () => {
  test('the receipt string __proto__ (#113): an own property of receiptErrors', async () => {
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
      await v.verify();
      const d = Object.getOwnPropertyDescriptor(v.receiptErrors, '__proto__');
      return {
        own: Object.getOwnPropertyNames(v.receiptErrors),
        protoUnchanged: Object.getPrototypeOf(v.receiptErrors) === Object.prototype,
        enumerable: d && d.enumerable,
        name: d && d.value.name,
        detail: d && d.value.detail,
        part: d && d.value.part,
        isParseError: d && d.value instanceof window.mm.Verifier.errors.ReceiptParseError,
        state: String(v.state),
      };
    }, { opts: env.fx.strictOptions(['__proto__']), T });
    assert.deepEqual(out, {
      own: ['__proto__'],
      protoUnchanged: true,
      enumerable: true,
      name: 'ReceiptParseError',
      detail: 'JWT has 1 segments (expected 3)',
      part: 0,
      isParseError: true,
      state: NVR,
    });
  });

  test('receipts: [42] (#1): Receipt is not a string, keyed "42"', async () => {
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      const v = new window.mm.Verifier(Object.assign({}, opts, { receipts: [42], now: () => T }));
      await v.verify();
      return window.H.summarize(v);
    }, { opts: env.fx.strictOptions([]), T });
    assert.deepEqual(out.errors, [['42', '[ReceiptParseError Receipt is not a string]']]);
    assert.equal(out.state, NVR);
  });

  test('501 distinct receipts (#112): exactly 500 outcomes and a WARN', async () => {
    const receipts = Array.from({ length: 501 }, (_, i) => `r${i}`);
    const res = await runStrict(receipts);
    assert.equal(res.errors.length, 500);
    assert.equal(res.errors[499][0], 'r499');
    assert.ok(!res.errors.some(([k]) => k === 'r500'));
    assert.ok(res.log.some(([l, m]) => l === 40 && m === 'Only the first 500 receipts are verified'));
    assert.equal(res.state, NVR);
  });

  test('duplicates are dropped, first kept', async () => {
    const res = await runStrict(['dup', 'dup', 'x']);
    assert.deepEqual(res.errors.map(([k]) => k), ['dup', 'x']);
  });
});

describe('run contract (§2.2, §4.2)', () => {
  test('now() returning NaN (#69)', async () => {
    const out = await pg.page.evaluate(async ({ opts }) => {
      let calls = 0;
      const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => NaN }));
      await v.verify(() => calls++);
      return { state: String(v.state), calls };
    }, { opts: env.fx.strictOptions([env.fx.receipt()]) });
    assert.deepEqual(out, { state: '[VerifierError now() did not return a finite number]', calls: 1 });
  });

  test('concurrent verify() calls join one run', async () => {
    const r = env.fx.receipt();
    const before = env.srv.hitsOn('/store/ok').length;
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
      const seen = [];
      const p1 = v.verify((w) => seen.push(['a', String(w.state), w === v]));
      const p2 = v.verify((w) => seen.push(['b', String(w.state), w === v]));
      const [a, b] = await Promise.all([p1, p2]);
      return { same: p1 === p2, both: a === v && b === v, seen };
    }, { opts: env.fx.strictOptions([r]), T });
    assert.deepEqual(out, { same: true, both: true, seen: [['a', '[OK]', true], ['b', '[OK]', true]] });
    assert.equal(env.srv.hitsOn('/store/ok').length - before, 1);
  });

  test('a throwing callback: logged, rethrown in a separate task, promise still resolves', async () => {
    const p = await env.open('esm');
    try {
      const out = await p.page.evaluate(async ({ opts, T }) => {
        const log = [];
        const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T, onlog: (l, m) => log.push([l, m]) }));
        const w = await v.verify(() => {
          throw new Error('boom');
        });
        await new Promise((r) => setTimeout(r, 50));
        return { resolved: w === v, state: String(v.state), log };
      }, { opts: env.fx.strictOptions([env.fx.receipt()]), T });
      assert.equal(out.resolved, true);
      assert.equal(out.state, '[OK]');
      assert.ok(out.log.some(([l, m]) => l === 50 && m === 'Exception in onVerified callback: Error: boom'));
      assert.deepEqual(p.pageErrors, ['boom']);
    } finally {
      await p.close();
    }
  });

  test('each run starts clean; properties are read at run start and revalidated', async () => {
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      const v = new window.mm.Verifier(Object.assign({}, opts, { now: () => T }));
      await v.verify();
      const first = [String(v.state), v.products.length, Object.keys(v.receiptErrors).length];
      await v.verify();
      const second = [String(v.state), v.products.length, Object.keys(v.receiptErrors).length];
      v.refundWindow = -5;
      let calls = 0;
      await v.verify(() => calls++);
      const third = [String(v.state), calls];
      v.refundWindow = 0;
      v.trustedKeys = { keys: [{ kty: 'oct' }] };
      await v.verify();
      const fourth = String(v.state);
      return { first, second, third, fourth };
    }, { opts: env.fx.strictOptions([env.fx.receipt(), 'bad']), T });
    assert.deepEqual(out.first, ['[OK]', 1, 1]);
    assert.deepEqual(out.second, ['[OK]', 1, 1]);
    assert.deepEqual(out.third, ['[VerifierError Illegal value for option to Verifier({}): refundWindow]', 1]);
    assert.equal(out.fourth, '[VerifierError Illegal value for option to Verifier({}): trustedKeys[0]: unsupported key type]');
  });

  test('installs_allowed_from missing in strict mode (#86); productURL defaults to location.origin (#76)', async () => {
    let res = await runStrict([env.fx.receipt()], { installs_allowed_from: undefined });
    assert.equal(res.state, '[VerifierError installs_allowed_from is required in strict mode]');
    const r = env.fx.receipt({ product: { url: 'https://other.example' } });
    res = await runStrict([r], { productURL: undefined });
    assert.equal(res.errors[0][1].startsWith('[ProductURLError Product URL wrong: https://other.example'), true);
    // location.origin is the page's own origin: a receipt for it passes the product check.
    const own = env.fx.receipt({ product: { url: env.srv.origin } });
    res = await runStrict([own], { productURL: undefined });
    assert.equal(res.state, '[OK]');
  });

  test('verifyReceipts(app): only app.receipts; app.origin and manifest feed the defaults', async () => {
    const r = env.fx.receipt({ product: { url: 'https://packaged.example' } });
    const opts = env.fx.strictOptions(['ignored'], { installs_allowed_from: undefined, productURL: undefined });
    const app = { receipts: [r], origin: 'https://packaged.example', manifest: { installs_allowed_from: [env.srv.origin] } };
    let res = await pg.run({ opts, now: T, method: 'verifyReceipts', app });
    assert.equal(res.state, '[OK]');
    assert.equal(res.app, 'undefined');
    assert.deepEqual(res.errors, []);
    assert.ok(res.log.some(([l, m]) => l === 20 && m === `Using installs_allowed_from value from manifest: ["${env.srv.origin}"]`));
    res = await pg.run({ opts, now: T, method: 'verifyReceipts', app: null });
    assert.equal(res.state, '[VerifierError Exception: verifyReceipts needs an app object exception: "verifyReceipts needs an app object"]');
    assert.equal(res.calls, 1);
    res = await pg.run({ opts, now: T, method: 'verifyReceipts', app: { receipts: [] } });
    assert.equal(res.state, '[NoReceipts No receipts were found or installed]');
  });
});

describe('options (§4.1, #114–#119) on the ES module', () => {
  const ctor = (opts, extra) =>
    pg.page.evaluate(({ opts, extra }) => {
      try {
        const o = opts !== null && typeof opts === 'object' ? Object.assign({}, opts) : opts;
        if (extra === 'nan') o.requestTimeout = NaN;
        const v = new window.mm.Verifier(o);
        return { ok: true, mode: v.mode };
      } catch (e) {
        return { ok: false, isError: e instanceof Error, message: e.message };
      }
    }, { opts, extra });
  const throws = async (opts, message, extra) => {
    assert.deepEqual(await ctor(opts, extra), { ok: false, isError: true, message });
  };

  test('#114 unknown option, #115 without new', async () => {
    await throws({ reqertTimeout: 1 }, 'Illegal option to Verifier({}): reqertTimeout');
    const out = await pg.page.evaluate(() => {
      const res = [];
      for (const f of [() => window.mm.Verifier({}), () => window.mm.Verifier.states.OK(), () => window.mm.Verifier.State('X')()]) {
        try {
          f();
          res.push('no throw');
        } catch (e) {
          res.push(e.message);
        }
      }
      return res;
    });
    assert.deepEqual(out, ['You forgot new', 'You forgot new', 'You forgot new']);
  });

  test('#116 illegal values', async () => {
    const tk = env.fx.trustedKeys;
    for (const [opts, key, extra] of [
      [{ requestTimeout: -1 }, 'requestTimeout'],
      [{ requestTimeout: '30s' }, 'requestTimeout'],
      [{}, 'requestTimeout', 'nan'],
      [{ leeway: 600000 }, 'leeway'],
      [{ logLevel: 'LOUD' }, 'logLevel'],
      [{ productURL: 'https://app.example/?q' }, 'productURL'],
      [{ rootKeyOrigins: ['https://keys.example/path'] }, 'rootKeyOrigins'],
      [{ typsAllowed: ['certified-key'] }, 'typsAllowed'],
      [{ cacheStorage: {} }, 'cacheStorage'],
    ]) {
      await throws({ trustedKeys: tk, ...opts }, `Illegal value for option to Verifier({}): ${key}`, extra);
    }
    await throws('x', 'Verifier({}) options must be an object');
    // Values are checked in table order: requestTimeout before leeway.
    await throws({ leeway: -1, requestTimeout: -1 }, 'Illegal value for option to Verifier({}): requestTimeout');
  });

  test('#117 trustedKeys entries', async () => {
    const R = env.fx.R.jwk;
    const rsa1024 = { kty: 'RSA', n: Buffer.concat([Buffer.from([0xc5]), Buffer.alloc(127, 7)]).toString('base64url'), e: 'AQAB' };
    await throws(
      { trustedKeys: { keys: [{ ...R, d: 'AAAA' }] } },
      'Illegal value for option to Verifier({}): trustedKeys[0]: private key members are not allowed',
    );
    await throws(
      { trustedKeys: { keys: [{ kty: 'oct' }] } },
      'Illegal value for option to Verifier({}): trustedKeys[0]: unsupported key type',
    );
    // `k` (the HMAC secret) is a private member (§1.5): that rule is reported for it.
    await throws(
      { trustedKeys: { keys: [{ kty: 'oct', k: 'AAAA' }] } },
      'Illegal value for option to Verifier({}): trustedKeys[0]: private key members are not allowed',
    );
    await throws(
      { trustedKeys: [rsa1024] },
      'Illegal value for option to Verifier({}): trustedKeys[0]: RSA modulus must be 2048 to 4096 bits',
    );
    await throws({ trustedKeys: { keys: [] } }, 'Illegal value for option to Verifier({}): trustedKeys');
    await throws({ trustedKeys: 'R' }, 'Illegal value for option to Verifier({}): trustedKeys');
  });

  test('#118 and #119 mode rules; instance properties', async () => {
    await throws(
      { installs_allowed_from: ['https://store.example'] },
      'Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins',
    );
    await throws({ mode: 'strict' }, 'Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins');
    await throws(
      { mode: 'compat', trustedKeys: env.fx.trustedKeys },
      'Verifier({}) in compat mode cannot use trustedKeys or rootKeyOrigins',
    );
    assert.deepEqual(await ctor({ mode: 'compat' }), { ok: true, mode: 'compat' });
    assert.deepEqual(await ctor({ trustedKeys: env.fx.trustedKeys }), { ok: true, mode: 'strict' });
    const props = await pg.page.evaluate((tk) => {
      const v = new window.mm.Verifier({ trustedKeys: tk, installs_allowed_from: 'https://store.example', logLevel: 'WARN' });
      return {
        requestTimeout: v.requestTimeout,
        cacheTimeout: v.cacheTimeout,
        refundWindow: v.refundWindow,
        leeway: v.leeway,
        logLevel: v.logLevel,
        typsAllowed: v.typsAllowed,
        installs: v.installs_allowed_from,
        productURL: v.productURL === undefined,
        receipts: v.receipts === undefined,
        rootKeyOrigins: v.rootKeyOrigins,
        cacheIsLocal: v.cacheStorage === window.localStorage,
        nowIsDateNow: v.now === Date.now,
        state: String(v.state),
        protoLogLevel: window.mm.Verifier.prototype.logLevel,
      };
    }, env.fx.trustedKeys);
    assert.deepEqual(props, {
      requestTimeout: 30000,
      cacheTimeout: 86400000,
      refundWindow: 2400000,
      leeway: 60000,
      logLevel: 40,
      typsAllowed: ['purchase-receipt', 'developer-receipt', 'reviewer-receipt'],
      installs: ['https://store.example'],
      productURL: true,
      receipts: true,
      rootKeyOrigins: [],
      cacheIsLocal: true,
      nowIsDateNow: true,
      state: '[VerificationIncomplete .verify() has not been called]',
      protoLogLevel: 2,
    });
  });
});

describe('states, errors, levels (§4.4, §4.5, §5)', () => {
  test('collections, instanceof facts, State mechanism, toString formats', async () => {
    const out = await pg.page.evaluate(() => {
      const { Verifier } = window.mm;
      const s = Verifier.states;
      const e = Verifier.errors;
      const X = Verifier.State('X');
      const Y = Verifier.State('Y', X);
      const y = new Y('detail text', { b: 1, a: 'two', c: { d: [1] } });
      const cyc = {};
      cyc.self = cyc;
      const z = new Y('', { cyc, u: undefined });
      const rt = new e.RequestTimeout('t');
      const ce = new e.ConnectionError('c');
      return {
        states: String(s),
        errors: String(e),
        levels: String(Verifier.levels),
        levelValues: Object.assign({}, Verifier.levels),
        proto: [Verifier.prototype.states === s, Verifier.prototype.errors === e, Verifier.prototype.levels === Verifier.levels, Verifier.prototype.consoleLogger === Verifier.consoleLogger],
        facts: [
          rt instanceof s.ServerError, rt instanceof s.NetworkError, ce instanceof s.NetworkError, !(ce instanceof s.ServerError),
          new s.OKStaleCache('x') instanceof s.OKCache, new s.OKStaleCache('x') instanceof s.OK,
          new s.NotInstalled() instanceof s.NeedsInstall, new s.NoReceipts() instanceof s.NeedsInstall,
          new s.MozAppsError() instanceof s.InternalError, new s.VerifierError() instanceof s.InternalError,
          new e.ReceiptParseError() instanceof e.ReceiptFormatError,
          ...['AlgorithmNotAllowed', 'UnsupportedHeader', 'UnknownSigningKey', 'InvalidSignature', 'CertificateError'].flatMap(
            (n) => [new e[n]() instanceof e.ReceiptSignatureError, !(new e[n]() instanceof e.ReceiptFormatError)],
          ),
          new e.Refunded() instanceof Verifier.State, !(new e.Refunded() instanceof Error),
        ],
        names: [X.className, Y.prototype.name, y.name, s.OK.className, e.ConnectionError.prototype.name],
        y: String(y),
        yKeys: Object.keys(y),
        z: String(z),
        ok: String(new s.OK()),
        okCache: String(new s.OKCache()),
        nvr: String(new s.NoValidReceipts('No receipts passed verification')),
        sse: String(new e.ServerStatusError('Server responded with 404 to https://s.example/v', { status: 404, url: 'https://s.example/v' })),
      };
    });
    assert.equal(out.states, '{InternalError, MozAppsError, MozAppsNotSupported, NeedsInstall, NetworkError, NoReceipts, NoValidReceipts, NotInstalled, OK, OKCache, OKStaleCache, ServerError, VerificationIncomplete, VerifierError}');
    assert.equal(out.errors, '{AlgorithmNotAllowed, CertificateError, ConnectionError, InvalidFromStore, InvalidReceiptIssuer, InvalidServerResponse, InvalidSignature, ProductURLError, ReceiptExpired, ReceiptFormatError, ReceiptNotYetValid, ReceiptParseError, ReceiptSignatureError, Refunded, RequestTimeout, ServerStatusError, UnknownSigningKey, UnsupportedHeader, VerifyDomainMismatch, WrongType}');
    assert.equal(out.levels, '{ERROR, WARN, NOTIFY, INFO, DEBUG}');
    assert.deepEqual(out.levelValues, { DEBUG: 10, INFO: 20, NOTIFY: 30, WARN: 40, ERROR: 50 });
    assert.deepEqual(out.proto, [true, true, true, true]);
    assert.ok(out.facts.every((f) => f === true), JSON.stringify(out.facts));
    assert.deepEqual(out.names, ['X', 'Y', 'Y', 'OK', 'ConnectionError']);
    assert.equal(out.y, '[Y detail text b: 1 a: "two" c: {"d":[1]}]');
    assert.deepEqual(out.yKeys, ['detail', 'b', 'a', 'c']);
    assert.equal(out.z, '[Y cyc: [unserializable] u: undefined]');
    assert.equal(out.ok, '[OK]');
    assert.equal(out.okCache, '[OKCache]');
    assert.equal(out.nvr, '[NoValidReceipts No receipts passed verification]');
    assert.equal(out.sse, '[ServerStatusError Server responded with 404 to https://s.example/v status: 404 url: "https://s.example/v"]');
  });

  test('consoleLogger, log() levels, iterReceiptErrors, base64url, parseReceipt', async () => {
    const r = env.fx.receipt();
    const out = await pg.page.evaluate(({ r, opts, T }) => {
      const { Verifier } = window.mm;
      const seen = [];
      const saved = {};
      for (const m of ['debug', 'info', 'log', 'warn', 'error']) {
        saved[m] = console[m];
        console[m] = (msg) => seen.push([m, msg]);
      }
      const detached = Verifier.consoleLogger;
      for (const l of [10, 20, 30, 40, 50, 5, 99]) detached(l, 'm' + l);
      console.debug = undefined;
      detached(10, 'fallback');
      Object.assign(console, saved);

      const lines = [];
      const v = new Verifier({ trustedKeys: opts.trustedKeys, logLevel: 'WARN', onlog(l, m) { lines.push([l, m, this === v]); throw new Error('ignored'); } });
      v.log(20, 'too low');
      v.log(40, 'warn');
      v.log(50, 'error');

      v.receiptErrors = { a: 1, b: 2, c: 3 };
      const iter = [];
      v.iterReceiptErrors((k, e) => { iter.push([k, e]); return k === 'b' ? false : 0; });

      const enc = v.base64urlencode('\xff\xfe\xfd?');
      const dec = [v.base64urldecode(enc), v.base64urldecode('__79Pw=='), v.base64urldecode('//79Pw')];
      const bad = [];
      for (const s of ['a', 'ab c', '****', 'abc===']) {
        try {
          v.base64urldecode(s);
          bad.push('no throw');
        } catch (e) {
          bad.push(e.message);
        }
      }
      const parsed = v.parseReceipt(r);
      const errs = [];
      for (const x of ['a.b', 42]) {
        try {
          v.parseReceipt(x);
        } catch (e) {
          errs.push(e.message);
        }
      }
      const c = new Verifier({ mode: 'compat' });
      try {
        c.parseReceipt('abc');
      } catch (e) {
        errs.push(e.message);
      }
      return { seen, lines, iter, enc, dec, bad, parsedTyp: parsed.typ, parsedIss: parsed.iss, errs, now: typeof opts.now };
    }, { r, opts: env.fx.strictOptions([r]), T });
    assert.deepEqual(out.seen, [
      ['debug', 'm10'], ['info', 'm20'], ['log', 'm30'], ['warn', 'm40'], ['error', 'm50'], ['debug', 'm5'], ['error', 'm99'], ['log', 'fallback'],
    ]);
    assert.deepEqual(out.lines, [[40, 'warn', true], [50, 'error', true]]);
    assert.deepEqual(out.iter, [['a', 1], ['b', 2]]);
    assert.equal(out.enc, '__79Pw');
    assert.deepEqual(out.dec, ['\xff\xfe\xfd?', '\xff\xfe\xfd?', '\xff\xfe\xfd?']);
    assert.deepEqual(out.bad, Array(4).fill('Illegal base64url string!'));
    assert.equal(out.parsedTyp, 'purchase-receipt');
    assert.equal(out.parsedIss, env.srv.origin);
    assert.deepEqual(out.errs, ['JWT has 2 segments (expected 3)', 'Receipt is not a string', 'Not valid JWT']);
  });

  test('no CSP violation on the page', async () => {
    assert.deepEqual(await pg.cspViolations(), []);
  });
});

