/**
 * mozmarket: client-side verification of Web Application Receipts (the Firefox Marketplace
 * format), with the drop-in `mozmarket.receipts` API of Mozilla's receiptverifier.js.
 *
 * Client-side verification is advisory: anything of value must be checked again on a server
 * (the same package runs in Node for that, see {@link Verifier.verifyReceipts}).
 *
 * Contract: spec/receipts.md.
 */

/** Names of the log levels (§4.4). */
export type LevelName = 'DEBUG' | 'INFO' | 'NOTIFY' | 'WARN' | 'ERROR';

/** `Verifier.levels`: `{DEBUG: 10, INFO: 20, NOTIFY: 30, WARN: 40, ERROR: 50}`. */
export interface Levels {
  readonly DEBUG: 10;
  readonly INFO: 20;
  readonly NOTIFY: 30;
  readonly WARN: 40;
  readonly ERROR: 50;
  /** `{ERROR, WARN, NOTIFY, INFO, DEBUG}` */
  toString(): string;
}

/** A storage-like object (`localStorage` or anything with the same five members). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
  key(index: number): string | null;
  readonly length: number;
}

/** The four receipt types (§1.3). `test-receipt` is not accepted unless listed in `typsAllowed`. */
export type ReceiptType = 'purchase-receipt' | 'developer-receipt' | 'reviewer-receipt' | 'test-receipt';

/**
 * A public JWK in one of the §1.5 forms: RSA (`kty: "RSA"`, `n`, `e`), the old draft RSA form
 * (`alg: "RSA"`, `mod`, `exp`) or EC P-256 (`kty: "EC"`, `crv: "P-256"`, `x`, `y`). A configured
 * key may carry `iss` (an origin) to bind it to one issuer.
 */
export interface JWK {
  kty?: 'RSA' | 'EC' | string;
  crv?: string;
  n?: string;
  e?: string;
  mod?: string;
  exp?: string;
  x?: string;
  y?: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  iss?: string;
  [member: string]: unknown;
}

/** A JWK Set. */
export interface JWKS {
  keys: JWK[];
}

/** Options of `new Verifier(options)` (§4.1). Unknown keys throw. */
export interface VerifierOptions {
  /** Issuer allowlist: origins, or `"*"`. Default: the manifest's value at run time. */
  installs_allowed_from?: string | string[];
  /** Store and root-document request timeout in ms; `0` means none. Default 30000. */
  requestTimeout?: number;
  /** How long a cached `ok` counts as fresh, in ms. Default 86400000 (1 day). */
  cacheTimeout?: number;
  /** Result cache; `null`/`false` disables it. Default `localStorage` when accessible. */
  cacheStorage?: StorageLike | null | false;
  /** Refund-window re-check in ms; `0` disables it. Default 2400000 (40 min). */
  refundWindow?: number;
  /** Log sink, called as `onlog(level, message)` with the verifier as `this`. */
  onlog?: ((this: Verifier, level: number, message: string) => void) | null;
  /** Minimum level delivered to `onlog`: a number or a level name. Default 2 (everything). */
  logLevel?: number | LevelName;
  /** Accepted receipt types. Default purchase, developer and reviewer receipts. */
  typsAllowed?: ReceiptType | ReceiptType[];
  /** The product URL(s) a receipt must be for. Strict default: the app's own origin. */
  productURL?: string | string[];
  /**
   * `"strict"` (signatures verified against `trustedKeys`/`rootKeyOrigins`) or `"compat"` (the
   * original's store-trusting behaviour). The ES module is strict unless `"compat"` is given.
   */
  mode?: 'strict' | 'compat';
  /** Root keys that certificate chains must anchor in: a JWKS or an array of 1–32 JWKs. */
  trustedKeys?: JWKS | JWK[];
  /** Exact `https:` origins from which a certificate's `iss` root document may be fetched. */
  rootKeyOrigins?: string[];
  /** Clock tolerance in ms for `exp`/`nbf`/`iat` (0–300000). Default 60000. */
  leeway?: number;
  /** Injected clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /** Explicit receipt source: an array, or a function returning an array or a Promise of one. */
  receipts?: unknown[] | (() => unknown[] | PromiseLike<unknown[]>);
  /** Local receipt store (`fxpayReceipts`); `null`/`false` disables it. Default `localStorage`. */
  receiptStorage?: StorageLike | null | false;
}

/**
 * A state or error object (§5). Plain objects, not `Error`s: test them with `instanceof`
 * against `verifier.states` / `verifier.errors`.
 */
export interface StateObject {
  /** The class name, e.g. `"OK"` or `"ConnectionError"` (on the prototype). */
  readonly name: string;
  /** The detail text, exact as in the spec. */
  detail: string | undefined;
  /** Attributes such as `part`, `url`, `status`, `result`, `parsed`, `iss`. */
  [attribute: string]: unknown;
  /** `[Name detail key: json …]` (§4.5). */
  toString(): string;
}

/** A state or error class made by {@link VerifierStatic.State}. */
export interface StateClass<T extends StateObject = StateObject> {
  /** Builds an instance: `detail`, then the own enumerable properties of `attrs` in order. */
  new (detail?: string, attrs?: Record<string, unknown>): T;
  /** The class name. */
  readonly className: string;
  readonly prototype: T;
}

/** `Verifier.states` (§5.2). */
export interface States {
  VerificationIncomplete: StateClass;
  NeedsInstall: StateClass;
  NotInstalled: StateClass;
  NoReceipts: StateClass;
  MozAppsNotSupported: StateClass;
  NetworkError: StateClass;
  ServerError: StateClass;
  NoValidReceipts: StateClass;
  OK: StateClass;
  OKCache: StateClass;
  OKStaleCache: StateClass;
  InternalError: StateClass;
  MozAppsError: StateClass;
  VerifierError: StateClass;
  /** `{InternalError, MozAppsError, …}` */
  toString(): string;
}

/** `Verifier.errors` (§5.3). */
export interface Errors {
  ReceiptFormatError: StateClass;
  ReceiptParseError: StateClass;
  ReceiptSignatureError: StateClass;
  AlgorithmNotAllowed: StateClass;
  UnsupportedHeader: StateClass;
  UnknownSigningKey: StateClass;
  InvalidSignature: StateClass;
  CertificateError: StateClass;
  ReceiptNotYetValid: StateClass;
  ReceiptExpired: StateClass;
  WrongType: StateClass;
  ProductURLError: StateClass;
  InvalidReceiptIssuer: StateClass;
  VerifyDomainMismatch: StateClass;
  InvalidFromStore: StateClass;
  Refunded: StateClass;
  ConnectionError: StateClass;
  RequestTimeout: StateClass;
  ServerStatusError: StateClass;
  InvalidServerResponse: StateClass;
  /** `{AlgorithmNotAllowed, CertificateError, …}` */
  toString(): string;
}

/** An `App` (from `navigator.mozApps.getSelf()`, or JSON from a client for `verifyReceipts`). */
export interface App {
  /** The installed receipts: an array, an array-like object, `null` or `undefined`. */
  receipts?: unknown[] | Record<number, unknown> | null;
  /** The manifest; its `installs_allowed_from` is the allowlist when the option is not set. */
  manifest?: { installs_allowed_from?: string | string[]; [member: string]: unknown };
  manifestURL?: string;
  /** The app's origin: the strict-mode default product URL. */
  origin?: string;
  [member: string]: unknown;
}

/** The `product` object of a verified receipt. */
export interface Product {
  url?: string;
  storedata?: string;
  [member: string]: unknown;
}

/** A store's JSON answer, e.g. `{status: "ok"}`. */
export interface StoreResult {
  status?: unknown;
  reason?: string;
  receipt?: string;
  [member: string]: unknown;
}

/** Logger signature of `Verifier.consoleLogger` and `onlog`. */
export type Logger = (level: number, message: string) => void;

/** Static members of the Verifier constructor. */
export interface VerifierStatic {
  /**
   * Builds a verifier. Throws (an `Error` with the exact §4.1 message) on an unknown option, an
   * invalid value, or a mode conflict; `You forgot new` when called without `new`.
   */
  new (options?: VerifierOptions | null): Verifier;
  /** The state classes (§5.2). */
  readonly states: States;
  /** The error classes (§5.3). */
  readonly errors: Errors;
  /** The log levels (§4.4). */
  readonly levels: Levels;
  /** Sends a log line to the matching `console` method; usable detached. */
  readonly consoleLogger: Logger;
  /**
   * `State(name, parent)` returns a new state class whose prototype inherits from `parent`'s
   * (or from `State.prototype`); its instances print as in §4.5.
   */
  State(name: string, parent?: StateClass): StateClass;
  readonly prototype: Verifier;
}

/** A receipt verifier (§4). Options are also instance properties, read at the start of each run. */
export interface Verifier {
  /** The current state or error (§5). */
  state: StateObject;
  /** The app from `getSelf()`: `null` if not installed, `undefined` without mozApps. */
  app: App | null | undefined;
  /** The products of receipts counted as verified, in outcome order. */
  products: Product[];
  /** Receipt string → its error (own properties, even for `__proto__`). */
  receiptErrors: Record<string, StateObject>;
  /** Receipt string → the store result (fresh or cached) for verified receipts. */
  receiptVerifications: Record<string, StoreResult>;

  installs_allowed_from: string[] | undefined;
  requestTimeout: number;
  cacheTimeout: number;
  cacheStorage: StorageLike | null;
  refundWindow: number;
  onlog: ((this: Verifier, level: number, message: string) => void) | null;
  logLevel: number;
  typsAllowed: ReceiptType[];
  productURL: string[] | undefined;
  /** The resolved mode. */
  mode: 'strict' | 'compat';
  trustedKeys: JWKS | JWK[] | undefined;
  rootKeyOrigins: string[];
  leeway: number;
  now: () => number;
  receipts: VerifierOptions['receipts'];
  receiptStorage: StorageLike | null;

  readonly states: States;
  readonly errors: Errors;
  readonly levels: Levels;
  readonly consoleLogger: Logger;

  /**
   * Runs a verification (§2.2): collects the receipts, verifies each one, and settles.
   * `onVerified(verifier)` is called exactly once, asynchronously. The Promise resolves to the
   * verifier after that and never rejects. A call during a run joins that run.
   */
  verify(onVerified?: (verifier: Verifier) => void): Promise<Verifier>;
  /**
   * The same run for exactly `app.receipts` (for example an App JSON-serialised by a client and
   * checked on a server). Uses neither navigator.mozApps, the local store nor the `receipts`
   * option; `app.manifest.installs_allowed_from` and `app.origin` are used as defaults.
   */
  verifyReceipts(app: App, onVerified?: (verifier: Verifier) => void): Promise<Verifier>;
  /** Removes every `receiptverifier.` cache entry. */
  clearCache(): void;
  /**
   * The decoded payload of the receipt's last part, without any signature, claim or policy check
   * (strict parsing in strict mode, lenient in compat mode). Throws on a parse failure.
   */
  parseReceipt(receipt: string): Record<string, unknown>;
  /** Calls `cb(receipt, error)` per receipt error until it returns exactly `false`. */
  iterReceiptErrors(cb: (receipt: string, error: StateObject) => unknown): void;
  /** Calls `onlog(level, message)` when `level >= logLevel`; exceptions are swallowed. */
  log(level: number, message: string): void;
  /** `[Verifier state: … products: … Error(…): … installed app: …]` (§4.5). */
  toString(): string;
  /** Binary string → unpadded base64url. */
  base64urlencode(s: string): string;
  /** Lenient base64url → binary string; throws `Illegal base64url string!`. */
  base64urldecode(s: string): string;
}

/** The Verifier class (§4). */
export declare const Verifier: VerifierStatic;

/** `new Verifier(options).verify(callback)`. Throws synchronously on invalid options. */
export declare function verify(
  callback?: (verifier: Verifier) => void,
  options?: VerifierOptions | null,
): Promise<Verifier>;

/** Options of {@link addReceipt} and {@link listReceipts}. */
export interface ReceiptStoreOptions {
  /** The local receipt store; `null`/`false` disables it. Default `localStorage`. */
  receiptStorage?: StorageLike | null | false;
}

/** Where {@link addReceipt} put the receipt. */
export interface AddReceiptResult {
  storage: 'mozApps' | 'local';
  /** `false` when it was already there. */
  added: boolean;
}

/** A rejection of {@link addReceipt}: an `Error` with a string `code`. */
export interface AddReceiptError extends Error {
  /**
   * `INVALID_PARAMETERS`, `RECEIPT_TOO_BIG`, `INVALID_SEGMENTS_NUMBER`, `INVALID_RECEIPT_ENCODING`,
   * `RECEIPT_*_REQUIRED`, `RECEIPT_TYPE_UNSUPPORTED`, `TOO_MANY_RECEIPTS`, `STORAGE_ERROR`,
   * `NO_RECEIPT_STORAGE`, or a platform error name from `app.addReceipt`.
   */
  code: string;
}

/**
 * Installs a receipt after a purchase (§7.3): checks it syntactically, then adds it with
 * `app.addReceipt` where mozApps provides it, otherwise to the local receipt store. It does not
 * verify the receipt; the next `verify()` picks it up. Rejects with an {@link AddReceiptError}.
 */
export declare function addReceipt(receipt: string, options?: ReceiptStoreOptions): Promise<AddReceiptResult>;

/**
 * The receipts `verify()` would collect from mozApps and the local store (deduplicated), without
 * verifying anything (§7.2).
 */
export declare function listReceipts(options?: ReceiptStoreOptions): Promise<unknown[]>;

/** Resolved: the ES module has instantiated its WebAssembly before any export can be used. */
export declare const ready: Promise<void>;
