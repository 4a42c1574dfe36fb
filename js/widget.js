/*
 * mozmarket widgets: the JS face of the Buy and Restore buttons (payments §7).
 *
 * The buttons themselves (options, the purchase flow, rendering) are Rust + yew in the full
 * core; this file adds what is JS by nature: one instance per element (mounting twice replaces
 * the first), and the custom elements <mozmarket-buy-button> and <mozmarket-restore-button>,
 * which render into an open shadow root.
 *
 * No imports and no top-level side effects: js/assemble.mjs ships it as pkg/widget.js.
 */

const BUY_ATTRIBUTES = {
  product: ['productId', 'string'],
  'product-name': ['productName', 'string'],
  label: ['label', 'string'],
  'buy-url': ['buyUrl', 'string'],
  'provider-origin': ['providerOrigin', 'string'],
  'app-origin': ['appOrigin', 'string'],
  'allow-test-receipts': ['allowTestReceipts', 'boolean'],
  consumable: ['consumable', 'boolean'],
  owned: ['owned', 'boolean'],
  'use-moz-pay': ['useMozPay', 'string'],
  'use-event-stream': ['useEventStream', 'boolean'],
  locale: ['locale', 'string'],
};

const RESTORE_ATTRIBUTES = {
  'restore-url': ['restoreUrl', 'string'],
  'provider-origin': ['providerOrigin', 'string'],
  'app-origin': ['appOrigin', 'string'],
  'allow-test-receipts': ['allowTestReceipts', 'boolean'],
  locale: ['locale', 'string'],
};

/** States in which an element may re-mount for a changed attribute without losing a purchase. */
const SETTLED = new Set(['idle', 'purchased', 'failed', 'cancelled']);

function notReady(message) {
  const e = new Error(message || 'mozmarket is not ready: await init() first');
  e.name = 'IncorrectUsage';
  e.code = 'INCORRECT_USAGE';
  e.detail = {};
  return e;
}

function usage(message) {
  const e = new Error(message);
  e.name = 'IncorrectUsage';
  e.code = 'INCORRECT_USAGE';
  e.detail = {};
  return e;
}

/**
 * @param {() => object|null} getCore the loaded full core (wasm-bindgen module), or null
 * @param {{load?: () => Promise<object>, notReady?: string}} [loading] `load` starts loading the
 *   core on demand (the custom elements use it); `notReady` is the message thrown by a mount
 *   before the core has loaded.
 * @returns {{mountBuyButton: Function, mountRestoreButton: Function, defineElements: Function}}
 */
export function createWidgets(getCore, loading) {
  const mounted = new WeakMap();
  const load = loading && typeof loading.load === 'function' ? loading.load : null;
  const notReadyMessage = loading && typeof loading.notReady === 'string' ? loading.notReady : undefined;

  function mount(exportName, element, options) {
    const core = getCore();
    if (!core) throw notReady(notReadyMessage);
    if (!element || typeof element !== 'object' || element.nodeType !== 1) {
      throw usage(`${exportName}(element, options): element must be a DOM element`);
    }
    // Validation happens before anything renders: a throw leaves the element as it was.
    const handle = core[exportName](element, options);
    const previous = mounted.get(element);
    if (previous && !previous.destroyed) {
      try {
        previous.destroy();
      } catch (e) {
        if (typeof console !== 'undefined') console.error('mozmarket: could not destroy the previous instance', e);
      }
    }
    mounted.set(element, handle);
    return handle;
  }

  /** Renders a Buy button into `element` (or its shadow root). */
  function mountBuyButton(element, options) {
    return mount('mountBuyButton', element, options);
  }

  /** Renders a Restore purchases button into `element` (or its shadow root). */
  function mountRestoreButton(element, options) {
    return mount('mountRestoreButton', element, options);
  }

  function optionsFrom(el, table) {
    const out = {};
    for (const [attr, [name, kind]] of Object.entries(table)) {
      if (!el.hasAttribute(attr)) continue;
      const v = el.getAttribute(attr);
      out[name] = kind === 'boolean' ? v !== 'false' : v;
    }
    const extra = el._mmOptions;
    if (extra && typeof extra === 'object') for (const k of Object.keys(extra)) out[k] = extra[k];
    return out;
  }

  function elementClass(Base, table, mountFn) {
    return class extends Base {
      static get observedAttributes() {
        return Object.keys(table);
      }

      constructor() {
        super();
        if (!this.shadowRoot) this.attachShadow({ mode: 'open' });
        this._mmOptions = {};
        this._mmHandle = null;
        this.error = null;
      }

      /** Options merged over the attributes (trustedRoots, support, timings, callbacks, …). */
      get options() {
        return this._mmOptions;
      }

      set options(value) {
        this._mmOptions = value && typeof value === 'object' ? value : {};
        if (this.isConnected) this._mmMount(true);
      }

      /** The widget's state name, or null before it has mounted. */
      get state() {
        return this._mmHandle ? this._mmHandle.state : null;
      }

      /** The mount handle (`reset()`, `destroy()`, `state`). */
      get handle() {
        return this._mmHandle;
      }

      connectedCallback() {
        this._mmMount(false);
      }

      disconnectedCallback() {
        if (this._mmHandle) {
          this._mmHandle.destroy();
          this._mmHandle = null;
        }
      }

      attributeChangedCallback() {
        if (this.isConnected && this._mmHandle) this._mmMount(true);
      }

      _mmMount(remount) {
        if (remount && this._mmHandle && !SETTLED.has(this._mmHandle.state)) return;
        if (!remount && this._mmHandle) return;
        if (!getCore() && load) {
          // The core loads on demand: mount once it has (if this element is still connected).
          if (this._mmLoading) return;
          this._mmLoading = true;
          load().then(
            () => {
              this._mmLoading = false;
              if (this.isConnected && !this._mmHandle) this._mmMount(false);
            },
            (e) => {
              this._mmLoading = false;
              this.error = e;
              if (typeof console !== 'undefined') console.error('mozmarket: could not load the core for', this.localName, e);
            },
          );
          return;
        }
        try {
          this._mmHandle = mountFn(this, optionsFrom(this, table));
          this.error = null;
        } catch (e) {
          this.error = e;
          if (typeof console !== 'undefined') console.error('mozmarket: could not mount', this.localName, e);
        }
      }
    };
  }

  /**
   * Registers <mozmarket-buy-button> and <mozmarket-restore-button> (once; later calls do
   * nothing). Call it yourself, or import "mozmarket/element", which does.
   */
  function defineElements(registry) {
    const reg = registry || (typeof customElements !== 'undefined' ? customElements : null);
    if (!reg || typeof HTMLElement === 'undefined') throw usage('defineElements() needs a browser with custom elements');
    if (!reg.get('mozmarket-buy-button')) {
      reg.define('mozmarket-buy-button', elementClass(HTMLElement, BUY_ATTRIBUTES, mountBuyButton));
    }
    if (!reg.get('mozmarket-restore-button')) {
      reg.define('mozmarket-restore-button', elementClass(HTMLElement, RESTORE_ATTRIBUTES, mountRestoreButton));
    }
  }

  return { mountBuyButton, mountRestoreButton, defineElements };
}
