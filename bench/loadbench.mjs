// Section 4: the reference server's postback throughput, from its own load benchmark
// (crates/server/src/bin/loadbench.rs, SQLite by default): `cargo run --release -p
// mozmarket-server --bin mozmarket-loadbench -- --orders N --concurrency C`, its output parsed.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** One `== label` block of the loadbench output, parsed. */
function parseBlock(label, lines) {
  const get = (name) => {
    const l = lines.find((x) => x.trim().startsWith(name));
    return l ? l.trim().slice(name.length).trim() : null;
  };
  const num = (s) => (s === null ? null : Number(s.replace(/[^0-9.]/g, '')));
  const lat = /([\d.]+) ms \/ ([\d.]+) ms/.exec(get('latency p50 / p99') || '');
  return {
    backend: label,
    ordersCreated: num((get('orders created') || '').split(' in ')[0]),
    concurrency: num(get('concurrency')),
    postbacksSent: num(get('postbacks sent')),
    acknowledged: num(get('acknowledged (200 + id)')),
    failed: num(get('failed')),
    elapsedS: num(get('elapsed')),
    noticesPerSec: num(get('notices/s')),
    latencyP50Ms: lat ? Number(lat[1]) : null,
    latencyP99Ms: lat ? Number(lat[2]) : null,
    writer: get('writer'),
    missing: num(get('acknowledged but missing')),
  };
}

/** Runs the load benchmark; throws when it fails or its output cannot be read. */
export async function runLoadbench({ orders, concurrency, seconds }, log = () => {}, env = process.env) {
  const args = ['run', '--release', '--quiet', '-p', 'mozmarket-server', '--bin', 'mozmarket-loadbench', '--',
    '--orders', String(orders), '--concurrency', String(concurrency)];
  if (seconds) args.push('--seconds', String(seconds));
  const command = `cargo ${args.join(' ')}`;
  log(`  ${command}`);
  const r = await run('cargo', args, env);
  if (r.code !== 0) {
    throw new Error(`${command} exited with ${r.code ?? r.signal}\n--- stdout:\n${r.out}\n--- stderr (tail):\n${r.err.slice(-4000)}`);
  }
  const blocks = [];
  let current = null;
  for (const line of r.out.split('\n')) {
    const m = /^== (.*)$/.exec(line);
    if (m) {
      current = { label: m[1], lines: [] };
      blocks.push(current);
    } else if (current) {
      current.lines.push(line);
    }
  }
  const results = blocks.map((b) => parseBlock(b.label, b.lines));
  if (results.length === 0 || results.some((x) => !Number.isFinite(x.noticesPerSec))) {
    throw new Error(`could not read notices/s from the loadbench output:\n${r.out}`);
  }
  return { command, results, output: r.out.trim() };
}
