// Runs synchronously right after the classic script, before the wasm core can have loaded.
(function () {
  const early = (window.early = { errors: {} });
  const R = window.mozmarket && window.mozmarket.receipts;
  early.members = R ? ['Verifier', 'verify', 'addReceipt', 'listReceipts', 'ready'].filter((k) => k in R) : [];
  const attempt = (name, fn) => {
    try {
      early[name] = fn();
    } catch (e) {
      early.errors[name] = e instanceof Error ? e.message : 'not an Error: ' + String(e);
    }
  };
  attempt('compatMode', () => new R.Verifier({ installs_allowed_from: ['https://store.example'] }).mode);
  attempt('compatProductURL', () => new R.Verifier({ installs_allowed_from: ['https://store.example'], productURL: 'https://app.example' }).mode);
  attempt('withTrustedKeys', () => new R.Verifier({ trustedKeys: { keys: [] } }).mode);
  attempt('withRootKeyOrigins', () => new R.Verifier({ rootKeyOrigins: ['https://keys.store.example'] }).mode);
  attempt('parseReceipt', () => new R.Verifier({}).parseReceipt('a.b.c'));
  attempt('statesBeforeReady', () => String(R.Verifier.states));
  attempt('stateBeforeReady', () => String(new R.Verifier().state));
  // A run started before the core has loaded waits for it (or ends in VerifierError).
  const v = new R.Verifier({ installs_allowed_from: ['https://store.example'], receipts: ['abc'], cacheStorage: null, receiptStorage: null });
  early.calls = 0;
  early.run = v.verify(() => {
    early.calls += 1;
  }).then((w) => {
    early.finalState = String(w.state);
    early.receiptErrors = Object.keys(w.receiptErrors).map((k) => [k, String(w.receiptErrors[k])]);
    early.done = true;
  });
  early.readyState = 'pending';
  R.ready.then(
    (value) => {
      early.readyState = 'resolved';
      early.readyValue = value === undefined ? 'undefined' : String(value);
    },
    (e) => {
      early.readyState = 'rejected';
      early.readyError = e instanceof Error ? 'Error' : typeof e;
    },
  );
})();
