/**
 * The Prompter (spec/receipts.md §8): a ready-made overlay that tells the user what to do when
 * verification did not let them in. Useful for testing and for simple apps; apps with their own
 * UI read `verifier.state` instead.
 *
 * Available from `mozmarket/full` and as `mozmarket.receipts.Prompter` in the classic script.
 * It renders with the full WebAssembly core and needs a DOM (`Prompter needs a document`).
 * With the ES entry, `await init()` (from `mozmarket/full`) before constructing one.
 *
 * Page safety (§8.5–§8.7): templates allow only `<%= … %>` placeholders from a fixed list and are
 * never evaluated; the expanded text is sanitised and built with `createElement` /
 * `createTextNode`, so a value from a receipt (such as `error.iss`) is always shown as text. No
 * HTML sink, no inline style markup: it works under `script-src 'self' 'wasm-unsafe-eval';
 * style-src 'self'; require-trusted-types-for 'script'`.
 */
import type { Verifier, VerifierOptions, StateObject } from './index.js';

/**
 * The ten template names of §8.3: `fatalInternalError` (blocking internal error),
 * `internalError`, `storeInstall` (not installed / no receipts), `refunded`,
 * `invalidReceiptIssuer`, `invalidFromStore`, `receiptFormatError`, `genericError` (any other
 * receipt error), `mozAppsNotSupported`, and `dialogLabel` (the dialog's accessible name).
 */
export type PrompterTemplateName =
  | 'fatalInternalError'
  | 'internalError'
  | 'storeInstall'
  | 'refunded'
  | 'invalidReceiptIssuer'
  | 'invalidFromStore'
  | 'receiptFormatError'
  | 'genericError'
  | 'mozAppsNotSupported'
  | 'dialogLabel';

/**
 * Template texts by name (§8.3, §8.5). A template may use only these placeholders (whitespace
 * inside the delimiters is ignored):
 * - `<%= supportHTML %>`: the `supportHTML` option, inserted as written (then sanitised);
 * - `<%= storeURL %>`, `<%= quote(storeURL) %>`: the store URL, HTML-escaped;
 * - `<%= error.name %>`, `<%= quote(error.name) %>` (`name` matching `[A-Za-z_][A-Za-z0-9_]*`):
 *   the own property of {@link PrompterInstance.error}, HTML-escaped (`""` when missing, `null`
 *   or `undefined`; JSON text for objects; `String()` otherwise; cut to 256 characters + `...`).
 *
 * Anything else between `<%` and `%>` (or an unterminated `<%`) throws
 * `Unsupported template expression in ‹name›: ‹placeholder›` at construction. `dialogLabel` is
 * plain text and allows no placeholders.
 */
export type PrompterTemplates = { [name in PrompterTemplateName]?: string };

/** Options of `Prompter(options)` (§8.1). Unknown keys throw `Unknown option: ‹key›`. */
export interface PrompterOptions {
  /**
   * Required. The store page where the app can be bought or installed: an absolute `https:`
   * URL, or `http:` on a loopback host (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`).
   * Throws `You must provide a storeURL option` / `Invalid storeURL option`.
   */
  storeURL: string | URL;
  /**
   * Required. The support contact as HTML. Trusted, but still sanitised (§8.6): only `a` (with
   * an `https:`, `mailto:` or loopback `http:` link, given `rel="noopener noreferrer"`), `b`,
   * `strong`, `i`, `em`, `br`, `p` and `span` are kept, without other attributes.
   * Throws `You must provide a supportHTML option` / `Invalid supportHTML option`.
   */
  supportHTML: string;
  /**
   * Let users without an install or purchase in. The `mozAppsNotSupported`, `storeInstall` and
   * receipt-error messages become closable, and `NoReceipts` shows nothing. Default `false`.
   */
  allowNoInstall?: boolean;
  /** Show nothing on an `InternalError` state. Default `false`. */
  ignoreInternalError?: boolean;
  /** Show an `InternalError` state as a blocking message (`fatalInternalError`). Default `false`. */
  fatalInternalError?: boolean;
  /**
   * Text overrides, merged into a copy of {@link PrompterStatic.prototype}`.templates`.
   * Throws `Unknown template: ‹key›`, `Template ‹key› must be a string`, or
   * `Unsupported template expression in ‹key›: ‹placeholder›`; a value that is not an object
   * throws `Invalid templates option`.
   */
  templates?: PrompterTemplates;
  /**
   * Build `new Verifier(verifierOptions)` from the same surface, run `verify()` and respond to
   * it. Constructor errors of the Verifier propagate. Default `false`.
   */
  verify?: boolean;
  /** Respond to this already finished verifier now (synchronously, during construction). */
  verifier?: Verifier;
  /** Options for the Verifier built by `verify: true`. */
  verifierOptions?: VerifierOptions;
  /**
   * The overlay's id `O`, the base of every element id (`O`, `O-message`, `O-close`,
   * `O-close-text`, `O-title`, `O-text`, and `O-style` where a `<style>` fallback is needed).
   * Must match `^[A-Za-z][A-Za-z0-9_-]{0,63}$` (`Invalid overlayId option`).
   * Default `"moz-receiptverifier-overlay"`.
   */
  overlayId?: string;
}

/** A Prompter (§8.1 instance members). */
export interface PrompterInstance {
  /**
   * §8.2: looks at `verifier.state` (tested with `instanceof` against `verifier.states` and
   * `verifier.errors`) and shows the matching message, or nothing:
   *
   * | state | shows | blocking |
   * |---|---|---|
   * | `VerificationIncomplete` | throws `Prompter called before verification complete` | |
   * | `OK` (and `OKCache`, `OKStaleCache`), `NetworkError` (and every network error) | nothing | |
   * | `MozAppsNotSupported` | `mozAppsNotSupported` | unless `allowNoInstall` |
   * | `InternalError` | nothing with `ignoreInternalError`; `fatalInternalError` with `fatalInternalError` (blocking); else `internalError` (closable) | |
   * | `NeedsInstall` | nothing for `NoReceipts` with `allowNoInstall`; else `storeInstall` | unless `allowNoInstall` |
   * | `NoValidReceipts` | by the best receipt error: `refunded`, `invalidReceiptIssuer`, `invalidFromStore`, `receiptFormatError` or `genericError` | unless `allowNoInstall` |
   * | anything else | throws `Unexpected state in verifier: ‹String(state)›` | |
   *
   * The best error is the first of `iterReceiptErrors`, replaced by a later one while it is a
   * `NetworkError`; it becomes {@link error}. When nothing is shown, an overlay this Prompter
   * showed earlier is removed.
   *
   * @param verifier - A verifier whose run has finished (from any entry).
   * @throws `Error` for the two "throws" rows above; the not-ready error before the core has
   *   loaded.
   */
  respond(verifier: Verifier): void;
  /**
   * Removes the overlay (§8.4): the `#O` element, the key listener and the `inert` attributes the
   * Prompter set; focus returns to the element that had it. No-op when none is shown.
   */
  removeOverlay(): void;
  /** The verifier last responded to, or `null`. */
  verifier: Verifier | null;
  /** The chosen receipt error of a `NoValidReceipts` state (§8.2), or `null`. */
  error: StateObject | null;
  /** Whether the message shown last is blocking (no close button; Escape and clicks flash). */
  blocking: boolean;
  /**
   * The overlay's root element `#O`, or `null`. Set as soon as `respond` returns; the dialog
   * inside it is rendered, and focused, a microtask later. If `document.body` does not exist yet,
   * it is attached on `DOMContentLoaded`.
   */
  overlay: HTMLElement | null;
}

/**
 * The `Prompter` constructor (§8.1): callable with or without `new`.
 *
 * @example Verify at launch and let the Prompter handle a failure (ES module)
 * ```ts
 * import { init, Prompter } from "mozmarket/full";
 * await init();
 * new Prompter({
 *   storeURL: "https://marketplace.example/app/my-app",
 *   supportHTML: 'Mail <a href="mailto:help@app.example">help@app.example</a>',
 *   verify: true,
 *   verifierOptions: { trustedKeys, installs_allowed_from: ["https://marketplace.example"] },
 * });
 * ```
 */
export interface PrompterStatic {
  /**
   * Validates `options` (§8.1, in order; each failure throws an `Error` with the exact message),
   * then responds to `options.verifier` and/or runs a Verifier (`verify: true`).
   *
   * Before the core has loaded (ES entry: before `init()` of `mozmarket/full` resolves; classic
   * script: before `mozmarket.receipts.ready` resolves): a `verify: true` Prompter without
   * `verifier` works (its option checks and the message wait for the run, which loads or waits
   * for the core; an option error is then thrown from the verify callback), but its Verifier is
   * built at once, so `verifierOptions` with `trustedKeys` or `rootKeyOrigins` throw; any other
   * construction throws `Error("mozmarket is not ready: await init() first")` (classic script:
   * `mozmarket.receipts is not ready`).
   *
   * @param options - The Prompter's options.
   * @throws `Error` with the exact §8.1 message for a bad option (e.g.
   *   `You must provide a storeURL option`, `Unknown option: ‹key›`); `Prompter needs a document`
   *   without a DOM; the not-ready error above; whatever `new Verifier(verifierOptions)` throws.
   */
  new (options: PrompterOptions): PrompterInstance;
  /**
   * The same as `new Prompter(options)`, as in the original library.
   * @param options - The Prompter's options.
   */
  (options: PrompterOptions): PrompterInstance;
  readonly prototype: PrompterInstance & {
    /**
     * The default templates (§8.3), as in the original. They are read when a Prompter is
     * constructed; an entry changed here is validated like an override.
     */
    templates: PrompterTemplates;
  };
}

/**
 * The Prompter (§8): from `mozmarket/full`, or `mozmarket.receipts.Prompter` in the classic
 * script. Each entry has its own; it tests states against the `states`/`errors` of the verifier
 * it is given, so verifiers from any entry work.
 */
export declare const Prompter: PrompterStatic;
