// An app that already has a mozmarket namespace: the classic script must reuse both objects.
window.mozmarket = { other: 1, receipts: { keep: 2 } };
window.presetNamespace = window.mozmarket;
window.presetReceipts = window.mozmarket.receipts;
