// The npm package as published: `npm pack` of pkg/, then its file list, package.json, exports map
// (resolved by Node in an installed consumer), source maps, and the `sideEffects` field checked
// against what importing each file really does in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pack, makeConsumer, run, startServer, launchBrowser, repo, pkgDir, writeFiles, LIMIT, SETUP_LIMIT } from './lib.mjs';

let packed;
let files; // Set of paths in the tarball
let pkgRoot; // the extracted tarball (package/)
let manifest;
let browser;
let srv;

before(async () => {
  packed = await pack('tarball');
  files = new Set(packed.info.files.map((f) => f.path));
  const extract = path.join(packed.dir, 'extract');
  await mkdir(extract, { recursive: true });
  await run('tar', ['-xzf', packed.tarball, '-C', extract], { cwd: packed.dir });
  pkgRoot = path.join(extract, 'package');
  manifest = JSON.parse(await readFile(path.join(pkgRoot, 'package.json'), 'utf8'));
}, SETUP_LIMIT);

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
});

const ALWAYS_ALLOWED = /^(package\.json|README(\.md)?|LICEN[CS]E(\.md|\.txt)?|CHANGELOG(\.md)?)$/i;
const isSelf = (spec) => spec === 'mozmarket' || spec.startsWith('mozmarket/');
const strip = (p) => p.replace(/^\.\//, '');
const read = (rel) => readFile(path.join(pkgRoot, rel), 'utf8');

/** Every target the exports map names (strings, or condition objects, nested). */
function exportTargets(entry) {
  if (typeof entry === 'string') return [entry];
  if (entry && typeof entry === 'object') return Object.values(entry).flatMap(exportTargets);
  return [];
}

/**
 * What a shipped file refers to, as package-relative paths: `{refs, bare}`. JS: static and
 * dynamic imports, re-exports, `new URL('…', base)` assets, the source map. Types: imports,
 * `import('…')` types and `/// <reference path>`, with `.js` mapped to `.d.ts`.
 */
async function referencesOf(rel) {
  const text = await read(rel);
  const dir = path.posix.dirname(rel);
  const specs = [];
  const add = (re, src = text) => {
    for (const m of src.matchAll(re)) specs.push(m[1]);
  };
  const refs = [];
  const bare = [];
  if (rel.endsWith('.d.ts')) {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/(?!\/).*$/gm, '');
    add(/\bfrom\s*["']([^"']+)["']/g, code);
    add(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g, code);
    add(/^\s*import\s*["']([^"']+)["']/gm, code);
    add(/\/\/\/\s*<reference\s+path\s*=\s*["']([^"']+)["']/g);
    for (const s of specs) {
      if (s.startsWith('.')) refs.push(path.posix.join(dir, s).replace(/\.(m?)js$/, '.d.$1ts'));
      else if (!s.startsWith('node:') && !isSelf(s)) bare.push(s);
    }
  } else if (rel.endsWith('.js')) {
    add(/\bfrom\s*["']([^"']+)["']/g);
    add(/\bimport\s*\(\s*(?:\/\*[^]*?\*\/\s*)*["']([^"']+)["']\s*\)/g);
    add(/\bimport\s*["']([^"']+)["']/g);
    add(/\bnew\s+URL\(\s*["']([^"':]+)["']\s*,/g);
    for (const s of specs) {
      if (s.startsWith('.') || /^[\w-]+\/[\w.-]+\.(js|wasm)$/.test(s) || /^[\w.-]+\.wasm$/.test(s)) {
        refs.push(path.posix.normalize(path.posix.join(dir, s)));
      } else if (!s.startsWith('node:') && !isSelf(s)) bare.push(s);
    }
    const map = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text);
    if (map && !map[1].startsWith('data:')) refs.push(path.posix.join(dir, map[1]));
  }
  return { refs, bare };
}

test('the tarball holds exactly what the package needs: no stray files, nothing referenced is missing', async () => {
  const roots = new Set(['package.json']);
  for (const t of exportTargets(manifest.exports)) roots.add(strip(t));
  for (const k of ['main', 'module', 'types', 'typings', 'browser']) if (typeof manifest[k] === 'string') roots.add(strip(manifest[k]));
  const reachable = new Map(); // file -> who refers to it
  const queue = [...roots].map((r) => [r, 'package.json']);
  const bareImports = [];
  while (queue.length) {
    const [f, from] = queue.shift();
    if (reachable.has(f)) continue;
    reachable.set(f, from);
    if (!files.has(f)) continue;
    const { refs, bare } = await referencesOf(f);
    for (const b of bare) bareImports.push(`${f} imports "${b}"`);
    for (const r of refs) queue.push([r, f]);
  }
  const missing = [...reachable].filter(([f]) => !files.has(f)).map(([f, from]) => `${f} (referred to by ${from})`);
  const stray = [...files].filter((f) => !reachable.has(f) && !ALWAYS_ALLOWED.test(f));
  assert.deepEqual(missing, [], 'files the package refers to but the tarball lacks');
  assert.deepEqual(stray, [], 'files in the tarball that nothing in the package refers to (not importable through the exports map)');
  assert.deepEqual(bareImports, [], 'imports of other packages (the package has no dependencies)');
  // `files` names nothing that is not there (npm silently skips a missing entry).
  const absent = (manifest.files || []).filter((f) => !/[*?[]/.test(f) && !files.has(strip(f)));
  assert.deepEqual(absent, [], 'entries of package.json "files" that are not in the tarball');
  for (const f of files) assert.ok(!/(^|\/)(\.|node_modules\/|src\/|target\/|tests?\/)/.test(f), `unexpected path in the tarball: ${f}`);
});

test('package.json: name, version, type, entry fields consistent with exports, no dependencies or scripts', async () => {
  assert.equal(manifest.name, 'mozmarket');
  const cargo = await readFile(path.join(repo, 'Cargo.toml'), 'utf8');
  const cargoVersion = /\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargo)[1];
  assert.match(manifest.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  assert.equal(manifest.version, cargoVersion, 'the package version is the crate version');
  assert.equal(packed.info.name, 'mozmarket');
  assert.equal(packed.info.version, manifest.version);
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.license, 'MPL-2.0');
  assert.equal(typeof manifest.description, 'string');
  for (const k of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
    assert.equal(manifest[k], undefined, `package.json has ${k}`);
  }
  for (const k of ['preinstall', 'install', 'postinstall', 'prepare', 'prepublish']) {
    assert.equal(manifest.scripts && manifest.scripts[k], undefined, `package.json has an install-time script ${k}`);
  }
  assert.equal(manifest.private, undefined, 'the package must be publishable');
  const dot = manifest.exports['.'];
  if (manifest.main !== undefined) assert.equal(strip(manifest.main), strip(dot.default), 'main = exports["."].default');
  if (manifest.module !== undefined) assert.equal(strip(manifest.module), strip(dot.default), 'module = exports["."].default');
  if (manifest.types !== undefined) assert.equal(strip(manifest.types), strip(dot.types), 'types = exports["."].types');
  if (manifest.engines && manifest.engines.node) assert.match(manifest.engines.node, /^>=\s*\d+/);
});

test('exports map: the documented subpaths, every target in the tarball, every JS export typed (types first)', async () => {
  const ex = manifest.exports;
  assert.deepEqual(
    Object.keys(ex).sort(),
    ['.', './classic', './element', './full', './package.json', './wasm', './wasm-full'],
    'the subpaths of issue 5',
  );
  const expected = {
    '.': 'index.js',
    './full': 'full.js',
    './element': 'element.js',
    './classic': 'mozmarket-receipts.js',
    './wasm': 'core/mozmarket_core_bg.wasm',
    './wasm-full': 'core-full/mozmarket_full_bg.wasm',
    './package.json': 'package.json',
  };
  for (const [sub, entry] of Object.entries(ex)) {
    for (const t of exportTargets(entry)) {
      assert.ok(t.startsWith('./'), `${sub}: target ${t} must start with ./`);
      assert.ok(files.has(strip(t)), `${sub}: ${t} is not in the tarball`);
    }
    const main = typeof entry === 'string' ? entry : entry.default;
    assert.equal(strip(main), expected[sub], `${sub} points at ${expected[sub]}`);
    if (main.endsWith('.js')) {
      assert.equal(typeof entry, 'object', `${sub}: a JS export needs a condition object with "types"`);
      const keys = Object.keys(entry);
      assert.equal(keys[0], 'types', `${sub}: "types" must be the first condition (TypeScript matches in order): ${keys}`);
      assert.equal(keys.at(-1), 'default', `${sub}: "default" must be the last condition: ${keys}`);
      assert.match(entry.types, /\.d\.ts$/);
    }
  }
  for (const sub of ['./wasm', './wasm-full']) {
    const bytes = await readFile(path.join(pkgRoot, strip(ex[sub])));
    assert.ok(WebAssembly.validate(bytes), `${sub} is a valid WebAssembly module`);
  }
});

test('Node resolves every subpath of an installed copy; deep imports are closed', LIMIT, async () => {
  const dir = await makeConsumer('resolve', packed.tarball, {
    'resolve.mjs': `import { fileURLToPath } from 'node:url';
const out = {};
for (const sub of JSON.parse(process.argv[2])) {
  const spec = sub === '.' ? 'mozmarket' : 'mozmarket/' + sub.slice(2);
  try {
    out[sub] = fileURLToPath(import.meta.resolve(spec));
  } catch (e) {
    out[sub] = 'ERROR ' + e.code;
  }
}
for (const deep of ['mozmarket/receipts.js', 'mozmarket/core/mozmarket_core.js', 'mozmarket/index.js']) {
  try {
    out[deep] = import.meta.resolve(deep);
  } catch (e) {
    out[deep] = e.code;
  }
}
console.log(JSON.stringify(out));
`,
  });
  const subs = Object.keys(manifest.exports);
  const { stdout } = await run(process.execPath, ['resolve.mjs', JSON.stringify(subs)], { cwd: dir, timeoutMs: 30000 });
  const out = JSON.parse(stdout);
  const installed = path.join(dir, 'node_modules', 'mozmarket');
  for (const sub of subs) {
    const entry = manifest.exports[sub];
    const target = typeof entry === 'string' ? entry : entry.default;
    assert.equal(out[sub], path.join(installed, strip(target)), `mozmarket${sub.slice(1)} resolves to ${target}`);
  }
  for (const deep of ['mozmarket/receipts.js', 'mozmarket/core/mozmarket_core.js', 'mozmarket/index.js']) {
    assert.equal(out[deep], 'ERR_PACKAGE_PATH_NOT_EXPORTED', `${deep} is not exported`);
  }
});

test('source maps: each one referenced by its file, with the sources embedded', async () => {
  const js = [...files].filter((f) => f.endsWith('.js'));
  const problems = [];
  for (const f of js) {
    const text = await read(f);
    const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text);
    if (!m) continue;
    const mapRel = path.posix.join(path.posix.dirname(f), m[1]);
    if (!files.has(mapRel)) {
      problems.push(`${f} ends with sourceMappingURL=${m[1]} but ${mapRel} is not in the tarball (a dangling reference)`);
      continue;
    }
    let map;
    try {
      map = JSON.parse(await read(mapRel));
    } catch (e) {
      problems.push(`${mapRel}: not JSON (${e.message})`);
      continue;
    }
    if (map.version !== 3) problems.push(`${mapRel}: version ${map.version}`);
    if (!Array.isArray(map.sources) || map.sources.length === 0) problems.push(`${mapRel}: no sources`);
    const contents = map.sourcesContent || [];
    (map.sources || []).forEach((s, i) => {
      if (typeof contents[i] !== 'string' || contents[i].length === 0) {
        problems.push(`${mapRel}: source ${s} has no sourcesContent (the package ships no sources to resolve it against)`);
      }
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(mapRel), s));
      if (resolved.startsWith('..') || path.posix.isAbsolute(s) || /^file:/.test(s)) {
        problems.push(`${mapRel}: source ${s} points outside the package`);
      }
    });
  }
  for (const f of files) {
    if (f.endsWith('.map') && !js.some((j) => `${j}.map` === f)) problems.push(`${f}: a source map without its file`);
  }
  assert.deepEqual(problems, []);
});

test('sideEffects lists exactly the files that have side effects when imported (probed in Chromium)', LIMIT, async () => {
  // Every JS file of the package, loaded alone into a blank page under the CSP: an ES module with
  // import(), the classic script with a <script> element. Anything observable is a side effect:
  // new globals, custom elements, fetch/XHR/wasm, listeners, storage, DOM, network requests.
  const probeRoot = path.dirname(pkgRoot);
  await writeFiles(probeRoot, {
    'probe.html': '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>probe</title><link rel="icon" href="data:,"></head><body><p>probe</p></body></html>\n',
  });
  srv = await startServer(probeRoot);
  browser = await launchBrowser();
  const classic = strip(manifest.exports['./classic'].default);
  const jsFiles = [...files].filter((f) => f.endsWith('.js')).sort();
  const details = {};
  const probe = async (f) => {
    const context = await browser.newContext();
    try {
      await context.addInitScript(() => {
        const effects = [];
        window.__effects = effects;
        window.__probing = false;
        const note = (what) => {
          if (window.__probing) effects.push(what);
        };
        const wrap = (obj, name, label) => {
          const orig = obj[name];
          obj[name] = function (...args) {
            note(`${label}(${String(args[0] && args[0].url ? args[0].url : args[0]).slice(0, 80)})`);
            return orig.apply(this, args);
          };
        };
        wrap(CustomElementRegistry.prototype, 'define', 'customElements.define');
        wrap(window, 'fetch', 'fetch');
        wrap(XMLHttpRequest.prototype, 'open', 'XMLHttpRequest.open');
        wrap(EventTarget.prototype, 'addEventListener', 'addEventListener');
        wrap(Storage.prototype, 'setItem', 'storage.setItem');
        wrap(window, 'setTimeout', 'setTimeout');
        wrap(window, 'setInterval', 'setInterval');
        for (const k of ['instantiate', 'instantiateStreaming', 'compile', 'compileStreaming']) wrap(WebAssembly, k, `WebAssembly.${k}`);
      });
      const page = await context.newPage();
      const requests = [];
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(srv.url('/probe.html'));
      page.on('request', (r) => requests.push(`${r.resourceType()} ${new URL(r.url()).pathname}`));
      const url = srv.url('/package/' + f);
      const res = await page.evaluate(
        async ({ url, isClassic }) => {
          const globals = new Set(Object.getOwnPropertyNames(window));
          const dom = document.documentElement.outerHTML;
          window.__probing = true;
          let loadError = null;
          if (isClassic) {
            const s = document.createElement('script');
            await new Promise((resolve) => {
              s.src = url;
              s.onload = resolve;
              s.onerror = () => {
                loadError = 'the script did not load';
                resolve();
              };
              document.head.append(s);
            });
            s.remove();
          } else {
            try {
              await import(url);
            } catch (e) {
              loadError = String(e);
            }
          }
          await new Promise((r) => requestAnimationFrame(() => r()));
          window.__probing = false;
          const effects = window.__effects.slice();
          await new Promise((r) => setTimeout(r, 250));
          const newGlobals = Object.getOwnPropertyNames(window).filter((k) => !globals.has(k));
          if (newGlobals.length) effects.push(`globals: ${newGlobals.join(', ')}`);
          if (document.documentElement.outerHTML !== dom) effects.push('DOM changed');
          if (localStorage.length) effects.push('localStorage written');
          return { effects, loadError };
        },
        { url, isClassic: f === classic },
      );
      assert.equal(res.loadError, null, `${f} could not be loaded: ${res.loadError}`);
      const net = requests.filter((r) => !r.startsWith('script '));
      if (net.length) res.effects.push(`requests: ${net.join(', ')}`);
      if (errors.length) res.effects.push(`errors: ${errors.join(' | ')}`);
      details[f] = res.effects;
    } finally {
      await context.close();
    }
  };
  // Three pages at a time (2 cores).
  const queue = [...jsFiles];
  await Promise.all([1, 2, 3].map(async () => {
    while (queue.length) await probe(queue.shift());
  }));
  const withEffects = jsFiles.filter((f) => details[f].length).map((f) => './' + f);
  const declared = [...(manifest.sideEffects || [])].map((s) => './' + strip(s)).sort();
  assert.ok(Array.isArray(manifest.sideEffects), 'sideEffects must be a list (not true/false)');
  assert.deepEqual(
    withEffects.sort(),
    declared,
    `files with side effects vs package.json sideEffects; what each import did: ${JSON.stringify(details, null, 1)}`,
  );
  assert.deepEqual(declared, ['./element.js', './mozmarket-receipts.js']);
});

test('the packed manifest is the one in the package directory (npm pack changed nothing)', async () => {
  const original = JSON.parse(await readFile(path.join(pkgDir, 'package.json'), 'utf8'));
  assert.deepEqual(manifest, original);
  await writeFile(path.join(packed.dir, 'files.txt'), [...files].sort().join('\n') + '\n');
});
