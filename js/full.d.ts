/**
 * `mozmarket/full` (and `mozmarket/element`): everything in `mozmarket` (the Verifier), plus the
 * Prompter (receipts §8) and the Buy and Restore buttons (payments §7), rendered with yew from
 * the **full** WebAssembly core (`mozmarket/wasm-full`).
 *
 * Like `mozmarket`, this entry is side-effect free: importing it does no I/O and touches no
 * `window`. Load the core with {@link init} (or `await` {@link ready}) before calling what needs
 * it synchronously (`new Prompter(…)`, `mountBuyButton`, `mountRestoreButton`, a strict
 * `Verifier`); custom elements registered with {@link defineElements} load it themselves.
 * `mozmarket/element` is the one entry with a side effect: importing it calls `defineElements()`
 * (nothing happens where `customElements` does not exist, e.g. server-side rendering).
 *
 * The widgets never grant anything themselves: grant on `mozmarket-purchase` (sent only after
 * the app server confirmed the payment and the receipt passed local and store verification),
 * revoke on `PAYMENT_REFUNDED` / `PAYMENT_REVERSED`, and keep your server as the source of truth.
 *
 * Durations in options are **milliseconds** (`…Ms`).
 *
 * @example A Buy button from JS
 * ```ts
 * import { init, mountBuyButton } from "mozmarket/full";
 *
 * await init();
 * const handle = mountBuyButton(document.querySelector("#buy")!, {
 *   productId: "shiny-pony",
 *   productName: "Shiny Pony",
 *   providerOrigin: "https://marketplace.example",
 *   onPurchase: ({ productId, receipt }) => grant(productId, receipt),
 * });
 * ```
 *
 * @packageDocumentation
 */
import type { InitInput, JWK, JWKS, Ready } from './index.js';

export * from './index.js';
export { Prompter, PrompterOptions, PrompterInstance, PrompterStatic, PrompterTemplateName, PrompterTemplates } from './prompter.js';

/**
 * Loads the **full** WebAssembly core (verifier, widgets and Prompter;
 * `core-full/mozmarket_full_bg.wasm`, exported as `mozmarket/wasm-full`). Resolves to
 * `undefined` once every export of this entry can be used.
 *
 * Idempotent (concurrent and later calls share one load; a failed load is retried by the next
 * call). Without `input` the core is loaded from next to the module (read from disk in Node);
 * pass `{module_or_path}` when your bundler or CDN serves the `.wasm` elsewhere. `mozmarket` and
 * `mozmarket/full` load separate cores: `init()` of one does not load the other.
 *
 * @param input - Where to load the full core from; omit it to use the file next to the module.
 * @returns A Promise that resolves (to `undefined`) when the core has loaded.
 * @throws (as a rejection) `TypeError` for an `input` without `module_or_path`; the loader's
 *   error otherwise.
 *
 * @example With Vite
 * ```ts
 * import { init } from "mozmarket/full";
 * import wasmUrl from "mozmarket/wasm-full?url";
 * await init({ module_or_path: wasmUrl });
 * ```
 */
export declare function init(input?: InitInput): Promise<void>;

/**
 * Settles when the full core has loaded; lazy: awaiting it starts the load, as `init()` without
 * arguments would (receipts §0.3: `await ready` is the same as `await init()`).
 */
export declare const ready: Ready;

/** The widget states of payments §7.2 (`handle.state`, `mozmarket-statechange`). */
export type WidgetState =
  | 'idle' | 'preparing' | 'paying' | 'waiting' | 'installing' | 'verifying'
  | 'purchased' | 'failed' | 'cancelled';

/** The error classes of payments §7.6 (`error.name`). */
export type WidgetErrorName =
  | 'ApiRequestError' | 'ApiRequestTimeout' | 'BadApiResponse' | 'BadJsonResponse' | 'InvalidJwt'
  | 'ConfigurationError' | 'IncorrectUsage' | 'PayWindowClosedByUser' | 'UserCancelled'
  | 'PayWindowBlocked' | 'FailedWindowMessage' | 'UnknownMessageStatus' | 'UnknownMessageOrigin'
  | 'PayPlatformError' | 'PayPlatformUnavailable' | 'PurchaseTimeout' | 'PaymentFailed'
  | 'InvalidReceipt' | 'TestReceiptNotAllowed' | 'AddReceiptError';

/**
 * A widget error (payments §7.6): a plain `Error` (no exported classes: test `error.name` or
 * `error.code`, not `instanceof`). `code` is stable and comes from the widget's own catalogue
 * (e.g. `PAYMENT_REFUNDED`, `INVALID_CONFIGURATION`); a provider's or platform's own code is in
 * `detail.providerCode` / `detail.platformCode`. `message` is an English developer message; the
 * buyer sees a localised text.
 */
export interface WidgetError extends Error {
  /** The error class. */
  name: WidgetErrorName;
  /** The stable code, e.g. `API_REQUEST_TIMEOUT`, `PAYMENT_REFUNDED`, `INVALID_RECEIPT`. */
  code: string;
  /**
   * Details: `option` (configuration errors), `httpStatus`, `errorCode`, `missing`,
   * `providerCode`, `platformCode`, `check` (which local check failed), `storeStatus`,
   * `storeReason`, `lastError`, …
   */
  detail: Record<string, unknown>;
  /** The product of the attempt, or `null`. */
  productId: string | null;
  /** The attempt id (a UUID v4, also the buy request's `Idempotency-Key`), or `null`. */
  attemptId: string | null;
}

/**
 * A trusted root for the widget's local receipt check (payments §6.3, §7.1): a certificate's
 * `iss` must equal `url`.
 */
export interface TrustedRoot {
  /** The root document URL (what certificates name as `iss`). */
  url: string;
  /**
   * Pinned root keys, used as given. Without them the document at `url` is fetched (timeout
   * `apiTimeoutMs`, cached in memory for 1 h).
   */
  keys?: JWK[] | JWKS;
}

/** The support contact shown in `failed` (payments §7.11): text plus an optional link each. */
export interface SupportContact {
  /** The text before the links. */
  text: string;
  /** An address for a `mailto:` link. */
  email?: string;
  /** An `https:` URL (opened in a new tab, `rel="noopener noreferrer"`). */
  url?: string;
}

/**
 * Options shared by the Buy and Restore buttons: where receipts are stored and how they are
 * verified (payments §7.1, §7.5, §7.8). Numbers must be finite and durations greater than 0, or
 * mounting throws `ConfigurationError`.
 */
export interface VerificationOptions {
  /**
   * The marketplace origin: the default pay URL, `receiptCheckSites` and `trustedRoots` come from
   * it. Required unless `payProviderUrls` (Buy button) and `trustedRoots` are both given.
   */
  providerOrigin?: string;
  /**
   * Compared with the receipt's `product.url`.
   * @defaultValue `location.origin`
   */
  appOrigin?: string;
  /**
   * Accept simulated purchases (test JWTs and `test-receipt`s); must be true for them to finish.
   * @defaultValue `false`
   */
  allowTestReceipts?: boolean;
  /**
   * The verify URLs a receipt may name: exactly the origin of an entry, and a path equal to or
   * below the entry's path, segment by segment (no query or fragment). Stricter than fxpay's
   * string prefix.
   * @defaultValue `[providerOrigin + "/receipts/verify"]`, plus `…/receipts/verify/test` with
   *   `allowTestReceipts`
   */
  receiptCheckSites?: string[];
  /**
   * The roots that receipt certificate chains must anchor in.
   * @defaultValue `[{url: providerOrigin + "/public_keys/root.jwk"}]`
   */
  trustedRoots?: TrustedRoot[];
  /**
   * Where installed receipts go: `"auto"` tries `app.addReceipt` (mozApps), then `localStorage`,
   * then memory (payments §7.5).
   * @defaultValue `"auto"`
   */
  receiptStorage?: 'auto' | 'mozApps' | 'localStorage' | 'memory';
  /**
   * The `localStorage` key holding the JSON array of receipts (the `Verifier` reads
   * `mozmarketReceipts` and `fxpayReceipts`).
   * @defaultValue `"mozmarketReceipts"`
   */
  localStorageKey?: string;
  /**
   * Timeout of each HTTP request, in **milliseconds**.
   * @defaultValue `10000`
   */
  apiTimeoutMs?: number;
  /**
   * `fetch` credentials for requests to the app server (buy, status, restore).
   * @defaultValue `"include"`
   */
  credentials?: 'include' | 'same-origin';
  /**
   * A BCP 47 tag among `en`, `de`, `fr`, `es`, `pt-BR`, `zh-TW` (payments §7.9); an unsupported
   * tag falls back to `en`.
   * @defaultValue negotiated from `navigator.languages`
   */
  locale?: string;
  /** A support contact shown with failures. */
  support?: SupportContact;
  /** Called before `mozmarket-failed` is dispatched (exceptions are caught and logged). */
  onFailed?: (detail: FailedDetail) => void;
  /** Called before each `mozmarket-statechange` is dispatched. */
  onStateChange?: (detail: StateChangeDetail) => void;
  /** Called before each `mozmarket-warning` is dispatched. */
  onWarning?: (detail: WarningDetail) => void;
}

/**
 * `mountBuyButton` options (payments §7.1). An unknown name throws `IncorrectUsage`; a bad value
 * throws `ConfigurationError` naming the option.
 */
export interface BuyButtonOptions extends VerificationOptions {
  /** Required: the product id (1–255 characters), the pay request's `request.id`. */
  productId: string;
  /** Shown in the button text (`Buy ‹name›`) and announcements until the JWT supplies a name. */
  productName?: string;
  /** Replaces the idle button text. */
  label?: string;
  /**
   * A consumable: `purchased` returns to `idle` at once.
   * @defaultValue `false`
   */
  consumable?: boolean;
  /**
   * Render `purchased` at mount (the host already knows the buyer owns it).
   * @defaultValue `false`
   */
  owned?: boolean;
  /**
   * The app server's buy endpoint; `{id}` is replaced by `encodeURIComponent(productId)`.
   * @defaultValue `"/mozpay/product/{id}/buy"`
   */
  buyUrl?: string;
  /**
   * Pay JWT `typ` → pay page URL template containing `{jwt}` once (payments §5.1); replaces the
   * default map.
   * @defaultValue `{"mozilla/payments/pay/v1": providerOrigin + "/mozpay/?req={jwt}"}`
   */
  payProviderUrls?: Record<string, string>;
  /**
   * Merged over `payProviderUrls`.
   * @defaultValue `{}`
   */
  extraProviderUrls?: Record<string, string>;
  /**
   * `"auto"` calls `navigator.mozPay` where it is a function instead of opening a popup;
   * `"never"` always uses the popup (payments §5.6).
   * @defaultValue `"auto"`
   */
  useMozPay?: 'auto' | 'never';
  /**
   * Treat a mozPay `USER_CANCELLED` as success and let the server's status decide (fxpay's
   * broken-webRT workaround, payments §5.6).
   * @defaultValue `true` when `navigator.mozPay` exists and the user agent lacks `Mobile`
   */
  onBrokenWebRT?: boolean;
  /**
   * First wait between status polls, in **milliseconds** (payments §7.4).
   * @defaultValue `250`
   */
  pollInitialMs?: number;
  /**
   * Longest wait between status polls, in **milliseconds** (≥ `pollInitialMs`).
   * @defaultValue `2000`
   */
  pollMaxMs?: number;
  /**
   * Each wait is the previous one times this factor (≥ 1; capped at `pollMaxMs`).
   * @defaultValue `2`
   */
  pollFactor?: number;
  /**
   * Random spread of each wait (0 ≤ `pollJitter` < 1): the wait is multiplied by a factor drawn
   * from `[1 - pollJitter, 1 + pollJitter)`.
   * @defaultValue `0.1`
   */
  pollJitter?: number;
  /**
   * Overall limit of `waiting` for the server's confirmation, in **milliseconds**; then
   * `PurchaseTimeout` (`TRANSACTION_TIMEOUT`).
   * @defaultValue `120000` (2 minutes)
   */
  purchaseTimeoutMs?: number;
  /**
   * After the popup closed without a result, how long the server may still confirm, in
   * **milliseconds** (payments §5.5).
   * @defaultValue `3000`
   */
  closedGraceMs?: number;
  /**
   * How often `popup.closed` is checked while paying, in **milliseconds**.
   * @defaultValue `500`
   */
  windowPollMs?: number;
  /**
   * After the pay page reports `unloaded`, how long before the popup is checked, in
   * **milliseconds** (payments §5.4).
   * @defaultValue `300`
   */
  unloadedGraceMs?: number;
  /**
   * Popup width in CSS pixels.
   * @defaultValue `400`
   */
  winWidth?: number;
  /**
   * Popup height in CSS pixels.
   * @defaultValue `560`
   */
  winHeight?: number;
  /**
   * Use the server's status event stream (`statusEventsURL`, server-sent events) when it offers
   * one and `EventSource` exists; else poll. The first stream error switches to polling.
   * @defaultValue `true`
   */
  useEventStream?: boolean;
  /** Called before `mozmarket-purchase` is dispatched: grant the product here (or on the event). */
  onPurchase?: (detail: PurchaseDetail) => void;
  /** Called before `mozmarket-cancelled` is dispatched. */
  onCancelled?: (detail: CancelledDetail) => void;
}

/** `mountRestoreButton` options (payments §7.8). Unknown names throw `IncorrectUsage`. */
export interface RestoreButtonOptions extends VerificationOptions {
  /**
   * The app server's endpoint listing the buyer's receipts.
   * @defaultValue `"/mozpay/receipts"`
   */
  restoreUrl?: string;
  /** Called before `mozmarket-restored` is dispatched. */
  onRestored?: (detail: RestoredDetail) => void;
}

/** `mozmarket-statechange` detail (every transition). */
export interface StateChangeDetail {
  /** The new state (`restoring` only for the Restore button). */
  state: WidgetState | 'restoring';
  /** The state before. */
  previous: WidgetState | 'restoring';
  /** The product (Buy button only). */
  productId?: string;
  /** The attempt, or `null` outside one (Buy button only). */
  attemptId?: string | null;
}

/** How a receipt was verified (payments §7.5). */
export interface Verification {
  /** The local check (signature chain and policy) passed; always `"ok"` when reported. */
  local: 'ok';
  /**
   * The verify service's answer; `"unreachable"` (network error, timeout, non-200, bad JSON)
   * still completes the purchase, with a warning, because the app server has already confirmed
   * the payment.
   */
  store: 'ok' | 'pending' | 'unreachable';
}

/**
 * `mozmarket-purchase` detail: the app server confirmed the order, the receipt is stored and
 * verified (payments §7.7). Sent once per successful attempt.
 */
export interface PurchaseDetail {
  /** The product bought. */
  productId: string;
  /** The app server's order id. */
  orderId: string;
  /** The provider's transaction id, or `null` when the server omitted it. */
  transactionID: string | null;
  /** The installed receipt (`certificate~receipt`). */
  receipt: string;
  /** A simulated purchase (`test-receipt`). */
  test: boolean;
  /** How the receipt was verified. */
  verification: Verification;
  /** The attempt id. */
  attemptId: string;
}

/** `mozmarket-failed` detail (once, on entering `failed`). */
export interface FailedDetail {
  /** The product, or `null` (Restore button). */
  productId: string | null;
  /** The attempt id, or `null` (Restore button). */
  attemptId: string | null;
  /** `error.code`. */
  code: string;
  /** The error (payments §7.6). */
  error: WidgetError;
}

/** `mozmarket-cancelled` detail (once, on entering `cancelled`). */
export interface CancelledDetail {
  /** The product. */
  productId: string;
  /** The attempt id. */
  attemptId: string;
  /** Cancelled by the provider's page, the popup closed, or *Cancel* after a blocked popup. */
  reason: 'USER_CANCELLED' | 'DIALOG_CLOSED_BY_USER' | 'POPUP_BLOCKED';
  /** The matching error object (`UserCancelled`, `PayWindowClosedByUser`, `PayWindowBlocked`). */
  error: WidgetError;
}

/**
 * `mozmarket-warning` detail: a non-fatal problem (`UnknownMessageOrigin`, `AddReceiptError`,
 * verify service unreachable, corrupt local store).
 */
export interface WarningDetail {
  /** The product, or `null`. */
  productId: string | null;
  /** The attempt id, or `null`. */
  attemptId: string | null;
  /** What happened. */
  error: WidgetError;
}

/** `mozmarket-restored` detail, at the end of a restore run (payments §7.8). */
export interface RestoredDetail {
  /** Restored products: verified `ok`, `pending`, or with the verify service unreachable. */
  products: Array<{ productId: string; orderId: string | null; transactionID: string | null; receipt: string; verification: Verification }>;
  /**
   * Skipped entries with their code (e.g. `PAYMENT_REFUNDED`, `INVALID_RECEIPT`); their receipts
   * were removed from the local store. Revoke on `PAYMENT_REFUNDED` / `PAYMENT_REVERSED`.
   */
  skipped: Array<{ productId: string; transactionID: string | null; code: string }>;
}

/** What `mountBuyButton` returns (payments §7.1). */
export interface BuyButtonHandle {
  /** The current state. */
  readonly state: WidgetState;
  /** Whether `destroy()` has run. */
  readonly destroyed: boolean;
  /**
   * Back to `idle` from `failed`, `cancelled` or `purchased`.
   * @throws `IncorrectUsage` after `destroy()`.
   */
  reset(): void;
  /** Removes listeners and the DOM, closes a popup the widget opened. No events afterwards. */
  destroy(): void;
}

/** What `mountRestoreButton` returns (payments §7.8). */
export interface RestoreButtonHandle {
  /** The current state. */
  readonly state: 'idle' | 'restoring' | 'failed';
  /**
   * Starts a restore run, as activating the button does (ignored while one runs).
   * @throws `IncorrectUsage` after `destroy()`.
   */
  restore(): void;
  /** Removes the DOM; no events afterwards. */
  destroy(): void;
}

/**
 * Renders a Buy button into `element` (into its shadow root, if it has one) and returns its
 * handle (payments §7.1). Mounting again on the same element replaces the first instance.
 *
 * @param element - Where to render.
 * @param options - The button's options.
 * @returns The handle.
 * @throws `IncorrectUsage` for an unknown option name or a non-element; `ConfigurationError`
 *   (naming the option) for a bad value; nothing is rendered then. Before the full core has
 *   loaded: an `Error` named `IncorrectUsage` with the message
 *   `mozmarket is not ready: await init() first`.
 *
 * @example
 * ```ts
 * await init();
 * mountBuyButton(el, { productId: "shiny-pony", providerOrigin: "https://marketplace.example" });
 * el.addEventListener("mozmarket-purchase", (e) => grant((e as CustomEvent<PurchaseDetail>).detail));
 * ```
 */
export declare function mountBuyButton(element: Element, options: BuyButtonOptions): BuyButtonHandle;

/**
 * Renders a "Restore purchases" button (payments §7.8): it fetches `restoreUrl`, installs and
 * verifies each receipt like a purchase, and reports with `mozmarket-restored`.
 *
 * @param element - Where to render.
 * @param options - The button's options.
 * @returns The handle.
 * @throws As {@link mountBuyButton}.
 */
export declare function mountRestoreButton(element: Element, options: RestoreButtonOptions): RestoreButtonHandle;

/**
 * Registers `<mozmarket-buy-button>` and `<mozmarket-restore-button>` at once (idempotent: names
 * already defined are left alone). Each element loads the full core itself when it is connected,
 * then mounts; it renders into an open shadow root. Attributes: `product`, `product-name`,
 * `label`, `buy-url`, `provider-origin`, `app-origin`, `allow-test-receipts`, `consumable`,
 * `owned`, `use-moz-pay`, `use-event-stream`, `locale` (Buy); `restore-url`, `provider-origin`,
 * `app-origin`, `allow-test-receipts`, `locale` (Restore). A boolean attribute is true when
 * present, unless its value is `"false"`. The `options` property takes the rest.
 *
 * @param registry - The registry to define them in; default: the global `customElements`.
 * @throws `IncorrectUsage` (`defineElements() needs a browser with custom elements`) when there
 *   is no registry or no `HTMLElement`.
 */
export declare function defineElements(registry?: CustomElementRegistry): void;

/** The properties that `<mozmarket-buy-button>` and `<mozmarket-restore-button>` add to `HTMLElement`. */
export interface MozmarketWidgetElement<Options, Handle, State extends string> extends HTMLElement {
  /**
   * Options merged over the attributes (`trustedRoots`, `support`, timings, callbacks, …).
   * Setting it re-mounts a connected element when the widget is in a settled state.
   */
  options: Partial<Options>;
  /** The widget's state, or `null` before it has mounted. */
  readonly state: State | null;
  /** The mount handle, or `null` before it has mounted (or after it was disconnected). */
  readonly handle: Handle | null;
  /** The error of the last failed core load or mount (also logged to the console), or `null`. */
  error: unknown;
}

/** `<mozmarket-buy-button>`. */
export type MozmarketBuyButtonElement = MozmarketWidgetElement<BuyButtonOptions, BuyButtonHandle, WidgetState>;

/** `<mozmarket-restore-button>`. */
export type MozmarketRestoreButtonElement = MozmarketWidgetElement<RestoreButtonOptions, RestoreButtonHandle, 'idle' | 'restoring' | 'failed'>;

declare global {
  /** `document.createElement('mozmarket-buy-button')` and `querySelector` know the element types. */
  interface HTMLElementTagNameMap {
    'mozmarket-buy-button': MozmarketBuyButtonElement;
    'mozmarket-restore-button': MozmarketRestoreButtonElement;
  }
}
