// TypeScript consumers of the packed package, checked with the repository's TypeScript 7
// (node_modules/typescript: `node …/bin/tsc`, the native compiler):
//   - example.ts uses every export of 'mozmarket', 'mozmarket/full' and 'mozmarket/element' with
//     their types (and pins the value exports to the runtime's), classic.ts the global of
//     'mozmarket/classic'; both compile with `strict` under moduleResolution "bundler" and
//     "nodenext", with the package's .d.ts checked too (no skipLibCheck);
//   - bad.ts has deliberate mistakes (wrong option type, misspelt option, wrong callback
//     signature, …): tsc must fail on exactly those lines with the expected codes, which proves
//     the types are not `any`;
//   - the emitted JS is built with Vite and run in Chromium under the strict CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pack, makeConsumer, run, TSC, viteBuild, startServer, launchBrowser, withPage, makeAppFixture, INDEX_EXPORTS, FULL_EXPORTS, LIMIT, SETUP_LIMIT } from './lib.mjs';
import { html, exerciseEsmApp } from './apps.mjs';

const record = (names) => `{ ${names.map((n) => `${n}: true`).join(', ')} }`;

const EXAMPLE = `// A typed consumer of every export of mozmarket, mozmarket/full and mozmarket/element.
import * as MM from 'mozmarket';
import { init, ready, Verifier, verify, addReceipt, listReceipts } from 'mozmarket';
import type {
  InitInput, Ready, VerifierOptions, VerifierStatic, Verifier as VerifierInstance, StateObject, StateClass, States, Errors,
  JWK, JWKS, StorageLike, App, Product, StoreResult, AddReceiptResult, AddReceiptError, ReceiptStoreOptions, LevelName,
  Levels, Logger, ReceiptType,
} from 'mozmarket';
import * as Full from 'mozmarket/full';
import {
  init as initFull, ready as readyFull, Verifier as FullVerifier, verify as verifyFull, addReceipt as addReceiptFull,
  listReceipts as listReceiptsFull, Prompter, mountBuyButton, mountRestoreButton, defineElements,
} from 'mozmarket/full';
import type {
  BuyButtonOptions, BuyButtonHandle, RestoreButtonOptions, RestoreButtonHandle, PurchaseDetail, FailedDetail,
  CancelledDetail, StateChangeDetail, WarningDetail, RestoredDetail, WidgetState, WidgetError, WidgetErrorName,
  TrustedRoot, SupportContact, VerificationOptions, Verification, PrompterOptions, PrompterInstance, PrompterStatic,
  PrompterTemplates, PrompterTemplateName, MozmarketBuyButtonElement, MozmarketRestoreButtonElement,
} from 'mozmarket/full';
import * as Element from 'mozmarket/element';

// The value exports, exactly: one added or removed in the .d.ts (or here) fails to compile.
export const everyIndexExport: Record<keyof typeof MM, true> = ${record(INDEX_EXPORTS)};
export const everyFullExport: Record<keyof typeof Full, true> = ${record(FULL_EXPORTS)};
export const everyElementExport: Record<keyof typeof Element, true> = ${record(FULL_EXPORTS)};

// No export is \`any\`, and the entries agree with each other.
type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;
export type Checks = [
  Expect<Equal<IsAny<typeof init>, false>>,
  Expect<Equal<IsAny<typeof ready>, false>>,
  Expect<Equal<IsAny<typeof Verifier>, false>>,
  Expect<Equal<IsAny<typeof verify>, false>>,
  Expect<Equal<IsAny<typeof addReceipt>, false>>,
  Expect<Equal<IsAny<typeof listReceipts>, false>>,
  Expect<Equal<IsAny<typeof Prompter>, false>>,
  Expect<Equal<IsAny<typeof mountBuyButton>, false>>,
  Expect<Equal<IsAny<typeof mountRestoreButton>, false>>,
  Expect<Equal<IsAny<typeof defineElements>, false>>,
  Expect<Equal<IsAny<VerifierInstance['state']>, false>>,
  Expect<Equal<ReturnType<typeof init>, Promise<void>>>,
  Expect<Equal<Awaited<typeof ready>, void>>,
  Expect<Equal<Parameters<typeof init>, [input?: InitInput]>>,
  Expect<Equal<typeof Element.mountBuyButton, typeof mountBuyButton>>,
  Expect<Equal<typeof Element.Prompter, typeof Prompter>>,
  Expect<Equal<typeof Full.Verifier, VerifierStatic>>,
  Expect<Equal<typeof FullVerifier, typeof Verifier>>,
  Expect<Equal<BuyButtonHandle['state'], WidgetState>>,
  Expect<Equal<PurchaseDetail['verification'], Verification>>,
  Expect<Equal<WidgetError['name'], WidgetErrorName>>,
];

interface Fixture {
  iss: string;
  now: number;
  trustedKeys: JWKS;
  productURL: string;
  good: string;
  forged: string;
  refunded: string;
  storeURL: string;
  supportHTML: string;
}

class MemoryStorage implements StorageLike {
  private readonly map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }
  removeItem(key: string): void {
    this.map.delete(key);
  }
}

const out: Record<string, unknown> = {};
const extra: Record<string, unknown> = {};
const report = (state: 'ok' | 'error'): void => {
  out.extra = extra;
  document.getElementById('out')!.textContent = JSON.stringify(out);
  document.body.dataset.done = state;
};
const message = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};
const wasmFetched = (): string[] =>
  performance.getEntriesByType('resource').filter((e) => /\\.wasm(\\?|$)/.test(e.name)).map((e) => new URL(e.name).pathname);

async function main(): Promise<void> {
  const fx = (await (await fetch('/fixture.json')).json()) as Fixture;
  const key: JWK = fx.trustedKeys.keys[0]!;
  const strictOptions = (receipts: string[]): VerifierOptions => ({
    trustedKeys: [key],
    installs_allowed_from: [fx.iss],
    productURL: fx.productURL,
    receipts,
    cacheStorage: null,
    receiptStorage: null,
    logLevel: 'WARN',
    now: () => fx.now,
  });
  const host = document.getElementById('buy')!;

  out.wasmBeforeInit = wasmFetched();
  out.beforeInit = {
    strictVerifier: message(() => new Verifier(strictOptions([]))),
    mountBuyButton: message(() => mountBuyButton(host, { productId: 'shiny-pony' })),
    prompter: message(() => new Prompter({ storeURL: fx.storeURL, supportHTML: fx.supportHTML })),
  };

  await Promise.all([init(), init()]);
  out.initAgain = await init();
  const r: Ready = ready;
  out.ready = await r;

  const good: VerifierInstance = await new Verifier(strictOptions([fx.good])).verify();
  const state: StateObject = good.state;
  const OK: StateClass = Verifier.states.OK;
  out.good = String(state);
  out.goodIsOK = state instanceof OK;
  const forged = await new Verifier(strictOptions([fx.forged])).verify();
  const states: States = forged.states;
  out.forged = String(forged.state);
  out.forgedIsNoValidReceipts = forged.state instanceof states.NoValidReceipts;
  out.forgedErrors = Object.values(forged.receiptErrors).map(String);
  const errors: Errors = Verifier.errors;
  extra.forgedIsInvalidSignature = Object.values(forged.receiptErrors)[0] instanceof errors.InvalidSignature;

  // verify(), addReceipt(), listReceipts(), verifyReceipts(), the static members.
  let calls = 0;
  const viaFunction = await verify((v: VerifierInstance) => {
    calls += v.products.length;
  }, strictOptions([fx.good]));
  extra.verify = [String(viaFunction.state), calls];
  const products: Product[] = good.products;
  extra.products = products.map((p) => p.url);
  const storage = new MemoryStorage();
  const storeOptions: ReceiptStoreOptions = { receiptStorage: storage };
  const added: AddReceiptResult = await addReceipt(fx.good, storeOptions);
  extra.added = added;
  extra.listed = (await listReceipts(storeOptions)).length;
  try {
    await addReceipt('not a receipt', storeOptions);
    extra.addError = 'resolved';
  } catch (e) {
    extra.addError = (e as AddReceiptError).code;
  }
  const levelName: LevelName = 'WARN';
  const levels: Levels = Verifier.levels;
  extra.level = levels[levelName];
  const logger: Logger = Verifier.consoleLogger;
  extra.logger = typeof logger;
  const typ: ReceiptType = 'purchase-receipt';
  extra.parsed = new Verifier(strictOptions([])).parseReceipt(fx.good).typ === typ;
  const app: App = { receipts: [fx.good, fx.refunded], origin: fx.productURL };
  const server = await new Verifier({ trustedKeys: fx.trustedKeys, installs_allowed_from: [fx.iss], now: () => fx.now }).verifyReceipts(app);
  const results: Record<string, StoreResult> = server.receiptVerifications;
  extra.server = [String(server.state), Object.keys(results).length, server.products.length];

  // mozmarket/full: its own core, Verifier, receipt store functions, widgets and Prompter.
  const input: InitInput | undefined = undefined;
  await initFull(input);
  await readyFull;
  extra.fullVerify = String((await verifyFull(undefined, strictOptions([fx.good]))).state);
  const fullStorage = new MemoryStorage();
  extra.fullAdded = (await addReceiptFull(fx.good, { receiptStorage: fullStorage })).added;
  extra.fullListed = (await listReceiptsFull({ receiptStorage: fullStorage })).length;
  const seen: Array<StateChangeDetail['state']> = [];
  const support: SupportContact = { text: 'Need help?', email: 'help@example.com' };
  const roots: TrustedRoot[] = [{ url: 'https://pay.example/public_keys/root.jwk' }];
  const shared: VerificationOptions = { providerOrigin: 'https://pay.example', trustedRoots: roots, support, apiTimeoutMs: 5000 };
  const buyOptions: BuyButtonOptions = {
    ...shared,
    productId: 'shiny-pony',
    productName: 'Shiny Pony',
    onPurchase: (d: PurchaseDetail) => {
      extra.purchased = d.productId;
    },
    onFailed: (d: FailedDetail) => {
      const e: WidgetError = d.error;
      extra.failed = e.code;
    },
    onCancelled: (d: CancelledDetail) => {
      extra.cancelled = d.reason;
    },
    onStateChange: (d) => {
      seen.push(d.state);
    },
    onWarning: (d: WarningDetail) => {
      extra.warning = d.error.code;
    },
  };
  const handle: BuyButtonHandle = mountBuyButton(host, buyOptions);
  const widgetState: WidgetState = handle.state;
  out.buyState = widgetState;
  const restoreOptions: RestoreButtonOptions = {
    ...shared,
    onRestored: (d: RestoredDetail) => {
      extra.restored = d.products.length;
    },
  };
  const restore: RestoreButtonHandle = mountRestoreButton(document.getElementById('restore')!, restoreOptions);
  extra.restoreState = restore.state;

  // mozmarket/element: the same module as mozmarket/full, with the elements registered.
  Element.defineElements();
  defineElements();
  extra.sameMount = Element.mountBuyButton === mountBuyButton;
  const el = document.createElement('mozmarket-buy-button') as MozmarketBuyButtonElement;
  el.setAttribute('product', 'typed-pony');
  el.setAttribute('product-name', 'Typed Pony');
  el.setAttribute('provider-origin', 'https://pay.example');
  el.options = { support };
  document.getElementById('elements')!.append(el);
  const restoreEl = document.createElement('mozmarket-restore-button') as MozmarketRestoreButtonElement;
  extra.restoreElementState = restoreEl.state;
  out.wasmAfterInit = wasmFetched();

  document.getElementById('check')!.addEventListener('click', async () => {
    const check: Record<string, unknown> = {};
    try {
      const v = await new FullVerifier(strictOptions([fx.refunded])).verify();
      check.state = String(v.state);
      check.errors = Object.values(v.receiptErrors).map(String);
      const options: PrompterOptions = { storeURL: fx.storeURL, supportHTML: fx.supportHTML, verifier: v };
      const P: PrompterStatic = Prompter;
      const templates: PrompterTemplates = P.prototype.templates;
      const name: PrompterTemplateName = 'refunded';
      check.hasTemplate = typeof templates[name] === 'string';
      const prompter: PrompterInstance = new P(options);
      check.overlayId = prompter.overlay && prompter.overlay.id;
      check.blocking = prompter.blocking;
    } catch (e) {
      check.error = String((e instanceof Error && e.stack) || e);
    }
    document.getElementById('check-out')!.textContent = JSON.stringify(check);
  });
}

main().then(
  () => report('ok'),
  (e: unknown) => {
    out.error = String((e instanceof Error && e.stack) || e);
    report('error');
  },
);
`;

const CLASSIC = `/// <reference types="mozmarket/classic" />
// The classic global, typed (an app that loads mozmarket-receipts.js with a <script> tag).
const R = mozmarket.receipts;
export const run = (iss: string): Promise<void> =>
  R.ready.then(async () => {
    const v = new R.Verifier({ installs_allowed_from: [iss], logLevel: 'INFO' });
    await v.verify((done) => done.state.name);
    R.Prompter({ storeURL: 'https://store.example/app', supportHTML: 'help', verify: true });
    const list: unknown[] = await R.listReceipts();
    void list;
  });
`;

/** Lines marked `// @error TSnnnn …` must fail with one of those codes; no other line may fail. */
const BAD = `/// <reference types="mozmarket/classic" />
// Deliberate type errors: each marked line must fail to compile with one of the codes given.
import { init, ready, Verifier, verify } from 'mozmarket';
import { mountBuyButton, mountRestoreButton, Prompter } from 'mozmarket/full';
import { mountBuyButton as mountFromElement } from 'mozmarket/element';

declare const host: HTMLElement;

new Verifier({ requestTimeout: '30s' }); // @error TS2322
new Verifier({ trustedKey: { keys: [] } }); // @error TS2561 TS2353
new Verifier({ mode: 'lenient' }); // @error TS2322
new Verifier({ now: () => '2024-01-01' }); // @error TS2322
new Verifier({}).verify((v: number) => v); // @error TS2345
verify(undefined, { logLevel: 'LOUD' }); // @error TS2322
mountBuyButton(host, { productId: 'p', onPurchase: (detail: string) => detail }); // @error TS2322
mountBuyButton(host, { productId: 'p', provderOrigin: 'https://pay.example' }); // @error TS2561 TS2353
mountBuyButton(host, { productName: 'no id' }); // @error TS2345 TS2741
mountBuyButton(host, { productId: 'p', pollInitialMs: '1s' }); // @error TS2322
mountRestoreButton(host, { onRestored: (n: number) => n }); // @error TS2322
const state: 'bought' = mountBuyButton(host, { productId: 'p' }).state; // @error TS2322
new Prompter({ storeURL: 'https://store.example/app' }); // @error TS2345 TS2741
new Prompter({ storeURL: 'https://store.example/app', supportHTML: 'x', allowNoInstal: true }); // @error TS2561 TS2353
const loaded: number = await init(); // @error TS2322
init({ modulePath: '/core.wasm' }); // @error TS2561 TS2353
init('core.wasm'); // @error TS2345 TS2559
ready.then((x: string) => x.length); // @error TS2345 TS2769
mountFromElement(host, { productId: 42 }); // @error TS2322
new mozmarket.receipts.Verifier({ logLevel: 'LOUD' }); // @error TS2322
mozmarket.receipts.ready.then((n: number) => n); // @error TS2345 TS2769
export { state, loaded };
`;

const compilerOptions = {
  strict: true,
  target: 'es2022',
  lib: ['es2022', 'dom'],
  types: [],
  skipLibCheck: false,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  forceConsistentCasingInFileNames: true,
};
const config = (resolution, files, extra = {}) =>
  JSON.stringify(
    {
      compilerOptions: {
        ...compilerOptions,
        ...(resolution === 'bundler' ? { module: 'esnext', moduleResolution: 'bundler' } : { module: 'nodenext', moduleResolution: 'nodenext' }),
        ...extra,
      },
      files,
    },
    null,
    2,
  ) + '\n';

let dir;
let browser;
let srv;

before(async () => {
  const { tarball } = await pack('ts-pack');
  dir = await makeConsumer('ts-app', tarball, {
    'example.ts': EXAMPLE,
    'classic.ts': CLASSIC,
    'bad.ts': BAD,
    'tsconfig.bundler.json': config('bundler', ['example.ts', 'classic.ts'], { noEmit: true }),
    'tsconfig.nodenext.json': config('nodenext', ['example.ts', 'classic.ts'], { outDir: 'build', rootDir: '.' }),
    'tsconfig.bad.bundler.json': config('bundler', ['bad.ts'], { noEmit: true }),
    'tsconfig.bad.nodenext.json': config('nodenext', ['bad.ts'], { noEmit: true }),
    'index.html': html('mozmarket in a TypeScript app', ['/build/example.js'], {
      body: '<div id="restore"></div>\n<div id="elements"></div>',
    }),
  });
}, SETUP_LIMIT);

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

const tsc = (project, opts = {}) => run(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { cwd: dir, timeoutMs: 120000, ...opts });

/** `file(line,col): error TSnnnn: …` diagnostics. */
const diagnostics = (output) =>
  [...output.matchAll(/^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$/gm)].map((m) => ({ file: m[1], line: Number(m[2]), code: m[4], text: m[5] }));

test('the TypeScript compiler is the repository\'s TypeScript 7', async () => {
  const { stdout } = await run(process.execPath, [TSC, '--version'], { cwd: dir, timeoutMs: 60000 });
  assert.match(stdout, /^Version 7\./);
});

for (const resolution of ['bundler', 'nodenext']) {
  test(`example.ts and classic.ts compile (strict, moduleResolution "${resolution}", the package's .d.ts checked)`, async () => {
    const res = await tsc(`tsconfig.${resolution}.json`, { allowFailure: true });
    assert.deepEqual(diagnostics(res.output).map((d) => `${d.file}(${d.line}) ${d.code}: ${d.text}`), [], res.output);
    assert.equal(res.code, 0, res.output);
  });

  test(`bad.ts fails on exactly its marked lines with the expected codes (moduleResolution "${resolution}")`, async () => {
    const res = await tsc(`tsconfig.bad.${resolution}.json`, { allowFailure: true });
    assert.notEqual(res.code, 0, 'tsc must fail on bad.ts');
    const expected = new Map();
    BAD.split('\n').forEach((l, i) => {
      const m = /\/\/ @error ((?:TS\d+ ?)+)$/.exec(l);
      if (m) expected.set(i + 1, m[1].trim().split(' '));
    });
    const found = diagnostics(res.output).filter((d) => d.file === 'bad.ts');
    const others = diagnostics(res.output).filter((d) => d.file !== 'bad.ts');
    assert.deepEqual(others, [], 'errors outside bad.ts (in the package\'s types?)');
    const problems = [];
    for (const [line, codes] of expected) {
      const at = found.filter((d) => d.line === line);
      if (at.length === 0) problems.push(`line ${line} compiled (the types let it through): ${BAD.split('\n')[line - 1]}`);
      else if (!codes.includes(at[0].code)) problems.push(`line ${line}: ${at[0].code} (${at[0].text}), expected ${codes.join(' or ')}`);
    }
    for (const d of found) if (!expected.has(d.line)) problems.push(`unexpected error on line ${d.line}: ${d.code} ${d.text}`);
    assert.deepEqual(problems, []);
  });
}

test('the emitted example, built with Vite, runs in Chromium under the strict CSP', LIMIT, async () => {
  const emitted = await readFile(path.join(dir, 'build', 'example.js'), 'utf8');
  assert.match(emitted, /from ['"]mozmarket\/full['"]/, 'tsc emitted example.js (the nodenext compile)');
  await viteBuild(dir, { allowWarnings: true }); // the warnings are judged by vite.test.mjs
  srv = await startServer(path.join(dir, 'dist'));
  const fx = await makeAppFixture(srv.origin);
  srv.setFixture(fx);
  browser = await launchBrowser();
  await withPage(browser, srv.url('/'), async (p) => {
    const out = await p.result();
    assert.deepEqual(out.extra, {
      forgedIsInvalidSignature: true,
      verify: ['[OK]', 1],
      products: ['https://app.example'],
      added: { storage: 'local', added: true },
      listed: 1,
      addError: out.extra.addError,
      level: 40,
      logger: 'function',
      parsed: true,
      server: ['[OK]', 1, 1],
      fullVerify: '[OK]',
      fullAdded: true,
      fullListed: 1,
      restoreState: 'idle',
      sameMount: true,
      restoreElementState: null,
    });
    assert.match(String(out.extra.addError), /^[A-Z_]+$/, 'addReceipt rejects with a code');
    for (const name of ['Buy Typed Pony', 'Restore purchases']) {
      const b = p.page.getByRole('button', { name });
      await b.waitFor({ state: 'visible', timeout: 10000 });
      assert.equal(await b.isEnabled(), true, name);
    }
    // Then what every ES app checks (last: the Prompter's modal overlay makes the rest inert).
    await exerciseEsmApp(p);
  });
});
