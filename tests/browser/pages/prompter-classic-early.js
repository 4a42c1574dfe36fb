// Runs in <head> right after the classic script, before the wasm core can have loaded (§0.3).
(function () {
  'use strict';
  const R = window.mozmarket.receipts;
  const early = (window.promptEarly = { errors: {}, asyncErrors: [] });
  window.addEventListener('error', (e) => {
    early.asyncErrors.push(String(e.message));
  });
  early.hasPrompter = typeof R.Prompter === 'function';
  early.coreLoaded = false;
  R.ready.then(() => {
    early.readyResolved = true;
  });
  const base = { storeURL: 'https://store.example/app', supportHTML: '<a href="mailto:help@example.com">help</a>' };
  const attempt = (name, fn) => {
    try {
      early[name] = fn();
    } catch (e) {
      early.errors[name] = e instanceof Error ? e.message : 'not an Error: ' + String(e);
    }
  };
  attempt('plain', () => typeof R.Prompter(base));
  attempt('withVerifier', () => typeof R.Prompter(Object.assign({ verifier: new R.Verifier() }, base)));
  // The use the original documented: verify: true right after the script ran.
  attempt('verify', () => {
    const p = R.Prompter(
      Object.assign({ verify: true, verifierOptions: { receipts: [], cacheStorage: null, receiptStorage: null } }, base),
    );
    early.prompter = p;
    return p instanceof R.Prompter;
  });
  // Option errors of a verify: true Prompter surface once the core is there (thrown from the
  // verify callback, reported as an uncaught error).
  attempt('verifyBadStore', () => {
    const p = R.Prompter({
      storeURL: 'javascript:alert(1)',
      supportHTML: 'x',
      overlayId: 'never',
      verify: true,
      verifierOptions: { receipts: [], cacheStorage: null, receiptStorage: null },
    });
    return p.overlay === null;
  });
  early.overlayBeforeReady = early.prompter ? early.prompter.overlay : 'no prompter';
  early.protoTemplatesBeforeReady = Object.keys(R.Prompter.prototype.templates).length;
})();
