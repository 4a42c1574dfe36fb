// Page-side helpers for the browser tests (a classic script; the pages run under a strict CSP,
// so everything the tests call lives here or in page.evaluate functions).
(function () {
  'use strict';

  const cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });

  /** A storage-like object with an operation log and optional failures. */
  class MemoryStorage {
    constructor(init, failures) {
      this.map = new Map(Object.entries(init || {}));
      this.ops = [];
      this.fail = failures || {};
    }
    get length() {
      return this.map.size;
    }
    key(i) {
      const keys = Array.from(this.map.keys());
      return i < keys.length ? keys[i] : null;
    }
    getItem(k) {
      this.ops.push(['get', k]);
      if (this.fail.get) throw new Error('getItem failed');
      return this.map.has(k) ? this.map.get(k) : null;
    }
    setItem(k, v) {
      this.ops.push(['set', k]);
      if (this.fail.set) throw new Error('QuotaExceededError');
      this.map.set(k, String(v));
    }
    removeItem(k) {
      this.ops.push(['remove', k]);
      if (this.fail.remove) throw new Error('removeItem failed');
      this.map.delete(k);
    }
    dump() {
      return Object.fromEntries(this.map);
    }
  }

  const plain = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

  /** Everything a test asserts about a finished verifier, as JSON. */
  function summarize(v) {
    const errs = v.receiptErrors;
    return {
      state: String(v.state),
      stateName: v.state && v.state.name,
      verifier: String(v),
      products: plain(v.products),
      errors: Object.keys(errs).map((k) => [k, String(errs[k])]),
      verifications: plain(v.receiptVerifications),
      app: v.app === undefined ? 'undefined' : v.app === null ? 'null' : 'object',
      stateIsStateObject: v.state instanceof v.constructor.State,
      stateIsError: v.state instanceof Error,
    };
  }

  /**
   * A `navigator.mozApps` stand-in (the API no longer exists). `spec.getSelf` is one of
   * `app`, `null`, `error` (with `spec.error`), `throw`, `hang`; `spec.app` the App object;
   * `spec.addReceiptError` makes app.addReceipt fail with that name.
   */
  function installMozApps(spec) {
    const calls = { getSelf: 0, addReceipt: [] };
    const app = spec.app || null;
    if (app && spec.appAddReceipt !== false) {
      app.addReceipt = function (receipt) {
        calls.addReceipt.push(receipt);
        const req = {};
        setTimeout(() => {
          if (spec.addReceiptError) {
            req.error = { name: spec.addReceiptError };
            if (req.onerror) req.onerror({ target: req });
          } else {
            if (!Array.isArray(app.receipts)) app.receipts = [];
            app.receipts.push(receipt);
            req.result = null;
            if (req.onsuccess) req.onsuccess({ target: req });
          }
        }, 0);
        return req;
      };
    }
    const mozApps = {
      getSelf() {
        calls.getSelf += 1;
        if (spec.getSelf === 'throw') throw new Error('getSelf exploded');
        const req = { result: undefined, error: null };
        if (spec.getSelf === 'hang') return req;
        setTimeout(() => {
          if (spec.getSelf === 'error') {
            req.error = { name: spec.error || 'DENIED' };
            if (req.onerror) req.onerror({ target: req });
          } else {
            req.result = spec.getSelf === 'null' ? null : app;
            if (req.onsuccess) req.onsuccess({ target: req });
          }
        }, 5);
        return req;
      },
    };
    Object.defineProperty(navigator, 'mozApps', { value: mozApps, configurable: true, writable: true });
    return calls;
  }

  /**
   * An XMLHttpRequest test double: answers every request with `answer` ({status, body,
   * responseURL}) and records what was asked of it.
   */
  function installFakeXHR(answer) {
    const record = { requests: [] };
    function FakeXHR() {
      this.readyState = 0;
      this.status = 0;
      this.responseText = '';
      this.responseURL = '';
      this.headers = [];
      this.withCredentials = false;
      record.requests.push(this);
    }
    FakeXHR.prototype.open = function (method, url, async) {
      this.method = method;
      this.url = url;
      this.async = async;
      this.readyState = 1;
    };
    FakeXHR.prototype.setRequestHeader = function (k, v) {
      this.headers.push([k, v]);
    };
    FakeXHR.prototype.abort = function () {
      this.aborted = true;
    };
    FakeXHR.prototype.send = function (body) {
      this.body = body;
      setTimeout(() => {
        this.status = answer.status;
        this.responseText = answer.body;
        this.responseURL = answer.responseURL === undefined ? this.url : answer.responseURL;
        this.readyState = 4;
        if (this.onreadystatechange) this.onreadystatechange();
      }, 1);
    };
    window.XMLHttpRequest = FakeXHR;
    return {
      summary: () =>
        record.requests.map((r) => ({
          method: r.method,
          url: r.url,
          async: r.async,
          body: r.body,
          headers: r.headers,
          withCredentials: r.withCredentials,
        })),
    };
  }

  /**
   * One run: `spec.opts` are JSON-able Verifier options; `spec.now` the clock; `spec.cache` a
   * seed object for a MemoryStorage cache (`null` to leave opts.cacheStorage alone);
   * `spec.waitAfter` ms to wait after the promise settled (to catch late callbacks).
   */
  async function run(spec) {
    const log = [];
    const opts = Object.assign({}, spec.opts);
    let cache = null;
    if (spec.cache !== undefined && spec.cache !== null) {
      cache = new MemoryStorage(spec.cache, spec.cacheFailures);
      opts.cacheStorage = cache;
    }
    if (spec.now !== undefined) opts.now = () => spec.now;
    opts.onlog = (level, message) => log.push([level, message]);
    const v = new window.mm.Verifier(opts);
    let calls = 0;
    let sync = true;
    let calledSync = false;
    const promise = spec.method === 'verifyReceipts'
      ? v.verifyReceipts(spec.app, () => {
        calls += 1;
        if (sync) calledSync = true;
      })
      : v.verify(() => {
        calls += 1;
        if (sync) calledSync = true;
      });
    sync = false;
    const resolved = await promise;
    if (spec.waitAfter) await new Promise((r) => setTimeout(r, spec.waitAfter));
    return Object.assign(summarize(v), {
      calls,
      calledSync,
      resolvedToVerifier: resolved === v,
      log,
      cache: cache ? cache.dump() : undefined,
      cacheOps: cache ? cache.ops : undefined,
    });
  }

  window.H = { MemoryStorage, summarize, installMozApps, installFakeXHR, run, cspViolations };
})();
