/**
 * `mozmarket`: client-side verification of Web Application Receipts (the Firefox Marketplace
 * format) in browsers and in Node 18+, with the `Verifier` API of Mozilla's receiptverifier.js.
 *
 * The ES entry is **side-effect free**: importing it fetches nothing and reads no browser global,
 * so it is safe to import during server-side rendering. The WebAssembly core loads on
 * {@link init} (or on `await` {@link ready}, or when a run starts). The ES `Verifier` is
 * **strict**: it checks signatures and the certificate chain against configured trust roots.
 *
 * Client-side verification is advisory: the device owner controls the browser and can get past
 * any check made there. Anything of value must be checked again on a server (the same package
 * runs in Node for that: {@link Verifier.verifyReceipts}). See SECURITY.md.
 *
 * Units: every option and `now()` are in **milliseconds**; receipt claims (`exp`, `nbf`, `iat`)
 * are NumericDate **seconds** (receipts §0.4).
 *
 * Contract: spec/receipts.md (section numbers below refer to it).
 *
 * @example Launch-time verification
 * ```ts
 * import { init, Verifier } from "mozmarket";
 *
 * await init();                       // loads the wasm next to this module
 * const verifier = new Verifier({
 *   trustedKeys: { keys: [storeRootJwk] },
 *   installs_allowed_from: ["https://store.example"],
 *   productURL: "https://app.example",
 * });
 * await verifier.verify();
 * if (verifier.state instanceof Verifier.states.OK) startApp(verifier.products);
 * ```
 *
 * @packageDocumentation
 */

/**
 * Where {@link init} loads the WebAssembly core from, for apps whose bundler or CDN serves the
 * `.wasm` somewhere other than next to the module.
 *
 * `module_or_path` is what wasm-bindgen's loader accepts: a `URL` or URL string (fetched; serve it
 * as `application/wasm` so that streaming compilation works), a `Response` (for example from your
 * own `fetch`), the bytes (`ArrayBuffer` or a typed array), or an already compiled
 * `WebAssembly.Module`. The raw files are exported by the package as `mozmarket/wasm` (the
 * verifier core, for `mozmarket`) and `mozmarket/wasm-full` (the full core, for
 * `mozmarket/full`, `mozmarket/element`).
 *
 * @example Vite: let the bundler emit the file and hand its URL over
 * ```ts
 * import { init } from "mozmarket";
 * import wasmUrl from "mozmarket/wasm?url";
 * await init({ module_or_path: wasmUrl });
 * ```
 */
export interface InitInput {
  /** The core's `.wasm`: its URL, a `Response`, its bytes, or a compiled module. */
  module_or_path: URL | string | Response | BufferSource | WebAssembly.Module;
}

/**
 * Loads the WebAssembly core of this entry (the verifier core for `mozmarket`). Resolves to
 * `undefined` once every export can be used.
 *
 * - Idempotent: concurrent and later calls share one load and resolve once it is done; after a
 *   successful load they resolve at once. The first call decides where the core comes from; a
 *   later `input` is ignored while a load is pending or done.
 * - Without `input` the core is loaded from next to the module
 *   (`new URL("./core/mozmarket_core_bg.wasm", import.meta.url)`): fetched in browsers and by
 *   bundlers that understand `new URL(…, import.meta.url)`, read from disk in Node (where
 *   `fetch()` cannot read `file:` URLs).
 * - On failure the Promise rejects with the load error, and nothing is cached: the next `init()`
 *   (or run) tries again, with its own `input`.
 *
 * Under CSP the page needs `script-src 'wasm-unsafe-eval'` (and `connect-src` for the `.wasm` if
 * it is not same-origin).
 *
 * @param input - Where to load the core from; omit it to use the file next to the module.
 * @returns A Promise that resolves (to `undefined`) when the core has loaded.
 * @throws (as a rejection) `TypeError` when `input` is given but is not an object with a
 *   `module_or_path` member; the loader's error (network, HTTP status, compile error) otherwise.
 *
 * @example
 * ```ts
 * import { init, Verifier } from "mozmarket";
 * await init();
 * const v = new Verifier({ trustedKeys, installs_allowed_from: [store], productURL: location.origin });
 * ```
 */
export declare function init(input?: InitInput): Promise<void>;

/**
 * The type of {@link ready}: a lazy thenable with the `then`, `catch` and `finally` of a
 * `Promise<void>`. It is not a Promise itself (`ready instanceof Promise` is false), but `await`,
 * `Promise.resolve(ready)` and the three methods work as on one; each method returns a real
 * Promise.
 */
export interface Ready extends Pick<Promise<void>, 'then' | 'catch' | 'finally'> {}

/**
 * Settles when the core of this entry has loaded (fulfils with `undefined`, or rejects with the
 * load error). **Lazy**: awaiting it (or calling `then`, `catch` or `finally`) starts the load, as
 * `init()` without arguments would; merely importing it does nothing. After a failed load, the
 * next `await ready` tries again.
 *
 * `await ready` is the receipts spec §0.3 one-liner and is the same as `await init()`. Use
 * {@link init} when the `.wasm` is not next to the module.
 *
 * @example
 * ```ts
 * import { ready, Verifier } from "mozmarket";
 * await ready;
 * ```
 */
export declare const ready: Ready;

/** Names of the log levels (receipts §4.4), accepted by the `logLevel` option. */
export type LevelName = 'DEBUG' | 'INFO' | 'NOTIFY' | 'WARN' | 'ERROR';

/** `Verifier.levels`: `{DEBUG: 10, INFO: 20, NOTIFY: 30, WARN: 40, ERROR: 50}` (receipts §4.4). */
export interface Levels {
  /** 10: per-receipt progress (`Checking receipt ‹first 4›`, `Finished all receipt verification`). */
  readonly DEBUG: 10;
  /** 20: what the run did (application found, cache hits, requests and their status). */
  readonly INFO: 20;
  /** 30: notable events (delivered with `console.log` by {@link VerifierStatic.consoleLogger}). */
  readonly NOTIFY: 30;
  /** 40: configuration problems (a wildcard allowlist, more than 500 receipts, an unreadable store). */
  readonly WARN: 40;
  /** 50: failures (`Got mozApps Error`, timeouts, an exception in the `onVerified` callback). */
  readonly ERROR: 50;
  /** `{ERROR, WARN, NOTIFY, INFO, DEBUG}` */
  toString(): string;
}

/**
 * A storage-like object: `localStorage`, or anything with the same five members (receipts §4.1).
 * Used for the result cache (`cacheStorage`) and the local receipt store (`receiptStorage`).
 */
export interface StorageLike {
  /** The value stored under `key`, or `null`. */
  getItem(key: string): string | null;
  /** Stores `value` under `key`; may throw (quota, storage disabled). */
  setItem(key: string, value: string): void;
  /** Removes `key`. */
  removeItem(key: string): void;
  /** The name of the `index`-th key, or `null`. */
  key(index: number): string | null;
  /** The number of keys. */
  readonly length: number;
}

/**
 * The four receipt types of receipts §1.3 (the payload's `typ`). `test-receipt` is accepted only
 * when listed in {@link VerifierOptions.typsAllowed}.
 */
export type ReceiptType = 'purchase-receipt' | 'developer-receipt' | 'reviewer-receipt' | 'test-receipt';

/**
 * A public JWK in one of the receipts §1.5 forms: RSA (`kty: "RSA"`, `n`, `e`; 2048–4096-bit
 * modulus), the old draft RSA form (`alg: "RSA"`, `mod`, `exp`) or EC P-256 (`kty: "EC"`,
 * `crv: "P-256"`, `x`, `y`). Private members (`d`, `p`, …) make a key invalid. A configured key
 * may carry `iss` (an origin) to bind it to receipts from that issuer; `kid` only filters among
 * trusted keys.
 */
export interface JWK {
  /** `"RSA"` or `"EC"` (other types are refused). */
  kty?: 'RSA' | 'EC' | string;
  /** EC curve: must be `"P-256"`. */
  crv?: string;
  /** RSA modulus, base64url. */
  n?: string;
  /** RSA public exponent, base64url (odd, ≥ 3, below 2^33). */
  e?: string;
  /** Draft RSA form: modulus, base64url. */
  mod?: string;
  /** Draft RSA form: public exponent, base64url. */
  exp?: string;
  /** EC x coordinate, base64url (32 bytes). */
  x?: string;
  /** EC y coordinate, base64url (32 bytes). */
  y?: string;
  /** Key id: when a token header names a `kid`, only keys with that `kid` are tried. */
  kid?: string;
  /** When present: `RS256` for RSA keys, `ES256` for P-256 keys (or `"RSA"` in the draft form). */
  alg?: string;
  /** When present: `"sig"`. */
  use?: string;
  /** When present: must include `"verify"`. */
  key_ops?: string[];
  /** Binds the key to receipts whose `iss` has this origin. */
  iss?: string;
  /** Other members are ignored (private-key members are refused). */
  [member: string]: unknown;
}

/** A JWK Set: `{keys: [...]}`, for example a store's `/.well-known/jwks.json`. */
export interface JWKS {
  /** The keys (1–32 for `trustedKeys`). */
  keys: JWK[];
}

/**
 * Options of `new Verifier(options)` (receipts §4.1). Every option is also an instance property of
 * the same name, read again at the start of each run. An unknown option name throws
 * `Illegal option to Verifier({}): ‹key›`; an invalid value throws
 * `Illegal value for option to Verifier({}): ‹key›`. `undefined` always means "the default".
 */
export interface VerifierOptions {
  /**
   * Issuer allowlist (receipts §2.5.1): the origins allowed to issue receipts (the receipt's
   * `iss`), as one string or an array; `"*"` allows any issuer, `[]` none. Required in strict
   * mode (the option, or the app manifest's value).
   * @defaultValue the installed app manifest's `installs_allowed_from`, read at run time
   */
  installs_allowed_from?: string | string[];
  /**
   * Timeout of each store and root-document request, in **milliseconds**; `0` means none. A
   * timeout gives the receipt a `RequestTimeout` error.
   * @defaultValue `30000` (30 s)
   */
  requestTimeout?: number;
  /**
   * How long a cached store `ok` counts as fresh, in **milliseconds** (receipts §5.5).
   * @defaultValue `86400000` (1 day)
   */
  cacheTimeout?: number;
  /**
   * The result cache (keys starting with `receiptverifier.`); `null` or `false` disables it. In
   * Node there is no `localStorage`, so caching is off unless this is given.
   * @defaultValue `localStorage` when it can be accessed
   */
  cacheStorage?: StorageLike | null | false;
  /**
   * Refund window in **milliseconds** (receipts §5.5): a cached `ok` that was stored less than
   * this long after the receipt's `iat` is not used once that window has closed, so a refund made
   * during the window is noticed. `0` disables it.
   * @defaultValue `2400000` (40 minutes)
   */
  refundWindow?: number;
  /**
   * Log sink, called as `onlog(level, message)` with the verifier as `this`, for levels at or
   * above `logLevel`. Exceptions it throws are swallowed. {@link VerifierStatic.consoleLogger}
   * is a ready-made one.
   * @defaultValue none
   */
  onlog?: ((this: Verifier, level: number, message: string) => void) | null;
  /**
   * Minimum level delivered to `onlog`: a number, or a level name (case-sensitive; an unknown
   * name throws).
   * @defaultValue `2` (everything)
   */
  logLevel?: number | LevelName;
  /**
   * Accepted receipt types (the payload's `typ`), one or an array.
   * @defaultValue `["purchase-receipt", "developer-receipt", "reviewer-receipt"]`
   */
  typsAllowed?: ReceiptType | ReceiptType[];
  /**
   * The product URL(s) a receipt must be for (its `product.url`, receipts §2.5.2), one or an
   * array. Strict mode always checks it; compat mode only when it is set.
   * @defaultValue strict: the app's own origin (`app.origin`, else the origin of
   *   `app.manifestURL`, else `location.origin`); compat: no check
   */
  productURL?: string | string[];
  /**
   * `"strict"`: signatures and the certificate chain are verified against `trustedKeys` /
   * `rootKeyOrigins` before anything else (receipts §2.3). `"compat"`: the original library's
   * behaviour, where no signature is read and the store's verify URL vouches for the receipt
   * (§2.4). Strict without trust roots, or compat with them, throws.
   * @defaultValue ES entries: `"strict"` (the constructor throws
   *   `Verifier({}) in strict mode needs trustedKeys or rootKeyOrigins` without trust roots);
   *   classic script: `"strict"` with trust roots, else `"compat"` (receipts §2.1)
   */
  mode?: 'strict' | 'compat';
  /**
   * The root keys that certificate chains must anchor in: a JWKS or an array of 1–32 JWKs
   * (receipts §1.5, §2.3.3). Validated at construction, which therefore needs the core: before it
   * has loaded this throws `mozmarket is not ready: await init() first` (classic script:
   * `mozmarket.receipts is not ready`). A bad key throws
   * `Illegal value for option to Verifier({}): trustedKeys[‹i›]: ‹reason›`.
   */
  trustedKeys?: JWKS | JWK[];
  /**
   * Exact `https:` origins (no path, query or fragment) from which the root document named by a
   * certificate's `iss` may be fetched (receipts §2.3.3). Fetched without credentials, at most
   * 1 MiB, no redirects, kept in memory for the life of the Verifier. Prefer pinned
   * `trustedKeys`. A non-empty list needs the core at construction, like `trustedKeys`.
   * @defaultValue `[]`
   */
  rootKeyOrigins?: string[];
  /**
   * Clock tolerance for `exp`, `nbf` and `iat` of receipts and certificates (strict mode), in
   * **milliseconds**, from 0 to 300000.
   * @defaultValue `60000` (60 s)
   */
  leeway?: number;
  /**
   * The clock, in **milliseconds** since the epoch: used for time claims, cache stamps, cache
   * freshness and the refund window (request timeouts use real timers). A run whose `now()` does
   * not return a finite number ends in `VerifierError`.
   * @defaultValue `Date.now`
   */
  now?: () => number;
  /**
   * An explicit receipt source (receipts §7.1): an array of receipt strings, or a function called
   * once per run that returns one (or a Promise of one). Used together with mozApps and the local
   * store; non-string entries fail parsing.
   * @defaultValue none
   */
  receipts?: unknown[] | (() => unknown[] | PromiseLike<unknown[]>);
  /**
   * The local receipt store (receipts §7.2), read for candidate receipts (keys
   * `mozmarketReceipts` and `fxpayReceipts`); `null` or `false` disables it.
   * @defaultValue `localStorage` when it can be accessed
   */
  receiptStorage?: StorageLike | null | false;
}

/**
 * A state or error object (receipts §5). Plain objects, not `Error`s: test them with
 * `instanceof` against `Verifier.states` / `Verifier.errors` (for example
 * `v.state instanceof Verifier.states.OK`, or `instanceof Verifier.states.NetworkError` for every
 * network failure).
 */
export interface StateObject {
  /** The class name, e.g. `"OK"` or `"ConnectionError"` (on the prototype). */
  readonly name: string;
  /** The detail text, exactly as in the spec (`undefined` for some states). */
  detail: string | undefined;
  /** Attributes such as `part`, `url`, `status`, `result`, `parsed`, `iss`, `exception`. */
  [attribute: string]: unknown;
  /** `[Name detail key: json …]` (receipts §4.5). */
  toString(): string;
}

/** A state or error class (receipts §5.1), as found in `Verifier.states` and `Verifier.errors`. */
export interface StateClass<T extends StateObject = StateObject> {
  /**
   * Builds an instance: `detail`, then the own enumerable properties of `attrs`, in order.
   * @param detail - The detail text.
   * @param attrs - Extra attributes copied onto the instance.
   */
  new (detail?: string, attrs?: Record<string, unknown>): T;
  /** The class name. */
  readonly className: string;
  /** The shared prototype (its `name` is the class name). */
  readonly prototype: T;
}

/**
 * `Verifier.states` (receipts §5.2): the outcome of a run. `OK`, `OKCache` and `OKStaleCache`
 * are the "let the user in" states; test `state instanceof Verifier.states.OK` for a yes/no.
 */
export interface States {
  /** The run has not finished (the initial state). */
  VerificationIncomplete: StateClass;
  /** Abstract parent of `NotInstalled` and `NoReceipts`: the user must install or buy the app. */
  NeedsInstall: StateClass;
  /** mozApps says the app is not installed. */
  NotInstalled: StateClass;
  /** No receipt was found. */
  NoReceipts: StateClass;
  /** No `navigator.mozApps`, no `receipts` option and an empty local store. */
  MozAppsNotSupported: StateClass;
  /**
   * Abstract parent of `ServerError` and `errors.ConnectionError`: verification could not be
   * completed, not the user's fault (the default Prompter lets the user in).
   */
  NetworkError: StateClass;
  /**
   * Abstract, a `NetworkError`: the server misbehaved (parent of `errors.RequestTimeout`,
   * `ServerStatusError` and `InvalidServerResponse`).
   */
  ServerError: StateClass;
  /** Receipts were found but none verified; the reasons are in `receiptErrors`. */
  NoValidReceipts: StateClass;
  /** At least one receipt verified (with the store, or from the cache). */
  OK: StateClass;
  /** An `OK`: a fresh cached store `ok` was used. */
  OKCache: StateClass;
  /** An `OKCache`: a store network error was covered by an older cached `ok`, of any age. */
  OKStaleCache: StateClass;
  /** Abstract parent of `MozAppsError` and `VerifierError`: a library or platform failure. */
  InternalError: StateClass;
  /** `navigator.mozApps.getSelf()` failed, threw or did not answer. */
  MozAppsError: StateClass;
  /**
   * An exception in mozmarket, or configuration that only fails at run time (an invalid option
   * property, no issuer allowlist in strict mode, the core did not load: `Exception: ‹e›`).
   */
  VerifierError: StateClass;
  /** `{InternalError, MozAppsError, …}` */
  toString(): string;
}

/**
 * `Verifier.errors` (receipts §5.3): why one receipt failed (the values of `receiptErrors`); the
 * network errors also become the run's `state` (§5.4).
 */
export interface Errors {
  /** Missing or mistyped claims, or an `iss` that is not an origin (§2.3.6, §2.3.7). */
  ReceiptFormatError: StateClass;
  /** A `ReceiptFormatError`: the receipt is not valid compact JWS or strict JSON (§2.3.1). */
  ReceiptParseError: StateClass;
  /** Abstract parent of the five signature and chain errors below. */
  ReceiptSignatureError: StateClass;
  /** `alg` is not exactly `RS256` or `ES256`. */
  AlgorithmNotAllowed: StateClass;
  /** A forbidden header parameter (`crit`, `b64`, `cty`, `enc`, `zip`). */
  UnsupportedHeader: StateClass;
  /** No trusted key matches (issuer, `kid`, algorithm). */
  UnknownSigningKey: StateClass;
  /** A signature does not verify. */
  InvalidSignature: StateClass;
  /** A certificate of the chain is invalid (type, expiry, lifetime rules). */
  CertificateError: StateClass;
  /** `nbf` or `iat` is in the future, beyond the leeway (strict). */
  ReceiptNotYetValid: StateClass;
  /** `exp` has passed, beyond the leeway (`Receipt has expired`), or the store answered `expired` (`Receipt expired`). */
  ReceiptExpired: StateClass;
  /** The receipt's `typ` is not in `typsAllowed`. */
  WrongType: StateClass;
  /** `product.url` is not one of the product URLs. */
  ProductURLError: StateClass;
  /** The receipt's `iss` is not in the issuer allowlist, or not the issuer bound to its key. */
  InvalidReceiptIssuer: StateClass;
  /** The `verify` URL is not on the issuer's host (or over a downgraded scheme). */
  VerifyDomainMismatch: StateClass;
  /** The store answered `invalid`. */
  InvalidFromStore: StateClass;
  /** The store answered `refunded`. */
  Refunded: StateClass;
  /** A `states.NetworkError` (not a `ServerError`): the request failed (network, DNS, TLS, CORS). */
  ConnectionError: StateClass;
  /** A `states.ServerError`: the request took longer than `requestTimeout`. */
  RequestTimeout: StateClass;
  /** A `states.ServerError`: an HTTP status other than 200. */
  ServerStatusError: StateClass;
  /** A `states.ServerError`: a bad body, an unknown status, a bad root document, or an unexpected final URL. */
  InvalidServerResponse: StateClass;
  /** `{AlgorithmNotAllowed, CertificateError, …}` */
  toString(): string;
}

/**
 * An `App`: from `navigator.mozApps.getSelf()`, or JSON sent by a client for
 * {@link Verifier.verifyReceipts} on a server.
 */
export interface App {
  /** The installed receipts: an array, an array-like object, `null` or `undefined`. */
  receipts?: unknown[] | Record<number, unknown> | null;
  /** The manifest; its `installs_allowed_from` is the allowlist when the option is not set. */
  manifest?: { installs_allowed_from?: string | string[]; [member: string]: unknown };
  /** The manifest's URL (logged). */
  manifestURL?: string;
  /** The app's origin: the strict-mode default product URL. */
  origin?: string;
  /** Other members are ignored. */
  [member: string]: unknown;
}

/** The `product` object of a verified receipt (receipts §1.3). */
export interface Product {
  /** The product's URL (the app's origin). */
  url?: string;
  /** Store data, e.g. `inapp_id=shiny-pony` for an in-app product. */
  storedata?: string;
  /** Other members, as in the receipt. */
  [member: string]: unknown;
}

/** A store's JSON answer (receipts §3.3), e.g. `{status: "ok"}`. */
export interface StoreResult {
  /** `"ok"`, `"pending"`, `"refunded"`, `"expired"` or `"invalid"`. */
  status?: unknown;
  /** With `invalid`: why. */
  reason?: string;
  /** With `expired`: a fresh receipt, when the store reissues one (payments §6). */
  receipt?: string;
  /** Other members, as the store sent them. */
  [member: string]: unknown;
}

/** The signature of `Verifier.consoleLogger` and of a detached `onlog`. */
export type Logger = (level: number, message: string) => void;

/** The `Verifier` constructor and its static members (receipts §4.2, §5.1). */
export interface VerifierStatic {
  /**
   * Builds a verifier. Nothing is verified until {@link Verifier.verify} is called.
   *
   * Before the core has loaded (before `init()` resolves), a compat-mode Verifier can be built,
   * but options that need the core at once (`trustedKeys`, a non-empty `rootKeyOrigins`) throw
   * `Error("mozmarket is not ready: await init() first")`; since the ES entries are strict by
   * default, call `await init()` first.
   *
   * @param options - The options; `undefined`/`null` means `{}`.
   * @throws `Error` with the exact receipts §4.1 message: `You forgot new` (called without
   *   `new`), `Verifier({}) options must be an object`, `Illegal option to Verifier({}): ‹key›`,
   *   `Illegal value for option to Verifier({}): ‹key›` (for `trustedKeys`:
   *   `…: trustedKeys[‹i›]: ‹reason›`), `Verifier({}) in strict mode needs trustedKeys or
   *   rootKeyOrigins`, `Verifier({}) in compat mode cannot use trustedKeys or rootKeyOrigins`; or
   *   the not-ready error above.
   */
  new (options?: VerifierOptions | null): Verifier;
  /** The state classes (receipts §5.2); available before the core has loaded. */
  readonly states: States;
  /** The error classes (receipts §5.3); available before the core has loaded. */
  readonly errors: Errors;
  /** The log levels (receipts §4.4). */
  readonly levels: Levels;
  /**
   * Sends a log line to the matching `console` method (≤ 10 `debug`, ≤ 20 `info`, ≤ 30 `log`,
   * ≤ 40 `warn`, else `error`); does nothing without a `console`. Usable detached, e.g.
   * `{onlog: Verifier.consoleLogger}`.
   */
  readonly consoleLogger: Logger;
  /**
   * `State(name, parent)` returns a new state class whose prototype inherits from `parent`'s (or
   * from `State.prototype`); its instances print as in receipts §4.5 (§5.1).
   * @param name - The class name.
   * @param parent - The parent class.
   */
  State(name: string, parent?: StateClass): StateClass;
  /** The prototype shared by every Verifier. */
  readonly prototype: Verifier;
}

/**
 * A receipt verifier (receipts §4). The options are also instance properties, holding the
 * effective values, read and validated again at the start of each run (an invalid value then ends
 * the run in `VerifierError`).
 */
export interface Verifier {
  /** The current state or error (receipts §5); `VerificationIncomplete` until a run finishes. */
  state: StateObject;
  /**
   * The app from `getSelf()`: `null` if not installed, `undefined` without mozApps (every current
   * browser) and in `verifyReceipts`.
   */
  app: App | null | undefined;
  /** The `product` objects of receipts counted as verified, in outcome order. */
  products: Product[];
  /** Receipt string → its error (own properties, even for the key `__proto__`). */
  receiptErrors: Record<string, StateObject>;
  /** Receipt string → the store result (fresh or cached), for the receipts in `products`. */
  receiptVerifications: Record<string, StoreResult>;

  /** See {@link VerifierOptions.installs_allowed_from}; `undefined` when not given. */
  installs_allowed_from: string[] | undefined;
  /** See {@link VerifierOptions.requestTimeout} (ms). */
  requestTimeout: number;
  /** See {@link VerifierOptions.cacheTimeout} (ms). */
  cacheTimeout: number;
  /** See {@link VerifierOptions.cacheStorage}; `null` when caching is off. */
  cacheStorage: StorageLike | null;
  /** See {@link VerifierOptions.refundWindow} (ms). */
  refundWindow: number;
  /** See {@link VerifierOptions.onlog}. */
  onlog: ((this: Verifier, level: number, message: string) => void) | null;
  /** See {@link VerifierOptions.logLevel}; always a number here. */
  logLevel: number;
  /** See {@link VerifierOptions.typsAllowed}. */
  typsAllowed: ReceiptType[];
  /** See {@link VerifierOptions.productURL}; `undefined` when not given. */
  productURL: string[] | undefined;
  /** The resolved mode (receipts §2.1). */
  mode: 'strict' | 'compat';
  /** See {@link VerifierOptions.trustedKeys}: the value as given. */
  trustedKeys: JWKS | JWK[] | undefined;
  /** See {@link VerifierOptions.rootKeyOrigins}. */
  rootKeyOrigins: string[];
  /** See {@link VerifierOptions.leeway} (ms). */
  leeway: number;
  /** See {@link VerifierOptions.now}. */
  now: () => number;
  /** See {@link VerifierOptions.receipts}; `undefined` when not given. */
  receipts: VerifierOptions['receipts'];
  /** See {@link VerifierOptions.receiptStorage}; `null` when disabled. */
  receiptStorage: StorageLike | null;

  /** Same as `Verifier.states`. */
  readonly states: States;
  /** Same as `Verifier.errors`. */
  readonly errors: Errors;
  /** Same as `Verifier.levels`. */
  readonly levels: Levels;
  /** Same as `Verifier.consoleLogger`. */
  readonly consoleLogger: Logger;

  /**
   * Runs a verification (receipts §2.2): collects the receipts (mozApps, the `receipts` option,
   * the local store), verifies each one (strict §2.3 or compat §2.4, then the store or the
   * cache), and settles `state`, `products` and `receiptErrors`.
   *
   * `onVerified(verifier)` is called exactly once, always asynchronously; the Promise resolves to
   * the verifier after that and **never rejects** (every failure is a state). A call during a run
   * joins that run. Before the core has loaded, the run starts the load and waits for it; if the
   * load fails the run ends in `VerifierError("Exception: ‹load error›")`.
   *
   * @param onVerified - Called once with the verifier when the run has finished.
   * @returns The verifier, once the run has finished.
   *
   * @example
   * ```ts
   * const v = await new Verifier(options).verify();
   * if (v.state instanceof Verifier.states.OK) unlock(v.products);
   * else if (v.state instanceof Verifier.states.NetworkError) unlockForNow();
   * ```
   */
  verify(onVerified?: (verifier: Verifier) => void): Promise<Verifier>;
  /**
   * The same run for exactly `app.receipts`, for example an App JSON-serialised by a client and
   * checked on a server (Node 18+). Uses neither `navigator.mozApps`, the local store nor the
   * `receipts` option; `app.manifest.installs_allowed_from` and `app.origin` are used as
   * defaults. A non-object `app` ends the run in
   * `VerifierError("Exception: verifyReceipts needs an app object")`.
   *
   * @param app - The app whose `receipts` are verified.
   * @param onVerified - Called once with the verifier when the run has finished.
   * @returns The verifier, once the run has finished; never rejects.
   *
   * @example On a server
   * ```ts
   * import { init, Verifier } from "mozmarket";
   * await init();
   * const v = new Verifier({ trustedKeys, installs_allowed_from: [store], productURL: "https://app.example" });
   * await v.verifyReceipts({ receipts: receiptsFromClient });
   * const ok = v.state instanceof Verifier.states.OK;
   * ```
   */
  verifyReceipts(app: App, onVerified?: (verifier: Verifier) => void): Promise<Verifier>;
  /** Removes every `receiptverifier.` entry from the cache storage; no-op when caching is off. */
  clearCache(): void;
  /**
   * The decoded payload of the receipt's last part, **without** any signature, claim or policy
   * check (strict parsing in strict mode, lenient in compat mode).
   * @param receipt - The receipt string.
   * @returns The payload object.
   * @throws `Error` with the parse failure (e.g. `Not valid JWT` in compat mode); or
   *   `Error("mozmarket is not ready: await init() first")` before the core has loaded (classic
   *   script: `mozmarket.receipts is not ready`).
   */
  parseReceipt(receipt: string): Record<string, unknown>;
  /**
   * Calls `cb(receipt, error)` for each `receiptErrors` entry, in order, until it returns
   * exactly `false`.
   * @param cb - The visitor.
   */
  iterReceiptErrors(cb: (receipt: string, error: StateObject) => unknown): void;
  /**
   * Calls `onlog(level, message)` when `level >= logLevel`; exceptions are swallowed.
   * @param level - A level number (see `Verifier.levels`).
   * @param message - The text.
   */
  log(level: number, message: string): void;
  /** `[Verifier state: … products: … Error(…): … installed app: …]` (receipts §4.5). */
  toString(): string;
  /**
   * Binary string → unpadded base64url (kept for compatibility with the original).
   * @param s - A binary string (one byte per character).
   */
  base64urlencode(s: string): string;
  /**
   * Lenient base64url → binary string (kept for compatibility with the original).
   * @param s - The base64url text.
   * @throws `Error("Illegal base64url string!")` on invalid input.
   */
  base64urldecode(s: string): string;
}

/**
 * The Verifier class (receipts §4).
 *
 * Each entry (`mozmarket`, `mozmarket/full`, the classic script) has its own `Verifier` and its
 * own state classes: test a state with the `Verifier` (or `verifier.states`) of the entry that
 * made it.
 */
export declare const Verifier: VerifierStatic;

/**
 * `new Verifier(options).verify(callback)` (receipts §4.2): builds a Verifier and runs it.
 * @param callback - Called once with the verifier when the run has finished.
 * @param options - The Verifier options.
 * @returns The verifier, once the run has finished; never rejects.
 * @throws Synchronously, whatever `new Verifier(options)` throws (invalid options, or the
 *   not-ready error for `trustedKeys` before `init()`).
 */
export declare function verify(
  callback?: (verifier: Verifier) => void,
  options?: VerifierOptions | null,
): Promise<Verifier>;

/** Options of {@link addReceipt} and {@link listReceipts}. */
export interface ReceiptStoreOptions {
  /**
   * The local receipt store (key `fxpayReceipts`); `null` or `false` disables it.
   * @defaultValue `localStorage` when it can be accessed
   */
  receiptStorage?: StorageLike | null | false;
}

/** Where {@link addReceipt} put the receipt. */
export interface AddReceiptResult {
  /** `"mozApps"` (`app.addReceipt`) or `"local"` (the local receipt store). */
  storage: 'mozApps' | 'local';
  /** `false` when it was already there. */
  added: boolean;
}

/** A rejection of {@link addReceipt}: an `Error` with a string `code` (receipts §7.3). */
export interface AddReceiptError extends Error {
  /**
   * `INVALID_PARAMETERS`, `RECEIPT_TOO_BIG`, `INVALID_SEGMENTS_NUMBER`,
   * `INVALID_RECEIPT_ENCODING`, `RECEIPT_*_REQUIRED`, `RECEIPT_TYPE_UNSUPPORTED` (the add-receipt
   * check, §1.8), `TOO_MANY_RECEIPTS` (500 stored), `STORAGE_ERROR` (the write failed),
   * `NO_RECEIPT_STORAGE`, a platform error name from `app.addReceipt`, or `RECEIPT_ERROR` when
   * the core could not be loaded.
   */
  code: string;
}

/**
 * Installs a receipt after a purchase (receipts §7.3): checks it syntactically, then adds it with
 * `app.addReceipt` where mozApps provides it, otherwise to the local receipt store
 * (`fxpayReceipts`). It does not verify the receipt; the next `verify()` picks it up. Loads the
 * core first if needed.
 * @param receipt - The receipt string.
 * @param options - Where the local store is.
 * @returns Where it was stored and whether it was new.
 * @throws (as a rejection) an {@link AddReceiptError}.
 */
export declare function addReceipt(receipt: string, options?: ReceiptStoreOptions): Promise<AddReceiptResult>;

/**
 * The receipts `verify()` would collect from mozApps and the local store (deduplicated), without
 * verifying anything (receipts §7.2). Does not need the core.
 * @param options - Where the local store is.
 * @returns The candidate receipts (usually strings).
 */
export declare function listReceipts(options?: ReceiptStoreOptions): Promise<unknown[]>;
