/*
 * mozmarket receipts: the JavaScript object model and I/O of the receipt verifier.
 *
 * Contract: spec/receipts.md §2.2 (the run), §3.1 (store request), §4 (Verifier API), §5 (states,
 * errors, promotion, caching), §7 (receipt sources, addReceipt, listReceipts).
 *
 * Core decides, the shell connects. Every verification decision (parsing, chain, policy, store
 * answer mapping, cache freshness, promotion, option values that need URL or key parsing) is a
 * call into the wasm core. This file only gathers inputs (options, receipts, storage, HTTP,
 * timers, navigator.mozApps) and turns the core's plain-object answers into the JS objects of §5.
 *
 * This module has no imports and touches no global at evaluation time. It is used twice:
 * - as an ES module by index.js (surface "esm": the core is loaded before any export is used);
 * - pasted (with `export` stripped) into the classic script pkg/mozmarket-receipts.js by
 *   js/assemble.mjs (surface "classic": the core loads in the background, §0.3).
 *
 * No eval, no `new Function`, no string timers, no HTML sinks.
 */

/** Option names in the validation order of the §4.1 table. */
const OPTION_NAMES = [
  'installs_allowed_from',
  'requestTimeout',
  'cacheTimeout',
  'cacheStorage',
  'refundWindow',
  'onlog',
  'logLevel',
  'typsAllowed',
  'productURL',
  'mode',
  'trustedKeys',
  'rootKeyOrigins',
  'leeway',
  'now',
  'receipts',
  'receiptStorage',
];

const RECEIPT_TYPES = ['purchase-receipt', 'developer-receipt', 'reviewer-receipt', 'test-receipt'];
const DEFAULT_TYPS = ['purchase-receipt', 'developer-receipt', 'reviewer-receipt'];
const DEFAULTS = {
  requestTimeout: 30000,
  cacheTimeout: 86400000,
  refundWindow: 2400000,
  logLevel: 2,
  leeway: 60000,
  maxLeeway: 300000,
};
/** Receipts processed per run and kept in the local store (§1.7, §7.2). */
const MAX_RECEIPTS = 500;
/** The fxpay key of the local receipt store (§7.2). */
const RECEIPT_STORE_KEY = 'fxpayReceipts';
/**
 * The key the pay widget writes (payments §7.5). receipts §7.2 names only `fxpayReceipts`, so a
 * receipt the widget installed would be invisible to `verify()`: readers read both keys (the
 * widget's first), writers keep writing their own spec's key.
 */
const WIDGET_STORE_KEY = 'mozmarketReceipts';
/** Cache key prefix (§5.5). */
const CACHE_PREFIX = 'receiptverifier.';
/**
 * Bodies longer than the §1.7 limit are all "too large" to the core; handing it at most one
 * character more than the limit keeps memory bounded without changing its decision.
 */
const BODY_PASS_LIMIT = 1048576 + 1;
/** getSelf() timeout for addReceipt/listReceipts, which have no requestTimeout option. */
const PLATFORM_TIMEOUT = 30000;

const LEVELS = { DEBUG: 10, INFO: 20, NOTIFY: 30, WARN: 40, ERROR: 50 };

const NOT_READY = 'mozmarket.receipts is not ready';
const ILLEGAL_VALUE = 'Illegal value for option to Verifier({}): ';

const hasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** Defines an own, enumerable, writable data property (works for the key `__proto__`). */
function setOwn(o, key, value) {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** `String(x)` that never throws. */
function str(x) {
  try {
    return String(x);
  } catch (_) {
    try {
      return Object.prototype.toString.call(x);
    } catch (_e) {
      return '[unprintable]';
    }
  }
}

/** `JSON.stringify(x)` as text for logs; never throws. */
function jsonText(x) {
  try {
    return String(JSON.stringify(x));
  } catch (_) {
    return '[unserializable]';
  }
}

/** §0.4: values from a receipt, a store or storage are cut to 256 characters plus `...`. */
function clip(x) {
  const s = str(x);
  return s.length > 256 ? s.slice(0, 256) + '...' : s;
}

/** At most the first four characters of a receipt, for logs (§4.4). */
function first4(key) {
  return key.substr(0, 4);
}

function isStringArray(v) {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** §4.1 storage-like: getItem, setItem, removeItem and key functions, and a numeric length. */
function isStorageLike(s) {
  try {
    return (
      s !== null &&
      (typeof s === 'object' || typeof s === 'function') &&
      typeof s.getItem === 'function' &&
      typeof s.setItem === 'function' &&
      typeof s.removeItem === 'function' &&
      typeof s.key === 'function' &&
      typeof s.length === 'number'
    );
  } catch (_) {
    return false;
  }
}

/**
 * `localStorage` if it can be accessed (reading it throws in sandboxed frames), else null. Only in
 * a window: Node has no default storage (§0.3), even where a runtime exposes a global one.
 */
function defaultLocalStorage() {
  try {
    if (typeof window === 'undefined' || window === null) return null;
    const s = window.localStorage;
    return isStorageLike(s) ? s : null;
  } catch (_) {
    return null;
  }
}

/** `navigator.mozApps` when it exists, else undefined. */
function getMozApps() {
  try {
    if (typeof navigator === 'undefined' || navigator === null) return undefined;
    const m = navigator.mozApps;
    return m === null || m === undefined ? undefined : m;
  } catch (_) {
    return undefined;
  }
}

/**
 * Calls a DOMRequest-style method and waits for onsuccess/onerror, or the timeout (0 = none).
 * Resolves `{ok: true, result}` or `{ok: false, name}`; `name` is the error's name, `String(e)`
 * for a synchronous throw, or `timeout`.
 */
function domRequest(start, timeoutMs) {
  return new Promise((resolve) => {
    let done = false;
    let timer;
    const finish = (answer) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      resolve(answer);
    };
    try {
      const req = start();
      req.onsuccess = function () {
        let result;
        try {
          result = req.result;
        } catch (e) {
          finish({ ok: false, name: str(e) });
          return;
        }
        finish({ ok: true, result });
      };
      req.onerror = function () {
        let name;
        try {
          const err = req.error;
          name = err !== null && err !== undefined && err.name !== undefined ? str(err.name) : str(err);
        } catch (e) {
          name = str(e);
        }
        finish({ ok: false, name });
      };
    } catch (e) {
      finish({ ok: false, name: str(e) });
      return;
    }
    if (timeoutMs > 0) timer = setTimeout(() => finish({ ok: false, name: 'timeout' }), timeoutMs);
  });
}

/** The values of `app.receipts` (§7.1): array, array-like (own enumerable values), null, undefined. */
function appReceiptValues(receipts) {
  if (receipts === null || receipts === undefined) return [];
  if (Array.isArray(receipts)) {
    const out = [];
    for (let i = 0; i < receipts.length; i++) out.push(receipts[i]);
    return out;
  }
  if (typeof receipts === 'object') return Object.values(receipts);
  return [];
}

/**
 * Reads the local receipt store (§7.2). `warn(message)` reports an unreadable value.
 * Returns the receipt strings (deduplicated, at most 500).
 */
function readLocalStoreKey(storage, key, warn) {
  if (!storage) return [];
  let text;
  try {
    text = storage.getItem(key);
  } catch (_) {
    return []; // unavailable storage counts as disabled
  }
  if (text === null || text === undefined) return [];
  let list;
  try {
    list = JSON.parse(str(text));
  } catch (_) {
    list = undefined;
  }
  if (!Array.isArray(list)) {
    if (warn) warn('Ignoring unreadable local receipt store');
    return [];
  }
  const out = [];
  const seen = new Set();
  for (let i = 0; i < list.length && out.length < MAX_RECEIPTS; i++) {
    const r = list[i];
    if (typeof r !== 'string' || seen.has(r)) continue;
    seen.add(r);
    out.push(r);
  }
  return out;
}

/** Both local receipt stores (§7.2 and the widget's), deduplicated, at most 500 receipts. */
function readLocalStore(storage, warn) {
  const out = [];
  const seen = new Set();
  for (const key of [WIDGET_STORE_KEY, RECEIPT_STORE_KEY]) {
    for (const r of readLocalStoreKey(storage, key, warn)) {
      if (out.length >= MAX_RECEIPTS) return out;
      const k = str(r);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

/**
 * One HTTP request (§3.1, §2.3.3). The global XMLHttpRequest is looked up now, so polyfills and
 * test doubles are honoured; otherwise fetch. No custom headers. Own timer (0 = none); on
 * timeout the request is aborted and its later events are ignored.
 *
 * Resolves `{timedOut, status, finalUrl, body}`; never rejects. A request that cannot even be
 * started (a synchronous throw) is a status-0 answer, like any other transport failure.
 */
function httpRequest(method, url, body, timeoutMs, omitCredentials) {
  return new Promise((resolve) => {
    let done = false;
    let timer;
    let abort = () => {};
    const finish = (answer) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      resolve(answer);
    };
    const failed = () => finish({ timedOut: false, status: 0, finalUrl: undefined, body: '' });
    const answered = (status, finalUrl, text) => {
      const s = Number(status);
      finish({
        timedOut: false,
        status: Number.isInteger(s) && s >= 0 && s <= 65535 ? s : 0,
        finalUrl: typeof finalUrl === 'string' && finalUrl !== '' ? finalUrl : undefined,
        body: text.length > BODY_PASS_LIMIT ? text.slice(0, BODY_PASS_LIMIT) : text,
      });
    };
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        if (done) return;
        finish({ timedOut: true, status: 0, finalUrl: undefined, body: '' });
        try {
          abort();
        } catch (_) {
          // the answer is already decided
        }
      }, timeoutMs);
    }
    let X;
    try {
      X = globalThis.XMLHttpRequest;
    } catch (_) {
      X = undefined;
    }
    try {
      if (typeof X === 'function') {
        const xhr = new X();
        abort = () => xhr.abort();
        xhr.open(method, url, true);
        if (omitCredentials) xhr.withCredentials = false;
        xhr.onreadystatechange = function () {
          if (done || xhr.readyState !== 4) return;
          let status = 0;
          let finalUrl;
          let text = '';
          try {
            status = xhr.status;
            finalUrl = xhr.responseURL;
            const t = xhr.responseText;
            text = t === null || t === undefined ? '' : str(t);
          } catch (_) {
            status = 0;
          }
          answered(status, finalUrl, text);
        };
        xhr.send(body === undefined ? null : body);
      } else if (typeof fetch === 'function') {
        const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
        if (controller) abort = () => controller.abort();
        const init = { method };
        if (controller) init.signal = controller.signal;
        if (body !== undefined) init.body = body;
        if (omitCredentials) init.credentials = 'omit';
        fetch(url, init).then(
          (res) =>
            res.text().then(
              (text) => answered(res.status, res.url, text),
              () => failed(),
            ),
          () => failed(),
        );
      } else {
        failed();
      }
    } catch (_) {
      failed();
    }
  });
}

// ------------------------------------------------------------------ §2.3.5 on WebCrypto
//
// Where the page has WebCrypto (a secure context; Node 19+), the signature equations of the strict
// local stage are computed by the platform: the core makes every other decision, hands back the
// equations it met (`pending`), and decides again with the answers (see the core's crypto module).
// The result is used only from a pass that met no unanswered equation. Without WebCrypto, or if it
// fails in any way, the core computes the equations itself.

/** Answers: request id (SHA-256 over alg, key, input, signature) → Promise<valid>. */
const SIGNATURE_MEMO = new Map();
/** Imported keys: kty + key bytes → Promise<CryptoKey>. */
const KEY_MEMO = new Map();
const MEMO_LIMIT = 1024;
const DELEGATION_ROUNDS = 16;

function subtleCrypto() {
  try {
    const c = globalThis.crypto;
    return c && c.subtle && typeof c.subtle.verify === 'function' && typeof c.subtle.importKey === 'function' ? c.subtle : null;
  } catch (_) {
    return null;
  }
}

function binaryString(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function base64url(bytes) {
  return btoa(binaryString(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function memoSet(map, key, value) {
  if (map.size >= MEMO_LIMIT) map.clear();
  map.set(key, value);
}

function importVerifyKey(subtle, key) {
  const id = key.kty === 'EC' ? 'EC:' + binaryString(key.raw) : 'RSA:' + binaryString(key.n) + ':' + binaryString(key.e);
  let p = KEY_MEMO.get(id);
  if (!p) {
    p = key.kty === 'EC'
      ? subtle.importKey('raw', key.raw, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
      : subtle.importKey(
        'jwk',
        { kty: 'RSA', n: base64url(key.n), e: base64url(key.e), alg: 'RS256', ext: true },
        { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        false,
        ['verify'],
      );
    p.catch(() => KEY_MEMO.delete(id));
    memoSet(KEY_MEMO, id, p);
  }
  return p;
}

async function platformVerify(subtle, request) {
  const key = await importVerifyKey(subtle, request.key);
  const algorithm = request.alg === 'ES256' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
  const valid = await subtle.verify(algorithm, key, request.signature, request.signingInput);
  if (typeof valid !== 'boolean') throw new Error('WebCrypto verify did not answer a boolean');
  return valid;
}

/**
 * The strict local stage with the signature equations on WebCrypto when there is one.
 * `local(answers)` calls core.strictLocal with the given answer table (or none).
 */
async function strictLocalDelegated(local) {
  const subtle = subtleCrypto();
  if (!subtle) return local(undefined);
  const answers = [];
  try {
    for (let round = 0; round < DELEGATION_ROUNDS; round++) {
      const res = local(answers);
      const pending = res.pending;
      if (!Array.isArray(pending)) return local(undefined);
      if (pending.length === 0) {
        delete res.pending;
        return res;
      }
      const found = await Promise.all(
        pending.map((request) => {
          // The promise is remembered, so that concurrent runs share one platform call.
          let answer = SIGNATURE_MEMO.get(request.id);
          if (!answer) {
            answer = platformVerify(subtle, request);
            answer.catch(() => SIGNATURE_MEMO.delete(request.id));
            memoSet(SIGNATURE_MEMO, request.id, answer);
          }
          return answer;
        }),
      );
      pending.forEach((request, i) => answers.push([request.id, found[i]]));
    }
  } catch (_) {
    // An unsupported key or algorithm, a platform failure: the core decides alone.
  }
  return local(undefined);
}

/**
 * Builds the receipts API for one surface.
 *
 * @param {() => object | null} getCore the loaded core module (the wasm-bindgen exports), or
 *   null while it has not loaded yet.
 * @param {"esm" | "classic"} surface which surface this is (mode resolution, §2.1; readiness, §0.3).
 * @param {object} [extras]
 * @param {Promise<unknown>} [extras.loading] classic surface: settles when the core has loaded
 *   (rejects with the load error).
 * @param {() => Promise<object>} [extras.load] ES surfaces: starts loading the core on demand
 *   (idempotent) and resolves to it. Neither given: the core is already loaded.
 * @param {PromiseLike<void>} [extras.ready] the `ready` member to expose (the ES surfaces' lazy
 *   thenable); default: a Promise that settles with `loading`.
 * @param {string} [extras.notReady] the message thrown by synchronous calls made before the core
 *   has loaded (default: the classic surface's §0.3 text).
 * @param {Array} [extras.classTree] the core's `classTree()` rows, for a surface that has to build
 *   `Verifier.states`/`errors` before the core has loaded (a build-time snapshot of the same call).
 * @param {(internals: object) => object} [extras.extend] EXTENSION POINT for later members
 *   (the Prompter, §8): called once with `{Verifier, surface, getCore, whenCore}` and its
 *   returned object's members are added to the API.
 * @returns {{Verifier: Function, verify: Function, addReceipt: Function, listReceipts: Function,
 *   ready: Promise<void>}}
 */
export function createReceipts(getCore, surface, extras) {
  const ex = extras || {};
  const loading = ex.loading;
  const classic = surface === 'classic';
  const notReadyMessage = typeof ex.notReady === 'string' ? ex.notReady : NOT_READY;

  /**
   * Resolves to the core: at once when it has loaded, else waiting for the classic surface's
   * background load or starting the ES surface's on-demand one; rejects with the load error.
   */
  function whenCore() {
    const core = getCore();
    if (core) return Promise.resolve(core);
    if (typeof ex.load === 'function') return Promise.resolve().then(() => ex.load());
    if (!loading) return Promise.reject(new Error(notReadyMessage));
    return Promise.resolve(loading).then(() => {
      const c = getCore();
      if (!c) throw new Error(notReadyMessage);
      return c;
    });
  }

  // ---------------------------------------------------------------- §5.1 the class mechanism

  function State(name, parent) {
    const holder = {
      [name]: function (detail, attrs) {
        if (!new.target) throw new Error('You forgot new');
        this.detail = detail;
        if (attrs !== undefined && attrs !== null) {
          for (const k of Object.keys(attrs)) setOwn(this, k, attrs[k]);
        }
      },
    };
    const C = holder[name];
    C.prototype = Object.create(parent ? parent.prototype : State.prototype);
    Object.defineProperty(C.prototype, 'constructor', {
      value: C,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    C.prototype.name = name;
    C.className = name;
    return C;
  }

  Object.defineProperty(State.prototype, 'toString', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function () {
      let s = '[' + this.name;
      if (this.detail) s += ' ' + this.detail;
      for (const k of Object.keys(this)) {
        if (k === 'detail') continue;
        let repr;
        try {
          repr = String(JSON.stringify(this[k]));
        } catch (_) {
          repr = '[unserializable]';
        }
        s += ' ' + k + ': ' + repr;
      }
      return s + ']';
    },
  });

  function collectionToString() {
    return '{' + Object.keys(this).filter((k) => k !== 'toString').sort().join(', ') + '}';
  }

  function defineHidden(o, key, value) {
    Object.defineProperty(o, key, { value, writable: true, configurable: true, enumerable: false });
  }

  const states = {};
  const errors = {};
  const classes = Object.create(null);
  {
    const tree = ex.classTree || getCore().classTree();
    for (const row of tree) {
      const name = row[0];
      const parentName = row[1];
      const isError = row[2];
      const parent = parentName === null || parentName === undefined ? undefined : classes[parentName];
      const C = State(name, parent);
      classes[name] = C;
      (isError ? errors : states)[name] = C;
    }
  }
  defineHidden(states, 'toString', collectionToString);
  defineHidden(errors, 'toString', collectionToString);

  const levels = Object.assign({}, LEVELS);
  defineHidden(levels, 'toString', function () {
    return '{ERROR, WARN, NOTIFY, INFO, DEBUG}';
  });

  function consoleLogger(level, message) {
    if (typeof console === 'undefined' || !console) return;
    const method =
      level <= 10 ? 'debug' : level <= 20 ? 'info' : level <= 30 ? 'log' : level <= 40 ? 'warn' : 'error';
    let f = console[method];
    if (typeof f !== 'function') f = console.log;
    if (typeof f === 'function') f.call(console, message);
  }

  /** A state/error object from a core failure `{name, detail, attrs: [[key, value], …]}`. */
  function fromFailure(f) {
    const C = classes[f.name];
    if (!C) throw new Error('unknown state class ' + str(f.name));
    const e = new C(f.detail);
    for (const pair of f.attrs) setOwn(e, pair[0], pair[1]);
    return e;
  }

  function exceptionError(prefix, e) {
    const s = str(e);
    return new classes.VerifierError(prefix + s, { exception: s });
  }

  // ---------------------------------------------------------------- §4.1 options

  /** A validation failure: becomes the thrown message (constructor) or a VerifierError (run). */
  function OptionError(message) {
    const e = new Error(message);
    e.optionError = true;
    return e;
  }
  const illegal = (key) => OptionError(ILLEGAL_VALUE + key);

  function isWasmTrap(e) {
    return typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
  }

  function nonNegative(v, key, dflt) {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw illegal(key);
    return v;
  }

  function storageOption(v, key) {
    if (v === undefined) return defaultLocalStorage();
    if (v === null || v === false) return null;
    if (isStorageLike(v)) return v;
    throw illegal(key);
  }

  /**
   * Validates option values in table order (§4.1 step 4) and resolves the mode (step 5).
   * `get(key)` reads a raw value. `core` is null on the classic surface before it has loaded:
   * then `productURL` is checked only for its type (the run checks it again), and trust roots
   * cannot be given. With `wantKeys`, the validated trustedKeys KeySet is returned as `keySet`.
   */
  function readOptions(get, core, wantKeys) {
    const o = {};
    let v = get('installs_allowed_from');
    if (v === undefined) o.installs_allowed_from = undefined;
    else if (typeof v === 'string') o.installs_allowed_from = [v];
    else if (isStringArray(v)) o.installs_allowed_from = v.slice();
    else throw illegal('installs_allowed_from');

    o.requestTimeout = nonNegative(get('requestTimeout'), 'requestTimeout', DEFAULTS.requestTimeout);
    o.cacheTimeout = nonNegative(get('cacheTimeout'), 'cacheTimeout', DEFAULTS.cacheTimeout);
    o.cacheStorage = storageOption(get('cacheStorage'), 'cacheStorage');
    o.refundWindow = nonNegative(get('refundWindow'), 'refundWindow', DEFAULTS.refundWindow);

    v = get('onlog');
    if (v === undefined || v === null) o.onlog = null;
    else if (typeof v === 'function') o.onlog = v;
    else throw illegal('onlog');

    v = get('logLevel');
    if (v === undefined) o.logLevel = DEFAULTS.logLevel;
    else if (typeof v === 'number' && !Number.isNaN(v)) o.logLevel = v;
    else if (typeof v === 'string' && hasOwn(LEVELS, v)) o.logLevel = LEVELS[v];
    else throw illegal('logLevel');

    v = get('typsAllowed');
    if (v === undefined) o.typsAllowed = DEFAULT_TYPS.slice();
    else if (typeof v === 'string' && RECEIPT_TYPES.includes(v)) o.typsAllowed = [v];
    else if (isStringArray(v) && v.every((t) => RECEIPT_TYPES.includes(t))) o.typsAllowed = v.slice();
    else throw illegal('typsAllowed');

    v = get('productURL');
    if (v === undefined) o.productURL = undefined;
    else {
      const list = typeof v === 'string' ? [v] : isStringArray(v) ? v.slice() : undefined;
      if (list === undefined) throw illegal('productURL');
      if (core) {
        for (const u of list) if (core.normalizeProductUrl(u) === undefined) throw illegal('productURL');
      }
      o.productURL = list;
    }

    v = get('mode');
    if (v !== undefined && v !== 'strict' && v !== 'compat') throw illegal('mode');
    const mode = v;

    v = get('trustedKeys');
    o.trustedKeys = v;
    if (v !== undefined) {
      if (!core) throw new Error(notReadyMessage);
      let text;
      try {
        text = JSON.stringify(v);
      } catch (_) {
        text = undefined;
      }
      if (typeof text !== 'string') throw illegal('trustedKeys');
      let set;
      try {
        set = core.parseTrustedKeys(text);
      } catch (e) {
        if (!(e instanceof Error) || isWasmTrap(e)) throw e;
        throw OptionError(ILLEGAL_VALUE + e.message);
      }
      if (wantKeys) o.keySet = set;
      else set.free();
    }

    v = get('rootKeyOrigins');
    if (v === undefined) o.rootKeyOrigins = [];
    else {
      if (!isStringArray(v)) throw illegal('rootKeyOrigins');
      if (v.length > 0 && !core) throw new Error(notReadyMessage);
      o.rootKeyOrigins = v.map((s) => {
        const origin = core.httpsOrigin(s);
        if (origin === undefined) throw illegal('rootKeyOrigins');
        return origin;
      });
    }

    v = get('leeway');
    if (v === undefined) o.leeway = DEFAULTS.leeway;
    else if (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= DEFAULTS.maxLeeway) o.leeway = v;
    else throw illegal('leeway');

    v = get('now');
    if (v === undefined) o.now = Date.now;
    else if (typeof v === 'function') o.now = v;
    else throw illegal('now');

    v = get('receipts');
    if (v === undefined || Array.isArray(v) || typeof v === 'function') o.receipts = v;
    else throw illegal('receipts');

    o.receiptStorage = storageOption(get('receiptStorage'), 'receiptStorage');

    // Step 5: the mode (§2.1).
    const roots = o.trustedKeys !== undefined || o.rootKeyOrigins.length > 0;
    if (mode === 'compat' && roots) {
      throw OptionError('Verifier({}) in compat mode cannot use trustedKeys or rootKeyOrigins');
    }
    if (mode === 'strict' && !roots) {
      throw OptionError('Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins');
    }
    if (mode === undefined) {
      if (roots) o.mode = 'strict';
      else if (classic) o.mode = 'compat';
      else throw OptionError('Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins');
    } else {
      o.mode = mode;
    }
    return o;
  }

  // ---------------------------------------------------------------- the Verifier

  /** Per-instance data that is not part of the API. */
  const internal = new WeakMap();
  function priv(v) {
    let p = internal.get(v);
    if (!p) {
      p = { run: null, rootDocs: new Map(), rootInflight: new Map() };
      internal.set(v, p);
    }
    return p;
  }

  function Verifier(options) {
    if (!new.target) throw new Error('You forgot new');
    let opts = options;
    if (opts === undefined || opts === null) opts = {};
    else if (typeof opts !== 'object') throw new Error('Verifier({}) options must be an object');
    for (const key of Object.keys(opts)) {
      if (!OPTION_NAMES.includes(key)) throw new Error('Illegal option to Verifier({}): ' + key);
    }
    const o = readOptions((k) => (hasOwn(opts, k) ? opts[k] : undefined), getCore(), false);
    this.state = new classes.VerificationIncomplete('.verify() has not been called');
    this.app = undefined;
    this.products = [];
    this.receiptErrors = {};
    this.receiptVerifications = {};
    for (const k of OPTION_NAMES) this[k] = o[k];
    priv(this);
  }

  Verifier.State = State;
  Verifier.states = states;
  Verifier.errors = errors;
  Verifier.levels = levels;
  Verifier.consoleLogger = consoleLogger;

  const proto = Verifier.prototype;
  proto.states = states;
  proto.errors = errors;
  proto.levels = levels;
  proto.consoleLogger = consoleLogger;
  proto.logLevel = DEFAULTS.logLevel;

  proto.log = function (level, message) {
    const onlog = this.onlog;
    if (typeof onlog !== 'function') return;
    let threshold = this.logLevel;
    if (typeof threshold === 'string' && hasOwn(LEVELS, threshold)) threshold = LEVELS[threshold];
    if (typeof threshold !== 'number' || Number.isNaN(threshold)) threshold = DEFAULTS.logLevel;
    if (!(level >= threshold)) return;
    try {
      onlog.call(this, level, message);
    } catch (_) {
      // exceptions from onlog are swallowed (§4.2)
    }
  };

  proto.verify = function (onVerified) {
    return startRun(this, onVerified, false, undefined);
  };

  proto.verifyReceipts = function (app, onVerified) {
    return startRun(this, onVerified, true, app);
  };

  proto.clearCache = function () {
    let storage;
    try {
      const s = this.cacheStorage;
      storage = s === undefined ? defaultLocalStorage() : isStorageLike(s) ? s : null;
    } catch (_) {
      storage = null;
    }
    if (!storage) return undefined;
    const keys = [];
    try {
      const n = storage.length;
      for (let i = 0; i < n; i++) {
        const k = storage.key(i);
        if (typeof k === 'string' && k.startsWith(CACHE_PREFIX)) keys.push(k);
      }
    } catch (e) {
      this.log(LEVELS.WARN, 'Could not read the cache storage: ' + str(e));
    }
    for (const k of keys) {
      try {
        storage.removeItem(k);
      } catch (e) {
        this.log(LEVELS.WARN, 'Could not remove a cache entry: ' + str(e));
      }
    }
    return undefined;
  };

  proto.parseReceipt = function (receipt) {
    const core = getCore();
    if (!core) throw new Error(notReadyMessage);
    if (this.mode === 'compat') {
      if (typeof receipt !== 'string') throw new Error('receipt is not a string');
      return core.parseLenient(receipt);
    }
    if (typeof receipt !== 'string') throw new Error('Receipt is not a string');
    return core.parseStrict(receipt);
  };

  proto.iterReceiptErrors = function (cb) {
    const errs = this.receiptErrors;
    for (const key of Object.keys(errs)) {
      if (cb(key, errs[key]) === false) break;
    }
  };

  proto.toString = function () {
    let s = '[Verifier state: ' + String(this.state);
    const products = this.products || [];
    if (products.length > 0) s += ' products: ' + products.map((p) => p && p.url).join(', ');
    const errs = this.receiptErrors || {};
    for (const r of Object.keys(errs)) {
      const e = errs[r];
      s +=
        ' Error(' + r.substr(0, 4) + '...' + r.substr(r.length - 4) + '): ' +
        (e === this.state ? '[error is state]' : String(e));
    }
    if (this.app) s += ' installed app: ' + this.app.manifestURL;
    return s + ']';
  };

  proto.base64urlencode = function (s) {
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  proto.base64urldecode = function (s) {
    const bad = () => new Error('Illegal base64url string!');
    if (typeof s !== 'string') throw bad();
    const m = /^[A-Za-z0-9\-_+/]*(={0,2})$/.exec(s);
    if (!m) throw bad();
    let t = s.slice(0, s.length - m[1].length);
    if (t.length % 4 === 1) throw bad();
    t = t.replace(/-/g, '+').replace(/_/g, '/');
    while (t.length % 4 !== 0) t += '=';
    try {
      return atob(t);
    } catch (_) {
      throw bad();
    }
  };

  // ---------------------------------------------------------------- §2.2 the run

  function startRun(v, onVerified, fromApp, appArg) {
    const p = priv(v);
    if (p.run) {
      p.run.callbacks.push(onVerified);
      return p.run.promise;
    }
    const run = { callbacks: [onVerified], promise: undefined };
    p.run = run;
    // Step 2: reset the run data.
    v.state = new classes.VerificationIncomplete('.verify() has not completed');
    v.products = [];
    v.receiptErrors = {};
    v.receiptVerifications = {};
    v.app = undefined;
    run.promise = runSteps(v, fromApp, appArg).then(() => finishRun(v, p, run));
    return run.promise;
  }

  /** Step 9: every callback once, asynchronously (this runs in a later microtask). */
  function finishRun(v, p, run) {
    if (p.run === run) p.run = null;
    for (const cb of run.callbacks) {
      if (typeof cb !== 'function') continue;
      try {
        cb(v);
      } catch (e) {
        v.log(LEVELS.ERROR, 'Exception in onVerified callback: ' + str(e));
        setTimeout(() => {
          throw e;
        }, 0);
      }
    }
    return v;
  }

  /** Steps 3–8. Never rejects: every failure ends in a state. */
  async function runSteps(v, fromApp, appArg) {
    let core;
    try {
      core = await whenCore();
    } catch (e) {
      v.state = exceptionError('Exception: ', e);
      return;
    }
    let policy;
    try {
      // Step 3: options from the instance properties, validated again; then now().
      let o;
      try {
        o = readOptions((k) => v[k], core, true);
      } catch (e) {
        if (e && e.optionError) {
          v.state = new classes.VerifierError(e.message);
          return;
        }
        throw e;
      }
      const T = o.now.call(v);
      if (typeof T !== 'number' || !Number.isFinite(T)) {
        if (o.keySet) o.keySet.free();
        v.state = new classes.VerifierError('now() did not return a finite number');
        return;
      }

      // Step 4: collect the receipts (§7.1).
      const collected = await collectReceipts(v, o, fromApp, appArg);
      if (collected.state) {
        if (o.keySet) o.keySet.free();
        v.state = collected.state;
        return;
      }
      const app = collected.app;

      // Step 5: the effective issuer allowlist.
      let allow = o.installs_allowed_from;
      if (allow === undefined && app !== null && app !== undefined) {
        const manifest = app.manifest;
        const fromManifest =
          manifest !== null && (typeof manifest === 'object' || typeof manifest === 'function')
            ? manifest.installs_allowed_from
            : undefined;
        if (typeof fromManifest === 'string' || isStringArray(fromManifest)) {
          allow = typeof fromManifest === 'string' ? [fromManifest] : fromManifest.slice();
          v.log(LEVELS.INFO, 'Using installs_allowed_from value from manifest: ' + jsonText(fromManifest));
        }
      }
      const strict = o.mode === 'strict';
      if (allow === undefined) {
        if (strict) {
          if (o.keySet) o.keySet.free();
          v.state = new classes.VerifierError('installs_allowed_from is required in strict mode');
          return;
        }
        if (collected.entries.some((e) => e.local)) {
          v.state = new classes.VerifierError(
            'installs_allowed_from is required when receipts do not come from navigator.mozApps',
          );
          return;
        }
      }

      // Step 6: the effective product URLs.
      let productUrls = o.productURL;
      if (productUrls === undefined && strict) {
        const own = ownOrigin(core, app);
        if (own === undefined) {
          if (o.keySet) o.keySet.free();
          v.state = new classes.VerifierError('productURL is required in strict mode');
          return;
        }
        productUrls = [own];
      }

      if (allow !== undefined && allow.includes('*')) {
        v.log(
          LEVELS.WARN,
          strict
            ? 'installs_allowed_from contains "*": any issuer that chains to a trusted key is accepted'
            : 'installs_allowed_from contains "*": any store can vouch for a receipt',
        );
      }

      // Step 7: every receipt through its pipeline. The local stages run now, in list order.
      policy = new core.RunPolicy(
        o.mode,
        o.keySet,
        o.rootKeyOrigins,
        o.leeway,
        o.typsAllowed,
        productUrls || [],
        allow,
      );
      const ctx = { v, o, T, core, policy, strict, storage: o.cacheStorage };
      const outcomes = collected.entries.map((entry) => processReceipt(ctx, entry));
      await Promise.all(outcomes);

      // Step 8.
      if (v.state instanceof classes.VerificationIncomplete) {
        v.state =
          v.products.length > 0
            ? new classes.OK()
            : new classes.NoValidReceipts('No receipts passed verification');
      }
      v.log(LEVELS.DEBUG, 'Finished all receipt verification');
    } catch (e) {
      v.state = exceptionError('Exception: ', e);
    } finally {
      if (policy) {
        try {
          policy.free();
        } catch (_) {
          // already gone
        }
      }
    }
  }

  /** §2.5.2: the app's own origin, the strict default product URL. */
  function ownOrigin(core, app) {
    if (app !== null && app !== undefined) {
      if (typeof app.origin === 'string') return app.origin;
      if (typeof app.manifestURL === 'string') {
        const o = core.urlOrigin(app.manifestURL);
        if (o !== undefined) return o;
      }
    }
    try {
      if (typeof location !== 'undefined' && location && typeof location.origin === 'string') {
        if (location.origin !== 'null') return location.origin;
      }
    } catch (_) {
      // no location
    }
    return undefined;
  }

  /** The receipts of an App object, logging the §4.4 ERROR line for `undefined`. */
  function receiptsOfApp(v, app) {
    const receipts = app.receipts;
    if (receipts === undefined) {
      v.log(LEVELS.ERROR, 'The .receipts property of the app object is undefined (app: ' + jsonText(app) + ')');
    }
    return appReceiptValues(receipts);
  }

  /**
   * §7.1. Resolves `{entries: [{receipt, key, local}], app}` or `{state}` when the run ends here.
   */
  async function collectReceipts(v, o, fromApp, appArg) {
    const entries = [];
    const seen = new Set();
    const add = (list, local) => {
      for (const receipt of list) {
        const key = str(receipt);
        if (seen.has(key)) continue;
        seen.add(key);
        entries.push({ receipt, key, local });
      }
    };
    const capped = (app) => {
      if (entries.length > MAX_RECEIPTS) {
        v.log(LEVELS.WARN, 'Only the first 500 receipts are verified');
        entries.length = MAX_RECEIPTS;
      }
      return { entries, app };
    };

    if (fromApp) {
      if (appArg === null || (typeof appArg !== 'object' && typeof appArg !== 'function')) {
        return {
          state: new classes.VerifierError('Exception: verifyReceipts needs an app object', {
            exception: 'verifyReceipts needs an app object',
          }),
        };
      }
      add(receiptsOfApp(v, appArg), false);
      if (entries.length === 0) return { state: new classes.NoReceipts('No receipts were found or installed') };
      return capped(appArg);
    }

    const mozApps = getMozApps();
    let app;
    if (mozApps) {
      const answer = await domRequest(() => mozApps.getSelf(), o.requestTimeout);
      if (!answer.ok) {
        v.log(LEVELS.ERROR, 'Got mozApps Error: ' + answer.name);
        return {
          state: new classes.MozAppsError('Error calling mozApps.getSelf: ' + answer.name, {
            mozAppsError: answer.name,
          }),
        };
      }
      app = answer.result === undefined ? null : answer.result;
      v.app = app;
      if (app !== null) {
        v.log(LEVELS.INFO, 'Got application: ' + str(app.manifestURL));
        add(receiptsOfApp(v, app), false);
      }
    }

    if (o.receipts !== undefined) {
      let list = o.receipts;
      if (typeof list === 'function') {
        try {
          list = await list.call(v);
        } catch (e) {
          return { state: exceptionError('Exception: ', e) };
        }
      }
      if (!Array.isArray(list)) {
        return { state: new classes.VerifierError('The receipts option did not provide an array') };
      }
      const copy = [];
      for (let i = 0; i < list.length; i++) copy.push(list[i]);
      add(copy, true);
    }

    add(
      readLocalStore(o.receiptStorage, (m) => v.log(LEVELS.WARN, m)),
      true,
    );

    if (entries.length === 0) {
      if (mozApps) {
        return {
          state:
            app !== null
              ? new classes.NoReceipts('No receipts were found or installed')
              : new classes.NotInstalled('The app is not installed'),
        };
      }
      return {
        state:
          o.receipts !== undefined
            ? new classes.NoReceipts('No receipts were found or installed')
            : new classes.MozAppsNotSupported('navigator.mozApps does not exist'),
      };
    }
    return capped(app);
  }

  // ---------------------------------------------------------------- per-receipt pipelines

  /** One receipt, start to outcome. The local stage runs synchronously in this call. */
  async function processReceipt(ctx, entry) {
    const { v } = ctx;
    try {
      v.log(LEVELS.DEBUG, 'Checking receipt ' + first4(entry.key));
      if (ctx.strict) await strictPipeline(ctx, entry);
      else await compatPipeline(ctx, entry);
    } catch (e) {
      // §2.2: the receipt's error; not promoted.
      setOwn(v.receiptErrors, entry.key, exceptionError('Exception in _verifyOneReceipt: ', e));
    }
  }

  /** §2.3. */
  async function strictPipeline(ctx, entry) {
    const { core, policy, T } = ctx;
    const { receipt } = entry;
    if (typeof receipt !== 'string') {
      record(ctx, entry, new classes.ReceiptParseError('Receipt is not a string'), false, undefined);
      return;
    }
    let res = await strictLocalDelegated((answers) => core.strictLocal(receipt, policy, undefined, T, answers));
    if (res.kind === 'needsRootDocument') {
      const p = priv(ctx.v);
      let keys = p.rootDocs.get(res.url);
      if (!keys) {
        const doc = await rootDocument(ctx, res.url);
        if (doc.failure) {
          // §2.3.3: a fetch failure is the receipt's error; no stale-cache fallback.
          record(ctx, entry, fromFailure(doc.failure), false, undefined);
          return;
        }
        keys = doc.keys;
      }
      const docKeys = keys;
      res = await strictLocalDelegated((answers) => core.strictLocal(receipt, policy, docKeys.copy(), T, answers));
      if (res.kind === 'needsRootDocument') throw new Error('root key document requested twice');
    }
    if (res.kind === 'failed') {
      record(ctx, entry, fromFailure(res.error), false, undefined);
      return;
    }
    // S14: the cache, only now that every local check has passed.
    if (freshCacheHit(ctx, entry, res.iat, res.product)) return;
    // S15.
    await storeCheck(ctx, entry, res);
  }

  /** §2.4. */
  async function compatPipeline(ctx, entry) {
    const { core, policy } = ctx;
    const { receipt } = entry;
    if (typeof receipt !== 'string') {
      record(ctx, entry, new classes.ReceiptParseError('Error decoding JSON: receipt is not a string'), false, undefined);
      return;
    }
    // C0: the cache before parsing; a hit counts only if the receipt parses leniently.
    if (ctx.storage) {
      const text = readCache(ctx, receipt);
      if (text !== undefined) {
        let payload;
        try {
          payload = core.parseLenient(receipt);
        } catch (e) {
          if (isWasmTrap(e)) throw e;
          payload = undefined;
        }
        const iat =
          payload !== undefined && typeof payload.iat === 'number' && Number.isFinite(payload.iat)
            ? payload.iat
            : undefined;
        const hit = freshLookup(ctx, receipt, text, iat);
        if (hit !== undefined && payload !== undefined) {
          useCacheHit(ctx, entry, hit, payload.product);
          return;
        }
      }
    }
    const res = core.compatLocal(receipt, policy);
    if (res.kind === 'failed') {
      record(ctx, entry, fromFailure(res.error), false, undefined);
      return;
    }
    await storeCheck(ctx, entry, res);
  }

  // ---------------------------------------------------------------- root documents (§2.3.3)

  /** The keys of a root document: shared in-flight request, cached per instance on success. */
  function rootDocument(ctx, url) {
    const { v, o, core } = ctx;
    const p = priv(v);
    const cached = p.rootDocs.get(url);
    if (cached) return Promise.resolve({ keys: cached });
    let inflight = p.rootInflight.get(url);
    if (!inflight) {
      inflight = httpRequest('GET', url, undefined, o.requestTimeout, true).then((answer) => {
        p.rootInflight.delete(url);
        logAnswer(v, url, answer);
        const m = core.mapRootDocumentAnswer(
          answer.timedOut,
          answer.status,
          answer.finalUrl,
          answer.body,
          url,
          o.requestTimeout,
        );
        if (m.kind === 'keys') {
          p.rootDocs.set(url, m.keys);
          return { keys: m.keys };
        }
        return { failure: m.error };
      });
      inflight.catch(() => p.rootInflight.delete(url));
      p.rootInflight.set(url, inflight);
    }
    return inflight;
  }

  function logAnswer(v, url, answer) {
    if (answer.timedOut) v.log(LEVELS.ERROR, 'Request to ' + clip(url) + ' timed out');
    else v.log(LEVELS.INFO, 'Request to ' + clip(url) + ' completed with status: ' + answer.status);
  }

  // ---------------------------------------------------------------- store check (§3)

  async function storeCheck(ctx, entry, passed) {
    const { v, o, core, strict } = ctx;
    const verifyUrl = passed.verify;
    v.log(LEVELS.INFO, 'POSTing to ' + clip(verifyUrl));
    const answer = await httpRequest('POST', verifyUrl, entry.receipt, o.requestTimeout, false);
    logAnswer(v, verifyUrl, answer);
    const m = core.mapStoreAnswer(
      answer.timedOut,
      answer.status,
      answer.finalUrl,
      answer.body,
      verifyUrl,
      passed.iss,
      strict,
      o.requestTimeout,
    );
    if (m.kind === 'verified') {
      logResult(v, entry, m.result);
      setOwn(v.receiptVerifications, entry.key, m.result);
      v.products.push(passed.product);
      if (m.cache) writeCache(ctx, entry.receipt, m.result);
      return;
    }
    const error = fromFailure(m.error);
    if (hasOwn(error, 'result')) logResult(v, entry, error.result);
    if (m.deleteCache) deleteCache(ctx, entry.receipt);
    record(ctx, entry, error, true, passed.product);
    if (m.alsoVerified) {
      // Compat `expired`: the error is recorded and the receipt also counts as verified.
      setOwn(v.receiptVerifications, entry.key, error.result);
      v.products.push(passed.product);
    }
  }

  function logResult(v, entry, result) {
    v.log(LEVELS.INFO, 'Receipt (' + first4(entry.key) + '...) completed with result: ' + clip(jsonText(result)));
  }

  // ---------------------------------------------------------------- §5.4 promotion

  /**
   * record(r, e): the receipt's error, the stale-cache fallback for network errors when allowed,
   * and the promotion decision (core's `promotes`).
   */
  function record(ctx, entry, e, staleAllowed, product) {
    const { v, core } = ctx;
    setOwn(v.receiptErrors, entry.key, e);
    if (staleAllowed && e instanceof classes.NetworkError && ctx.storage) {
      const text = readCache(ctx, entry.receipt);
      const cached = text === undefined ? undefined : core.cacheStale(text);
      if (cached !== undefined) {
        setOwn(v.receiptVerifications, entry.key, cached);
        v.products.push(product);
        v.log(
          LEVELS.INFO,
          'Got stale receipt (' + first4(entry.key) + ') status from cache: ' + clip(jsonText(cached)),
        );
        record(
          ctx,
          entry,
          new classes.OKStaleCache('Used a stale cache because of network error: ' + String(e)),
          false,
          product,
        );
        return;
      }
    }
    const current = v.state;
    const currentName = current !== null && current !== undefined ? current.name : undefined;
    if (typeof currentName === 'string' && core.promotes(currentName, e.name)) v.state = e;
  }

  // ---------------------------------------------------------------- §5.5 cache I/O

  function cacheWarn(v, what, e) {
    v.log(LEVELS.WARN, 'Cache storage ' + what + ' failed: ' + str(e));
  }

  /** The stored entry text, or undefined when absent or unreadable (a miss). */
  function readCache(ctx, receipt) {
    if (!ctx.storage) return undefined;
    let text;
    try {
      text = ctx.storage.getItem(CACHE_PREFIX + receipt);
    } catch (e) {
      cacheWarn(ctx.v, 'read', e);
      return undefined;
    }
    if (text === null || text === undefined) return undefined;
    return str(text);
  }

  function deleteCache(ctx, receipt) {
    if (!ctx.storage) return;
    try {
      ctx.storage.removeItem(CACHE_PREFIX + receipt);
    } catch (e) {
      cacheWarn(ctx.v, 'delete', e);
    }
  }

  function writeCache(ctx, receipt, result) {
    if (!ctx.storage) return;
    const text = ctx.core.cacheEntryText(ctx.T, jsonText(result));
    if (text === undefined) return;
    try {
      ctx.storage.setItem(CACHE_PREFIX + receipt, text);
    } catch (e) {
      cacheWarn(ctx.v, 'write', e);
    }
  }

  /** The core's fresh lookup on an entry text: the cached result on a hit, else undefined. */
  function freshLookup(ctx, receipt, text, iat) {
    const { v, o, core, T } = ctx;
    const f = core.cacheFresh(text, T, o.cacheTimeout, o.refundWindow, iat);
    switch (f.kind) {
      case 'hit':
        return f.result;
      case 'expired':
        v.log(LEVELS.INFO, 'Not using cache value because it is expired');
        return undefined;
      case 'corrupt':
        deleteCache(ctx, receipt);
        return undefined;
      default:
        return undefined;
    }
  }

  /** S14: a fresh hit gives OKCache; returns whether it did. */
  function freshCacheHit(ctx, entry, iat, product) {
    if (!ctx.storage) return false;
    const text = readCache(ctx, entry.receipt);
    if (text === undefined) return false;
    const hit = freshLookup(ctx, entry.receipt, text, typeof iat === 'number' ? iat : undefined);
    if (hit === undefined) return false;
    useCacheHit(ctx, entry, hit, product);
    return true;
  }

  /** The OKCache outcome (§5.4). */
  function useCacheHit(ctx, entry, result, product) {
    const { v } = ctx;
    v.log(LEVELS.INFO, 'Got receipt (' + first4(entry.key) + ') status from cache: ' + clip(jsonText(result)));
    record(ctx, entry, new classes.OKCache(), false, product);
    setOwn(v.receiptVerifications, entry.key, result);
    v.products.push(product);
  }

  // ---------------------------------------------------------------- module-level functions

  function verify(callback, options) {
    return new Verifier(options).verify(callback);
  }

  function coded(message, code) {
    const e = new Error(message);
    e.code = code;
    return e;
  }

  /** The storage named by `options.receiptStorage`, or localStorage; null when none. */
  function receiptStorageOf(options) {
    if (options !== null && typeof options === 'object' && hasOwn(options, 'receiptStorage')) {
      const s = options.receiptStorage;
      if (s !== undefined) return isStorageLike(s) ? s : null;
    }
    return defaultLocalStorage();
  }

  /** §7.3. */
  async function addReceipt(receipt, options) {
    let core;
    try {
      core = await whenCore();
    } catch (e) {
      throw coded('Exception: ' + str(e), 'RECEIPT_ERROR');
    }
    // 1. The add-receipt check (§1.8).
    const code = typeof receipt !== 'string' ? 'INVALID_PARAMETERS' : core.addReceiptCheck(receipt);
    if (code !== undefined) throw coded('Invalid receipt: ' + code, code);

    // 2. The platform first.
    const mozApps = getMozApps();
    if (mozApps) {
      const self = await domRequest(() => mozApps.getSelf(), PLATFORM_TIMEOUT);
      const app = self.ok ? self.result : null;
      let hasAdd = false;
      try {
        hasAdd = app !== null && app !== undefined && typeof app.addReceipt === 'function';
      } catch (_) {
        hasAdd = false;
      }
      if (hasAdd) {
        const added = await domRequest(() => app.addReceipt(receipt), PLATFORM_TIMEOUT);
        if (added.ok) return { storage: 'mozApps', added: true };
        if (added.name === 'RECEIPT_ALREADY_EXISTS') return { storage: 'mozApps', added: false };
        throw coded('error calling app.addReceipt: ' + added.name, added.name);
      }
    }

    // 3. The local receipt store.
    const storage = receiptStorageOf(options);
    if (storage) {
      let list;
      try {
        const text = storage.getItem(RECEIPT_STORE_KEY);
        list = text === null || text === undefined ? [] : JSON.parse(str(text));
      } catch (_) {
        list = [];
      }
      if (!Array.isArray(list)) list = [];
      if (list.includes(receipt)) return { storage: 'local', added: false };
      if (list.length >= MAX_RECEIPTS) throw coded('Invalid receipt: TOO_MANY_RECEIPTS', 'TOO_MANY_RECEIPTS');
      list.push(receipt);
      try {
        storage.setItem(RECEIPT_STORE_KEY, JSON.stringify(list));
      } catch (e) {
        throw coded('could not write the local receipt store: ' + str(e), 'STORAGE_ERROR');
      }
      return { storage: 'local', added: true };
    }

    // 4.
    throw coded('no storage mechanism for adding receipts', 'NO_RECEIPT_STORAGE');
  }

  /** §7.2. */
  async function listReceipts(options) {
    const out = [];
    const seen = new Set();
    const add = (list) => {
      for (const r of list) {
        const key = str(r);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(r);
      }
    };
    const mozApps = getMozApps();
    if (mozApps) {
      const self = await domRequest(() => mozApps.getSelf(), PLATFORM_TIMEOUT);
      if (self.ok && self.result !== null && self.result !== undefined) {
        try {
          add(appReceiptValues(self.result.receipts));
        } catch (_) {
          // an unreadable app object contributes nothing
        }
      }
    }
    add(readLocalStore(receiptStorageOf(options), undefined));
    return out;
  }

  const ready = ex.ready || (loading ? Promise.resolve(loading).then(() => undefined) : Promise.resolve());

  const api = { Verifier, verify, addReceipt, listReceipts, ready };
  if (typeof ex.extend === 'function') {
    const more = ex.extend({ Verifier, surface, getCore, whenCore, notReady: notReadyMessage });
    if (more) for (const k of Object.keys(more)) api[k] = more[k];
  }
  return api;
}
