// The pay widget's mounting rules (payments §7.1; F33–F35), localisation (§7.9), accessibility
// (§7.10) and rendering safety (§7.11).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { widgetSuite } from './widget-suite.mjs';
import { expectFailed, deferred, json, sleep, EN, PROVIDER_ORIGIN, PRODUCT } from './fixtures.mjs';

const withWorld = widgetSuite();

/** `navigator.languages` as given (an init script, before the page's scripts). */
const languages = (list) => [
  (l) => {
    Object.defineProperty(Navigator.prototype, 'languages', { get: () => l.slice(), configurable: true });
    Object.defineProperty(Navigator.prototype, 'language', { get: () => l[0], configurable: true });
  },
  list,
];

/** Mounts, clicks Buy, waits for `paying` with the pay page loaded (it posts nothing). */
async function toPaying(w, options = {}) {
  w.payAuto = null;
  await w.mount(options);
  const popup = await w.clickBuy();
  await w.payPage(popup);
  await w.waitState('paying');
  return popup;
}

describe('mount validation (§7.1, §5.1, §7.11)', () => {
  /** Mounts `options` (not merged with defaults) in a light-DOM host and a shadow host. */
  async function mountThrows(w, options, name, code) {
    for (const shadow of [false, true]) {
      const r = await w.mountRaw('buy', options, { shadow });
      assert.ok(r.threw, `mount threw (${JSON.stringify(options)})`);
      assert.equal(r.threw.isError, true);
      assert.equal(r.threw.name, name);
      assert.equal(r.threw.code, code);
      assert.equal(typeof r.threw.message, 'string');
      assert.equal(typeof r.threw.detail, 'object');
      assert.equal(r.childNodes, 0, 'nothing rendered');
      if (shadow) assert.equal(r.shadowChildNodes, 0, 'nothing rendered in the shadow root');
    }
    assert.equal(await w.eval(() => document.querySelectorAll('.mozmarket-buy').length), 0);
    assert.deepEqual(await w.events(), []);
  }

  const base = { productId: PRODUCT, providerOrigin: PROVIDER_ORIGIN };

  test('F33: a payProviderUrls template without {jwt} → ConfigurationError INVALID_PAY_PROVIDER_URL; nothing rendered', async () => {
    await withWorld({}, async (w) => {
      await mountThrows(w, { ...base, payProviderUrls: { 'mozilla/payments/pay/v1': `${PROVIDER_ORIGIN}/mozpay/` } }, 'ConfigurationError', 'INVALID_PAY_PROVIDER_URL');
    });
  });

  for (const [label, template] of [
    ['{jwt} twice', `${PROVIDER_ORIGIN}/mozpay/?req={jwt}&again={jwt}`],
    ['plain http on a non-loopback host', 'http://pay.test/mozpay/?req={jwt}'],
    ['a relative URL', '/mozpay/?req={jwt}'],
    ['a javascript: URL', 'javascript:alert("{jwt}")'],
  ]) {
    test(`payProviderUrls template with ${label} → INVALID_PAY_PROVIDER_URL`, async () => {
      await withWorld({}, async (w) => {
        await mountThrows(w, { ...base, payProviderUrls: { 'mozilla/payments/pay/v1': template } }, 'ConfigurationError', 'INVALID_PAY_PROVIDER_URL');
      });
    });
  }

  test('an invalid extraProviderUrls template → INVALID_PAY_PROVIDER_URL', async () => {
    await withWorld({}, async (w) => {
      await mountThrows(w, { ...base, extraProviderUrls: { 'mozilla-local/payments/pay/v1': `${PROVIDER_ORIGIN}/pay` } }, 'ConfigurationError', 'INVALID_PAY_PROVIDER_URL');
    });
  });

  test('a loopback http template is allowed', async () => {
    await withWorld({}, async (w) => {
      const r = await w.mountRaw('buy', { ...base, payProviderUrls: { 'mozilla/payments/pay/v1': 'http://127.0.0.1:7802/mozpay/?req={jwt}' } });
      assert.deepEqual(r, { ok: true, state: 'idle' });
    });
  });

  test('F34: an unknown option (pollIntervalMs) → IncorrectUsage; nothing rendered', async () => {
    await withWorld({}, async (w) => {
      await mountThrows(w, { ...base, pollIntervalMs: 500 }, 'IncorrectUsage', 'INCORRECT_USAGE');
    });
  });

  test('F35: support.url "javascript:alert(1)" → ConfigurationError; nothing rendered', async () => {
    await withWorld({}, async (w) => {
      await mountThrows(w, { ...base, support: { text: 'Help', url: 'javascript:alert(1)' } }, 'ConfigurationError', 'INVALID_CONFIGURATION');
    });
  });

  const invalid = [
    ['productId missing', { providerOrigin: PROVIDER_ORIGIN }],
    ['productId empty', { ...base, productId: '' }],
    ['productId of 256 characters', { ...base, productId: 'p'.repeat(256) }],
    ['productId not a string', { ...base, productId: 7 }],
    ['providerOrigin missing (no payProviderUrls and trustedRoots)', { productId: PRODUCT }],
    ['providerOrigin with a path', { ...base, providerOrigin: `${PROVIDER_ORIGIN}/shop` }],
    ['pollInitialMs 0', { ...base, pollInitialMs: 0 }],
    ['apiTimeoutMs Infinity', { ...base, apiTimeoutMs: Infinity }],
    ['purchaseTimeoutMs NaN', { ...base, purchaseTimeoutMs: NaN }],
    ['closedGraceMs negative', { ...base, closedGraceMs: -1 }],
    ['pollMaxMs < pollInitialMs', { ...base, pollInitialMs: 500, pollMaxMs: 400 }],
    ['useMozPay "always"', { ...base, useMozPay: 'always' }],
    ['receiptStorage "cookies"', { ...base, receiptStorage: 'cookies' }],
    ['credentials "omit"', { ...base, credentials: 'omit' }],
    ['consumable "yes"', { ...base, consumable: 'yes' }],
    ['support.url http: on a non-loopback host', { ...base, support: { text: 'Help', url: 'http://example.com/help' } }],
    ['support.url data:', { ...base, support: { text: 'Help', url: 'data:text/html,hi' } }],
  ];
  for (const [label, options] of invalid) {
    test(`${label} → ConfigurationError; nothing rendered`, async () => {
      await withWorld({}, async (w) => {
        await mountThrows(w, options, 'ConfigurationError', 'INVALID_CONFIGURATION');
      });
    });
  }

  test('productId of 255 characters, and payProviderUrls + trustedRoots without providerOrigin, mount', async () => {
    await withWorld({}, async (w) => {
      assert.deepEqual(await w.mountRaw('buy', { ...base, productId: 'p'.repeat(255) }), { ok: true, state: 'idle' });
      const r = await w.mountRaw('buy', {
        productId: PRODUCT,
        payProviderUrls: { 'mozilla/payments/pay/v1': `${PROVIDER_ORIGIN}/mozpay/?req={jwt}` },
        trustedRoots: [{ url: `${PROVIDER_ORIGIN}/public_keys/root.jwk` }],
        receiptCheckSites: [`${PROVIDER_ORIGIN}/receipts/verify`],
      });
      assert.deepEqual(r, { ok: true, state: 'idle' });
    });
  });
});

describe('localisation (§7.9)', () => {
  test('locale "de": German strings, lang="de"; productName in buy_named', async () => {
    await withWorld({}, async (w) => {
      await w.mount({ locale: 'de' });
      let v = await w.waitView('idle');
      assert.equal(v.button, 'Kaufen');
      assert.equal(v.lang, 'de');
      await w.mount({ locale: 'de', productName: 'Pony' });
      v = await w.waitView('idle');
      assert.equal(v.button, 'Pony kaufen');
    });
  });

  test('locale "de": failed shows the German message, error code and retry', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = { status: 'failed', errorCode: 'TRANS_FAILED' };
      await w.mount({ locale: 'de' });
      await w.clickBuy();
      await w.waitState('failed');
      const v = await w.waitView('failed');
      assert.equal(v.button, 'Erneut versuchen');
      assert.equal(v.message, 'Die Zahlung ist fehlgeschlagen. Es wurde nichts abgebucht.');
      assert.equal(v.code, 'Fehlercode: PAY_WINDOW_FAIL_MESSAGE');
      const [f] = await w.events('mozmarket-failed');
      assert.match(f.detail.error.message, /^[\x20-\x7e]+$/, 'the developer message stays English (ASCII)');
    });
  });

  test('locale "fr": no-break spaces before ":" (error_code) and inside « » (popup_blocked_status)', async () => {
    await withWorld({}, async (w) => {
      w.jwtClaims = { typ: 'other/typ' };
      await w.mount({ locale: 'fr' });
      await w.clickBuy();
      await w.waitState('failed');
      const v = await w.waitView('failed');
      assert.equal(v.button, 'Réessayer');
      assert.equal(v.message, 'Les achats ne sont pas disponibles pour le moment.');
      assert.equal(v.code, 'Code d’erreur\u00a0: UNEXPECTED_JWT_TYPE');
    });
    await withWorld({}, async (w) => {
      await w.mount({ locale: 'fr' });
      await w.eval(() => {
        window.W.blockOpens = 1;
      });
      await w.clickBuy('.mozmarket-buy-main', { popupWaitMs: 200 });
      const v = await w.until('blocked', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null && s;
      });
      assert.equal(v.status, 'La fenêtre de paiement a été bloquée. Sélectionnez «\u00a0Ouvrir la fenêtre de paiement\u00a0» pour continuer.');
      assert.equal(v.openWindow, 'Ouvrir la fenêtre de paiement');
      assert.equal(v.cancel, 'Annuler');
    });
  });

  for (const [locale, tag, buy, named] of [
    ['es', 'es', 'Comprar', 'Comprar Pony'],
    ['pt-BR', 'pt-BR', 'Comprar', 'Comprar Pony'],
    ['zh-TW', 'zh-TW', '購買', '購買「Pony」'],
    ['EN-gb', 'en', 'Buy', 'Buy Pony'],
  ]) {
    test(`locale "${locale}": lang="${tag}", "${buy}" / "${named}"`, async () => {
      await withWorld({}, async (w) => {
        await w.mount({ locale });
        let v = await w.waitView('idle');
        assert.equal(v.lang, tag);
        assert.equal(v.button, buy);
        await w.mount({ locale, productName: 'Pony' });
        v = await w.waitView('idle');
        assert.equal(v.button, named);
      });
    });
  }

  for (const [list, tag, buy] of [
    [['zh-CN', 'fr-CA', 'en'], 'fr', 'Acheter'],
    [['pt-PT'], 'pt-BR', 'Comprar'],
    [['zh-HK'], 'zh-TW', '購買'],
    [['zh-Hant-TW'], 'zh-TW', '購買'],
    [['ja', 'ko'], 'en', 'Buy'],
    [['es-MX', 'de'], 'es', 'Comprar'],
  ]) {
    test(`no locale option: navigator.languages ${JSON.stringify(list)} → ${tag}`, async () => {
      await withWorld({ initScripts: [languages(list)] }, async (w) => {
        await w.eval(() => document.documentElement.removeAttribute('lang'));
        await w.mount();
        const v = await w.waitView('idle');
        assert.equal(v.lang, tag);
        assert.equal(v.button, buy);
      });
    });
  }

  test(
    'no locale option: navigator.languages decides even when the page has <html lang="en">',
    async () => {
      await withWorld({ initScripts: [languages(['de-DE'])] }, async (w) => {
        assert.equal(await w.eval(() => document.documentElement.lang), 'en');
        await w.mount();
        const v = await w.waitView('idle');
        assert.equal(v.lang, 'de');
        assert.equal(v.button, 'Kaufen');
      });
    },
  );

  test(
    'a locale option that matches no supported locale falls back to en',
    async () => {
      await withWorld({}, async (w) => {
        for (const locale of ['ja', 'zh-CN']) {
          assert.deepEqual(await w.mount({ locale }), { ok: true, state: 'idle' });
          const v = await w.waitView('idle');
          assert.equal(v.lang, 'en');
          assert.equal(v.button, 'Buy');
        }
      });
    },
  );

  test('label replaces the idle text (idle and cancelled), not the busy or failed texts', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = { status: 'failed', errorCode: 'USER_CANCELLED' };
      await w.mount({ label: 'Get the pony!', productName: 'Pony' });
      let v = await w.waitView('idle');
      assert.equal(v.button, 'Get the pony!');
      await w.clickBuy();
      await w.waitState('cancelled');
      v = await w.waitView('cancelled');
      assert.equal(v.button, 'Get the pony!');
      w.payAuto = { status: 'failed', errorCode: 'TRANS_FAILED' };
      await w.clickBuy();
      await w.waitState('failed');
      v = await w.waitView('failed');
      assert.equal(v.button, EN.retry);
    });
  });

  test('productName is used until the JWT supplies the localized name (locale de, JWT locales.de)', async () => {
    await withWorld({}, async (w) => {
      w.jwtRequest = { defaultLocale: 'en', locales: { de: { name: 'Magisches Einhorn', description: 'Abenteuerspiel-Artikel' } } };
      const gate = deferred();
      w.onBuy = ((orig) => (req, n, id) => gate.promise.then(() => orig(req, n, id)))(w.onBuy);
      w.payAuto = null;
      await w.mount({ locale: 'de', productName: 'Pony' });
      let v = await w.waitView('idle');
      assert.equal(v.button, 'Pony kaufen');
      const popup = await w.clickBuy();
      v = await w.waitView('preparing');
      assert.equal(v.status, 'Ihr Kauf wird vorbereitet…');
      gate.resolve();
      await w.payPage(popup);
      v = await w.waitView('paying');
      assert.equal(v.button, 'Zahlung läuft…');
      assert.equal(v.status, 'Schließen Sie die Zahlung für Magisches Einhorn im Zahlungsfenster ab.');
    });
  });

  for (const [locale, locales, expected] of [
    ['pt-BR', { 'pt-PT': { name: 'Unicórnio PT' }, 'pt-AO': { name: 'Unicórnio AO' } }, 'Unicórnio AO'],
    ['de', { 'DE': { name: 'Einhorn (DE)' }, 'de-AT': { name: 'Einhorn (AT)' } }, 'Einhorn (DE)'],
    ['de', { de: { description: 'nur Beschreibung' } }, 'Magical Unicorn'],
    ['fr', { de: { name: 'Magisches Einhorn' } }, 'Magical Unicorn'],
  ]) {
    test(`product name from the JWT for UI locale ${locale} with locales ${Object.keys(locales).join(', ')} → ${expected}`, async () => {
      await withWorld({}, async (w) => {
        w.jwtRequest = { defaultLocale: 'en', locales };
        await toPaying(w, { locale });
        const v = await w.waitView('paying');
        assert.ok(v.status.includes(expected), v.status);
        for (const other of Object.values(locales).map((l) => l.name).filter((n) => n && n !== expected)) {
          assert.ok(!v.status.includes(other), v.status);
        }
      });
    });
  }

  test(
    "the product name's element carries lang = the chosen locale tag (or defaultLocale)",
    async () => {
      await withWorld({}, async (w) => {
        w.jwtRequest = { name: 'Licorne magique', defaultLocale: 'fr' };
        await toPaying(w);
        const v = await w.waitView('paying');
        assert.equal(v.status, 'Complete the payment for Licorne magique in the payment window.');
        const langs = await w.eval(() =>
          Array.from(window.W.root.querySelectorAll('[lang]'))
            .filter((el) => el.textContent === 'Licorne magique')
            .map((el) => el.getAttribute('lang')),
        );
        assert.deepEqual(langs, ['fr']);
      });
    },
  );

  test(
    'purchased_status names the product from the JWT',
    async () => {
      await withWorld({}, async (w) => {
        await w.mount();
        await w.clickBuy();
        await w.waitState('purchased');
        const v = await w.waitView('purchased');
        assert.equal(v.status, 'Purchase complete: Magical Unicorn.');
      });
    },
  );

  test(
    'purchased_status prefers the JWT name over productName',
    async () => {
      await withWorld({}, async (w) => {
        w.jwtRequest = { defaultLocale: 'en', locales: { de: { name: 'Magisches Einhorn' } } };
        await w.mount({ locale: 'de', productName: 'Pony' });
        await w.clickBuy();
        await w.waitState('purchased');
        const v = await w.waitView('purchased');
        assert.equal(v.status, 'Kauf abgeschlossen: Magisches Einhorn.');
      });
    },
  );
});

describe('accessibility (§7.2, §7.10)', () => {
  test('every state: button text, aria-disabled (never disabled), aria-busy and the polite announcement', async () => {
    await withWorld({}, async (w) => {
      const buyGate = deferred();
      const statusGate = deferred();
      const verifyGate = deferred();
      w.onBuy = ((orig) => (req, n, id) => buyGate.promise.then(() => orig(req, n, id)))(w.onBuy);
      w.onStatus = (req, n, order) => statusGate.promise.then(() => w.complete(order));
      w.onVerify = () => verifyGate.promise.then(() => json(200, { status: 'ok' }));
      await w.eval(() => window.W.installMozApps({ holdGetSelf: true }));
      w.payAuto = null;
      await w.mount({ productName: 'Magical Unicorn' });
      const check = async (state, button, ariaDisabled, busy, status) => {
        const v = await w.waitView(state);
        assert.deepEqual(
          { button: v.button, ariaDisabled: v.ariaDisabled, disabledAttr: v.disabledAttr, busy: v.busy, status: v.status, alert: v.alert },
          { button, ariaDisabled, disabledAttr: false, busy, status, alert: '' },
          state,
        );
        assert.equal(v.buttonTag, 'button');
        assert.equal(v.buttonType, 'button');
        assert.equal(v.statusRole, 'status');
        assert.equal(v.statusLive, 'polite');
        assert.equal(v.alertRole, 'alert');
        assert.equal(v.styleAttributes, 0);
      };
      await check('idle', 'Buy Magical Unicorn', null, 'false', '');
      assert.equal(await w.eval(() => window.W.focused()), 'body', 'mounting never moves focus');
      const popup = await w.clickBuy();
      await check('preparing', EN.preparing, 'true', 'true', EN.preparing_status);
      buyGate.resolve();
      await w.payPage(popup);
      await check('paying', EN.paying, 'true', 'true', 'Complete the payment for Magical Unicorn in the payment window.');
      await w.send(popup, { status: 'ok' });
      await check('waiting', EN.waiting, 'true', 'true', EN.waiting_status);
      statusGate.resolve();
      await check('installing', EN.finishing, 'true', 'true', EN.installing_status);
      assert.equal(await w.eval(() => window.W.releaseGetSelf()), 1);
      await check('verifying', EN.finishing, 'true', 'true', EN.verifying_status);
      verifyGate.resolve();
      await check('purchased', EN.purchased, 'true', 'false', 'Purchase complete: Magical Unicorn.');
    });
  });

  test('targets are at least 44×44 CSS px; keyboard focus shows an outline of at least 2 px', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      await w.waitView('idle');
      await w.eval(() => {
        window.W.blockOpens = 1;
      });
      await w.page.locator('.mozmarket-buy-main').click();
      await w.until('blocked controls', async () => {
        const s = await w.snapshot();
        return s && s.openWindow !== null;
      });
      const boxes = await w.eval(() =>
        Array.from(window.W.root.querySelectorAll('button')).map((b) => {
          const r = b.getBoundingClientRect();
          return [b.className, r.width >= 44 && r.height >= 44];
        }),
      );
      assert.deepEqual(boxes, [
        ['mozmarket-buy-main', true],
        ['mozmarket-open-window', true],
        ['mozmarket-cancel', true],
      ]);
      // Keyboard focus (Tab) on the cancel button, then its focus ring.
      await w.until('keyboard focus on cancel', async () => {
        await w.page.keyboard.press('Tab');
        return (await w.eval(() => window.W.focused())) === '.mozmarket-cancel';
      });
      const ring = await w.eval(() => {
        const b = window.W.root.querySelector('.mozmarket-cancel');
        const cs = getComputedStyle(b);
        return { visible: b.matches(':focus-visible'), style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
      });
      assert.equal(ring.visible, true);
      assert.notEqual(ring.style, 'none');
      assert.ok(ring.width >= 2, `outline ${ring.width}px`);
    });
  });

  test('the busy indicator does not animate under prefers-reduced-motion: reduce', async () => {
    await withWorld({ contextOptions: { reducedMotion: 'reduce' } }, async (w) => {
      w.payAuto = null;
      await w.mount();
      await w.clickBuy();
      await w.waitView('paying');
      const anim = await w.eval(() => {
        const s = window.W.root.querySelector('.mozmarket-spinner');
        return s ? getComputedStyle(s).animationName : 'no spinner';
      });
      assert.equal(anim, 'none');
    });
  });

  test('the live regions exist from mount and start empty', async () => {
    await withWorld({}, async (w) => {
      await w.mount();
      const v = await w.waitView('idle');
      assert.equal(v.status, '');
      assert.equal(v.alert, '');
      assert.equal(v.statusRole, 'status');
      assert.equal(v.alertRole, 'alert');
      assert.equal(v.describedBy, null);
    });
  });

  test('entering failed moves focus to the main button when focus was on <body>', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      assert.equal(await w.eval(() => window.W.blur()), 'body');
      await w.send(popup, { status: 'failed', errorCode: 'TRANS_FAILED' });
      await w.waitState('failed');
      await w.until('focus on the main button', async () => (await w.eval(() => window.W.focused())) === '.mozmarket-buy-main');
    });
  });

  test('entering failed does not steal focus from elsewhere on the page', async () => {
    await withWorld({}, async (w) => {
      const popup = await toPaying(w);
      assert.equal(await w.eval(() => window.W.focusOutside()), '#outside');
      await w.send(popup, { status: 'failed', errorCode: 'TRANS_FAILED' });
      await w.waitView('failed');
      await sleep(200);
      assert.equal(await w.eval(() => window.W.focused()), '#outside');
    });
  });

  test('entering failed inside a shadow root focuses the main button', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = null;
      await w.mount({}, { shadow: true });
      const popup = await w.clickBuy();
      await w.payPage(popup);
      await w.waitState('paying');
      await w.eval(() => window.W.blur());
      await w.send(popup, { status: 'weird' });
      await w.waitState('failed');
      await w.until('focus on the main button', async () => (await w.eval(() => window.W.focused())) === '.mozmarket-buy-main');
    });
  });

  for (const key of ['Enter', ' ']) {
    test(`keyboard activation (${key === ' ' ? 'Space' : key}) starts a purchase and opens the popup`, async () => {
      await withWorld({}, async (w) => {
        await w.mount();
        await w.waitView('idle');
        await w.page.locator('.mozmarket-buy-main').focus();
        await w.page.keyboard.press(key);
        await w.waitState('purchased');
        assert.equal(w.popups.length, 1);
        assert.equal((await w.opens())[0].url, '');
      });
    });
  }

  test('failed with a support contact: text, mailto: link, and a URL with rel/target', async () => {
    await withWorld({}, async (w) => {
      w.payAuto = { status: 'weird' };
      await w.mount({ support: { text: 'Need help?', email: 'help@example.com', url: 'https://example.com/help' } });
      await w.clickBuy();
      await expectFailed(w, { name: 'UnknownMessageStatus', code: 'UNKNOWN_MESSAGE_STATUS', key: 'err_unconfirmed' });
      const v = await w.waitView('failed');
      assert.ok(v.support.startsWith('Need help?'), v.support);
      assert.deepEqual(v.supportLinks, [
        { href: 'mailto:help@example.com', rel: null, target: null },
        { href: 'https://example.com/help', rel: 'noopener noreferrer', target: '_blank' },
      ]);
      assert.ok(v.alert.indexOf(EN.err_unconfirmed) < v.alert.indexOf('Error code: UNKNOWN_MESSAGE_STATUS'));
      assert.ok(v.alert.indexOf('Error code: UNKNOWN_MESSAGE_STATUS') < v.alert.indexOf('Need help?'));
    });
  });
});

describe('rendering safety (§7.11)', () => {
  test('markup in the JWT name and in productName is rendered as text', async () => {
    await withWorld({}, async (w) => {
      const evil = '<img src=x onerror="window.pwned=1"><b>Unicorn</b>';
      w.jwtRequest = { name: evil };
      await toPaying(w, { productName: '<i>Pony</i>' });
      const v = await w.waitView('paying');
      assert.equal(v.status, `Complete the payment for ${evil} in the payment window.`);
      const dom = await w.eval(() => ({
        elements: window.W.root.querySelectorAll('img, b, i').length,
        pwned: window.pwned === undefined ? 'no' : 'yes',
      }));
      assert.deepEqual(dom, { elements: 0, pwned: 'no' });
    });
    await withWorld({}, async (w) => {
      await w.mount({ productName: '<i>Pony</i>', label: undefined });
      const v = await w.waitView('idle');
      assert.equal(v.button, 'Buy <i>Pony</i>');
      assert.equal(await w.eval(() => window.W.root.querySelectorAll('i').length), 0);
    });
  });

  test('F38: a full purchase under script-src \'self\' \'wasm-unsafe-eval\' + Trusted Types: no securitypolicyviolation', async () => {
    await withWorld({ sse: true }, async (w) => {
      const csp = await w.eval(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]').content);
      assert.match(csp, /require-trusted-types-for 'script'/);
      const response = await w.page.request.get(w.page.url());
      assert.match(response.headers()['content-security-policy'], /script-src 'self' 'wasm-unsafe-eval'(;|$)/);
      await w.mount({ support: { text: 'Help', url: 'https://example.com/help' } });
      await w.clickBuy();
      await w.waitState('purchased');
      assert.deepEqual(await w.cspViolations(), []);
      // w.finish() re-checks the violations and uncaught page errors.
    });
  });
});
