/*
 * mozmarket: loading the WebAssembly core on demand, for the ES entries (index.js, full.js).
 *
 * Importing an entry does no I/O and touches no browser global (so it is safe under server-side
 * rendering). The core loads when the app calls `init()`, awaits `ready`, or starts something
 * that can wait (a verification run, a custom element connecting). Calls that need the core
 * synchronously before that throw NOT_READY.
 */

/** The message of the Error thrown by synchronous calls made before the core has loaded. */
export const NOT_READY = 'mozmarket is not ready: await init() first';

/**
 * @param {(input: object) => Promise<unknown>} initWasm wasm-bindgen's default export
 * @param {object} core the wasm-bindgen module namespace (usable once initWasm has resolved)
 * @param {() => URL} wasmUrl where the .wasm is, next to the module (a function, so that nothing
 *   runs at import; bundlers still see the `new URL('…', import.meta.url)` inside it)
 * @returns {{get: () => object | null, load: (input?: object) => Promise<object>,
 *   init: (input?: object) => Promise<void>, ready: PromiseLike<void>}}
 */
export function lazyCore(initWasm, core, wasmUrl) {
  let loaded = null;
  let pending = null;

  async function instantiate(input) {
    if (input !== undefined && input !== null) {
      if (typeof input !== 'object' || !('module_or_path' in input)) {
        throw new TypeError('init(input): input must be {module_or_path: URL | string | Response | BufferSource | WebAssembly.Module}');
      }
      await initWasm(input);
      return;
    }
    const url = wasmUrl();
    if (url.protocol === 'file:') {
      // Node (18+): fetch() cannot read file: URLs.
      const { readFile } = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs/promises');
      await initWasm({ module_or_path: await readFile(url) });
    } else {
      await initWasm({ module_or_path: url });
    }
  }

  /** Starts loading (once; again after a failure) and resolves to the core. */
  function load(input) {
    if (loaded) return Promise.resolve(loaded);
    if (!pending) {
      pending = instantiate(input).then(
        () => {
          loaded = core;
          return core;
        },
        (e) => {
          pending = null; // a later init() tries again (a flaky network, a corrected input)
          throw e;
        },
      );
    }
    return pending;
  }

  const settled = () => load().then(() => undefined);
  const ready = Object.freeze({
    then(onFulfilled, onRejected) {
      return settled().then(onFulfilled, onRejected);
    },
    catch(onRejected) {
      return settled().catch(onRejected);
    },
    finally(onFinally) {
      return settled().finally(onFinally);
    },
  });

  return {
    get: () => loaded,
    load,
    init: (input) => load(input).then(() => undefined),
    ready,
  };
}
