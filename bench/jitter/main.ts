/**
 * `npm run bench:jitter`: delivery under jitter, after the method of "Delivery under jitter" in
 * the public anycable/nodejs-websocket-bench: N clients on one topic, `--messages` messages at
 * `--rate` per second, every client's TCP socket cut about every `--cut-every` ms (no close
 * frame) and kept offline `--offline` ms before it reconnects. Real `ParleyClient`s in
 * `--workers` processes; the publisher is a `ParleyClient` in this process (never cut).
 *
 * Reported as they report it: delivered %, lost, duplicates, latency from publish to delivery
 * p50/p95/p99/max over every delivery (the replayed ones make its tail); and the part Parley
 * controls, catch-up time: from the moment a client may reconnect (cut + offline) to the
 * delivery of each message it missed. Server RSS and CPU time, and the clients' CPU time (they
 * share the two cores with the server).
 *
 *     npm run bench:jitter -- [--clients 2000] [--messages 120] [--rate 2] [--cut-every 15000]
 *       [--offline 2000] [--workers 4] [--nodes 1|3] [--json FILE]
 * @packageDocumentation
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { WebSocket } from '../../src/index.js';
import { ParleyClient } from '../../src/client/index.js';
import { DrillRedis } from '../drills/cluster.js';
import { Histogram } from './histogram.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    messages: { type: 'string', default: '120' },
    rate: { type: 'string', default: '2' },
    'cut-every': { type: 'string', default: '15000' },
    offline: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '4' },
    nodes: { type: 'string', default: '1' },
    json: { type: 'string' },
  },
});
const CLIENTS = Number(values.clients);
const MESSAGES = Number(values.messages);
const RATE = Number(values.rate);
const WORKERS = Math.min(Number(values.workers), CLIENTS);
const NODES = Number(values.nodes);
if (MESSAGES > 4000) throw new RangeError('--messages: at most 4000');
const TOPIC = 'jitter';
const children: ChildProcess[] = [];
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

function once<T>(child: ChildProcess, predicate: (m: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: T): void => {
      if (!predicate(m)) return;
      child.off('message', on);
      resolve(m);
    };
    child.on('message', on);
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

let redis: DrillRedis | undefined;
const env: Record<string, string> = {};
if (NODES > 1) {
  redis = await DrillRedis.start();
  env.REDIS_URL = `redis://127.0.0.1:${redis.port}`;
  env.KEY_PREFIX = `jitter:${randomBytes(4).toString('hex')}:`;
}
const servers = await Promise.all(Array.from({ length: NODES }, async () => {
  const child = fork(new URL('./server.js', import.meta.url).pathname, { env: { ...process.env, ...env } });
  children.push(child);
  const { port } = await once<{ port?: number }>(child, (m) => m.port !== undefined);
  return { child, url: `ws://127.0.0.1:${port!}` };
}));
const urls = servers.map((s) => s.url);
const uptime = (await import('node:os')).loadavg();

const workers = await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
  const child = fork(new URL('./clients.js', import.meta.url).pathname);
  children.push(child);
  const first = Math.floor((w * CLIENTS) / WORKERS);
  const count = Math.floor(((w + 1) * CLIENTS) / WORKERS) - first;
  child.send({ t: 'setup', setup: { urls, first, count, topic: TOPIC, cutEveryMs: Number(values['cut-every']), offlineMs: Number(values.offline) } });
  await once<{ t: string }>(child, (m) => m.t === 'ready');
  return child;
}));
process.stderr.write(`${CLIENTS} clients subscribed on ${NODES} node(s); publishing ${MESSAGES} messages at ${RATE}/s\n`);

const publisher = new ParleyClient(urls[0]!, { WebSocket });
for (const w of workers) w.send({ t: 'cut' });
const t0 = performance.now();
for (let i = 1; i <= MESSAGES; i++) {
  const due = t0 + ((i - 1) * 1000) / RATE;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
  void publisher.publish(TOPIC, { i, t: performance.timeOrigin + performance.now() }, { ack: true });
  if (i % (RATE * 10) === 0) process.stderr.write(`  ${i}/${MESSAGES}\n`);
}
const results = await Promise.all(workers.map(async (w) => {
  w.send({ t: 'finish', messages: MESSAGES });
  return once<{ t: string; delivered: number; duplicates: number; lost: number; cuts: number; resets: number; latency: Parameters<typeof Histogram.from>[0]; catchup: Parameters<typeof Histogram.from>[0]; cpuMs: number }>(w, (m) => m.t === 'result');
}));
const serverStats = await Promise.all(servers.map(async (s) => {
  s.child.send({ t: 'stats' });
  return once<{ rss?: number; cpuMs?: number }>(s.child, (m) => m.rss !== undefined);
}));
publisher.close();

const latency = new Histogram();
const catchup = new Histogram();
let delivered = 0;
let duplicates = 0;
let lost = 0;
let cuts = 0;
let resets = 0;
let clientCpuMs = 0;
for (const r of results) {
  latency.merge(Histogram.from(r.latency));
  catchup.merge(Histogram.from(r.catchup));
  delivered += r.delivered;
  duplicates += r.duplicates;
  lost += r.lost;
  cuts += r.cuts;
  resets += r.resets;
  clientCpuMs += r.cpuMs;
}
const expected = CLIENTS * MESSAGES;
const report = {
  date: new Date().toISOString(),
  clients: CLIENTS,
  nodes: NODES,
  messages: MESSAGES,
  loadAverageAtStart: uptime.map((n) => Math.round(n * 100) / 100),
  delivered,
  deliveredPercent: Math.round((delivered / expected) * 100_000) / 1000,
  lost,
  duplicates,
  cuts,
  resets,
  latencyMs: { p50: latency.percentile(50), p95: latency.percentile(95), p99: latency.percentile(99), max: Math.round(latency.max) },
  catchupMs: { samples: catchup.n, p50: catchup.percentile(50), p95: catchup.percentile(95), p99: catchup.percentile(99), max: Math.round(catchup.max) },
  serverRssMB: serverStats.map((s) => Math.round(s.rss! / 1e5) / 10),
  serverCpuMs: serverStats.map((s) => Math.round(s.cpuMs!)),
  clientCpuMs: Math.round(clientCpuMs),
};
console.log(JSON.stringify(report, null, 1));
if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(report, null, 1)}\n`);
for (const c of children) c.kill();
redis?.stop();
process.exit(0);
