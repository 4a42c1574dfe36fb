/*
 * mozmarket: the ES module entry (§0.3).
 *
 *   import { Verifier, verify, addReceipt, listReceipts, ready } from "mozmarket";
 *
 * Evaluating this module instantiates the WebAssembly core (top-level await), so every export
 * works once the import has resolved, and `ready` is an already-resolved Promise. Browsers and
 * bundlers fetch the .wasm next to the glue; in Node (18+), where fetch() cannot read file: URLs,
 * the bytes are read from disk.
 *
 * The Prompter (§8) is added to this surface by its own issue: see the `extend` hook of
 * createReceipts() in receipts.js.
 */
import init, * as core from './core/mozmarket_core.js';
import { createReceipts } from './receipts.js';

const wasmUrl = new URL('./core/mozmarket_core_bg.wasm', import.meta.url);
if (wasmUrl.protocol === 'file:') {
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  await init({ module_or_path: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

const api = createReceipts(() => core, 'esm');

export const { Verifier, verify, addReceipt, listReceipts, ready } = api;
