// The strict Verifier's signature equations on WebCrypto (js/receipts.js strictLocalDelegated and
// the core's crypto::with_answers): the platform is asked, a shared certificate is verified once,
// the verdicts equal the core's own, and without WebCrypto (or when it fails) the core computes
// the equations itself with the same verdicts. RS256 and ES256.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { setup } from './harness.mjs';
import { T, t, jws, KEYS_URL } from './fixtures.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  if (env) await env.close();
});

/** Installs a counting wrapper around crypto.subtle.verify (or removes WebCrypto, or breaks it). */
async function instrument(pg, how) {
  await pg.page.evaluate((mode) => {
    window.subtleCalls = [];
    if (mode === 'absent') {
      Object.defineProperty(window, 'crypto', { value: undefined, configurable: true });
      return;
    }
    const subtle = window.crypto.subtle;
    const real = subtle.verify.bind(subtle);
    subtle.verify = (algorithm, key, signature, data) => {
      window.subtleCalls.push(typeof algorithm === 'string' ? algorithm : algorithm.name);
      if (mode === 'throws') return Promise.reject(new Error('platform failure'));
      return real(algorithm, key, signature, data);
    };
  }, how);
}

const verdicts = (r) => ({ state: r.state, errors: r.errors.map(([, e]) => e.split(' ')[0].slice(1)) });

describe('ES256 on WebCrypto', () => {
  let cases;
  before(() => {
    const fx = env.fx;
    cases = [fx.receipt(), fx.receipt({ product: { url: 'https://app.example', storedata: 'id=2' } }), fx.forged(), fx.receipt({}, { certificate: fx.cert({}, fx.K) })];
  });

  for (const mode of ['platform', 'absent', 'throws']) {
    test(`WebCrypto ${mode}: the verdicts of two good, one forged and one mis-certified receipt`, async () => {
      const pg = await env.open('esm');
      try {
        await instrument(pg, mode);
        const r = await pg.run({ opts: env.fx.strictOptions(cases), now: T, cache: {} });
        assert.deepEqual(verdicts(r), {
          state: '[OK]',
          errors: ['InvalidSignature', 'InvalidSignature'],
        }, JSON.stringify(r.errors));
        assert.equal(r.products.length, 2);
        const calls = await pg.page.evaluate(() => window.subtleCalls.length);
        if (mode === 'platform') {
          // The certificate shared by three receipts is verified once: 1 + 3 receipt equations,
          // plus the forged certificate of the fourth (signed by K, not R).
          assert.ok(calls >= 4 && calls <= 6, `${calls} platform verifications`);
        } else if (mode === 'throws') {
          assert.ok(calls >= 1, 'the platform was asked, failed, and the core decided');
        } else {
          assert.equal(calls, 0);
        }
      } finally {
        await pg.close();
      }
    });
  }
});

describe('RS256 on WebCrypto', () => {
  test('an RS256 root and signing key: good receipt OK, tampered payload InvalidSignature; same with the core alone', async () => {
    const rsa = (kid) => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const j = publicKey.export({ format: 'jwk' });
      return { privateKey, jwk: { kty: 'RSA', n: j.n, e: j.e, kid } };
    };
    const R = rsa('root-rsa');
    const K = rsa('sign-rsa');
    const iss = env.srv.origin;
    const cert = jws({ alg: 'RS256', kid: 'root-rsa' }, { typ: 'certified-key', iss: KEYS_URL, jwk: [K.jwk], iat: t - 86400, nbf: t - 86400, exp: t + 31536000 }, R.privateKey);
    const payload = (storedata) => ({
      typ: 'purchase-receipt',
      product: { url: 'https://app.example', storedata },
      user: { type: 'directed-identifier', value: 'u-1' },
      iss,
      verify: `${iss}/store/ok`,
      iat: t - 3600,
      nbf: t - 3600,
      exp: t + 2592000,
    });
    const good = cert + '~' + jws({ alg: 'RS256', typ: 'JWT', kid: 'sign-rsa' }, payload('id=1'), K.privateKey);
    const [h, , s] = good.split('~')[1].split('.');
    const tampered = cert + '~' + h + '.' + Buffer.from(JSON.stringify(payload('id=9'))).toString('base64url') + '.' + s;
    const opts = { ...env.fx.strictOptions([good, tampered]), trustedKeys: { keys: [R.jwk] } };
    const results = {};
    for (const mode of ['platform', 'absent']) {
      const pg = await env.open('esm');
      try {
        await instrument(pg, mode);
        const r = await pg.run({ opts, now: T, cache: {} });
        results[mode] = { ...verdicts(r), calls: await pg.page.evaluate(() => window.subtleCalls.slice()) };
      } finally {
        await pg.close();
      }
    }
    assert.deepEqual(results.platform.state, '[OK]');
    assert.deepEqual(results.platform.errors, ['InvalidSignature']);
    assert.ok(results.platform.calls.length >= 2 && results.platform.calls.every((n) => n === 'RSASSA-PKCS1-v1_5'), JSON.stringify(results.platform.calls));
    assert.deepEqual({ state: results.absent.state, errors: results.absent.errors }, { state: results.platform.state, errors: results.platform.errors });
    assert.deepEqual(results.absent.calls, []);
  });
});
