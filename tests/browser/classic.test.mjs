// The classic-script surface (§0.3) and compat mode (§2.4, B-C): the global, readiness, the
// not-ready rules, a load failure, compat store answers and the classic option rules.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './harness.mjs';
import { T } from './fixtures.mjs';

const NVR = '[NoValidReceipts No receipts passed verification]';

let env;
let pg;
before(async () => {
  env = await setup();
  pg = await env.open('classic');
});
after(async () => {
  if (env) await env.close();
});

const V = (name) => `${env.srv.origin}/store/${name}`;
const runCompat = (receipts, extra = {}, spec = {}) =>
  pg.run({ opts: env.fx.compatOptions(receipts, extra), now: T, ...spec });

describe('the classic global', () => {
  test('defines mozmarket.receipts synchronously, reusing existing objects; ready resolves', async () => {
    const out = await pg.page.evaluate(async () => {
      const R = window.mozmarket.receipts;
      await R.ready;
      return {
        early: {
          members: window.early.members,
          compatMode: window.early.compatMode,
          compatProductURL: window.early.compatProductURL,
          errors: window.early.errors,
          statesBeforeReady: window.early.statesBeforeReady,
          stateBeforeReady: window.early.stateBeforeReady,
          readyState: window.early.readyState,
          readyValue: window.early.readyValue,
        },
        sameNamespace: window.mozmarket === window.presetNamespace,
        sameReceipts: R === window.presetReceipts,
        other: window.mozmarket.other,
        keep: R.keep,
        types: ['Verifier', 'verify', 'addReceipt', 'listReceipts'].map((k) => typeof R[k]),
        readyIsPromise: R.ready instanceof Promise,
        hasPrompterSlot: 'Prompter' in R ? 'present' : 'absent',
      };
    });
    assert.deepEqual(out.early.members, ['Verifier', 'verify', 'addReceipt', 'listReceipts', 'ready']);
    assert.equal(out.early.compatMode, 'compat');
    assert.equal(out.early.compatProductURL, 'compat');
    assert.deepEqual(out.early.errors, {
      withTrustedKeys: 'mozmarket.receipts is not ready',
      withRootKeyOrigins: 'mozmarket.receipts is not ready',
      parseReceipt: 'mozmarket.receipts is not ready',
    });
    assert.ok(out.early.statesBeforeReady.startsWith('{InternalError, MozAppsError'));
    assert.equal(out.early.stateBeforeReady, '[VerificationIncomplete .verify() has not been called]');
    assert.equal(out.early.readyState, 'resolved');
    assert.equal(out.early.readyValue, 'undefined');
    assert.equal(out.sameNamespace, true);
    assert.equal(out.sameReceipts, true);
    assert.equal(out.other, 1);
    assert.equal(out.keep, 2);
    assert.deepEqual(out.types, ['function', 'function', 'function', 'function']);
    assert.equal(out.readyIsPromise, true);
    assert.equal(out.hasPrompterSlot, 'present');
  });

  test('a run started before ready waits for the core', async () => {
    const out = await pg.page.evaluate(async () => {
      await window.early.run;
      return { calls: window.early.calls, state: window.early.finalState, errors: window.early.receiptErrors };
    });
    assert.deepEqual(out, {
      calls: 1,
      state: NVR,
      errors: [['abc', '[ReceiptParseError Error decoding JSON: Not valid JWT]']],
    });
  });

  test('core load failure: ready rejects, every run ends in VerifierError and calls back', async () => {
    const broken = await env.open('broken');
    try {
      const out = await broken.page.evaluate(async () => {
        await window.early.run;
        const R = window.mozmarket.receipts;
        let calls = 0;
        const v = new R.Verifier({ installs_allowed_from: ['https://store.example'], receipts: ['x'] });
        await v.verify(() => calls++);
        let addReceipt;
        try {
          await R.addReceipt('a.b.c');
        } catch (e) {
          addReceipt = e instanceof Error;
        }
        return {
          early: [window.early.readyState, window.early.readyError, window.early.calls, window.early.finalState],
          failed: window.mmLoadFailed === true,
          calls,
          name: v.state.name,
          detail: v.state.detail,
          exception: typeof v.state.exception,
          addReceiptRejected: addReceipt,
        };
      });
      assert.deepEqual(out.early.slice(0, 3), ['rejected', 'Error', 1]);
      assert.ok(out.early[3].startsWith('[VerifierError Exception: '), out.early[3]);
      assert.equal(out.failed, true);
      assert.equal(out.calls, 1);
      assert.equal(out.name, 'VerifierError');
      assert.ok(out.detail.startsWith('Exception: '), out.detail);
      assert.equal(out.exception, 'string');
      assert.equal(out.addReceiptRejected, true);
    } finally {
      await broken.close();
    }
  });
});

describe('compat mode via the classic global (B-C)', () => {
  test('baseline B-C verifies (unsigned receipt, store says ok)', async () => {
    const r = env.fx.unsigned();
    const res = await runCompat([r]);
    assert.equal(res.state, '[OK]');
    assert.deepEqual(res.errors, []);
    assert.deepEqual(res.products, [{ url: 'https://app.example', storedata: 'id=1' }]);
    const mode = await pg.page.evaluate((o) => new window.mozmarket.receipts.Verifier(o).mode, env.fx.compatOptions([r]));
    assert.equal(mode, 'compat');
  });

  test('a signed C~J receipt verifies in compat mode too', async () => {
    const res = await runCompat([env.fx.receipt()]);
    assert.equal(res.state, '[OK]');
  });

  test('store expired (#97): error recorded and the product counted', async () => {
    const r = env.fx.unsigned({}, 'expired');
    const res = await runCompat([r]);
    assert.deepEqual(res.errors, [[r, '[ReceiptExpired Receipt expired result: {"status":"expired"}]']]);
    assert.equal(res.state, '[OK]');
    assert.equal(res.products.length, 1);
    assert.deepEqual(res.verifications, { [r]: { status: 'expired' } });
  });

  const cases = [
    ['404', () => `[ServerStatusError Server responded with 404 to ${V('404')} status: 404 url: "${V('404')}"]`, 'same'],
    ['500', () => `[ServerStatusError Server responded with non-200 status: 500 status: 500 url: "${V('500')}"]`, 'same'],
    ['html', () => null, 'InvalidServerResponse'],
    ['null', () => '[InvalidServerResponse Server did not respond with a JSON object (null) text: "null"]', 'same'],
    ['unknown', () => '[InvalidServerResponse Store replied with unknown status: refundido result: {"status":"refundido"}]', 'same'],
    ['refunded', () => '[Refunded Application payment was refunded result: {"status":"refunded"}]', NVR],
    ['invalid', () => '[InvalidFromStore The store reports the receipt is invalid result: {"status":"invalid","reason":"NO_PURCHASE"}]', NVR],
    ['huge', () => `[InvalidServerResponse Server response too large url: "${V('huge')}"]`, 'same'],
    ['redirect', () => undefined, '[OK]'],
    ['pending', () => undefined, '[OK]'],
  ];
  for (const [store, expected, final] of cases) {
    test(`store ${store}`, async () => {
      const r = env.fx.unsigned({}, store);
      const res = await runCompat([r]);
      const e = expected();
      if (e === undefined) assert.deepEqual(res.errors, []);
      else if (e === null) assert.equal(res.errors[0][1].startsWith('[InvalidServerResponse Invalid JSON from server text: "<html>'), true);
      else assert.deepEqual(res.errors, [[r, e]]);
      if (final === 'same') assert.equal(res.state, e);
      else if (final === 'InvalidServerResponse') assert.equal(res.stateName, 'InvalidServerResponse');
      else assert.equal(res.state, final);
    });
  }

  test('timeout (#98) and connection refused (#88) in compat', async () => {
    const hang = env.fx.unsigned({}, 'hang');
    let res = await runCompat([hang], { requestTimeout: 100 }, { waitAfter: 300 });
    assert.equal(res.state, `[RequestTimeout The request timed out after 100 milliseconds url: "${V('hang')}"]`);
    assert.equal(res.calls, 1);
    const refused = env.fx.unsigned({ verify: env.refusedUrl });
    res = await runCompat([refused]);
    assert.equal(res.state, `[ConnectionError Server could not be contacted url: "${env.refusedUrl}"]`);
  });

  test('compat parse errors and non-string receipts', async () => {
    const res = await runCompat(['abc', 42, 'a~b~c~d.e.f']);
    // '42' is an integer-like key: JS lists it before the string keys.
    assert.deepEqual(res.errors, [
      ['42', '[ReceiptParseError Error decoding JSON: receipt is not a string]'],
      ['abc', '[ReceiptParseError Error decoding JSON: Not valid JWT]'],
      ['a~b~c~d.e.f', '[ReceiptParseError Error decoding JSON: too many ~-separated parts]'],
    ]);
    assert.equal(res.state, NVR);
  });

  test('no allowlist with receipts from the option (#87)', async () => {
    const res = await runCompat([env.fx.unsigned()], { installs_allowed_from: undefined });
    assert.equal(res.state, '[VerifierError installs_allowed_from is required when receipts do not come from navigator.mozApps]');
  });

  test('"*" allowlist logs the compat WARN', async () => {
    const res = await runCompat([env.fx.unsigned()], { installs_allowed_from: '*' });
    assert.equal(res.state, '[OK]');
    assert.ok(res.log.some(([l, m]) => l === 40 && m === 'installs_allowed_from contains "*": any store can vouch for a receipt'));
  });

  test('501 receipts in compat (#112)', async () => {
    const res = await runCompat(Array.from({ length: 501 }, (_, i) => `c${i}`));
    assert.equal(res.errors.length, 500);
    assert.ok(res.log.some(([l, m]) => l === 40 && m === 'Only the first 500 receipts are verified'));
  });

  test('classic with trustedKeys is strict and verifies', async () => {
    const r = env.fx.receipt();
    const res = await pg.run({ opts: env.fx.strictOptions([r]), now: T });
    assert.equal(res.state, '[OK]');
    const mode = await pg.page.evaluate((o) => new window.mozmarket.receipts.Verifier(o).mode, env.fx.strictOptions([r]));
    assert.equal(mode, 'strict');
  });

  test('module-level verify(callback, options)', async () => {
    const out = await pg.page.evaluate(async (opts) => {
      let calls = 0;
      const v = await window.mozmarket.receipts.verify(() => calls++, opts);
      let threw;
      try {
        window.mozmarket.receipts.verify(() => {}, { bogus: 1 });
      } catch (e) {
        threw = e.message;
      }
      return { state: String(v.state), calls, threw };
    }, env.fx.compatOptions([env.fx.unsigned()]));
    assert.deepEqual(out, { state: '[OK]', calls: 1, threw: 'Illegal option to Verifier({}): bogus' });
  });
});

describe('options on the classic surface (#114–#116, #119)', () => {
  const attempt = (opts, extra) =>
    pg.page.evaluate(({ opts, extra }) => {
      const o = Object.assign({}, opts);
      if (extra === 'nan') o.requestTimeout = NaN;
      try {
        new window.mozmarket.receipts.Verifier(o);
        return 'no throw';
      } catch (e) {
        return e instanceof Error ? e.message : 'not an Error';
      }
    }, { opts, extra });

  test('exact messages', async () => {
    assert.equal(await attempt({ reqertTimeout: 1 }), 'Illegal option to Verifier({}): reqertTimeout');
    for (const [opts, key, extra] of [
      [{ requestTimeout: -1 }, 'requestTimeout'],
      [{ requestTimeout: '30s' }, 'requestTimeout'],
      [{}, 'requestTimeout', 'nan'],
      [{ leeway: 600000 }, 'leeway'],
      [{ logLevel: 'LOUD' }, 'logLevel'],
    ]) {
      assert.equal(await attempt(opts, extra), `Illegal value for option to Verifier({}): ${key}`);
    }
    assert.equal(
      await attempt({ mode: 'compat', trustedKeys: env.fx.trustedKeys }),
      'Verifier({}) in compat mode cannot use trustedKeys or rootKeyOrigins',
    );
    assert.equal(await attempt({ mode: 'strict' }), 'Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins');
    assert.equal(await attempt({}), 'no throw');
    const noNew = await pg.page.evaluate(() => {
      try {
        window.mozmarket.receipts.Verifier({});
        return 'no throw';
      } catch (e) {
        return e.message;
      }
    });
    assert.equal(noNew, 'You forgot new');
  });

  test('no CSP violation on the page', async () => {
    assert.deepEqual(await pg.cspViolations(), []);
  });
});
