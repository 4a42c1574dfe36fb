/**
 * `mozmarket/classic` (`mozmarket-receipts.js`): the classic-script surface, the drop-in
 * replacement for Mozilla's receiptverifier.js (receipts §0.3).
 *
 * `<script src=".../mozmarket-receipts.js"></script>` defines the global `mozmarket.receipts`
 * (reusing existing `mozmarket` / `mozmarket.receipts` objects). The members exist as soon as the
 * script has run; the full WebAssembly core (`core-full/` next to the script) starts loading in
 * the background at once, and {@link MozmarketReceipts.ready} resolves when it has loaded.
 *
 * Unlike the ES entries, a classic `Verifier` without `mode` is **compat** (the store's verify
 * URL vouches for a receipt; no signature is read) unless trust roots are configured, which makes
 * it strict (receipts §2.1).
 *
 * Before `ready` has resolved:
 * - `new Verifier(options)` works for compat-mode options;
 * - `verify()`, `verifyReceipts()`, `addReceipt()` wait for the core;
 * - `parseReceipt()`, a Verifier with `trustedKeys` or `rootKeyOrigins`, and a Prompter that has
 *   to respond at once throw `Error("mozmarket.receipts is not ready")`;
 * - if the core fails to load, every run ends in `VerifierError("Exception: ‹load error›")` and
 *   its callback is still called.
 *
 * @example
 * ```js
 * // app.js, loaded after <script src="/pkg/mozmarket-receipts.js"></script>
 * mozmarket.receipts.Prompter({
 *   storeURL: "https://marketplace.example/app/my-app",
 *   supportHTML: '<a href="mailto:help@app.example">help@app.example</a>',
 *   verify: true,
 *   verifierOptions: { installs_allowed_from: ["https://marketplace.example"] },
 * });
 * ```
 *
 * @packageDocumentation
 */
import type { Verifier, verify, addReceipt, listReceipts } from './index.js';

/** The members of `mozmarket.receipts`. */
export interface MozmarketReceipts {
  /** The Verifier (receipts §4): compat unless `trustedKeys`/`rootKeyOrigins` (or `mode`) are given. */
  Verifier: typeof Verifier;
  /** The Prompter (receipts §8), as in the original library. */
  Prompter: typeof import('./prompter.js').Prompter;
  /** `new Verifier(options).verify(callback)`. */
  verify: typeof verify;
  /** Installs a receipt after a purchase (receipts §7.3); waits for the core. */
  addReceipt: typeof addReceipt;
  /** The candidate receipts from mozApps and the local store (receipts §7.2). */
  listReceipts: typeof listReceipts;
  /**
   * Resolves when the core has loaded; rejects with the load error. A real `Promise`, created
   * when the script runs (the load starts then, not when this is awaited).
   */
  ready: Promise<void>;
  /** Members an app put on an existing `mozmarket.receipts` object are kept. */
  [member: string]: unknown;
}

declare global {
  /**
   * The `mozmarket` namespace object defined (or reused) by `mozmarket-receipts.js`; other
   * members an app put on it are kept.
   */
  // eslint-disable-next-line no-var
  var mozmarket: { receipts: MozmarketReceipts; [member: string]: unknown };
}

export {};
