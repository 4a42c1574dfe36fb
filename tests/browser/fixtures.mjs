// Test receipts, signed here with node:crypto (ES256 / P-256, JWS signature = raw r||s), so the
// browser tests do not depend on our own Rust signer. Shapes follow spec §9.1 (baseline B), with
// the issuer and verify URLs on the local test server.
import { generateKeyPairSync, sign, randomBytes } from 'node:crypto';

export const T = 1700000000000;
export const t = T / 1000;
export const DAY = 86400000;

export const b64u = (x) => Buffer.from(typeof x === 'string' ? x : x).toString('base64url');
const seg = (obj) => b64u(JSON.stringify(obj));

/** A P-256 key pair with its public JWK (kid set). */
export function ecKey(kid) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid } };
}

/** Compact JWS over `header.payload` with ES256 (IEEE P1363 signature). */
export function jws(header, payload, privateKey) {
  const input = seg(header) + '.' + seg(payload);
  const sig = sign('sha256', Buffer.from(input, 'ascii'), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return input + '.' + b64u(sig);
}

export const KEYS_URL = 'https://keys.store.example/root.jwk';

/**
 * Keys R (root) and K (signing), certificate C and a receipt factory for issuer `iss` (the test
 * server origin). `receipt(overrides, {store})` returns `C~J` whose verify URL is
 * `${iss}/store/${store}` unless `overrides.verify` is given.
 */
export function makeFixture(iss) {
  const R = ecKey('root-1');
  const K = ecKey('sign-1');
  const certPayload = (over) => ({
    typ: 'certified-key',
    iss: KEYS_URL,
    jwk: [K.jwk],
    iat: t - 86400,
    nbf: t - 86400,
    exp: t + 31536000,
    ...over,
  });
  const cert = (over = {}, rootKey = R) => jws({ alg: 'ES256', kid: 'root-1' }, certPayload(over), rootKey.privateKey);
  const C = cert();
  const payload = (over = {}, store = 'ok') => ({
    typ: 'purchase-receipt',
    product: { url: 'https://app.example', storedata: 'id=1' },
    user: { type: 'directed-identifier', value: 'u-1' },
    iss,
    verify: `${iss}/store/${store}`,
    iat: t - 3600,
    nbf: t - 3600,
    exp: t + 2592000,
    ...over,
  });
  const jwt = (over = {}, store = 'ok', key = K) =>
    jws({ alg: 'ES256', typ: 'JWT', kid: 'sign-1' }, payload(over, store), key.privateKey);
  const receipt = (over = {}, { store = 'ok', certificate = C, key = K } = {}) =>
    certificate + '~' + jwt(over, store, key);
  /** A receipt whose J payload was changed after signing (bad signature). */
  const forged = (store = 'ok') => {
    const good = receipt({}, { store });
    const [c, j] = good.split('~');
    const [h, , s] = j.split('.');
    const p = seg(payload({ product: { url: 'https://app.example', storedata: 'id=2' } }, store));
    return c + '~' + h + '.' + p + '.' + s;
  };
  /** An unsigned-style receipt for compat tests (header/signature never read there). */
  const unsigned = (over = {}, store = 'ok') =>
    seg({ alg: 'ES256', typ: 'JWT' }) + '.' + seg(payload(over, store)) + '.' + b64u(randomBytes(64));
  return {
    R,
    K,
    C,
    iss,
    cert,
    payload,
    receipt,
    forged,
    unsigned,
    trustedKeys: { keys: [R.jwk] },
    /** Baseline B options (JSON-able; `now` is added in the page). */
    strictOptions: (receipts, extra = {}) => ({
      trustedKeys: { keys: [R.jwk] },
      installs_allowed_from: [iss],
      productURL: 'https://app.example',
      receipts,
      cacheStorage: null,
      receiptStorage: null,
      ...extra,
    }),
    /** B-C options. */
    compatOptions: (receipts, extra = {}) => ({
      installs_allowed_from: [iss],
      productURL: 'https://app.example',
      receipts,
      cacheStorage: null,
      receiptStorage: null,
      ...extra,
    }),
  };
}

/** A cache entry text as §5.5 stores it. */
export const cacheEntry = (created, result = { status: 'ok' }) => JSON.stringify({ created, result });
