// The result cache (§5.4, §5.5, §9.7 #94/#99/#100/#104, §9.8 #105–#108) over time, with an
// injected clock, in strict mode (S14, after local checks) and compat mode (C0, before parsing).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './harness.mjs';
import { T, t, DAY, cacheEntry } from './fixtures.mjs';

const HOUR = 3600000;

let env;
let pg;
before(async () => {
  env = await setup();
  pg = await env.open('esm');
});
after(async () => {
  if (env) await env.close();
});

const key = (r) => 'receiptverifier.' + r;

/** Options for either mode on the ES module surface. */
function options(mode, receipts, extra = {}) {
  return mode === 'strict'
    ? env.fx.strictOptions(receipts, extra)
    : { ...env.fx.compatOptions(receipts, extra), mode: 'compat' };
}
/** A receipt for the mode: signed C~J for strict, an unsigned JWT for compat. */
function receiptFor(mode, over = {}, store = 'ok') {
  return mode === 'strict' ? env.fx.receipt(over, { store }) : env.fx.unsigned(over, store);
}

/**
 * Several runs of one Verifier sharing one MemoryStorage; `steps` are [nowMs, mutate?] pairs.
 * Returns the summary of each run plus the storage after it.
 */
function runs(opts, seed, steps) {
  return pg.page.evaluate(async ({ opts, seed, steps }) => {
    const storage = new window.H.MemoryStorage(seed);
    let now = 0;
    const log = [];
    const v = new window.mm.Verifier(Object.assign({}, opts, {
      cacheStorage: storage,
      now: () => now,
      onlog: (l, m) => log.push([l, m]),
    }));
    const out = [];
    for (const step of steps) {
      now = step.now;
      if (step.refundWindow !== undefined) v.refundWindow = step.refundWindow;
      log.length = 0;
      storage.ops.length = 0;
      await v.verify();
      out.push(Object.assign(window.H.summarize(v), { log: log.slice(), cache: storage.dump(), ops: storage.ops.slice() }));
    }
    return out;
  }, { opts, seed, steps });
}

for (const mode of ['strict', 'compat']) {
  describe(`${mode} mode`, () => {
    test('ok is cached; fresh hit → OKCache without a request; expired → store again', async () => {
      const r = receiptFor(mode);
      const hits = () => env.srv.hits.filter((h) => h.path === '/store/ok' && h.body === r).length;
      const [first, second, third] = await runs(options(mode, [r]), {}, [
        { now: T },
        { now: T + HOUR },
        { now: T + 2 * DAY },
      ]);
      assert.equal(first.state, '[OK]');
      assert.deepEqual(JSON.parse(first.cache[key(r)]), { created: T, result: { status: 'ok' } });

      assert.equal(second.state, '[OKCache]');
      assert.deepEqual(second.errors, [[r, '[OKCache]']]);
      assert.equal(second.products.length, 1);
      assert.deepEqual(second.verifications, { [r]: { status: 'ok' } });
      assert.ok(second.log.some(([l, m]) => l === 20 && m === `Got receipt (${r.slice(0, 4)}) status from cache: {"status":"ok"}`));
      assert.ok(!second.log.some(([, m]) => m.startsWith('POSTing')));

      assert.equal(third.state, '[OK]');
      assert.ok(third.log.some(([l, m]) => l === 20 && m === 'Not using cache value because it is expired'));
      assert.equal(hits(), 2);
      assert.deepEqual(JSON.parse(third.cache[key(r)]), { created: T + 2 * DAY, result: { status: 'ok' } });
    });

    test('refund window (#108): cached during the window, window closed → store again', async () => {
      const r = receiptFor(mode);
      const created = (t - 3600) * 1000 + 60000;
      const seed = { [key(r)]: cacheEntry(created) };
      const [res] = await runs(options(mode, [r]), seed, [{ now: T }]);
      assert.equal(res.state, '[OK]');
      assert.ok(res.log.some(([, m]) => m.startsWith('POSTing')));
      // refundWindow 0 disables the rule: the same entry is a fresh hit.
      const [res0] = await runs(options(mode, [r], { refundWindow: 0 }), seed, [{ now: T }]);
      assert.equal(res0.state, '[OKCache]');
    });

    test('corrupt entries (#106) are deleted and the store is called', async () => {
      for (const bad of ['not json', '{"created":"x","result":{}}']) {
        const r = receiptFor(mode, {}, 'pending');
        const [res] = await runs(options(mode, [r]), { [key(r)]: bad }, [{ now: T }]);
        assert.equal(res.state, '[OK]');
        assert.ok(res.ops.some(([op, k]) => op === 'remove' && k === key(r)), JSON.stringify(res.ops));
        assert.equal(res.cache[key(r)], undefined);
        assert.ok(res.log.some(([, m]) => m.startsWith('POSTing')));
      }
    });

    test('a cached pending (#107) is a miss', async () => {
      const r = receiptFor(mode);
      const [res] = await runs(options(mode, [r]), { [key(r)]: cacheEntry(T, { status: 'pending' }) }, [{ now: T }]);
      assert.equal(res.state, '[OK]');
      assert.ok(res.log.some(([, m]) => m.startsWith('POSTing')));
    });

    test('stale cache (#99): unreachable store, entry created T − 2 days → OKStaleCache', async () => {
      const r = receiptFor(mode, { verify: env.refusedUrl });
      const [res] = await runs(options(mode, [r]), { [key(r)]: cacheEntry(T - 2 * DAY) }, [{ now: T }]);
      const expected =
        `[OKStaleCache Used a stale cache because of network error: [ConnectionError Server could not be contacted url: "${env.refusedUrl}"]]`;
      assert.equal(res.state, expected);
      assert.deepEqual(res.errors, [[r, expected]]);
      assert.equal(res.products.length, 1);
      assert.deepEqual(res.verifications, { [r]: { status: 'ok' } });
      assert.ok(res.log.some(([l, m]) => l === 20 && m === `Got stale receipt (${r.slice(0, 4)}) status from cache: {"status":"ok"}`));
      assert.ok(res.log.some(([l, m]) => l === 20 && m === 'Not using cache value because it is expired'));
    });

    test('refunded (#94) deletes the entry; a later outage (#104) is a ConnectionError', async () => {
      const id = `${mode}-refund`;
      env.srv.setSwitch(id, 'refunded');
      const r = receiptFor(mode, { verify: `${env.srv.origin}/store/switch/${id}` });
      const out = await pg.page.evaluate(async ({ opts, seed, T, DAY }) => {
        const storage = new window.H.MemoryStorage(seed);
        const v = new window.mm.Verifier(Object.assign({}, opts, { cacheStorage: storage, now: () => T }));
        await v.verify();
        const first = [String(v.state), Object.keys(v.receiptErrors).map((k) => String(v.receiptErrors[k])), storage.dump()];
        return { first, v: 'kept' };
      }, { opts: options(mode, [r]), seed: { [key(r)]: cacheEntry(T - 2 * DAY) }, T, DAY });
      assert.equal(out.first[0], '[NoValidReceipts No receipts passed verification]');
      assert.deepEqual(out.first[1], ['[Refunded Application payment was refunded result: {"status":"refunded"}]']);
      assert.deepEqual(out.first[2], {});
      env.srv.setSwitch(id, 'drop');
      const [res] = await runs(options(mode, [r]), out.first[2], [{ now: T + HOUR }]);
      assert.equal(res.stateName, 'ConnectionError');
      assert.equal(res.products.length, 0);
    });

    test('storage exceptions are caught and logged at WARN', async () => {
      const r = receiptFor(mode);
      const res = await pg.run({
        opts: options(mode, [r]),
        now: T,
        cache: {},
        cacheFailures: { get: true, set: true, remove: true },
      });
      assert.equal(res.state, '[OK]');
      assert.ok(res.log.some(([l]) => l === 40));
    });
  });
}

describe('compat C0 specifics', () => {
  test('a fresh hit for a receipt that does not parse is ignored', async () => {
    const res = await pg.run({ opts: options('compat', ['abc']), now: T, cache: { [key('abc')]: cacheEntry(T) } });
    assert.deepEqual(res.errors, [['abc', '[ReceiptParseError Error decoding JSON: Not valid JWT]']]);
    assert.equal(res.state, '[NoValidReceipts No receipts passed verification]');
  });

  test('a fresh hit skips the local checks in compat (original order), never in strict', async () => {
    const wrongProduct = { product: { url: 'https://other.example' } };
    const c = receiptFor('compat', wrongProduct);
    let res = await pg.run({ opts: options('compat', [c]), now: T, cache: { [key(c)]: cacheEntry(T) } });
    assert.equal(res.state, '[OKCache]');
    const s = receiptFor('strict', wrongProduct);
    res = await pg.run({ opts: options('strict', [s]), now: T, cache: { [key(s)]: cacheEntry(T) } });
    assert.equal(res.state, '[NoValidReceipts No receipts passed verification]');
    assert.deepEqual(res.errors, [[s, '[ProductURLError Product URL wrong: https://other.example parsed: ' + JSON.stringify(env.fx.payload(wrongProduct)) + ']']]);
  });
});

describe('default storage and clearCache', () => {
  test('localStorage is the default cache; clearCache removes only receiptverifier.* keys', async () => {
    const r = receiptFor('strict');
    const out = await pg.page.evaluate(async ({ opts, T }) => {
      localStorage.clear();
      localStorage.setItem('unrelated', '1');
      const o = Object.assign({}, opts, { now: () => T });
      delete o.cacheStorage;
      const v = new window.mm.Verifier(o);
      await v.verify();
      const before = Object.keys(localStorage).sort();
      const ret = v.clearCache();
      const after = Object.keys(localStorage).sort();
      const disabled = new window.mm.Verifier(Object.assign({}, opts, { now: () => T, cacheStorage: false }));
      localStorage.setItem('receiptverifier.x', '{}');
      disabled.clearCache();
      return { before, after, ret: ret === undefined, state: String(v.state), still: localStorage.getItem('receiptverifier.x') };
    }, { opts: options('strict', [r]), T });
    assert.deepEqual(out.before, [key(r), 'unrelated'].sort());
    assert.deepEqual(out.after, ['unrelated']);
    assert.equal(out.ret, true);
    assert.equal(out.state, '[OK]');
    assert.equal(out.still, '{}');
  });
});
