/*
 * mozmarket receipts: the Prompter (spec/receipts.md §8), the JS side.
 *
 * Core decides, the shell renders. This file owns the JS object model of the Prompter (the
 * constructor with or without `new`, the option order of §8.1, `respond`, `removeOverlay`, the
 * instance data) and reads the JS values the core needs: which §5 classes an object is an
 * `instanceof` (tested against the verifier's own `states`/`errors`), and the own properties of
 * the chosen error. Every decision is a call into the wasm core of the `full` build:
 * - option and template checks, with the exact messages (`prompterCheckOptionName`,
 *   `prompterTemplates`, `prompterCheckStoreUrl`, `prompterCheckSupportHtml`,
 *   `prompterCheckOverlayId`);
 * - the state → template decision and the best reason (`prompterRespond`);
 * - expansion, sanitising and the overlay itself, rendered with yew (`prompterShow`).
 *
 * Like receipts.js this file has no imports and touches no global at evaluation time; its one
 * export is `createPrompter`, the `extend` hook of createReceipts(). js/assemble.mjs pastes it
 * with `export` stripped into the classic script as well.
 *
 * Classic surface before the core has loaded (§0.3): `Prompter({…, verify: true})` works (the
 * option checks and the rendering wait for the run, which waits for the core); any other
 * construction needs the core synchronously and throws `mozmarket.receipts is not ready`.
 *
 * No eval, no `new Function`, no string timers, no HTML sinks.
 */

const PROMPTER_NOT_READY = 'mozmarket.receipts is not ready';
const PROMPTER_NEEDS_DOCUMENT = 'Prompter needs a document';

/**
 * The default templates (§8.3) for a surface whose core is not loaded when the Prompter is
 * created (the classic script). A build step may replace `null` with the core's
 * `prompterDefaultTemplates()`, as it does for the class tree; otherwise
 * `Prompter.prototype.templates` is filled in as soon as the core has loaded.
 */
const PROMPTER_DEFAULT_TEMPLATES = /* @mozmarket-prompter-templates */ null;

const prompterHasOwn = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/** `String(x)` that never throws. */
function prompterStr(x) {
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

/** §0.4: values from a receipt or a store are cut to 256 characters plus `...`. */
function prompterClip(s) {
  return s.length > 256 ? s.slice(0, 256) + '...' : s;
}

const isObjectLike = (v) => v !== null && (typeof v === 'object' || typeof v === 'function');

/** A shallow copy of the own enumerable entries of a templates object (read once, now). */
function copyTemplates(t) {
  if (!isObjectLike(t)) return t;
  const out = Object.create(null);
  for (const k of Object.keys(t)) {
    Object.defineProperty(out, k, { value: t[k], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * Builds the Prompter for one surface.
 *
 * @param {{Verifier: Function, surface: "esm" | "classic", getCore: () => object | null,
 *   whenCore: () => Promise<object>}} internals what createReceipts() passes to `extend`.
 * @returns {{Prompter: Function}}
 */
export function createPrompter(internals) {
  const SurfaceVerifier = internals.Verifier;
  const getCore = internals.getCore;
  const whenCore = internals.whenCore;
  const notReadyMessage = typeof internals.notReady === 'string' ? internals.notReady : PROMPTER_NOT_READY;

  /** Per-instance data that is not part of the API. */
  const privates = new WeakMap();

  /** The §5 class names, from the core (cached). */
  let classNames = null;
  function namesOf(core) {
    if (classNames === null) classNames = core.classTree().map((row) => row[0]);
    return classNames;
  }

  /**
   * The §5 class names `x` is an `instanceof`, tested against the verifier's own `states` and
   * `errors` (§5.1: objects from one bundle never have to match classes from another).
   */
  function classesOf(core, verifier, x) {
    const out = [];
    if (!isObjectLike(x)) return out;
    let groups;
    try {
      groups = [verifier.states, verifier.errors];
    } catch (_) {
      return out;
    }
    for (const name of namesOf(core)) {
      for (const g of groups) {
        if (!isObjectLike(g)) continue;
        try {
          const C = g[name];
          if (typeof C === 'function' && x instanceof C) {
            out.push(name);
            break;
          }
        } catch (_) {
          // a hostile class object matches nothing
        }
      }
    }
    return out;
  }

  /** The receipt errors in `iterReceiptErrors` order. */
  function receiptErrorsOf(verifier) {
    const list = [];
    if (!isObjectLike(verifier)) return list;
    if (typeof verifier.iterReceiptErrors === 'function') {
      verifier.iterReceiptErrors((_key, err) => {
        list.push(err);
      });
    } else if (isObjectLike(verifier.receiptErrors)) {
      for (const k of Object.keys(verifier.receiptErrors)) list.push(verifier.receiptErrors[k]);
    }
    return list;
  }

  /** §8.5: the text of `error.‹name›` (the core HTML-escapes it). */
  function errorPropReader(err) {
    return (name) => {
      if (!isObjectLike(err) || typeof name !== 'string') return '';
      let v;
      try {
        if (!prompterHasOwn(err, name)) return '';
        v = err[name];
      } catch (_) {
        return '';
      }
      if (v === null || v === undefined) return '';
      if (typeof v === 'object') {
        let t;
        try {
          t = JSON.stringify(v);
        } catch (_) {
          t = undefined;
        }
        return prompterClip(typeof t === 'string' ? t : prompterStr(v));
      }
      return prompterClip(prompterStr(v));
    };
  }

  /**
   * The options as read at construction (§8.1, §8.3): own properties only, templates copied.
   */
  function readOptions(opts) {
    const get = (k) => (prompterHasOwn(opts, k) ? opts[k] : undefined);
    return {
      keys: Object.keys(opts),
      baseTemplates: copyTemplates(Prompter.prototype.templates),
      templates: copyTemplates(get('templates')),
      storeURL: get('storeURL'),
      supportHTML: get('supportHTML'),
      overlayId: get('overlayId'),
      allowNoInstall: !!get('allowNoInstall'),
      ignoreInternalError: !!get('ignoreInternalError'),
      fatalInternalError: !!get('fatalInternalError'),
      verify: !!get('verify'),
      verifier: get('verifier'),
      verifierOptions: get('verifierOptions'),
    };
  }

  /** §8.1 steps 2–6, in order, with the core's messages. Returns the configuration. */
  function configure(core, raw) {
    for (const key of raw.keys) core.prompterCheckOptionName(key);
    const templates = core.prompterTemplates(raw.baseTemplates, raw.templates);
    const s = raw.storeURL;
    const storeURL = s ? prompterStr(s) : '';
    core.prompterCheckStoreUrl(!!s, storeURL);
    const h = raw.supportHTML;
    core.prompterCheckSupportHtml(!!h, typeof h === 'string');
    const overlayId = core.prompterCheckOverlayId(raw.overlayId);
    return {
      templates,
      storeURL,
      supportHTML: h,
      overlayId,
      allowNoInstall: raw.allowNoInstall,
      ignoreInternalError: raw.ignoreInternalError,
      fatalInternalError: raw.fatalInternalError,
    };
  }

  function privOf(prompter) {
    const p = privates.get(prompter);
    if (!p) throw new TypeError('not a Prompter');
    return p;
  }

  /** The configuration, checking the options now if that had to wait for the core. */
  function configOf(p) {
    if (p.config) return p.config;
    const core = getCore();
    if (!core) throw new Error(notReadyMessage);
    p.config = configure(core, p.raw);
    p.raw = null;
    return p.config;
  }

  /**
   * `Prompter(options)` (§8.1): with or without `new`.
   * @constructor
   */
  function Prompter(options) {
    if (!new.target) return new Prompter(options);
    if (typeof document === 'undefined' || document === null) throw new Error(PROMPTER_NEEDS_DOCUMENT);
    const opts = options === undefined || options === null ? {} : options;
    const raw = readOptions(opts);
    const p = { config: null, raw, handle: null, token: null };
    privates.set(this, p);
    this.verifier = null;
    this.error = null;
    this.blocking = false;
    this.overlay = null;

    const core = getCore();
    const given = raw.verifier !== undefined && raw.verifier !== null;
    if (core) {
      configOf(p);
    } else if (given || !raw.verify) {
      // Classic surface before `ready`: only a `verify: true` Prompter can wait for the core.
      throw new Error(notReadyMessage);
    }
    // Step 7.
    if (given) this.respond(raw.verifier);
    // Step 8.
    if (raw.verify) {
      const v = new SurfaceVerifier(raw.verifierOptions);
      v.verify(() => this.respond(v));
    }
  }

  // §8.3: the defaults, a plain object that apps may change (entries are validated on use).
  let defaults = null;
  const core0 = getCore();
  if (core0) defaults = core0.prompterDefaultTemplates();
  else if (isObjectLike(PROMPTER_DEFAULT_TEMPLATES)) defaults = Object.assign({}, PROMPTER_DEFAULT_TEMPLATES);
  if (defaults === null) {
    // Filled in (without overwriting an app's own entries) as soon as the core has loaded.
    defaults = {};
    Promise.resolve()
      .then(() => whenCore())
      .then(
        (core) => {
          const d = core.prompterDefaultTemplates();
          for (const k of Object.keys(d)) if (!prompterHasOwn(defaults, k)) defaults[k] = d[k];
        },
        () => {},
      );
  }
  Prompter.prototype.templates = defaults;

  /**
   * §8.2: shows what `verifier.state` calls for, or nothing; throws for an incomplete run and an
   * unknown state.
   */
  Prompter.prototype.respond = function (verifier) {
    const p = privOf(this);
    const core = getCore();
    if (!core) throw new Error(notReadyMessage);
    const config = configOf(p);
    this.verifier = verifier;
    this.error = null;
    let state;
    try {
      state = isObjectLike(verifier) ? verifier.state : undefined;
    } catch (_) {
      state = undefined;
    }
    const errors = receiptErrorsOf(verifier);
    const decision = core.prompterRespond(
      classesOf(core, verifier, state),
      errors.map((e) => classesOf(core, verifier, e)),
      config.allowNoInstall,
      config.ignoreInternalError,
      config.fatalInternalError,
      () => prompterStr(state),
    );
    if (decision.reason !== undefined) this.error = errors[decision.reason];
    if (decision.action === 'throw') throw new Error(decision.message);
    if (decision.action !== 'show') {
      // The user is in: a message this Prompter showed earlier no longer applies.
      this.blocking = false;
      this.removeOverlay();
      return undefined;
    }
    this.removeOverlay();
    this.blocking = !!decision.blocking;
    const token = {};
    p.token = token;
    const handle = core.prompterShow(
      config.overlayId,
      decision.template,
      config.templates[decision.template],
      config.templates.dialogLabel,
      config.storeURL,
      config.supportHTML,
      errorPropReader(this.error),
      this.blocking,
      () => {
        // §8.4 removing step 5 (also when the user closed it).
        if (p.token !== token) return;
        p.token = null;
        p.handle = null;
        this.overlay = null;
      },
    );
    p.handle = handle;
    this.overlay = handle.root();
    return undefined;
  };

  /** §8.4: removes this Prompter's overlay, if it has one. */
  Prompter.prototype.removeOverlay = function () {
    const p = privOf(this);
    const handle = p.handle;
    p.handle = null;
    p.token = null;
    this.overlay = null;
    if (handle) handle.remove();
    return undefined;
  };

  return { Prompter };
}
