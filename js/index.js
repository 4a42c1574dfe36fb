/*
 * mozmarket: the ES module entry (§0.3).
 *
 *   import { init, Verifier, verify, addReceipt, listReceipts, ready } from "mozmarket";
 *   await init();   // or: await ready
 *
 * Importing this module has no side effects: nothing is fetched and no browser global is read
 * until `init()` is called, `ready` is awaited, or a verification run starts (runs load the core
 * themselves and wait for it). Browsers and bundlers fetch the .wasm next to this file; in Node
 * (18+) it is read from disk; `init({module_or_path})` loads it from anywhere else.
 */
import initWasm, * as core from './core/mozmarket_core.js';
import { createReceipts } from './receipts.js';
import { lazyCore, NOT_READY } from './load.js';

// The core's classTree() rows, written here by js/assemble.mjs, so that Verifier.states and
// Verifier.errors exist before the core has loaded.
const CLASS_TREE = /* @mozmarket-class-tree */ null;

const loader = lazyCore(initWasm, core, () => new URL('./core/mozmarket_core_bg.wasm', import.meta.url));

const api = createReceipts(loader.get, 'esm', { load: loader.load, classTree: CLASS_TREE, notReady: NOT_READY, ready: loader.ready });

export const init = loader.init;
export const { Verifier, verify, addReceipt, listReceipts, ready } = api;
