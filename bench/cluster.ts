/**
 * The cluster benchmark (issue 7, "Measure"): one Parley node against three on one Redis, with
 * the same subscribers and publishers in total, spread evenly over the nodes. A connection's
 * publishes are applied one at a time (in order), so one connection publishes at most one message
 * per Redis round trip: the load comes from several publishing connections.
 *
 * 1. Saturation: each publisher keeps a window of acknowledged publishes in flight for the
 *    measured seconds; reported: deliveries/s to all subscribers, and the cross-node share
 *    (deliveries to a subscriber on another node than the publisher's).
 * 2. Latency: the publishers together send a fixed rate that both setups sustain; reported: p50
 *    and p99 from publish to delivery, over every delivery (one clock: clients and publishers
 *    live in this process).
 * 3. Redis commands per published message, from INFO commandstats before and after the
 *    saturation phase (commands run inside the Lua scripts included; the health PINGs and
 *    heartbeats in that time too).
 *
 * A private redis-server on a spare port, without persistence, serves the run, so the shared
 * Redis's statistics stay out of it.
 *
 *     node dist/bench/cluster.js [--subscribers 60] [--seconds 3] [--rate 600] [--window 16] [--publishers 6] [--json FILE]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { WebSocket } from '../src/index.js';
import { describeMachine } from './machine.js';
import { percentile } from './workloads/statistics.js';
import { positiveOption } from './cli-options.js';

const { values } = parseArgs({
  options: {
    subscribers: { type: 'string', default: '60' },
    seconds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '600' },
    window: { type: 'string', default: '16' },
    publishers: { type: 'string', default: '6' },
    json: { type: 'string' },
  },
  strict: true,
});
const num = positiveOption;
const SUBSCRIBERS = num('subscribers', values.subscribers);
const SECONDS = num('seconds', values.seconds);
const RATE = num('rate', values.rate);
const WINDOW = num('window', values.window);
const PUBLISHERS = num('publishers', values.publishers);
const TOPIC = 'bench';

const children: ChildProcess[] = [];
process.on('exit', () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); });

function sparePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await sparePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  children.push(child);
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const client = createClient({ url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    try {
      await client.connect();
      client.destroy();
      return { url, child };
    } catch {
      await sleep(50);
    }
  }
  throw new Error('redis-server did not start (install the Debian package redis-server)');
}

async function startNode(redisUrl: string, keyPrefix: string): Promise<{ port: number; child: ChildProcess }> {
  const script = new URL('../test/redis/fixtures/cluster-node.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { env: { ...process.env, REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix }, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)));
  });
  return { port: (JSON.parse(line) as { port: number }).port, child };
}

function open(port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['parley.v1']);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

interface Counters {
  deliveries: number;
  cross: number;
  latencies: number[];
  measuring: boolean;
  recordLatency: boolean;
}

async function subscriber(port: number, node: number, counters: Counters): Promise<WebSocket> {
  const ws = await open(port);
  const subscribed = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (!text.startsWith('{"t":"msg"')) {
        if (text.startsWith('{"t":"subok"')) resolve();
        return;
      }
      if (!counters.measuring) return;
      const env = JSON.parse(text) as { data: { s: number; n: number } };
      counters.deliveries++;
      if (env.data.n !== node) counters.cross++;
      if (counters.recordLatency) counters.latencies.push(performance.now() - env.data.s);
    });
  });
  ws.send(JSON.stringify({ t: 'sub', id: 1, topic: TOPIC }));
  await subscribed;
  return ws;
}

async function commandStats(url: string): Promise<Map<string, number>> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const reply: unknown = await client.sendCommand(['INFO', 'commandstats']);
  const info = typeof reply === 'string' ? reply : '';
  client.destroy();
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

interface Result {
  nodes: number;
  subscribers: number;
  deliveriesPerSecond: number;
  crossNodeDeliveriesPerSecond: number;
  publishedPerSecond: number;
  latencyRate: number;
  p50Ms: number;
  p99Ms: number;
  redisCommandsPerMessage: number;
  redisCommandBreakdown: Record<string, number>;
}

async function run(nodeCount: number): Promise<Result> {
  const redis = await startRedis();
  const keyPrefix = `bench:${nodeCount}:`;
  const nodes = await Promise.all(Array.from({ length: nodeCount }, () => startNode(redis.url, keyPrefix)));
  const counters: Counters = { deliveries: 0, cross: 0, latencies: [], measuring: false, recordLatency: false };
  const subs: WebSocket[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await subscriber(nodes[i % nodeCount]!.port, i % nodeCount, counters));
  const pubs = await Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => open(nodes[i % nodeCount]!.port)));
  const nodeOf = (publisher: number): number => publisher % nodeCount;

  // 1. Saturation with a window of acknowledged publishes per publisher.
  let published = 0;
  let running = true;
  let nextId = 0;
  const pumps = pubs.map((ws, n) => new Promise<void>((resolve) => {
    let inFlight = 0;
    const send = (): void => {
      while (running && inFlight < WINDOW) {
        inFlight++;
        ws.send(`{"t":"pub","id":${++nextId},"topic":"${TOPIC}","data":{"s":${performance.now()},"n":${nodeOf(n)}}}`);
      }
      if (!running && inFlight === 0) resolve();
    };
    ws.on('message', (data: Buffer) => {
      if (!data.toString('utf8', 0, 8).startsWith('{"t":"ok')) return;
      inFlight--;
      if (counters.measuring) published++;
      send();
    });
    send();
  }));
  await sleep(500);
  const before = await commandStats(redis.url);
  counters.measuring = true;
  const started = performance.now();
  await sleep(SECONDS * 1000);
  counters.measuring = false;
  const elapsed = (performance.now() - started) / 1000;
  const after = await commandStats(redis.url);
  running = false;
  await Promise.race([Promise.all(pumps), sleep(2000)]);
  const deliveries = counters.deliveries;
  const cross = counters.cross;
  const breakdown: Record<string, number> = {};
  let commands = 0;
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (d > 0) {
      breakdown[name] = Math.round((d / published) * 1000) / 1000;
      commands += d;
    }
  }
  await sleep(300);

  // 2. Latency at a fixed total rate.
  counters.deliveries = 0;
  counters.latencies = [];
  counters.recordLatency = true;
  counters.measuring = true;
  const interval = 5;
  const perTick = (RATE * interval) / 1000 / PUBLISHERS;
  let owed = 0;
  const timer = setInterval(() => {
    owed += perTick;
    while (owed >= 1) {
      owed--;
      pubs.forEach((ws, n) => ws.send(`{"t":"pub","topic":"${TOPIC}","data":{"s":${performance.now()},"n":${nodeOf(n)}}}`));
    }
  }, interval);
  await sleep(SECONDS * 1000);
  clearInterval(timer);
  await sleep(300);
  counters.measuring = false;
  const sorted = Float64Array.from(counters.latencies).sort();

  for (const ws of [...subs, ...pubs]) ws.terminate();
  for (const n of nodes) n.child.kill('SIGKILL');
  redis.child.kill('SIGKILL');
  return {
    nodes: nodeCount,
    subscribers: SUBSCRIBERS,
    deliveriesPerSecond: Math.round(deliveries / elapsed),
    crossNodeDeliveriesPerSecond: Math.round(cross / elapsed),
    publishedPerSecond: Math.round(published / elapsed),
    latencyRate: RATE,
    p50Ms: Math.round(percentile(sorted, 50) * 100) / 100,
    p99Ms: Math.round(percentile(sorted, 99) * 100) / 100,
    redisCommandsPerMessage: Math.round((commands / published) * 100) / 100,
    redisCommandBreakdown: breakdown,
  };
}

const machine = describeMachine();
const results: Result[] = [];
for (const n of [1, 3]) {
  const r = await run(n);
  results.push(r);
  console.log(`${r.nodes} node(s), ${r.subscribers} subscribers: ${r.publishedPerSecond} publishes/s -> ${r.deliveriesPerSecond} deliveries/s (${r.crossNodeDeliveriesPerSecond} cross-node); ` +
    `at ${r.latencyRate} msg/s p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; Redis commands per message ${r.redisCommandsPerMessage} ${JSON.stringify(r.redisCommandBreakdown)}`);
}
console.log(`machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${machine.node}, load average at start ${machine.loadAverageAtStart.toFixed(2)}`);
if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2));
process.exit(0);
