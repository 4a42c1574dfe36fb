// Regression tests for the widget fixes in src/ui/buy.rs and src/ui/restore.rs (payments §5.2,
// §7.1, §7.7, §7.8, §7.10): a reused cross-origin "MozmarketPay" window, destroy() from inside
// callbacks and from inside reset(), re-entrant re-mounting, repeated announcements, one restore
// run at a time, restore's failed state (aria-describedby, focus), live regions in the
// accessibility tree from mount, and the focus rule checked against the widget's own tree.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { deferred, json, sleep, EN, PROVIDER_ORIGIN } from './fixtures.mjs';

/**
 * The world, with the main page's console errors collected in `w.consoleErrors` (but not the
 * browser's own "Failed to load resource" lines for HTTP error answers the tests provoke).
 */
const withWorld = widgetSuite({
  onWorld(w) {
    w.consoleErrors = [];
    w.page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource:')) w.consoleErrors.push(m.text());
    });
  },
});

const transitions = async (w) => (await w.events('mozmarket-statechange')).map((e) => `${e.detail.previous}>${e.detail.state}`);

/** Mounts, clicks Buy, waits for `paying` with the pay page loaded (it posts nothing). */
async function toPaying(w, options = {}, opts = {}) {
  w.payAuto = null;
  await w.mount(options, opts);
  const popup = await w.clickBuy();
  assert.ok(popup, 'popup opened');
  await w.payPage(popup);
  await w.waitState('paying');
  return popup;
}

/**
 * Mounts a Buy (`kind` "buy") or Restore ("restore") button in a fresh host whose callbacks
 * (every §7.7 callback of that kind) and host events are logged, in order, in `W.hookLog`:
 * `{kind: "callback"|"event", name, state, previous, code}`. When the callback `hook.callback`
 * sees `hook.state` (and `hook.previous`, when given) for the first time, it runs `hook.action`:
 * - `"destroy"`: `W.handle.destroy()`, logged as `destroy-call` then `destroy-returned`
 *   (`destroyed`, the host's child count) or `destroy-threw`;
 * - `"remount"`: `mountBuyButton(host, hook.second)` on the same host (the first instance's
 *   destroy() then runs inside its own callback), logged as `remount-call` then
 *   `remount-returned` (`firstDestroyed`, `roots`) or `remount-threw`; the second handle is
 *   `W.second`.
 */
async function mountHooked(w, kind, options, hook) {
  return w.eval(
    ([kind, options, hook]) => {
      const W = window.W;
      const host = document.createElement('div');
      host.id = 'host' + (document.querySelectorAll('[id^=host]').length + 1);
      document.body.appendChild(host);
      W.host = host;
      W.root = host;
      const log = [];
      W.hookLog = log;
      const TYPES = ['mozmarket-statechange', 'mozmarket-purchase', 'mozmarket-failed', 'mozmarket-cancelled', 'mozmarket-warning', 'mozmarket-restored'];
      const pick = (d) => ({
        state: d && d.state !== undefined ? d.state : null,
        previous: d && d.previous !== undefined ? d.previous : null,
        code: d && d.code !== undefined ? d.code : null,
      });
      for (const type of TYPES) host.addEventListener(type, (ev) => log.push({ kind: 'event', name: ev.type, ...pick(ev.detail) }));
      const names = kind === 'restore'
        ? ['onRestored', 'onFailed', 'onStateChange', 'onWarning']
        : ['onPurchase', 'onFailed', 'onCancelled', 'onStateChange', 'onWarning'];
      const o = Object.assign({}, options);
      let fired = false;
      for (const name of names) {
        o[name] = (detail) => {
          log.push({ kind: 'callback', name, ...pick(detail) });
          if (fired || name !== hook.callback) return;
          if (hook.state && (!detail || detail.state !== hook.state)) return;
          if (hook.previous && (!detail || detail.previous !== hook.previous)) return;
          fired = true;
          const first = W.handle;
          if (hook.action === 'destroy') {
            log.push({ kind: 'destroy-call' });
            try {
              first.destroy();
              log.push({ kind: 'destroy-returned', destroyed: first.destroyed, children: host.childNodes.length });
            } catch (e) {
              log.push({ kind: 'destroy-threw', errName: e && e.name, message: String(e && e.message) });
            }
          } else if (hook.action === 'remount') {
            log.push({ kind: 'remount-call' });
            try {
              W.second = W.mm.mountBuyButton(host, hook.second);
              log.push({ kind: 'remount-returned', firstDestroyed: first.destroyed, roots: host.querySelectorAll('.mozmarket-root').length });
            } catch (e) {
              log.push({ kind: 'remount-threw', errName: e && e.name, message: String(e && e.message) });
            }
          }
        };
      }
      const fn = kind === 'restore' ? W.mm.mountRestoreButton : W.mm.mountBuyButton;
      W.handle = fn(host, o);
      return W.handle.state;
    },
    [kind, options, hook],
  );
}

const hookLog = (w) => w.eval(() => window.W.hookLog.slice());
const sc = (state, previous) => ({ state, previous, code: null });

describe('a "MozmarketPay" window already open on the pay origin (§5.2)', () => {
  test('the click reuses the existing cross-origin window: no throw, paying with the pay URL in it, then purchased', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = null;
      // The page opens a window named MozmarketPay on the pay origin (a 404 page there).
      await w.eval((u) => {
        window.W.preopened = window.open(u, 'MozmarketPay');
        return true;
      }, `${PROVIDER_ORIGIN}/some-page`);
      await w.until('the pre-opened window', () => w.popups.length === 1);
      const existing = w.popups[0];
      await w.until('the pre-opened window on the pay origin', () => existing.url() === `${PROVIDER_ORIGIN}/some-page`);
      await existing.waitForLoadState('load');
      // It really is cross-origin to the page: reading its document throws.
      assert.equal(await w.eval(() => {
        try {
          void window.W.preopened.document.title;
          return 'readable';
        } catch (e) {
          return e.name;
        }
      }), 'SecurityError');

      await w.mount();
      await w.waitView('idle');
      const none = await w.clickBuy('.mozmarket-buy-main', { popupWaitMs: 300 });
      assert.equal(none, null, 'no new window: window.open("", "MozmarketPay") returned the existing one');
      await w.waitState('paying');
      const payURL = `${PROVIDER_ORIGIN}/mozpay/?req=${encodeURIComponent(w.orders[0].jwt)}`;
      await w.until('the existing window navigated to the pay URL', () => existing.url() === payURL);
      await existing.waitForLoadState('load');
      assert.deepEqual(w.pageErrors, [], 'the click threw nothing');
      const opens = await w.opens();
      assert.equal(opens.length, 2);
      assert.deepEqual([opens[0].url, opens[0].name, opens[0].returned], [`${PROVIDER_ORIGIN}/some-page`, 'MozmarketPay', 'window']);
      assert.deepEqual([opens[1].url, opens[1].name, opens[1].returned], ['', 'MozmarketPay', 'window']);
      assert.equal(w.popups.length, 1, 'still one window');
      assert.equal(w.of('buy').length, 1);
      assert.equal(w.of('pay').length, 1);
      assert.equal(w.of('pay')[0].url, payURL);
      const v = await w.waitView('paying');
      assert.equal(v.button, EN.paying);
      assert.equal(v.busy, 'true');
      assert.equal(v.openWindow, null, 'not the blocked sub-state');
      assert.equal(v.status, EN.paying_status.replace('{name}', 'Magical Unicorn'));
      assert.deepEqual(await transitions(w), ['idle>preparing', 'preparing>paying']);

      // The pay page in the reused window is accepted as the widget's popup.
      await w.send(existing, { status: 'ok' });
      await w.waitState('purchased');
      await w.closed(existing);
      assert.deepEqual(await transitions(w), [
        'idle>preparing',
        'preparing>paying',
        'paying>waiting',
        'waiting>installing',
        'installing>verifying',
        'verifying>purchased',
      ]);
      assert.equal((await w.events('mozmarket-purchase')).length, 1);
      assert.equal((await w.events('mozmarket-failed')).length, 0);
      assert.equal((await w.events('mozmarket-cancelled')).length, 0);
      assert.equal((await w.events('mozmarket-warning')).length, 0);
      assert.deepEqual(w.pageErrors, []);
      assert.deepEqual(w.consoleErrors, []);
    });
  });
});

describe('destroy() from inside callbacks (§7.1, §7.7)', () => {
  for (const [label, hook, beforeDestroy] of [
    [
      'onStateChange when the state becomes failed',
      { callback: 'onStateChange', state: 'failed', action: 'destroy' },
      [
        { kind: 'callback', name: 'onStateChange', ...sc('preparing', 'idle') },
        { kind: 'event', name: 'mozmarket-statechange', ...sc('preparing', 'idle') },
        { kind: 'callback', name: 'onStateChange', ...sc('failed', 'preparing') },
      ],
    ],
    [
      'onFailed',
      { callback: 'onFailed', action: 'destroy' },
      [
        { kind: 'callback', name: 'onStateChange', ...sc('preparing', 'idle') },
        { kind: 'event', name: 'mozmarket-statechange', ...sc('preparing', 'idle') },
        { kind: 'callback', name: 'onStateChange', ...sc('failed', 'preparing') },
        { kind: 'event', name: 'mozmarket-statechange', ...sc('failed', 'preparing') },
        { kind: 'callback', name: 'onFailed', state: null, previous: null, code: 'BAD_API_RESPONSE' },
      ],
    ],
  ]) {
    test(`destroy() in ${label}: no event is dispatched after it; destroyed; the DOM is gone`, async () => {
      await withWorld({}, async (w) => {
        w.onBuy = () => json(404, { error_code: 'PRODUCT_NOT_FOUND', error: 'no such product' });
        assert.equal(await mountHooked(w, 'buy', w.options(), hook), 'idle');
        await w.waitView('idle');
        const popup = await w.clickBuy();
        assert.ok(popup, 'the blank popup opened');
        await w.until('destroy() to run in the callback', async () => (await hookLog(w)).some((x) => x.kind.startsWith('destroy-')));
        await sleep(800);
        const log = await hookLog(w);
        const at = log.findIndex((x) => x.kind === 'destroy-call');
        assert.deepEqual(log.slice(0, at), beforeDestroy, 'what ran before destroy()');
        assert.deepEqual(log.slice(at), [{ kind: 'destroy-call' }, { kind: 'destroy-returned', destroyed: true, children: 0 }], 'nothing is dispatched after destroy()');
        const after = await w.eval(() => ({
          destroyed: window.W.handle.destroyed,
          children: window.W.host.childNodes.length,
          roots: document.querySelectorAll('.mozmarket-root').length,
          widgets: document.querySelectorAll('.mozmarket-buy').length,
        }));
        assert.deepEqual(after, { destroyed: true, children: 0, roots: 0, widgets: 0 });
        await w.closed(popup);
        assert.equal(w.of('buy').length, 1);
        assert.deepEqual(w.consoleErrors, []);
      });
    });
  }

  test('destroy() in the onStateChange that reset() triggers (failed → idle): reset() does not throw; destroyed; no events follow', async () => {
    await withWorld({}, async (w) => {
      w.onBuy = () => json(404, { error_code: 'PRODUCT_NOT_FOUND', error: 'no such product' });
      await mountHooked(w, 'buy', w.options(), { callback: 'onStateChange', state: 'idle', previous: 'failed', action: 'destroy' });
      await w.clickBuy();
      await w.waitState('failed');
      await w.waitView('failed');
      const before = (await hookLog(w)).length;
      const r = await w.eval(() => {
        let threw = null;
        try {
          window.W.handle.reset();
        } catch (e) {
          threw = { name: e && e.name, message: String(e && e.message) };
        }
        return { threw, destroyed: window.W.handle.destroyed, children: window.W.host.childNodes.length };
      });
      assert.deepEqual(r, { threw: null, destroyed: true, children: 0 });
      await sleep(800);
      const log = (await hookLog(w)).slice(before);
      assert.deepEqual(log, [
        { kind: 'callback', name: 'onStateChange', ...sc('idle', 'failed') },
        { kind: 'destroy-call' },
        { kind: 'destroy-returned', destroyed: true, children: 0 },
      ], 'no event after destroy()');
      assert.equal(await w.eval(() => document.querySelectorAll('.mozmarket-root').length), 0);
      // The handle stays destroyed: reset() now throws IncorrectUsage.
      const again = await w.eval(() => {
        try {
          window.W.handle.reset();
          return null;
        } catch (e) {
          return { name: e.name, code: e.code };
        }
      });
      assert.deepEqual(again, { name: 'IncorrectUsage', code: 'INCORRECT_USAGE' });
      assert.deepEqual(w.consoleErrors, []);
    });
  });
});

describe('mounting twice on one element (§7.1)', () => {
  test('a plain second mount leaves exactly one widget root: the second one', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.waitView('idle');
      const r = await w.eval(() => window.W.remount({ productId: 'other', providerOrigin: 'https://pay.test', label: 'Second' }));
      assert.equal(r.firstDestroyed, true);
      await w.waitView('idle');
      await sleep(200);
      const dom = await w.eval(() => ({
        children: Array.from(window.W.host.childNodes).map((n) => n.className),
        buttons: Array.from(window.W.host.querySelectorAll('.mozmarket-buy-main')).map((b) => b.textContent),
      }));
      assert.deepEqual(dom, { children: ['mozmarket-root'], buttons: ['Second'] });
      assert.deepEqual(w.consoleErrors, []);
    });
  });

  for (const [label, hook] of [
    ['from the onStateChange that reset() triggers', { callback: 'onStateChange', state: 'idle', previous: 'failed' }],
    ['from onFailed while the attempt fails', { callback: 'onFailed' }],
  ]) {
    test(`a second mount ${label} (the first destroy() is re-entrant): exactly one widget root remains`, async () => {
      await withWorld({}, async (w) => {
        w.onBuy = () => json(404, { error_code: 'PRODUCT_NOT_FOUND', error: 'no such product' });
        const second = { productId: 'other', providerOrigin: PROVIDER_ORIGIN, label: 'Second' };
        await mountHooked(w, 'buy', w.options(), { ...hook, action: 'remount', second });
        await w.clickBuy();
        await w.waitState('failed');
        if (hook.previous === 'failed') {
          const threw = await w.eval(() => {
            try {
              window.W.handle.reset();
              return null;
            } catch (e) {
              return { name: e && e.name, message: String(e && e.message) };
            }
          });
          assert.equal(threw, null, 'reset() does not throw');
        }
        await w.until('the second mount', async () => (await hookLog(w)).some((x) => x.kind.startsWith('remount-')));
        await sleep(300);
        // (Events the first instance may still dispatch after its destroy() are the subject of
        // the destroy()-in-callback tests above; here only the DOM and the handles count.)
        const log = await hookLog(w);
        const at = log.findIndex((x) => x.kind === 'remount-call');
        assert.deepEqual(log.slice(at, at + 2), [{ kind: 'remount-call' }, { kind: 'remount-returned', firstDestroyed: true, roots: 1 }], 'the second mount returned; one root right away');
        const dom = await w.eval(() => ({
          firstDestroyed: window.W.handle.destroyed,
          secondState: window.W.second.state,
          secondDestroyed: window.W.second.destroyed,
          children: Array.from(window.W.host.childNodes).map((n) => n.className),
          roots: window.W.host.querySelectorAll('.mozmarket-root').length,
          buttons: Array.from(window.W.host.querySelectorAll('.mozmarket-buy-main')).map((b) => b.textContent),
        }));
        assert.deepEqual(dom, {
          firstDestroyed: true,
          secondState: 'idle',
          secondDestroyed: false,
          children: ['mozmarket-root'],
          roots: 1,
          buttons: ['Second'],
        });
        assert.deepEqual(w.consoleErrors, [], 'no "could not destroy the previous instance"');
      });
    });
  }
});

describe('blocked sub-state: the announcement repeats (§5.2 step 3, §7.10)', () => {
  test('"Open payment window" while still blocked re-creates the status text node; the text stays the same', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.eval(() => {
        window.W.blockOpens = 2;
      });
      assert.equal(await w.clickBuy(), null);
      await w.waitState('paying');
      const v = await w.until('blocked controls', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null && s.status === EN.popup_blocked_status && s;
      });
      assert.equal(v.focus, '.mozmarket-open-window');
      // Observe the status region from now on; remember its current text node.
      await w.eval(() => {
        const W = window.W;
        const status = W.root.querySelector('.mozmarket-status');
        const textNodes = (el) => {
          const out = [];
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) out.push(walker.currentNode);
          return out;
        };
        W.statusProbe = { status, textNodes, oldText: textNodes(status), records: [] };
        const text = (n) => n.textContent;
        W.statusProbe.observer = new MutationObserver((rs) => {
          for (const r of rs) {
            W.statusProbe.records.push({
              type: r.type,
              added: Array.from(r.addedNodes).map(text),
              removed: Array.from(r.removedNodes).map(text),
            });
          }
        });
        W.statusProbe.observer.observe(status, { childList: true, subtree: true, characterData: true });
      });
      await sleep(300);
      assert.deepEqual(await w.eval(() => window.W.statusProbe.records), [], 'nothing is re-announced without a new announcement');

      assert.equal(await w.clickBuy('.mozmarket-open-window', { popupWaitMs: 300 }), null, 'still blocked');
      await w.until('the repeated announcement', () => w.eval(() => window.W.statusProbe.records.length > 0));
      await sleep(300);
      const r = await w.eval(() => {
        const p = window.W.statusProbe;
        p.observer.disconnect();
        const now = p.textNodes(p.status);
        return {
          records: p.records,
          text: p.status.textContent,
          oldCount: p.oldText.length,
          oldConnected: p.oldText.map((n) => n.isConnected),
          newCount: now.length,
          sameNode: now.length === 1 && p.oldText.length === 1 && now[0] === p.oldText[0],
          statusConnected: p.status.isConnected,
        };
      });
      assert.equal(r.text, EN.popup_blocked_status, 'the same text');
      assert.equal(r.statusConnected, true, 'the status region itself stays');
      assert.equal(r.oldCount, 1);
      assert.equal(r.newCount, 1);
      assert.deepEqual(r.oldConnected, [false], 'the old text node was removed');
      assert.equal(r.sameNode, false, 'a new text node');
      // childList records only (no characterData change of the old node): the old text leaves,
      // the same text arrives in new nodes.
      assert.ok(r.records.every((x) => x.type === 'childList'), JSON.stringify(r.records));
      assert.deepEqual(r.records.flatMap((x) => x.removed), [EN.popup_blocked_status], JSON.stringify(r.records));
      const added = r.records.flatMap((x) => x.added);
      assert.ok(added.length >= 1, JSON.stringify(r.records));
      assert.ok(added.every((t) => t === EN.popup_blocked_status), JSON.stringify(r.records));
      const s = await w.snapshot();
      assert.equal(s.state, 'paying');
      assert.equal(s.openWindow, EN.open_payment_window);
      assert.equal(s.status, EN.popup_blocked_status);
      const opens = await w.opens();
      assert.equal(opens.length, 2);
      assert.equal(opens[1].url, `${PROVIDER_ORIGIN}/mozpay/?req=${encodeURIComponent(w.orders[0].jwt)}`);
      assert.equal(opens[1].returned, 'null');
      assert.deepEqual(await transitions(w), ['idle>preparing', 'preparing>paying']);
      assert.equal(w.of('buy').length, 1);
    });
  });
});

/** Mounts a restore button (providerOrigin https://pay.test plus `options`). */
async function mountRestore(w, options = {}, opts = {}) {
  const r = await w.mountRaw('restore', { providerOrigin: PROVIDER_ORIGIN, ...options }, opts);
  assert.deepEqual(r, { ok: true, state: 'idle' });
  return w.waitView('idle');
}

const restoreGets = (w) => w.eval(() => window.W.fetches.filter((f) => f.method === 'GET' && new URL(f.url, location.href).pathname === '/mozpay/receipts').length);

describe('one restore run at a time (§7.8)', () => {
  test('two synchronous restore() calls start one run: one GET, one mozmarket-restored', async () => {
    await withWorld({}, async (w) => {
      const gate = deferred();
      w.onRestore = () => gate.promise.then(() => json(200, { receipts: [] }));
      await mountRestore(w);
      const r = await w.eval(() => {
        const h = window.W.handle;
        const a = h.restore();
        const stateBetween = h.state;
        const b = h.restore();
        return { a: a === undefined, b: b === undefined, stateBetween, stateAfter: h.state };
      });
      assert.deepEqual(r, { a: true, b: true, stateBetween: 'restoring', stateAfter: 'restoring' });
      await w.until('the restore request', () => w.of('restore').length >= 1);
      await sleep(300);
      assert.equal(w.of('restore').length, 1, 'one GET while the run is held');
      gate.resolve();
      await w.until('restored', async () => (await w.events('mozmarket-restored')).length >= 1);
      await sleep(500);
      assert.equal(w.of('restore').length, 1, 'exactly one GET of the restore URL');
      assert.equal(w.of('restore')[0].method, 'GET');
      assert.equal(await restoreGets(w), 1, 'exactly one fetch() by the page');
      assert.equal((await w.events('mozmarket-restored')).length, 1, 'exactly one mozmarket-restored');
      assert.deepEqual(await transitions(w), ['idle>restoring', 'restoring>idle']);
      const v = await w.waitView('idle');
      assert.equal(v.status, EN.restored_none);
    });
  });

  test('a double click on the restore button starts one run: one GET, one mozmarket-restored', async () => {
    await withWorld({}, async (w) => {
      await mountRestore(w);
      await w.page.locator('.mozmarket-restore-main').dblclick();
      await w.until('restored', async () => (await w.events('mozmarket-restored')).length >= 1);
      await sleep(800);
      assert.equal(w.of('restore').length, 1, 'exactly one GET of the restore URL');
      assert.equal(await restoreGets(w), 1);
      const restored = await w.events('mozmarket-restored');
      assert.equal(restored.length, 1, 'exactly one mozmarket-restored');
      assert.deepEqual(restored[0].detail, { products: [], skipped: [] });
      assert.deepEqual(await transitions(w), ['idle>restoring', 'restoring>idle']);
    });
  });
});

describe('restore button in failed (§7.8, §7.10)', () => {
  test('restore URL answers 500: aria-describedby points at the role=alert element; focus moves from <body> to the button', async () => {
    await withWorld({}, async (w) => {
      w.onRestore = () => ({ status: 500, contentType: 'text/plain', body: '' });
      const v0 = await mountRestore(w);
      assert.equal(v0.describedBy, null, 'not described while idle');
      assert.equal(await w.eval(() => window.W.blur()), 'body');
      await w.eval(() => window.W.handle.restore());
      const v = await w.waitView('failed');
      assert.equal(v.button, EN.retry);
      assert.equal(v.message, EN.err_server);
      assert.equal(v.code, 'Error code: BAD_API_RESPONSE');
      assert.equal(v.alertRole, 'alert');
      assert.equal(typeof v.alertId, 'string');
      assert.ok(v.alertId.length > 0, 'the alert has an id');
      assert.equal(v.describedBy, v.alertId, 'the button is described by the alert while failed');
      const target = await w.eval((id) => {
        const els = document.querySelectorAll(`[id="${CSS.escape(id)}"]`);
        return { count: els.length, role: els[0] && els[0].getAttribute('role'), isAlert: !!(els[0] && els[0].classList.contains('mozmarket-alert')) };
      }, v.alertId);
      assert.deepEqual(target, { count: 1, role: 'alert', isAlert: true }, 'the id names exactly the alert element');
      await w.until('focus on the restore button', async () => (await w.eval(() => window.W.focused())) === '.mozmarket-restore-main');
      const [failed] = await w.events('mozmarket-failed');
      assert.equal(failed.detail.code, 'BAD_API_RESPONSE');

      // A second restore button fails too: its own alert id, its own aria-describedby.
      const first = v.alertId;
      await mountRestore(w);
      await w.eval(() => window.W.handle.restore());
      const v2 = await w.waitView('failed');
      assert.notEqual(v2.alertId, first, 'alert ids are unique per instance');
      assert.equal(v2.describedBy, v2.alertId);

      // Retry succeeds: back to idle, no longer described by the (empty) alert.
      w.onRestore = () => json(200, { receipts: [] });
      await w.eval(() => window.W.handle.restore());
      const v3 = await w.waitView('idle');
      assert.equal(v3.describedBy, null);
      assert.equal(v3.alert, '');
      assert.equal(v3.status, EN.restored_none);
    });
  });
});

describe('live regions are in the accessibility tree from mount (§7.10)', () => {
  for (const kind of ['buy', 'restore']) {
    for (const shadow of [false, true]) {
      test(`${kind}${shadow ? ' (shadow root)' : ''}: the empty role=status and role=alert regions are displayed and exposed`, async () => {
        await withWorld({}, async (w) => {
          if (kind === 'buy') await w.mount({}, { shadow });
          else await mountRestore(w, {}, { shadow });
          await w.waitView('idle');
          const r = await w.eval(() => {
            const root = window.W.root;
            const one = (sel) => {
              const els = root.querySelectorAll(sel);
              const el = els[0];
              const cs = el && getComputedStyle(el);
              return el && {
                count: els.length,
                text: el.textContent,
                display: cs.display,
                visibility: cs.visibility,
                hidden: el.hidden || el.closest('[aria-hidden=true]') !== null,
              };
            };
            return { status: one('[role=status]'), alert: one('[role=alert]') };
          });
          for (const [name, x] of Object.entries(r)) {
            assert.ok(x, `a ${name} region exists at mount`);
            assert.equal(x.count, 1, `one ${name} region`);
            assert.equal(x.text, '', `the ${name} region starts empty`);
            assert.notEqual(x.display, 'none', `the empty ${name} region is not display:none`);
            assert.notEqual(x.visibility, 'hidden');
            assert.equal(x.hidden, false);
          }
          // Chromium's accessibility tree has both regions (not ignored).
          const cdp = await w.context.newCDPSession(w.page);
          await cdp.send('Accessibility.enable');
          const { nodes } = await cdp.send('Accessibility.getFullAXTree');
          await cdp.detach();
          const roles = (role) => nodes.filter((n) => n.role && n.role.value === role && !n.ignored);
          assert.equal(roles('status').length, 1, 'role=status exposed');
          assert.equal(roles('alert').length, 1, 'role=alert exposed');
        });
      });
    }
  }
});

describe('focus rule: only from <body> or inside the widget (§7.10)', () => {
  test('focus on an unrelated input on the page: a failure does not move focus to the main button', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      assert.equal(await w.eval(() => window.W.focusOutside()), '#outside');
      await w.send(popup, { status: 'failed', errorCode: 'TRANS_FAILED' });
      await w.waitState('failed');
      await w.waitView('failed');
      await sleep(300);
      assert.equal(await w.eval(() => window.W.focused()), '#outside');
    });
  });

  test('focus on <body>: a failure moves focus to the main button', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      assert.equal(await w.eval(() => window.W.blur()), 'body');
      await w.send(popup, { status: 'failed', errorCode: 'TRANS_FAILED' });
      await w.waitState('failed');
      await w.until('focus on the main button', async () => (await w.eval(() => window.W.focused())) === '.mozmarket-buy-main');
    });
  });

  test('widget in a shadow root, focus on an unrelated input in the same shadow root: a failure does not move focus', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w, {}, { shadow: true });
      const f = await w.eval(() => {
        const i = document.createElement('input');
        i.id = 'inner';
        i.setAttribute('aria-label', 'inner');
        window.W.host.shadowRoot.appendChild(i);
        i.focus();
        return { focused: window.W.focused(), docActive: document.activeElement === window.W.host };
      });
      assert.deepEqual(f, { focused: '#inner', docActive: true });
      await w.send(popup, { status: 'failed', errorCode: 'TRANS_FAILED' });
      await w.waitState('failed');
      await w.waitView('failed');
      await sleep(300);
      assert.equal(await w.eval(() => window.W.focused()), '#inner', 'focus stays on the unrelated input');
    });
  });

  test('restore button: focus on an unrelated input; a failure does not move focus', async () => {
    await withWorld({}, async (w) => {
      w.onRestore = () => ({ status: 500, contentType: 'text/plain', body: '' });
      await mountRestore(w);
      assert.equal(await w.eval(() => window.W.focusOutside()), '#outside');
      await w.eval(() => window.W.handle.restore());
      await w.waitView('failed');
      await sleep(300);
      assert.equal(await w.eval(() => window.W.focused()), '#outside');
    });
  });
});
