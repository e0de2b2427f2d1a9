/**
 * The RFC 8441 figure (issue 21): time to open the 2nd…100th WebSocket to one origin, one after
 * another, over HTTP/2 (each a stream of the connection the first one opened) against HTTP/1.1 +
 * TLS (each a new TCP connection and TLS handshake), with `ws`'s client over HTTP/1.1 + TLS in the
 * same run as the reference. One TLS server (`http2.createSecureServer`, `allowHTTP1`) with a
 * Parley WebSocketServer serves all three; a P-256 certificate is made with `openssl` at start.
 * Rounds alternate the clients; the report gives each one's median over the rounds of its
 * per-socket median and p90, and the load average.
 *
 *     npm run bench:h2 -- [--sockets 100] [--rounds 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocket as WsWebSocket } from 'ws';
import { WebSocket, WebSocketServer } from '../src/node/index.js';
import { describeMachine } from './machine.js';
import { positiveOption } from './cli-options.js';
import { median, percentile } from './workloads/statistics.js';

const { values } = parseArgs({ options: { sockets: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } } });
const sockets = positiveOption('sockets', values.sockets);
const rounds = positiveOption('rounds', values.rounds);

const dir = mkdtempSync(join(os.tmpdir(), 'parley-bench-h2-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
const key = readFileSync(join(dir, 'key.pem'), 'utf8');
rmSync(dir, { recursive: true, force: true });

const server = http2.createSecureServer({ cert, key, allowHTTP1: true });
const sessions = new Set<http2.ServerHttp2Session>();
server.on('session', (s: http2.ServerHttp2Session) => { sessions.add(s); s.once('close', () => sessions.delete(s)); });
const wss = new WebSocketServer({ server });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/`;

type Opener = () => Promise<{ close(): void }>;
const openParley = (options: object): Opener => () => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, { ca: cert, ...options });
  ws.once('open', () => resolve(ws));
  ws.once('error', reject);
});
const openWs: Opener = () => new Promise((resolve, reject) => {
  const ws = new WsWebSocket(url, { ca: cert, perMessageDeflate: false });
  ws.once('open', () => resolve(ws));
  ws.once('error', reject);
});
const clients: Array<[string, Opener]> = [
  ['parley, HTTP/2 (RFC 8441)', openParley({ http2: true })],
  ['parley, HTTP/1.1 + TLS', openParley({})],
  ['ws, HTTP/1.1 + TLS', openWs],
];

/** Opens `sockets` WebSockets one after another; returns the ms each of the 2nd…last took. */
async function round(open: Opener): Promise<number[]> {
  const opened: Array<{ close(): void }> = [await open()];
  const times: number[] = [];
  for (let i = 1; i < sockets; i++) {
    const t0 = performance.now();
    opened.push(await open());
    times.push(performance.now() - t0);
  }
  for (const ws of opened) ws.close();
  // Let the closes finish (and the pooled HTTP/2 connection go) before the next round.
  while (wss.clients.size > 0 || sessions.size > 0) await new Promise((r) => setTimeout(r, 10));
  return times;
}

const machine = describeMachine();
const results = new Map<string, { p50: number[]; p90: number[]; total: number[] }>(clients.map(([name]) => [name, { p50: [], p90: [], total: [] }]));
for (const [, open] of clients) await round(open); // warm-up: JIT, TLS session code paths
for (let r = 0; r < rounds; r++) {
  for (const [name, open] of clients) {
    const times = await round(open);
    const sorted = Float64Array.from(times).sort();
    const entry = results.get(name)!;
    entry.p50.push(percentile(sorted, 50));
    entry.p90.push(percentile(sorted, 90));
    entry.total.push(times.reduce((a, b) => a + b, 0));
  }
}
console.log(`Opening WebSockets 2..${sockets} to one origin, one after another (${rounds} rounds; medians over rounds)`);
console.log(`node ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (at start ${machine.loadAverageAtStart.toFixed(2)})`);
console.log('client'.padEnd(28) + 'p50 ms/socket'.padStart(15) + 'p90 ms/socket'.padStart(15) + `total ms (${sockets - 1})`.padStart(17));
for (const [name, r] of results) {
  console.log(name.padEnd(28) + median(r.p50).toFixed(3).padStart(15) + median(r.p90).toFixed(3).padStart(15) + median(r.total).toFixed(1).padStart(17));
}
wss.close();
server.close();
