// Names for the profile's `wasm-function[N]` entries. The shipped module has no name section;
// scripts/build-wasm.sh keeps the un-optimised, named module in target/wasm-names/. Running the
// same `wasm-opt -Oz` on it with `-g` (names kept) gives a module whose functions are the shipped
// ones in the same order: this checks that (every function body has the same size) before using
// its names, and caches the named copy in target/bench/.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.resolve(root, process.env.CARGO_TARGET_DIR || 'target');
// The flags of scripts/build-wasm.sh (WASM_FEATURES and the strip options).
const WASM_OPT_ARGS = ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue', '--strip-producers', '--strip-target-features'];

function leb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
  }
}

/** Imported function count, defined function body sizes and the function names of a module. */
function parse(buf) {
  let pos = 8;
  let imported = 0;
  const bodies = [];
  const names = new Map();
  while (pos < buf.length) {
    const id = buf[pos++];
    let size;
    [size, pos] = leb(buf, pos);
    const end = pos + size;
    if (id === 2) {
      let n;
      let p = pos;
      [n, p] = leb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(buf, p);
        p += len;
        [len, p] = leb(buf, p);
        p += len;
        const kind = buf[p++];
        if (kind === 0) {
          [, p] = leb(buf, p);
          imported++;
        } else if (kind === 1) {
          p++;
          const [flags, q] = leb(buf, p);
          p = q;
          [, p] = leb(buf, p);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 2) {
          const [flags, q] = leb(buf, p);
          p = q;
          [, p] = leb(buf, p);
          if (flags & 1) [, p] = leb(buf, p);
        } else if (kind === 3) {
          p += 2;
        } else {
          [, p] = leb(buf, p + 1);
        }
      }
    } else if (id === 10) {
      let n;
      let p = pos;
      [n, p] = leb(buf, p);
      for (let i = 0; i < n; i++) {
        let len;
        [len, p] = leb(buf, p);
        bodies.push(len);
        p += len;
      }
    } else if (id === 0) {
      let len;
      let p = pos;
      [len, p] = leb(buf, p);
      const name = buf.subarray(p, p + len).toString('utf8');
      p += len;
      if (name === 'name') {
        while (p < end) {
          const sub = buf[p++];
          let subSize;
          [subSize, p] = leb(buf, p);
          const subEnd = p + subSize;
          if (sub === 1) {
            let n;
            [n, p] = leb(buf, p);
            for (let i = 0; i < n; i++) {
              let idx;
              let l;
              [idx, p] = leb(buf, p);
              [l, p] = leb(buf, p);
              names.set(idx, buf.subarray(p, p + l).toString('utf8'));
              p += l;
            }
          }
          p = subEnd;
        }
      }
    }
    pos = end;
  }
  return { imported, bodies, names };
}

/** A readable Rust name: the path without the hash, generic noise trimmed. */
const tidy = (name) => name.replace(/::h[0-9a-f]{16}$/, '').replace(/\[[0-9a-f]{16}\]/g, '');

/**
 * `{ 'wasm-function[N]': name }` for the verifier build's shipped module, or `{}` when no named
 * copy of this exact module can be made.
 */
export function nameWasmFunctions(fns, flavour = 'mozmarket_core', shipped = path.join(root, 'pkg', 'core', 'mozmarket_core_bg.wasm')) {
  try {
    const source = path.join(target, 'wasm-names', `${flavour}_bg.wasm`);
    const named = path.join(target, 'bench', `${flavour}_bg.opt-named.wasm`);
    if (!existsSync(source) || !existsSync(shipped)) return {};
    if (!existsSync(named) || statSync(named).mtimeMs < statSync(source).mtimeMs) {
      mkdirSync(path.dirname(named), { recursive: true });
      const r = spawnSync(path.join(root, 'node_modules', '.bin', 'wasm-opt'), [...WASM_OPT_ARGS, '-g', source, '-o', named], { cwd: root, stdio: 'ignore' });
      if (r.status !== 0) return {};
    }
    const a = parse(readFileSync(shipped));
    const b = parse(readFileSync(named));
    const same = a.imported === b.imported && a.bodies.length === b.bodies.length && a.bodies.every((s, i) => s === b.bodies[i]);
    if (!same) return {};
    const out = {};
    for (const fn of fns) {
      const m = /^wasm-function\[(\d+)\]$/.exec(fn);
      if (m && b.names.has(Number(m[1]))) out[fn] = tidy(b.names.get(Number(m[1])));
    }
    return out;
  } catch {
    return {};
  }
}
