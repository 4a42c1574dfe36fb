// Exposes the classic global as window.mm once `ready` has settled.
window.mm = window.mozmarket.receipts;
window.mmSurface = 'classic';
window.mozmarket.receipts.ready.then(
  () => {
    window.mmReady = true;
  },
  () => {
    window.mmReady = true;
    window.mmLoadFailed = true;
  },
);
