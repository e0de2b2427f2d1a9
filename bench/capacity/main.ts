/**
 * The capacity benchmark (`npm run bench:capacity`): fills `parley serve` with many idle
 * `parley.v1` connections, each subscribed to one topic, then broadcasts to all of them through
 * the HTTP API and times every delivery. Reports bytes per connection (resident memory of the
 * server's whole process tree, primary and workers), handshakes per second while filling, and the
 * delivery time of a broadcast to everyone (p50/p99/max from publish to each client's receipt).
 *
 * Loopback gives about 28,000 ephemeral ports per source address, so the client processes use
 * 127.0.0.2, 127.0.0.3, …; each process (server workers included) may hold no more descriptors
 * than `ulimit -n` allows, which sets the least number of workers and client processes.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { readOpenFileLimit } from '../machine.js';
import type { ClientCommand, ClientReport } from './ipc.js';
import { treeRss } from './process-tree.js';

const USAGE = `usage: npm run bench:capacity -- [options]
  --connections N    idle parley.v1 connections to hold (default 100000)
  --workers N        parley serve --workers (default: the least the descriptor limit allows, at least 2)
  --client-procs N   client processes, one source address each (default: the least the limits allow)
  --broadcasts N     broadcasts to every connection, timed (default 5)
  --concurrency N    handshakes in flight per client process (default 200)
  --json FILE        also write the report as JSON
  --help             this text`;

function options(): { connections: number; workers?: number; clientProcs?: number; broadcasts: number; concurrency: number; json?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        connections: { type: 'string', default: '100000' },
        workers: { type: 'string' },
        'client-procs': { type: 'string' },
        broadcasts: { type: 'string', default: '5' },
        concurrency: { type: 'string', default: '200' },
        json: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`--${name}: expected a positive integer, got '${text}'\n${USAGE}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    connections: int('connections', values.connections)!,
    workers: int('workers', values.workers),
    clientProcs: int('client-procs', values['client-procs']),
    broadcasts: int('broadcasts', values.broadcasts)!,
    concurrency: int('concurrency', values.concurrency)!,
    json: values.json,
  };
}

const opts = options();
const started = performance.now();
const log = (text: string): void => {
  process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)}s] ${text}\n`);
};

// Each process may hold at most `ulimit -n` descriptors; leave room for everything else it opens.
const fdLimit = readOpenFileLimit() ?? 1024;
const perProcess = Math.max(1, fdLimit - 512);
const PORTS_PER_ADDRESS = 28_000;
const workers = opts.workers ?? Math.max(2, Math.ceil(opts.connections / perProcess));
const clientProcs = opts.clientProcs ?? Math.ceil(opts.connections / Math.min(perProcess, PORTS_PER_ADDRESS));
if (Math.ceil(opts.connections / workers) > perProcess) {
  log(`warning: ${Math.ceil(opts.connections / workers)} connections per worker exceed the descriptor limit (ulimit -n ${fdLimit}); expect refusals`);
}
const API_KEY = 'capacity-bench-key-0123456789abcdef';
const TOPIC = 'public:capacity';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const children: ChildProcess[] = [];
const cleanup = (): void => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

const port = await freePort();
const serverArgs = ['dist/src/cli/main.js', 'serve', '--port', String(port), '--host', '127.0.0.1'];
if (workers > 1) serverArgs.push('--workers', String(workers));
const server = spawn(process.execPath, serverArgs, {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    PARLEY_APPS: '',
    PARLEY_API_KEYS: API_KEY,
    PARLEY_ADMIN: 'false',
    PARLEY_LOG_LEVEL: 'warn',
    PARLEY_MAX_CONNECTIONS: String(opts.connections + 1000),
    PARLEY_CONNECTIONS_PER_IP_PER_SECOND: '0',
    PARLEY_MAX_SOCKETS: '0',
  },
});
children.push(server);
server.on('exit', (code, signal) => {
  if (!stopping) {
    log(`the server exited early (code ${String(code)}, signal ${String(signal)})`);
    process.exit(1);
  }
});
let stopping = false;

async function waitReady(): Promise<void> {
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error('the server did not become ready in 30 s');
}
await waitReady();
// Workers start one after another; give the last one time to listen.
if (workers > 1) await sleep(2000);
const rssBefore = treeRss(server.pid!);
log(`server ready on port ${port}: ${workers} worker(s), ${rssBefore.processes} process(es), ${(rssBefore.bytes / 2 ** 20).toFixed(0)} MiB resident; filling ${opts.connections} connections from ${clientProcs} client process(es)`);

interface Client {
  child: ChildProcess;
  open: number;
  failed: number;
  next: (report: ClientReport) => void;
}
const clients: Client[] = [];
for (let i = 0; i < clientProcs; i++) {
  const child = fork(new URL('./clients.js', import.meta.url).pathname, {
    env: {
      ...process.env,
      CAPACITY_PORT: String(port),
      CAPACITY_SOURCE: `127.0.0.${2 + i}`,
      CAPACITY_TOPIC: TOPIC,
      CAPACITY_CONCURRENCY: String(opts.concurrency),
    },
  });
  children.push(child);
  const client: Client = { child, open: 0, failed: 0, next: () => {} };
  child.on('message', (report: ClientReport) => {
    if (report.kind === 'progress' || report.kind === 'opened') {
      client.open = report.open;
      client.failed = report.failed;
    }
    client.next(report);
  });
  clients.push(client);
}
const command = (client: Client, message: ClientCommand): void => {
  client.child.send(message);
};
const awaitReport = <K extends ClientReport['kind']>(client: Client, kind: K): Promise<Extract<ClientReport, { kind: K }>> =>
  new Promise((resolve) => {
    const previous = client.next;
    client.next = (report) => {
      previous(report);
      if (report.kind === kind) {
        client.next = previous;
        resolve(report as Extract<ClientReport, { kind: K }>);
      }
    };
  });

await Promise.all(clients.map((c) => awaitReport(c, 'ready')));
const fillStarted = performance.now();
const ticker = setInterval(() => {
  const open = clients.reduce((n, c) => n + c.open, 0);
  const failed = clients.reduce((n, c) => n + c.failed, 0);
  const seconds = (performance.now() - fillStarted) / 1000;
  log(`filling: ${open} open, ${failed} failed, ${(open / seconds).toFixed(0)} handshakes/s`);
}, 5000);
const share = (i: number): number => Math.floor(opts.connections / clientProcs) + (i < opts.connections % clientProcs ? 1 : 0);
const opened = await Promise.all(
  clients.map((c, i) => {
    const done = awaitReport(c, 'opened');
    command(c, { cmd: 'open', count: share(i) });
    return done;
  }),
);
clearInterval(ticker);
const fillSeconds = (performance.now() - fillStarted) / 1000;
const open = opened.reduce((n, r) => n + r.open, 0);
const failures: Record<string, number> = {};
for (const r of opened) for (const [reason, n] of Object.entries(r.failures)) failures[reason] = (failures[reason] ?? 0) + n;
log(`filled: ${open} open, ${opts.connections - open} failed in ${fillSeconds.toFixed(1)} s (${(open / fillSeconds).toFixed(0)} handshakes/s)`);
for (const [reason, n] of Object.entries(failures)) log(`  failure x${n}: ${reason}`);

// Let the heap settle after the handshake burst before reading resident memory.
await sleep(3000);
const rssAfter = treeRss(server.pid!);
const bytesPerConnection = open > 0 ? (rssAfter.bytes - rssBefore.bytes) / open : NaN;
log(`resident: ${(rssAfter.bytes / 2 ** 20).toFixed(0)} MiB in ${rssAfter.processes} process(es), ${(bytesPerConnection / 1024).toFixed(1)} KiB per connection`);

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const broadcasts: { delivered: number; p50: number; p99: number; max: number }[] = [];
for (let b = 1; b <= opts.broadcasts; b++) {
  await Promise.all(clients.map((c) => { const r = awaitReport(c, 'reset'); command(c, { cmd: 'reset' }); return r; }));
  const stillOpen = (await Promise.all(clients.map((c) => { const r = awaitReport(c, 'samples'); command(c, { cmd: 'samples' }); return r; }))).reduce((n, r) => n + r.open, 0);
  const res = await fetch(`http://127.0.0.1:${port}/api/topics/${encodeURIComponent(TOPIC)}/publish`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ data: { n: b, sentAt: performance.timeOrigin + performance.now() } }),
  });
  if (!res.ok) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
  let delays: number[] = [];
  let last = -1;
  let still = 0;
  for (;;) {
    await sleep(500);
    const samples = await Promise.all(clients.map((c) => { const r = awaitReport(c, 'samples'); command(c, { cmd: 'samples' }); return r; }));
    delays = samples.flatMap((s) => s.delays);
    if (delays.length >= stillOpen) break;
    still = delays.length === last ? still + 1 : 0;
    if (still >= 10) break;
    last = delays.length;
  }
  delays.sort((x, y) => x - y);
  const row = { delivered: delays.length, p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: delays.at(-1) ?? NaN };
  broadcasts.push(row);
  log(`broadcast ${b}: delivered to ${row.delivered} of ${stillOpen}; p50 ${row.p50.toFixed(0)} ms, p99 ${row.p99.toFixed(0)} ms, max ${row.max.toFixed(0)} ms`);
  await sleep(1000);
}

stopping = true;
for (const c of clients) command(c, { cmd: 'exit' });
server.kill('SIGTERM');
await sleep(500);
cleanup();

const report = {
  schema: 1,
  date: new Date().toISOString(),
  node: process.version,
  fdLimit,
  connections: opts.connections,
  open,
  failures,
  workers,
  clientProcs,
  fillSeconds,
  handshakesPerSecond: open / fillSeconds,
  serverRssBeforeBytes: rssBefore.bytes,
  serverRssAfterBytes: rssAfter.bytes,
  bytesPerConnection,
  broadcasts,
};
process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
if (opts.json !== undefined) writeFileSync(opts.json, `${JSON.stringify(report, null, 1)}\n`);
process.exit(0);
