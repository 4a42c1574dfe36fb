/*
 * mozmarket/element: importing this module registers <mozmarket-buy-button> and
 * <mozmarket-restore-button> (a side effect, declared in package.json's sideEffects). Where there
 * are no custom elements (server-side rendering) it registers nothing. Each element loads the
 * core itself when it connects.
 */
import { defineElements } from './full.js';

if (typeof customElements !== 'undefined' && customElements !== null && typeof HTMLElement !== 'undefined') {
  defineElements();
}

export * from './full.js';
