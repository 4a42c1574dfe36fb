// The bench's static server: plain node:http on 127.0.0.1 (port 0), for section 1.
//
//   /bench/…   bench/www/ (the bench page, its harness and the hand-written jose check)
//   /pkg/…     the built package, exactly as shipped
//   /jose/…    node_modules/jose/dist/webapi/ (jose's browser / WebCrypto build, unbundled)
//   /bench-build/…  target/bench/www/ (the jose check bundled and minified by bench/verify.mjs)
//
// Every answer carries the CSP `script-src 'self' 'wasm-unsafe-eval'` (what the README asks of
// apps). Scripts and the wasm are cacheable (`max-age`, as a deployment with versioned file names
// would serve them), the page is `no-store`; the "warm" launch figures depend on that.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

export const CSP = "script-src 'self' 'wasm-unsafe-eval'";


const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Starts the server; resolves to `{origin, hits, close()}` (`hits`: every path requested).
 * `pkgDir` replaces pkg/ (an experimental build from bench/build-variant.sh).
 */
export function startStatic({ pkgDir = path.join(repo, 'pkg') } = {}) {
  const MOUNTS = [
    ['/bench/', path.join(here, 'www')],
    ['/pkg/', path.resolve(pkgDir)],
    ['/jose/', path.join(repo, 'node_modules', 'jose', 'dist', 'webapi')],
    ['/bench-build/', path.join(repo, 'target', 'bench', 'www')],
  ];
  const hits = [];
  const sockets = new Set();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    hits.push(url.pathname);
    const mount = MOUNTS.find(([prefix]) => url.pathname.startsWith(prefix));
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
    if (!mount || req.method !== 'GET') {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const [prefix, dir] = mount;
    const file = path.resolve(dir, decodeURIComponent(url.pathname.slice(prefix.length)));
    if (!file.startsWith(dir + path.sep)) {
      res.writeHead(403, headers);
      res.end();
      return;
    }
    try {
      const body = await readFile(file);
      const ext = path.extname(file);
      res.writeHead(200, {
        ...headers,
        'Content-Type': MIME[ext] || 'application/octet-stream',
        'Cache-Control': ext === '.html' ? 'no-store' : 'public, max-age=3600',
        'Content-Length': body.length,
      });
      res.end(body);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        hits,
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
