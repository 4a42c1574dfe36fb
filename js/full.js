/*
 * mozmarket: the full ES module entry: the verifier, the Prompter (receipts §8), and the Buy and
 * Restore buttons (payments §7), on the full WebAssembly core (yew UI included).
 *
 *   import { Verifier, Prompter, mountBuyButton, defineElements } from "mozmarket/full";
 *
 * Evaluating this module instantiates the core (top-level await), like index.js.
 */
import init, * as core from './core-full/mozmarket_full.js';
import { createReceipts } from './receipts.js';
import { createPrompter } from './prompter.js';
import { createWidgets } from './widget.js';

const wasmUrl = new URL('./core-full/mozmarket_full_bg.wasm', import.meta.url);
if (wasmUrl.protocol === 'file:') {
  const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
  await init({ module_or_path: await readFile(wasmUrl) });
} else {
  await init({ module_or_path: wasmUrl });
}

const api = createReceipts(() => core, 'esm', { extend: createPrompter });

export const { Verifier, verify, addReceipt, listReceipts, ready, Prompter } = api;
export const { mountBuyButton, mountRestoreButton, defineElements } = createWidgets(() => core);
