#!/usr/bin/env node
/*
 * Assembles the npm package in pkg/ after wasm-bindgen has written pkg/core/:
 *
 *   pkg/index.js               ES module entry (js/index.js), with the core's class tree
 *   pkg/load.js                the on-demand core loader of the ES entries (js/load.js)
 *   pkg/receipts.js            the JS layer (js/receipts.js)
 *   pkg/mozmarket-receipts.js  the classic script: receipts.js without `export`, plus classic.js,
 *                              in one IIFE, with the core's class tree inlined
 *   pkg/index.d.ts             types for the ES module (js/index.d.ts)
 *   pkg/mozmarket-receipts.d.ts  types for the classic global (js/classic.d.ts)
 *   pkg/package.json           name, exports map, types, sideEffects
 *   pkg/README.md              the package's own short README (js/package-readme.md)
 *
 * Usage: node js/assemble.mjs [pkgDir]   (default: <repo>/pkg). No dependencies.
 * Fails loudly (exit 1) when pkg/core/ is missing or a source does not have the expected shape.
 */
import { readFile, writeFile, access, mkdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const pkg = path.resolve(process.argv[2] || path.join(repo, 'pkg'));
const coreDir = path.join(pkg, 'core');
const coreJs = path.join(coreDir, 'mozmarket_core.js');
const coreWasm = path.join(coreDir, 'mozmarket_core_bg.wasm');

function fail(message) {
  process.stderr.write(`\nassemble.mjs: ERROR: ${message}\n\n`);
  process.exit(1);
}

async function exists(p) {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

for (const p of [coreJs, coreWasm]) {
  if (!(await exists(p))) {
    fail(
      `${path.relative(repo, p)} is missing. Run wasm-bindgen first, e.g.\n` +
        '  cargo build --lib --release --target wasm32-unknown-unknown &&\n' +
        '  wasm-bindgen --target web --out-dir pkg/core --out-name mozmarket_core ' +
        'target/wasm32-unknown-unknown/release/mozmarket.wasm',
    );
  }
}

const src = async (name) => readFile(path.join(here, name), 'utf8');
const receiptsJs = await src('receipts.js');
const indexJs = await src('index.js');
const classicJs = await src('classic.js');
const indexDts = await src('index.d.ts');
const classicDts = await src('classic.d.ts');
const fullJs = await src('full.js');
const elementJs = await src('element.js');
const widgetJs = await src('widget.js');
const fullDts = await src('full.d.ts');
const prompterJs = await src('prompter.js');
const prompterDts = await src('prompter.d.ts');
const loadJs = await src('load.js');
const packageReadme = await src('package-readme.md');
const fullCoreJs = path.join(pkg, 'core-full', 'mozmarket_full.js');
if (!(await exists(fullCoreJs))) {
  fail(`${path.relative(repo, fullCoreJs)} is missing: build the full core too (scripts/build-wasm.sh all)`);
}

// Our own sources must stay CSP-clean (script-src 'self' 'wasm-unsafe-eval').
for (const [name, text] of [
  ['receipts.js', receiptsJs], ['index.js', indexJs], ['classic.js', classicJs], ['full.js', fullJs],
  ['element.js', elementJs], ['widget.js', widgetJs], ['prompter.js', prompterJs], ['load.js', loadJs],
]) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const bad of [/\beval\s*\(/, /\bnew\s+Function\b/, /\binnerHTML\b/, /\bouterHTML\b/, /setTimeout\(\s*['"`]/]) {
    if (bad.test(code)) fail(`js/${name} contains a forbidden construct: ${bad}`);
  }
}

const version = await (async () => {
  try {
    const toml = await readFile(path.join(repo, 'Cargo.toml'), 'utf8');
    const m = /\[package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(toml);
    return m ? m[1] : '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

const packageJson = () => ({
  name: 'mozmarket',
  version,
  description: 'Client-side verifier for Web Application Receipts (Firefox Marketplace format), Rust + WebAssembly',
  license: 'MPL-2.0',
  type: 'module',
  main: './index.js',
  module: './index.js',
  types: './index.d.ts',
  exports: {
    '.': { types: './index.d.ts', default: './index.js' },
    './full': { types: './full.d.ts', default: './full.js' },
    './element': { types: './full.d.ts', default: './element.js' },
    './classic': { types: './mozmarket-receipts.d.ts', default: './mozmarket-receipts.js' },
    './wasm': './core/mozmarket_core_bg.wasm',
    './wasm-full': './core-full/mozmarket_full_bg.wasm',
    './package.json': './package.json',
  },
  files: [
    'index.js',
    'index.d.ts',
    'load.js',
    'receipts.js',
    'full.js',
    'full.d.ts',
    'element.js',
    'widget.js',
    'prompter.js',
    'prompter.d.ts',
    'mozmarket-receipts.js',
    'mozmarket-receipts.d.ts',
    'core/mozmarket_core.js',
    'core/mozmarket_core_bg.wasm',
    'core-full/mozmarket_full.js',
    'core-full/mozmarket_full_bg.wasm',
    // The source maps scripts/build-wasm.sh writes beside each minified file (with their sources).
    '*.js.map',
    'core/*.js.map',
    'core-full/*.js.map',
  ],
  sideEffects: ['./mozmarket-receipts.js', './element.js'],
  engines: { node: '>=18' },
});

// package.json goes first: it makes pkg/core/*.js ES modules for the import below.
await mkdir(pkg, { recursive: true });
await writeFile(path.join(pkg, 'package.json'), JSON.stringify(packageJson(), null, 2) + '\n');

// The class tree, from the core itself, for the classic script (it must exist before the wasm loads).
let classTree;
try {
  const core = await import(pathToFileURL(coreJs).href);
  core.initSync({ module: await readFile(coreWasm) });
  classTree = core.classTree();
} catch (e) {
  fail(`could not load the core to read classTree(): ${e && e.stack ? e.stack : e}`);
}
if (!Array.isArray(classTree) || classTree.length === 0) fail('classTree() returned no classes');

// The Prompter's default templates, from the full core, for the classic script (so that
// `Prompter.prototype.templates` is filled as soon as the script runs, before the wasm loads).
let prompterTemplates;
try {
  const full = await import(pathToFileURL(fullCoreJs).href);
  full.initSync({ module: await readFile(path.join(pkg, 'core-full', 'mozmarket_full_bg.wasm')) });
  prompterTemplates = full.prompterDefaultTemplates();
} catch (e) {
  fail(`could not load the full core to read prompterDefaultTemplates(): ${e && e.stack ? e.stack : e}`);
}
if (!prompterTemplates || typeof prompterTemplates !== 'object' || Object.keys(prompterTemplates).length !== 10) {
  fail('prompterDefaultTemplates() did not return the ten templates');
}

// receipts.js → classic: drop the `export` keyword of top-level declarations.
const exportDecl = /^export (?=(?:async\s+)?function\b|const\b|let\b|class\b)/gm;
if (!exportDecl.test(receiptsJs)) fail('js/receipts.js has no exported declaration');
const stripExports = (name, text) => {
  exportDecl.lastIndex = 0;
  const out = text.replace(exportDecl, '');
  if (/^\s*(?:import|export)\b(?!\s*\()/m.test(out) || /import\.meta/.test(out)) {
    fail(`js/${name} must have no imports, no import.meta and only \`export\` declarations`);
  }
  return out;
};
const receiptsClassic = stripExports('receipts.js', receiptsJs);
const templatesPlaceholder = /\/\* @mozmarket-prompter-templates \*\/ null/;
if (!templatesPlaceholder.test(prompterJs)) fail('js/prompter.js lacks the templates placeholder');
const prompterClassic = stripExports('prompter.js', prompterJs).replace(templatesPlaceholder, () =>
  JSON.stringify(prompterTemplates),
);
const placeholder = /\/\* @mozmarket-class-tree \*\/ null/;
if (!placeholder.test(classicJs)) fail('js/classic.js lacks the class-tree placeholder');
const classicBody = classicJs.replace(placeholder, () => JSON.stringify(classTree));
// The ES entries get the same snapshot (Verifier.states/errors exist before init()), and the ES
// Prompter the same default templates (nothing at import waits for, or starts, the core).
for (const [name, text] of [['index.js', indexJs], ['full.js', fullJs]]) {
  if (!placeholder.test(text)) fail(`js/${name} lacks the class-tree placeholder`);
}
const indexOut = indexJs.replace(placeholder, () => JSON.stringify(classTree));
const fullOut = fullJs.replace(placeholder, () => JSON.stringify(classTree));
const prompterOut = prompterJs.replace(templatesPlaceholder, () => JSON.stringify(prompterTemplates));

const banner = (what) =>
  `/* mozmarket ${what}. Generated by js/assemble.mjs from js/; do not edit. License: MPL-2.0 */\n`;

const classicScript =
  banner('receipts: classic script (defines mozmarket.receipts)') +
  '(function () {\n' +
  "'use strict';\n" +
  receiptsClassic +
  '\n' +
  prompterClassic +
  '\n' +
  classicBody +
  '\n})();\n';

const out = [
  ['index.js', banner('ES module entry') + indexOut],
  ['load.js', banner('on-demand core loader') + loadJs],
  ['receipts.js', banner('receipts JS layer') + receiptsJs],
  ['mozmarket-receipts.js', classicScript],
  ['index.d.ts', indexDts],
  ['full.js', banner('full ES module entry') + fullOut],
  ['element.js', banner('custom elements entry') + elementJs],
  ['widget.js', banner('widgets JS layer') + widgetJs],
  ['prompter.js', banner('Prompter JS layer') + prompterOut],
  ['full.d.ts', fullDts],
  ['prompter.d.ts', prompterDts],
  ['mozmarket-receipts.d.ts', classicDts],
  ['package.json', JSON.stringify(packageJson(), null, 2) + '\n'],
  ['README.md', packageReadme],
];
for (const [name, text] of out) await writeFile(path.join(pkg, name), text);
process.stdout.write(`assemble.mjs: wrote ${out.map(([n]) => n).join(', ')} to ${path.relative(process.cwd(), pkg) || '.'}\n`);
