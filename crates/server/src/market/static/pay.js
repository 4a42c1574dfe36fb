// mozmarket pay page (spec/payments.md §5.3, §5.4). A static file: the server passes data only
// through data-* attributes on <body>. No eval, no inline handlers, no innerHTML.
(function () {
  'use strict';
  var body = document.body;
  if (!body) { return; }
  var screen = body.getAttribute('data-screen') || '';
  var code = body.getAttribute('data-code') || '';
  var origins = [];
  try {
    var parsed = JSON.parse(body.getAttribute('data-origins') || '[]');
    if (Array.isArray(parsed)) {
      origins = parsed.filter(function (o) { return typeof o === 'string' && o !== '*' && o !== ''; });
    }
  } catch (e) { origins = []; }

  var resultSent = false;

  function trustedUi() {
    var p = navigator.mozPaymentProvider;
    return p && typeof p === 'object' ? p : null;
  }

  function hasOpener() {
    try { return !!window.opener; } catch (e) { return false; }
  }

  // Posts one copy per registered app origin; the browser drops the copies whose origin does not
  // match the opener. targetOrigin is never "*".
  function postToOpener(msg) {
    if (!hasOpener()) { return false; }
    for (var i = 0; i < origins.length; i++) {
      try { window.opener.postMessage(msg, origins[i]); } catch (e) { /* ignore */ }
    }
    return true;
  }

  // The first result message (ok or failed) is sent at most once per page load.
  function sendResult(msg) {
    if (resultSent) { return; }
    resultSent = true;
    var p = trustedUi();
    if (p) {
      try {
        if (msg.status === 'ok') { p.paymentSuccess(); } else { p.paymentFailed(msg.errorCode); }
      } catch (e) { /* ignore */ }
      return;
    }
    postToOpener(msg);
  }

  function show(id) {
    var el = document.getElementById(id);
    if (el) { el.classList.remove('hidden'); }
  }

  function noOpener() { return !trustedUi() && !hasOpener(); }

  if (screen === 'success' || screen === 'already') {
    if (noOpener()) {
      show('no-opener');
    } else {
      sendResult({ status: 'ok' });
      window.setTimeout(function () { show('close-hint'); }, 10000);
    }
  } else if (screen === 'cancelled') {
    if (noOpener()) { show('no-opener'); }
    sendResult({ status: 'failed', errorCode: 'USER_CANCELLED' });
  } else if (screen === 'error') {
    if (noOpener()) { show('no-opener'); }
    var close = document.getElementById('close');
    if (close) {
      close.addEventListener('click', function () {
        sendResult({ status: 'failed', errorCode: code || 'UNEXPECTED_ERROR' });
        window.close();
      });
    }
  } else if (screen === 'confirm') {
    var select = document.getElementById('currency');
    var price = document.getElementById('price');
    if (select && price) {
      select.addEventListener('change', function () {
        var opt = select.options[select.selectedIndex];
        var text = opt ? opt.getAttribute('data-display') : null;
        if (text) { price.textContent = text; }
      });
    }
    var forms = document.querySelectorAll('form');
    for (var f = 0; f < forms.length; f++) {
      forms[f].addEventListener('submit', function () {
        var buttons = document.querySelectorAll('button');
        for (var b = 0; b < buttons.length; b++) { buttons[b].disabled = true; }
      });
    }
  }

  window.addEventListener('pagehide', function () {
    // A failed result not yet sent (the window is closed another way) comes before "unloaded".
    if (screen === 'error' && !resultSent) {
      sendResult({ status: 'failed', errorCode: code || 'UNEXPECTED_ERROR' });
    }
    if (!trustedUi()) { postToOpener({ status: 'unloaded' }); }
  });
})();
