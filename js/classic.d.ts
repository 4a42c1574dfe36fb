/**
 * The classic-script surface: `<script src=".../mozmarket-receipts.js">` defines the global
 * `mozmarket.receipts` (reusing existing `mozmarket` / `mozmarket.receipts` objects). The members
 * exist as soon as the script has run; `ready` resolves once the WebAssembly core has loaded.
 * Without `mode`, a classic Verifier is compat unless trust roots are configured (§2.1).
 */
import type { Verifier, verify, addReceipt, listReceipts } from './index.js';

/** The members of `mozmarket.receipts`. */
export interface MozmarketReceipts {
  Verifier: typeof Verifier;
  /** The Prompter (receipts spec §8), as in the original library. */
  Prompter: typeof import('./prompter.js').Prompter;
  verify: typeof verify;
  addReceipt: typeof addReceipt;
  listReceipts: typeof listReceipts;
  /** Resolves when the core has loaded; rejects with the load error. */
  ready: Promise<void>;
  [member: string]: unknown;
}

declare global {
  // eslint-disable-next-line no-var
  var mozmarket: { receipts: MozmarketReceipts; [member: string]: unknown };
}

export {};
