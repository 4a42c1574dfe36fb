// Section 2: confirmation latency against the real reference server (tests/e2e/support.mjs:
// `mozmarket-server serve --demo`, both roles in one process, fresh SQLite files), the demo shop
// in headless Chromium, each purchase in a fresh browser context (a new buyer).
//
// - widget: the real <mozmarket-buy-button>: click, the pay page popup, Confirm; the widget waits
//   with server-sent events (payments §2.4, §7.4), installs the receipt, runs the local check and
//   the verify service (§7.5), then shows `purchased`.
// - fxpay-style poller: a small client in the same page that buys through the same endpoint, runs
//   the same popup, and once the pay page reports success polls the app's statusURL (§2.3) every
//   1000 ms until `complete`, as fxpay polled the transaction status once a second.
//
// Latency = the app server's log timestamp of "notice applied" for the postback (right after the
// commit, before the 200) → the page's Date.now() when the button shows `purchased` (its
// mozmarket-statechange) or when the poller's answer says `complete`. Requests = what the page
// sent to the app server from the start of waiting (the pay page's success message) to that point.
import {
  startServer, launchBrowser, newContext, openDemo, waitState, events, clickBuy, payPage,
  postbackAcceptedAt, until,
} from '../tests/e2e/support.mjs';
import { median } from './stats.mjs';

const PRODUCT = 'shiny-pony';

/**
 * Page-side probes, before any page script: every EventSource's `status` messages (arrival time,
 * first listener) and a large resource-timing buffer. The widget is not touched.
 */
function probes() {
  const sse = [];
  Object.defineProperty(window, '__benchSse', { value: sse });
  try {
    performance.setResourceTimingBufferSize(2000);
  } catch (_) {
    // older engines
  }
  const Native = window.EventSource;
  if (typeof Native !== 'function') return;
  class ProbedEventSource extends Native {
    constructor(url, init) {
      super(url, init);
      sse.push({ kind: 'open', t: Date.now(), url: String(url) });
      this.addEventListener('status', (e) => {
        let status = null;
        try {
          status = JSON.parse(e.data).status;
        } catch (_) {
          status = '?';
        }
        sse.push({ kind: 'status', t: Date.now(), status });
      });
      this.addEventListener('error', () => sse.push({ kind: 'error', t: Date.now() }));
    }
  }
  window.EventSource = ProbedEventSource;
}

/** The fxpay-style client, evaluated in the demo page (it needs the page's origin and cookie). */
function startPoller({ productId, marketOrigin, pathPrefix, intervalMs }) {
  const rec = { polls: [], waitingAt: null, completeAt: null, done: false, error: null };
  window.__benchPoll = rec;
  // Opened within the gesture, navigated once the pay JWT is known (as fxpay and the widget do).
  const popup = window.open('', 'bench-fxpay-pay', 'popup,width=420,height=640');
  if (!popup) {
    rec.error = 'popup blocked';
    return;
  }
  const headers = { 'X-Mozmarket-Version': 'bench-fxpay-poller', Accept: 'application/json' };
  (async () => {
    try {
      const buyUrl = new URL(`${pathPrefix}/product/${encodeURIComponent(productId)}/buy`, location.href);
      const buy = await fetch(buyUrl, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: '{}',
        credentials: 'same-origin',
      });
      const order = await buy.json();
      if (buy.status !== 201) throw new Error(`buy: ${buy.status} ${JSON.stringify(order)}`);
      const statusUrl = new URL(order.statusURL, buyUrl).href;
      popup.location.href = `${marketOrigin}/mozpay/?req=${encodeURIComponent(order.jwt)}`;
      await new Promise((resolve, reject) => {
        window.addEventListener('message', function onMessage(e) {
          if (e.origin !== marketOrigin || !e.data) return;
          if (e.data.status === 'ok') {
            window.removeEventListener('message', onMessage);
            resolve();
          } else if (e.data.status === 'failed') {
            reject(new Error(`payment failed: ${e.data.errorCode}`));
          }
        });
      });
      rec.waitingAt = Date.now();
      for (;;) {
        const sentAt = Date.now();
        const r = await fetch(statusUrl, { headers, credentials: 'same-origin', cache: 'no-store' });
        const body = await r.json();
        rec.polls.push({ sentAt, answeredAt: Date.now(), status: body.status });
        if (body.status === 'complete') {
          rec.completeAt = Date.now();
          rec.transactionID = body.transactionID;
          break;
        }
        if (body.status !== 'pending' && body.status !== 'incomplete') throw new Error(`status: ${JSON.stringify(body)}`);
        await new Promise((res) => setTimeout(res, intervalMs));
      }
      rec.done = true;
    } catch (e) {
      rec.error = String(e && e.message ? e.message : e);
    }
  })();
}

/** The timestamp (ms) of the first app log line with `message` mentioning `needle`. */
function logTime(s, message, needle) {
  for (const line of s.appLog().split('\n')) {
    if (!line.includes(message) || !line.includes(needle)) continue;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)/.exec(line.trim());
    if (m) return Date.parse(m[1].replace(/(\.\d{3})\d+Z$/, '$1Z'));
  }
  return null;
}

/** Records the page's requests to the app server (node-side time). */
function watchAppRequests(page, s) {
  const list = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.origin === s.appOrigin) list.push({ t: Date.now(), method: r.method(), path: u.pathname });
  });
  return list;
}

/** The server's side of one purchase: accepted → receipt issued → receipt stored. */
async function serverTimes(s, transactionID) {
  const acceptedAt = await until('the app server log line for the postback', () => postbackAcceptedAt(s, transactionID), 5000, 50, s.diag);
  const issuedAt = logTime(s, 'market: receipt issued', transactionID);
  const storedAt = logTime(s, 'receipt stored', transactionID);
  return { acceptedAt, issuedAt, storedAt };
}

async function widgetPurchase(s, browser) {
  const ctx = await newContext(browser);
  try {
    await ctx.context.addInitScript(probes);
    const page = await openDemo(ctx, s);
    await waitState(page, PRODUCT, 'idle');
    const requests = watchAppRequests(page, s);
    const popup = await clickBuy(page, PRODUCT);
    await payPage(popup, s);
    await popup.locator('#confirm').waitFor();
    await waitState(page, PRODUCT, 'paying');
    await popup.locator('#confirm').click();
    await waitState(page, PRODUCT, 'purchased', 30000);
    const evs = await events(page);
    const purchase = evs.find((e) => e.type === 'purchase');
    if (!purchase) throw new Error(`no mozmarket-purchase: ${JSON.stringify(evs.map((e) => [e.type, e.state]))}`);
    const at = (state) => {
      const e = evs.find((x) => x.type === 'statechange' && x.state === state);
      return e ? e.t : null;
    };
    const probe = await page.evaluate(() => ({
      sse: window.__benchSse.slice(),
      verify: performance.getEntriesByType('resource')
        .filter((e) => e.name.includes('/receipts/verify'))
        .map((e) => ({ start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd })),
    }));
    const srv = await serverTimes(s, purchase.transactionID);
    const waitingAt = at('waiting');
    const purchasedAt = at('purchased');
    const sseOpen = probe.sse.find((x) => x.kind === 'open');
    const sseComplete = probe.sse.find((x) => x.kind === 'status' && x.status === 'complete');
    const verifyCall = probe.verify.find((v) => v.start >= waitingAt) || null;
    const inWait = requests.filter((r) => r.t >= waitingAt - 50 && r.t <= purchasedAt);
    return {
      transactionID: purchase.transactionID,
      latencyMs: purchasedAt - srv.acceptedAt,
      requests: inWait.length,
      requestPaths: inWait.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/, '{order}')}`),
      verification: purchase.verification,
      // Where the time goes (ms from the postback accepted; server lines and page probes).
      steps: {
        waiting: waitingAt - srv.acceptedAt,
        sseOpened: sseOpen ? sseOpen.t - srv.acceptedAt : null,
        receiptIssued: srv.issuedAt === null ? null : srv.issuedAt - srv.acceptedAt,
        receiptStored: srv.storedAt === null ? null : srv.storedAt - srv.acceptedAt,
        sseComplete: sseComplete ? sseComplete.t - srv.acceptedAt : null,
        installing: at('installing') - srv.acceptedAt,
        verifying: at('verifying') - srv.acceptedAt,
        verifyServiceStart: verifyCall ? verifyCall.start - srv.acceptedAt : null,
        verifyServiceEnd: verifyCall ? verifyCall.end - srv.acceptedAt : null,
        purchased: purchasedAt - srv.acceptedAt,
      },
      // Per purchase: where the time went (ms), each span between two of the steps above.
      spans: spansOf({
        waiting: waitingAt - srv.acceptedAt,
        receiptStored: srv.storedAt === null ? null : srv.storedAt - srv.acceptedAt,
        sseComplete: sseComplete ? sseComplete.t - srv.acceptedAt : null,
        verifying: at('verifying') - srv.acceptedAt,
        verifyServiceStart: verifyCall ? verifyCall.start - srv.acceptedAt : null,
        verifyServiceEnd: verifyCall ? verifyCall.end - srv.acceptedAt : null,
        purchased: purchasedAt - srv.acceptedAt,
      }),
      // Every event-stream probe (open, status messages, errors), ms after the postback accepted.
      sse: probe.sse.map((e) => ({ ...e, t: e.t - srv.acceptedAt })),
    };
  } finally {
    await ctx.close();
  }
}

async function pollerPurchase(s, browser, intervalMs) {
  const ctx = await newContext(browser);
  try {
    const page = await openDemo(ctx, s);
    const config = await page.evaluate(async () => (await fetch('/demo/config.json')).json());
    const requests = watchAppRequests(page, s);
    const popupEvent = page.waitForEvent('popup', { timeout: 10000 });
    await page.evaluate(startPoller, { productId: PRODUCT, marketOrigin: config.marketOrigin, pathPrefix: config.pathPrefix, intervalMs });
    const popup = await popupEvent;
    await payPage(popup, s);
    await popup.locator('#confirm').waitFor();
    await popup.locator('#confirm').click();
    await page.waitForFunction(() => window.__benchPoll && (window.__benchPoll.done || window.__benchPoll.error), null, { timeout: 30000 });
    const rec = await page.evaluate(() => window.__benchPoll);
    if (rec.error) throw new Error(`fxpay-style poller: ${rec.error}`);
    const srv = await serverTimes(s, rec.transactionID);
    const inWait = requests.filter((r) => r.t >= rec.waitingAt - 50 && r.t <= rec.completeAt);
    return {
      transactionID: rec.transactionID,
      latencyMs: rec.completeAt - srv.acceptedAt,
      requests: inWait.length,
      polls: rec.polls.length,
      requestPaths: inWait.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/, '{order}')}`),
      steps: {
        waiting: rec.waitingAt - srv.acceptedAt,
        receiptStored: srv.storedAt === null ? null : srv.storedAt - srv.acceptedAt,
        firstPollAnswered: rec.polls.length ? rec.polls[0].answeredAt - srv.acceptedAt : null,
        complete: rec.completeAt - srv.acceptedAt,
      },
    };
  } finally {
    await ctx.close();
  }
}

/**
 * The widget's spans: the server's part (accept → receipt stored), the pay page (accept → the
 * widget waiting; ≤ 0 when it was already waiting), delivery (from the later of "stored" and
 * "waiting" to the SSE `complete` message), install (→ verifying), the local check (→ the verify
 * service request), the verify service call, and the rest (→ purchased).
 */
function spansOf(s) {
  const d = (a, b) => (a === null || b === null ? null : b - a);
  const ready = s.receiptStored === null ? null : Math.max(s.receiptStored, s.waiting);
  return {
    serverStore: s.receiptStored,
    payPageToWaiting: s.waiting,
    delivery: d(ready, s.sseComplete),
    install: d(s.sseComplete, s.verifying),
    localCheck: d(s.verifying, s.verifyServiceStart),
    verifyService: d(s.verifyServiceStart, s.verifyServiceEnd),
    finish: d(s.verifyServiceEnd, s.purchased),
  };
}

function summarize(list, stepNames) {
  const steps = {};
  for (const k of stepNames) {
    const xs = list.map((r) => r.steps[k]).filter((v) => typeof v === 'number');
    steps[k] = xs.length ? median(xs) : null;
  }
  return {
    n: list.length,
    medianMs: median(list.map((r) => r.latencyMs)),
    minMs: Math.min(...list.map((r) => r.latencyMs)),
    maxMs: Math.max(...list.map((r) => r.latencyMs)),
    // From the client's own start of waiting (the pay page's success message), which both
    // clients reach at the same point of the flow.
    medianFromWaitingMs: median(list.map((r) => r.latencyMs - r.steps.waiting)),
    waitingAfterAccepted: list.filter((r) => r.steps.waiting > 0).length,
    medianRequests: median(list.map((r) => r.requests)),
    maxRequests: Math.max(...list.map((r) => r.requests)),
    medianSteps: steps,
    medianSpans: list[0] && list[0].spans
      ? Object.fromEntries(Object.keys(list[0].spans).map((k) => {
        const xs = list.map((r) => r.spans[k]).filter((v) => typeof v === 'number');
        return [k, xs.length ? median(xs) : null];
      }))
      : null,
    purchases: list,
  };
}

/**
 * Runs section 2: one warm-up purchase with each client (the marketplace certifies its first
 * receipt key then; reported, not counted), then `n` purchases each, interleaved.
 */
export async function runLatency({ purchases, intervalMs = 1000, server = 'debug' }, log = () => {}) {
  const s = await startServer();
  const browser = await launchBrowser();
  try {
    const warmup = { widget: await widgetPurchase(s, browser), poller: await pollerPurchase(s, browser, intervalMs) };
    log(`  warm-up purchases: widget ${warmup.widget.latencyMs} ms, poller ${warmup.poller.latencyMs} ms (not counted)`);
    const widget = [];
    const poller = [];
    for (let i = 0; i < purchases; i++) {
      const w = await widgetPurchase(s, browser);
      const p = await pollerPurchase(s, browser, intervalMs);
      widget.push(w);
      poller.push(p);
      log(`  purchase ${i + 1}/${purchases}: widget ${w.latencyMs} ms (${w.requests} req), poller ${p.latencyMs} ms (${p.requests} req)`);
    }
    const out = {
      server: `${server} build, serve --demo (both roles, SQLite)`,
      widget: summarize(widget, ['waiting', 'sseOpened', 'receiptIssued', 'receiptStored', 'sseComplete', 'installing', 'verifying', 'verifyServiceStart', 'verifyServiceEnd', 'purchased']),
      poller: summarize(poller, ['waiting', 'receiptStored', 'firstPollAnswered', 'complete']),
      pollIntervalMs: intervalMs,
      warmup: { widgetMs: warmup.widget.latencyMs, pollerMs: warmup.poller.latencyMs },
    };
    out.ratio = out.widget.medianMs / out.poller.medianMs;
    return out;
  } finally {
    await browser.close().catch(() => {});
    await s.stop();
  }
}
