// A small HTTP server for the browser tests (plain node:http, 127.0.0.1, port 0).
//
// - /pkg/…            the built package (application/wasm for .wasm)
// - /broken/…         the classic script served from a directory without core/ (load failure)
// - /pages/…          test pages, served with CSP `script-src 'self' 'wasm-unsafe-eval'`
// - /store/…          scripted verify endpoints with CORS (see STORE below)
// - /keys/root.jwk    a root public-key document (set with setRootDocument)
//
// Every request is recorded in `hits` ({method, path, headers, body}).
import http from 'node:http';
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const pkgDir = path.join(repo, 'pkg');
const pagesDir = path.join(here, 'pages');

export const CSP = "script-src 'self' 'wasm-unsafe-eval'";

const MIME = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

export const CAPTIVE_PORTAL = '<html><head><title>Log in</title></head><body>Wi-Fi login</body></html>';
/** A 200 body of exactly 1,048,577 characters (valid JSON, status ok). */
export const HUGE_BODY = (() => {
  const head = '{"status":"ok","pad":"';
  const tail = '"}';
  return head + 'x'.repeat(1048577 - head.length - tail.length) + tail;
})();

const json = (status, body, extra) => ({ status, body, type: 'application/json', ...extra });

/** Scripted store answers by name: /store/<name>. */
const STORE = {
  ok: () => json(200, '{"status":"ok"}'),
  pending: () => json(200, '{"status":"pending"}'),
  refunded: () => json(200, '{"status":"refunded"}'),
  expired: () => json(200, '{"status":"expired"}'),
  invalid: (url) => json(200, JSON.stringify({ status: 'invalid', reason: url.searchParams.get('reason') || 'NO_PURCHASE' })),
  unknown: () => json(200, '{"status":"refundido"}'),
  'unknown-OK': () => json(200, '{"status":"OK"}'),
  'unknown-null': () => json(200, '{"status":null}'),
  'empty-object': () => json(200, '{}'),
  404: () => json(404, '{"error":"not found"}'),
  500: () => json(500, ''),
  '201-ok': () => json(201, '{"status":"ok"}'),
  html: () => ({ status: 200, body: CAPTIVE_PORTAL, type: 'text/html' }),
  empty: () => json(200, ''),
  null: () => json(200, 'null'),
  array: () => json(200, '[]'),
  string: () => json(200, '"ok"'),
  huge: () => json(200, HUGE_BODY),
  redirect: () => ({ status: 302, body: '', location: '/store/ok' }),
  // evil.test is mapped to 127.0.0.1 by the browser's host-resolver rules (harness.mjs): a real
  // redirect to a host that fails the verify-host rule, still served by this server.
  'redirect-evil': (url, port) => ({ status: 302, body: '', location: `http://evil.test:${port}/store/ok` }),
  hang: () => 'hang',
  drop: () => 'drop',
};

export async function startServer() {
  const hits = [];
  const sockets = new Set();
  const switches = new Map();
  let rootDocument = null;

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    hits.push({ method: req.method, path: url.pathname, search: url.search, headers: req.headers, body });

    const send = (answer) => {
      if (answer === 'hang') return; // never answers; closed at shutdown
      if (answer === 'drop') {
        req.socket.destroy();
        return;
      }
      const headers = {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'POST, GET',
        'Cache-Control': 'no-cache',
        'Content-Type': answer.type || 'application/json',
      };
      if (answer.location) headers.Location = answer.location;
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    };

    try {
      if (url.pathname.startsWith('/store/')) {
        if (req.method === 'OPTIONS') {
          res.writeHead(204, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'POST' });
          res.end();
          return;
        }
        const rest = url.pathname.slice('/store/'.length);
        if (rest.startsWith('switch/')) {
          const mode = switches.get(rest.slice('switch/'.length)) || 'ok';
          send(STORE[mode](url, req.socket.localPort));
          return;
        }
        const answer = STORE[rest];
        if (!answer) {
          send(json(400, 'unknown store script'));
          return;
        }
        send(answer(url, req.socket.localPort));
        return;
      }
      if (url.pathname === '/keys/root.jwk') {
        if (rootDocument === null) send(json(404, ''));
        else send(json(200, rootDocument));
        return;
      }
      let file;
      let headers = {};
      if (url.pathname.startsWith('/pkg/')) {
        file = path.join(pkgDir, url.pathname.slice('/pkg/'.length));
        if (!file.startsWith(pkgDir + path.sep)) file = null;
      } else if (url.pathname === '/broken/mozmarket-receipts.js') {
        file = path.join(pkgDir, 'mozmarket-receipts.js');
      } else if (url.pathname.startsWith('/pages/')) {
        file = path.join(pagesDir, url.pathname.slice('/pages/'.length));
        if (!file.startsWith(pagesDir + path.sep)) file = null;
        headers = { 'Content-Security-Policy': CSP };
      }
      if (!file) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      let data;
      try {
        data = await readFile(file);
      } catch {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, {
        'Content-Type': MIME[path.extname(file)] || 'application/octet-stream',
        'Cache-Control': 'no-store',
        ...headers,
      });
      res.end(data);
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const origin = `http://127.0.0.1:${port}`;

  return {
    port,
    origin,
    hits,
    url: (p) => origin + p,
    /** Hits on one path (pathname only). */
    hitsOn: (p) => hits.filter((h) => h.path === p),
    /** /store/switch/<id> answers like /store/<mode>. */
    setSwitch: (id, mode) => switches.set(id, mode),
    setRootDocument: (text) => {
      rootDocument = text;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A 127.0.0.1 port that was opened and closed: connecting to it is refused. */
export async function closedPort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}
