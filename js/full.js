/*
 * mozmarket: the full ES module entry: the verifier, the Prompter (receipts §8), and the Buy and
 * Restore buttons (payments §7), on the full WebAssembly core (yew UI included).
 *
 *   import { init, Verifier, Prompter, mountBuyButton, defineElements } from "mozmarket/full";
 *   await init();
 *
 * Importing this module has no side effects, like index.js: the core loads on `init()`, on
 * `await ready`, when a run starts, or when a custom element connects.
 */
import initWasm, * as core from './core-full/mozmarket_full.js';
import { createReceipts } from './receipts.js';
import { createPrompter } from './prompter.js';
import { createWidgets } from './widget.js';
import { lazyCore, NOT_READY } from './load.js';

// Written by js/assemble.mjs (see index.js).
const CLASS_TREE = /* @mozmarket-class-tree */ null;

const loader = lazyCore(initWasm, core, () => new URL('./core-full/mozmarket_full_bg.wasm', import.meta.url));

const api = createReceipts(loader.get, 'esm', {
  load: loader.load,
  classTree: CLASS_TREE,
  notReady: NOT_READY,
  ready: loader.ready,
  extend: createPrompter,
});

export const init = loader.init;
export const { Verifier, verify, addReceipt, listReceipts, ready, Prompter } = api;
export const { mountBuyButton, mountRestoreButton, defineElements } = createWidgets(loader.get, {
  load: loader.load,
  notReady: NOT_READY,
});
