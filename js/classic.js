/*
 * mozmarket receipts: the classic-script loader (§0.3).
 *
 * This is not a standalone file. js/assemble.mjs pastes it, after js/receipts.js (with its
 * `export` keywords removed), into one IIFE: pkg/mozmarket-receipts.js. In that scope
 * `createReceipts` is defined, and CLASS_TREE below is replaced with the core's `classTree()`
 * rows taken at build time, so `Verifier.states`/`errors` exist before the wasm has loaded.
 *
 * What it does, synchronously, when the script runs:
 * - defines `mozmarket.receipts.{Verifier, Prompter, verify, addReceipt, listReceipts, ready}`
 *   on the global object, reusing `mozmarket` and `mozmarket.receipts` if they already exist
 *   (js/prompter.js is pasted in before this file, like receipts.js);
 * - starts loading the full core (it holds the Prompter's renderer) in the background with
 *   dynamic `import()` of `core-full/mozmarket_full.js` next to this script (so CSP
 *   `script-src 'self' 'wasm-unsafe-eval'` is enough); `ready` resolves when it has loaded and
 *   rejects with the load error.
 * Before that: compat-mode Verifiers can be built, runs wait for the core, and calls that need the
 * core synchronously throw `mozmarket.receipts is not ready` (in createReceipts).
 */

const CLASS_TREE = /* @mozmarket-class-tree */ null;

const scriptUrl = (function () {
  try {
    const current = typeof document !== 'undefined' && document ? document.currentScript : null;
    if (current && typeof current.src === 'string' && current.src !== '') return current.src;
    if (typeof document !== 'undefined' && document) {
      const tags = document.getElementsByTagName('script');
      for (let i = tags.length - 1; i >= 0; i--) {
        const src = tags[i].src;
        if (typeof src === 'string' && /mozmarket-receipts(\.min)?\.js(\?|#|$)/.test(src)) return src;
      }
    }
  } catch (_) {
    // fall through to the page URL
  }
  return typeof location !== 'undefined' && location ? String(location.href) : '';
})();

let loadedCore = null;

const loading = (function () {
  let moduleUrl;
  let wasmUrl;
  try {
    moduleUrl = new URL('core-full/mozmarket_full.js', scriptUrl).href;
    wasmUrl = new URL('core-full/mozmarket_full_bg.wasm', scriptUrl).href;
  } catch (e) {
    return Promise.reject(e);
  }
  return import(moduleUrl).then((core) =>
    Promise.resolve(core.default({ module_or_path: wasmUrl })).then(() => {
      loadedCore = core;
      return core;
    }),
  );
})();
// A load failure is reported through `ready` and through every run's state (§0.3); this keeps it
// from also surfacing as an unhandled rejection of the internal promise.
loading.catch(() => {});

const receiptsApi = createReceipts(() => loadedCore, 'classic', {
  loading,
  classTree: CLASS_TREE,
  extend: createPrompter,
});
receiptsApi.ready.catch(() => {});

(function install(root) {
  let ns = root.mozmarket;
  if (ns === null || (typeof ns !== 'object' && typeof ns !== 'function')) {
    ns = {};
    root.mozmarket = ns;
  }
  let receipts = ns.receipts;
  if (receipts === null || (typeof receipts !== 'object' && typeof receipts !== 'function')) {
    receipts = {};
    ns.receipts = receipts;
  }
  for (const key of Object.keys(receiptsApi)) receipts[key] = receiptsApi[key];
})(typeof window !== 'undefined' ? window : globalThis);
