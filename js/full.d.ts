/**
 * mozmarket/full: everything in `mozmarket` (the Verifier), plus the Prompter (receipts §8) and
 * the Buy and Restore buttons (payments §7), rendered with yew from the full WebAssembly core.
 *
 * The widgets never grant anything themselves: grant on `mozmarket-purchase` (sent only after
 * the app server confirmed the payment and the receipt passed local and store verification), and
 * keep your server as the source of truth.
 */
export * from './index.js';
export { Prompter, PrompterOptions, PrompterInstance, PrompterStatic } from './prompter.js';

/** The widget states of payments §7.2. */
export type WidgetState =
  | 'idle' | 'preparing' | 'paying' | 'waiting' | 'installing' | 'verifying'
  | 'purchased' | 'failed' | 'cancelled';

/** The error classes of §7.6 (`error.name`). */
export type WidgetErrorName =
  | 'ApiRequestError' | 'ApiRequestTimeout' | 'BadApiResponse' | 'BadJsonResponse' | 'InvalidJwt'
  | 'ConfigurationError' | 'IncorrectUsage' | 'PayWindowClosedByUser' | 'UserCancelled'
  | 'PayWindowBlocked' | 'FailedWindowMessage' | 'UnknownMessageStatus' | 'UnknownMessageOrigin'
  | 'PayPlatformError' | 'PayPlatformUnavailable' | 'PurchaseTimeout' | 'PaymentFailed'
  | 'InvalidReceipt' | 'TestReceiptNotAllowed' | 'AddReceiptError';

/** A widget error (§7.6): `code` is stable; provider or platform codes are in `detail`. */
export interface WidgetError extends Error {
  name: WidgetErrorName;
  code: string;
  /** `httpStatus`, `errorCode`, `missing`, `providerCode`, `platformCode`, `check`, … */
  detail: Record<string, unknown>;
  productId: string | null;
  attemptId: string | null;
}

/** A trusted root: certificates' `iss` must equal `url`; pinned `keys` skip the fetch. */
export interface TrustedRoot {
  url: string;
  keys?: import('./index.js').JWK[] | import('./index.js').JWKS;
}

/** Shown in `failed`: text plus an `https:` link and/or a `mailto:` link (§7.11). */
export interface SupportContact {
  text: string;
  email?: string;
  url?: string;
}

/** Options shared by the Buy and Restore buttons (receipt installation and verification). */
export interface VerificationOptions {
  /** The marketplace origin: the default pay URL, `receiptCheckSites` and `trustedRoots` come from it. */
  providerOrigin?: string;
  /** Compared with the receipt's `product.url`. Default `location.origin`. */
  appOrigin?: string;
  /** Must be true for simulated purchases (test receipts) to finish. Default false. */
  allowTestReceipts?: boolean;
  /** Verify URLs allowed (exact origin, path segment-wise at or below). */
  receiptCheckSites?: string[];
  /** Default `[{url: providerOrigin + "/public_keys/root.jwk"}]`. */
  trustedRoots?: TrustedRoot[];
  /** Default `"auto"`: mozApps, then localStorage, then memory. */
  receiptStorage?: 'auto' | 'mozApps' | 'localStorage' | 'memory';
  /** Default `"mozmarketReceipts"`. */
  localStorageKey?: string;
  /** Per HTTP request. Default 10000. */
  apiTimeoutMs?: number;
  /** For requests to the app server. Default `"include"`. */
  credentials?: 'include' | 'same-origin';
  /** A BCP 47 tag among en, de, fr, es, pt-BR, zh-TW. Default: negotiated from `navigator.languages` (an unsupported tag falls back to en). */
  locale?: string;
  support?: SupportContact;
  onFailed?: (detail: FailedDetail) => void;
  onStateChange?: (detail: StateChangeDetail) => void;
  onWarning?: (detail: WarningDetail) => void;
}

/** `mountBuyButton` options (payments §7.1). Unknown names throw `IncorrectUsage`. */
export interface BuyButtonOptions extends VerificationOptions {
  productId: string;
  productName?: string;
  label?: string;
  consumable?: boolean;
  owned?: boolean;
  /** Default `/mozpay/product/{id}/buy`. */
  buyUrl?: string;
  /** `typ` → pay URL template containing `{jwt}` once. */
  payProviderUrls?: Record<string, string>;
  extraProviderUrls?: Record<string, string>;
  useMozPay?: 'auto' | 'never';
  onBrokenWebRT?: boolean;
  pollInitialMs?: number;
  pollMaxMs?: number;
  pollFactor?: number;
  pollJitter?: number;
  purchaseTimeoutMs?: number;
  closedGraceMs?: number;
  windowPollMs?: number;
  unloadedGraceMs?: number;
  winWidth?: number;
  winHeight?: number;
  useEventStream?: boolean;
  onPurchase?: (detail: PurchaseDetail) => void;
  onCancelled?: (detail: CancelledDetail) => void;
}

/** `mountRestoreButton` options (§7.8). */
export interface RestoreButtonOptions extends VerificationOptions {
  /** Default `/mozpay/receipts`. */
  restoreUrl?: string;
  onRestored?: (detail: RestoredDetail) => void;
}

export interface StateChangeDetail {
  state: WidgetState | 'restoring';
  previous: WidgetState | 'restoring';
  productId?: string;
  attemptId?: string | null;
}

export interface Verification {
  local: 'ok';
  store: 'ok' | 'pending' | 'unreachable';
}

/** `mozmarket-purchase`: the app server confirmed, the receipt is stored and verified. */
export interface PurchaseDetail {
  productId: string;
  orderId: string;
  transactionID: string | null;
  receipt: string;
  test: boolean;
  verification: Verification;
  attemptId: string;
}

export interface FailedDetail {
  productId: string | null;
  attemptId: string | null;
  code: string;
  error: WidgetError;
}

export interface CancelledDetail {
  productId: string;
  attemptId: string;
  reason: 'USER_CANCELLED' | 'DIALOG_CLOSED_BY_USER' | 'POPUP_BLOCKED';
  error: WidgetError;
}

export interface WarningDetail {
  productId: string | null;
  attemptId: string | null;
  error: WidgetError;
}

export interface RestoredDetail {
  products: Array<{ productId: string; orderId: string | null; transactionID: string | null; receipt: string; verification: Verification }>;
  skipped: Array<{ productId: string; transactionID: string | null; code: string }>;
}

/** What `mountBuyButton` returns. */
export interface BuyButtonHandle {
  readonly state: WidgetState;
  readonly destroyed: boolean;
  /** Back to `idle` from `failed`, `cancelled` or `purchased`. */
  reset(): void;
  /** Removes listeners and the DOM, closes the popup. No events afterwards. */
  destroy(): void;
}

export interface RestoreButtonHandle {
  readonly state: 'idle' | 'restoring' | 'failed';
  /** Starts a restore run (ignored while one runs). */
  restore(): void;
  destroy(): void;
}

/** Renders a Buy button into `element` (or its shadow root). Throws `ConfigurationError` / `IncorrectUsage` on bad options, rendering nothing. */
export declare function mountBuyButton(element: Element, options: BuyButtonOptions): BuyButtonHandle;
/** Renders a Restore purchases button. */
export declare function mountRestoreButton(element: Element, options: RestoreButtonOptions): RestoreButtonHandle;
/** Registers `<mozmarket-buy-button>` and `<mozmarket-restore-button>` (idempotent). */
export declare function defineElements(registry?: CustomElementRegistry): void;
