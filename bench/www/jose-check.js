// The bench's peer: the strict-mode checks of spec/receipts.md §2.3 for an ES256 receipt chain,
// written by hand on top of jose (its browser / WebCrypto build, served unbundled at /jose/), as
// an app developer who wanted the same guarantees as mozmarket's strict Verifier would write them.
// It mirrors crates/core/src/{verify,chain,claims,cache}.rs check by check; see bench/README.md
// for what it leaves out (and so where it does less work than mozmarket).
//
//   const checker = await createChecker({trustedKeys, installsAllowedFrom, productURL, now, cacheStorage});
//   const verdict = await checker.verify(receipt);   // {ok: true, product, result} | {ok: false, error}
//
// Only ES256 (P-256) keys are supported: that is what the bench's receipts use.
import { jwtVerify } from '/jose/jwt/verify.js';
import { importJWK } from '/jose/key/import.js';
import { decodeProtectedHeader } from '/jose/util/decode_protected_header.js';

export const CACHE_PREFIX = 'receiptverifier.';
const MAX_RECEIPT = 1048576;
const MAX_NUMERIC_DATE = 253402300799;
const MAX_CERT_KEYS = 16;
const DEFAULT_TYPS = ['purchase-receipt', 'developer-receipt', 'reviewer-receipt'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const COMPACT_CHARS = /^[A-Za-z0-9\-_.~]+$/;
// 32 bytes in canonical unpadded base64url: 43 characters, the last one with its 2 low bits zero.
const B64U_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
const KID = /^[\x21-\x7e]{1,256}$/;

class Rejected extends Error {}
const fail = (message) => {
  throw new Rejected(message);
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const numericDate = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_NUMERIC_DATE;
const nonEmptyString = (v) => typeof v === 'string' && v !== '';

/** §2.5.1: the origin of an `iss` that is an origin, else undefined. */
function issOrigin(iss) {
  if (typeof iss !== 'string' || /[?#]/.test(iss)) return undefined;
  let u;
  try {
    u = new URL(iss);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (!u.host || u.username || u.password || (u.pathname !== '' && u.pathname !== '/')) return undefined;
  return u.origin;
}

/** §2.5.2 normalize(u): origin + path (a lone "/" path is empty), or undefined. */
function normalizeProductUrl(value) {
  if (typeof value !== 'string') return undefined;
  const text = value.includes('://') ? value : `app://${value}`;
  if (/[?#]/.test(text)) return undefined;
  let u;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https' && scheme !== 'app') return undefined;
  if (u.username || u.password || !u.host) return undefined;
  return `${scheme}://${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

const IP_LITERAL = /^(\d{1,3}\.){3}\d{1,3}$|^\[/;

/** S13a and S13b (§2.5.3) for a receipt whose `iss` is an origin. */
function verifyUrlAllowed(iss, verify) {
  let i;
  let v;
  try {
    i = new URL(iss);
    v = new URL(verify);
  } catch {
    return 'Verify URL is not allowed';
  }
  if (v.username || v.password) return 'Verify URL is not allowed';
  const schemeOk = v.protocol === 'https:' || (v.protocol === 'http:' && i.protocol === 'http:');
  if (!schemeOk) return 'Verify URL is not allowed';
  const hi = i.hostname;
  const hv = v.hostname;
  if (hv === hi || (!IP_LITERAL.test(hi) && hv.endsWith(`.${hi}`))) return null;
  return 'Verifier domain is not the same (or a subdomain) of the issuer domain';
}

/**
 * §1.5 for an EC P-256 JWK, then WebCrypto's import through jose (which checks that the point is
 * on the curve). `configured` keys may carry an `iss` origin (S12c).
 */
async function importKey(jwk, configured) {
  if (!isObject(jwk)) fail('not a JWK');
  for (const m of PRIVATE_MEMBERS) if (m in jwk) fail('private key members are not allowed');
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') fail('unsupported key type');
  if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || !B64U_32.test(jwk.x) || !B64U_32.test(jwk.y)) {
    fail('invalid base64url');
  }
  if (jwk.alg !== undefined && jwk.alg !== 'ES256') fail('alg does not match the key');
  if (jwk.use !== undefined && jwk.use !== 'sig') fail('use must be sig');
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    fail('key_ops must include verify');
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid === '')) fail('invalid kid');
  let iss;
  if (configured && jwk.iss !== undefined) {
    iss = issOrigin(jwk.iss);
    if (iss === undefined) fail('iss must be an origin');
  }
  let key;
  try {
    key = await importJWK({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, 'ES256');
  } catch {
    fail('EC point is not on P-256');
  }
  return { key, kid: jwk.kid, iss };
}

/** §2.3.2 for one part's header (decoded by jose). */
function checkHeader(header) {
  if (typeof header.alg !== 'string') fail('JWT header alg is missing or not a string');
  if (header.alg !== 'ES256') fail(`Algorithm not allowed: ${header.alg}`); // RS256 is not in this mirror
  if ('crit' in header) fail('Unsupported crit header');
  for (const m of ['b64', 'cty', 'enc', 'zip']) if (m in header) fail(`Unsupported header parameter: ${m}`);
  if (header.kid !== undefined && (typeof header.kid !== 'string' || !KID.test(header.kid))) fail('JWT header kid is invalid');
  if (header.typ !== undefined && typeof header.typ !== 'string') fail('JWT header typ is invalid');
}

/** §2.3.3 steps 1–3 with jose's jwtVerify: the first candidate (kid filter, list order) that verifies. */
async function verifyWith(candidates, token, header, options) {
  let tried = false;
  for (const c of candidates) {
    if (header.kid !== undefined && c.kid !== undefined && c.kid !== header.kid) continue;
    tried = true;
    try {
      const { payload } = await jwtVerify(token, c.key, options);
      return { payload, key: c };
    } catch (e) {
      // jose also rejects exp/nbf outside the tolerance here: a time failure, not a signature one.
      if (e && (e.code === 'ERR_JWT_EXPIRED' || e.code === 'ERR_JWT_CLAIM_VALIDATION_FAILED')) fail(`time: ${e.message}`);
      if (e && e.code === 'ERR_JWT_INVALID') fail(`payload: ${e.message}`);
    }
  }
  fail(tried ? 'Signature verification failed' : 'No trusted key matches the JWT header');
  return undefined;
}

/** §2.3.4 step 2 for a certificate whose signature verified; returns its keys and exp. */
async function checkCertificate(p, prevExp, T, L) {
  if (p.typ !== 'certified-key') fail('Certificate typ is not certified-key');
  if (!nonEmptyString(p.iss)) fail('Certificate has no iss');
  if (!Array.isArray(p.jwk) || p.jwk.length === 0 || p.jwk.length > MAX_CERT_KEYS) fail('Certificate has no usable jwk list');
  const keys = [];
  for (const jwk of p.jwk) {
    try {
      keys.push(await importKey(jwk, false));
    } catch {
      fail('Certificate contains an invalid key');
    }
  }
  if (!numericDate(p.exp)) fail('Certificate has no valid exp');
  for (const m of ['nbf', 'iat']) if (p[m] !== undefined && !numericDate(p[m])) fail('Certificate has an invalid nbf or iat');
  if (!(p.exp * 1000 > T - L)) fail('Certificate expired');
  for (const m of ['nbf', 'iat']) if (p[m] !== undefined && !(p[m] * 1000 <= T + L)) fail('Certificate not yet valid');
  if (prevExp !== undefined && !(p.exp <= prevExp)) fail('Certificate outlives its issuer');
  return { keys, exp: p.exp };
}

/** §2.3.6: required members and their types. */
function checkRequired(p) {
  const str = (name, value) => {
    if (value === undefined || value === '') fail(`No (or empty) ${name} field`);
    if (typeof value !== 'string') fail(`Field ${name} has the wrong type`);
  };
  const optStr = (name, value) => {
    if (value !== undefined && typeof value !== 'string') fail(`Field ${name} has the wrong type`);
  };
  str('typ', p.typ);
  if (p.product === undefined) fail('No (or empty) product field');
  if (!isObject(p.product)) fail('Field product has the wrong type');
  optStr('product.url', p.product.url);
  optStr('product.storedata', p.product.storedata);
  if (p.user === undefined) fail('No (or empty) user field');
  if (!isObject(p.user) || typeof p.user.type !== 'string' || typeof p.user.value !== 'string') fail('Field user has the wrong type');
  str('iss', p.iss);
  for (const m of ['nbf', 'iat']) {
    if (p[m] === undefined) fail(`No (or empty) ${m} field`);
    if (!numericDate(p[m])) fail(`Field ${m} has the wrong type`);
  }
  if (p.exp !== undefined && !numericDate(p.exp)) fail('Field exp has the wrong type');
  str('verify', p.verify);
  optStr('detail', p.detail);
  optStr('reissue', p.reissue);
}

/**
 * A checker for one configuration (like one Verifier): imports and checks the trusted keys once.
 * Options: trustedKeys ({keys} or an array), installsAllowedFrom (array), productURL (string or
 * array), typsAllowed, leeway (ms, 60000), now (ms or a function), cacheStorage (storage-like),
 * cacheTimeout (ms, 1 day), refundWindow (ms, 40 min).
 */
export async function createChecker(o) {
  const list = Array.isArray(o.trustedKeys) ? o.trustedKeys : o.trustedKeys && o.trustedKeys.keys;
  if (!Array.isArray(list) || list.length === 0 || list.length > 32) throw new TypeError('trustedKeys');
  const roots = [];
  for (const jwk of list) roots.push(await importKey(jwk, true));
  const productKeys = (Array.isArray(o.productURL) ? o.productURL : [o.productURL]).map(normalizeProductUrl);
  if (productKeys.some((k) => k === undefined)) throw new TypeError('productURL');
  const allow = o.installsAllowedFrom;
  if (!Array.isArray(allow)) throw new TypeError('installsAllowedFrom is required');
  const typs = o.typsAllowed || DEFAULT_TYPS;
  const L = o.leeway === undefined ? 60000 : o.leeway;
  const cacheTimeout = o.cacheTimeout === undefined ? 86400000 : o.cacheTimeout;
  const refundWindow = o.refundWindow === undefined ? 2400000 : o.refundWindow;
  const clock = typeof o.now === 'function' ? o.now : () => (o.now === undefined ? Date.now() : o.now);

  async function run(receipt) {
    const T = clock();
    const options = { algorithms: ['ES256'], currentDate: new Date(T), clockTolerance: L / 1000 };
    // §2.3.1 (the parts jose does not do itself) and §2.3.2.
    if (typeof receipt !== 'string') fail('Receipt is not a string');
    if (receipt.length > MAX_RECEIPT) fail('Receipt is too big');
    if (!COMPACT_CHARS.test(receipt)) fail('Receipt contains an invalid character');
    const parts = receipt.split('~');
    if (parts.length > 3) fail(`Receipt has ${parts.length} ~-separated parts`);
    if (parts.some((x) => x === '')) fail('Receipt has an empty part');
    const headers = parts.map((token) => {
      const segs = token.split('.');
      if (segs.length !== 3) fail(`JWT has ${segs.length} segments (expected 3)`);
      if (segs.some((s) => s === '')) fail('JWT has an empty segment');
      let h;
      try {
        h = decodeProtectedHeader(token);
      } catch {
        fail('JWT header is not a JSON object');
      }
      return h;
    });
    headers.forEach(checkHeader);

    // §2.3.3–§2.3.4: part 0 with the trusted keys, each certificate's keys for the next part.
    let candidates = roots;
    let anchor;
    let prevExp;
    for (let i = 0; i < parts.length - 1; i++) {
      const v = await verifyWith(candidates, parts[i], headers[i], options);
      if (i === 0) anchor = v.key;
      const cert = await checkCertificate(v.payload, prevExp, T, L);
      prevExp = cert.exp;
      candidates = cert.keys;
    }
    const last = parts.length - 1;
    const v = await verifyWith(candidates, parts[last], headers[last], options);
    if (last === 0) anchor = v.key;
    const p = v.payload;

    // §2.3.6 and §2.3.7 (S8–S13).
    checkRequired(p);
    if (p.exp !== undefined && !(p.exp * 1000 > T - L)) fail('Receipt has expired');
    if (!(p.nbf * 1000 <= T + L)) fail('Receipt is not yet valid (nbf)');
    if (!(p.iat * 1000 <= T + L)) fail('Receipt was issued in the future (iat)');
    if (p.exp !== undefined && last > 0 && !(p.exp <= prevExp)) fail('Receipt outlives its signing certificate');
    if (!typs.includes(p.typ)) fail(`Wrong receipt type: ${p.typ}`);
    if (!nonEmptyString(p.product.url)) fail('Product URL missing.');
    const pk = normalizeProductUrl(p.product.url);
    if (pk === undefined || !productKeys.includes(pk)) fail(`Product URL wrong: ${p.product.url}`);
    const origin = issOrigin(p.iss);
    if (origin === undefined) fail('Field iss is not an origin');
    const allowed = allow.some((e) => {
      if (e === '*') return true;
      try {
        return new URL(e).origin === origin;
      } catch {
        return false;
      }
    });
    if (!allowed) fail(`Issuer (iss) of receipt is not a valid installer: ${p.iss}`);
    if (anchor.iss !== undefined && anchor.iss !== origin) fail(`Receipt issuer does not match its signing key: ${p.iss}`);
    const verifyProblem = verifyUrlAllowed(p.iss, p.verify);
    if (verifyProblem) fail(verifyProblem);

    // S14 (§5.5): a fresh cached store answer, read and checked as the Verifier stores it.
    const storage = o.cacheStorage;
    const text = storage ? storage.getItem(CACHE_PREFIX + receipt) : null;
    if (text === null || text === undefined) fail('no cache entry: the store would be asked');
    let entry;
    try {
      entry = JSON.parse(text);
    } catch {
      fail('corrupt cache entry');
    }
    if (!isObject(entry) || typeof entry.created !== 'number' || !isObject(entry.result)) fail('corrupt cache entry');
    if (entry.result.status !== 'ok') fail('cached answer is not ok: the store would be asked');
    if (!(T - entry.created <= cacheTimeout)) fail('cache entry expired: the store would be asked');
    const iatMs = p.iat * 1000;
    if (refundWindow > 0 && entry.created - iatMs < refundWindow && T - iatMs > refundWindow) {
      fail('refund window re-check: the store would be asked');
    }
    return { ok: true, product: p.product, result: entry.result };
  }

  return {
    /** Never rejects: `{ok: true, product, result}` or `{ok: false, error}`. */
    async verify(receipt) {
      try {
        return await run(receipt);
      } catch (e) {
        return { ok: false, error: e instanceof Rejected ? e.message : `unexpected: ${e && e.message}` };
      }
    },
  };
}
