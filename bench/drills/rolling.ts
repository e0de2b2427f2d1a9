/**
 * The rolling-deploy drill (issue 17): three `parley serve` processes on one Redis behind a TCP
 * balancer (as nginx would be), real `ParleyClient`s through the balancer, a publisher per node.
 * The nodes are restarted one at a time, each with the graceful shutdown (SIGTERM: every client
 * closed with 1012, drained) after being taken out of the balancer, while all keep publishing.
 * Reported: lost, duplicates, order, resets, and per reconnect the time from the 1012 to the new
 * connection being open (reconnect) and to the subscription being live again (recovery).
 * Used by test/redis/rolling-drill.test.ts (small) and `npm run drill:rolling`.
 * @packageDocumentation
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from '../workloads/statistics.js';
import { DrillRedis, Publisher, Watcher, check, sparePort, waitFor, type WatchResult } from './cluster.js';

/** A TCP balancer over backends that the drill takes out and puts back (a deploy's first step). */
class Balancer {
  readonly up: boolean[];
  #next = 0;
  readonly #server: net.Server;
  readonly port: number;

  private constructor(server: net.Server, port: number, readonly backends: number[]) {
    this.#server = server;
    this.port = port;
    this.up = backends.map(() => true);
  }

  static start(backends: number[]): Promise<Balancer> {
    return new Promise((resolve) => {
      let lb: Balancer | undefined = undefined;
      const server = net.createServer((client) => {
        const b = lb!;
        const live = b.backends.filter((_, i) => b.up[i]);
        if (live.length === 0) {
          client.destroy();
          return;
        }
        const port = live[b.#next++ % live.length]!;
        const upstream = net.connect({ host: '127.0.0.1', port });
        const end = (): void => {
          client.destroy();
          upstream.destroy();
        };
        for (const s of [client, upstream]) {
          s.on('error', end);
          s.on('close', end);
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.listen(0, '127.0.0.1', () => {
        lb = new Balancer(server, (server.address() as net.AddressInfo).port, backends);
        resolve(lb);
      });
    });
  }

  close(): void {
    this.#server.close();
  }
}

/** A `parley serve` process. */
class ServeNode {
  child: ChildProcess | undefined;
  constructor(readonly port: number, readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const main = new URL('../../src/cli/main.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [main, 'serve'], { env: { ...process.env, ...this.env, PARLEY_PORT: String(this.port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('parley server listening')) resolve();
      });
      child.stderr.resume();
      child.once('exit', (code) => reject(new Error(`parley serve exited with ${code}: ${out.slice(-2000)}`)));
    });
  }

  /** SIGTERM: the graceful shutdown; resolves when the process has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  kill(): void {
    if (this.child !== undefined && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Options of {@link rollingDrill}. */
export interface RollingDrillOptions {
  /** Subscribing clients in all. Default 30. */
  subscribers?: number;
  /** Each of the 3 publishers publishes every this many ms. Default 20. */
  publishEveryMs?: number;
  /** Wait between one node being back and the next restart. Default 500 ms. */
  settleMs?: number;
}

/** What {@link rollingDrill} found. */
export interface RollingDrillReport {
  acknowledged: number;
  total: { expected: number; received: number; covered: number; silent: number; duplicates: number; republished: number; outOfOrder: number; resets: number };
  /** Closes with 1012 the clients saw. */
  closes1012: number;
  /** Connection attempts per reconnect after a 1012 (1 when the first attempt succeeded). */
  attemptsPerReconnect: number;
  /** Clients that did not come back after a restart. */
  neverReconnected: number;
  reconnectMs: { p50: number; p99: number; max: number };
  recoveryMs: { p50: number; p99: number; max: number };
  /** How the subscriptions came back: recovered or reset. */
  recoveries: { recovered: number; reset: number };
  subscribers: WatchResult[];
}

const TOPIC = 'public:drill';

function summary(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(values).sort();
  const round = (n: number): number => Math.round(n * 10) / 10;
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? Number.NaN) };
}

/** Runs the drill once. */
export async function rollingDrill(options: RollingDrillOptions = {}): Promise<RollingDrillReport> {
  const redis = await DrillRedis.start();
  const ports = [await sparePort(), await sparePort(), await sparePort()];
  const env = {
    PARLEY_HOST: '127.0.0.1',
    PARLEY_CLUSTER_ADAPTER: 'redis',
    PARLEY_REDIS_URL: `redis://127.0.0.1:${redis.port}`,
    PARLEY_REDIS_KEY_PREFIX: `rolling:${randomBytes(4).toString('hex')}:`,
    PARLEY_APPS: '',
    PARLEY_ADMIN: 'false',
    PARLEY_PUBLIC_PUBLISH: 'public:*',
    PARLEY_MESSAGES_PER_SECOND: '10000',
    PARLEY_CONNECTIONS_PER_IP_PER_SECOND: '100000',
    PARLEY_CONNECTION_BURST_PER_IP: '100000',
    PARLEY_PROCESS_METRICS: 'false',
    PARLEY_SHUTDOWN_TIMEOUT_MS: '5000',
  };
  const nodes = ports.map((port) => new ServeNode(port, env));
  const watchers: Watcher[] = [];
  const publishers: Publisher[] = [];
  let lb: Balancer | undefined;
  try {
    await Promise.all(nodes.map((n) => n.start()));
    lb = await Balancer.start(ports);
    const url = `ws://127.0.0.1:${lb.port}/ws`;
    const reconnect: number[] = [];
    const recovery: number[] = [];
    const recoveries = { recovered: 0, reset: 0 };
    let closes = 0;
    let attempts = 0;
    const track = (client: Watcher['client'], sub: boolean): { closedAt: number | undefined; opened: boolean } => {
      const state: { closedAt: number | undefined; opened: boolean } = { closedAt: undefined, opened: false };
      client.on('close', (info) => {
        if (info.code !== 1012) return;
        closes++;
        state.closedAt = performance.now();
        state.opened = false;
      });
      client.on('reconnecting', () => {
        if (state.closedAt !== undefined) attempts++;
      });
      client.on('open', () => {
        if (state.closedAt === undefined || state.opened) return;
        state.opened = true;
        reconnect.push(performance.now() - state.closedAt);
        if (!sub) state.closedAt = undefined;
      });
      return state;
    };
    for (let i = 0; i < (options.subscribers ?? 30); i++) {
      const w = new Watcher(i % 3, url, TOPIC);
      const state = track(w.client, true);
      watchers.push(w);
      w.subscribed = (kind) => {
        if (state.closedAt === undefined) return;
        recovery.push(performance.now() - state.closedAt);
        state.closedAt = undefined;
        if (kind === 'reset') recoveries.reset++;
        else recoveries.recovered++;
      };
    }
    await Promise.all(watchers.map((w) => w.start()));
    for (let n = 0; n < 3; n++) {
      const p = new Publisher(n, url, TOPIC);
      track(p.client, false);
      publishers.push(p);
    }
    for (const p of publishers) p.start(options.publishEveryMs ?? 20);
    await sleep(500);
    for (let i = 0; i < nodes.length; i++) {
      lb.up[i] = false; // out of the balancer first, as a deploy does
      await nodes[i]!.stop();
      await nodes[i]!.start();
      lb.up[i] = true;
      await sleep(options.settleMs ?? 500);
    }
    await waitFor(() => watchers.every((w) => w.client.state === 'open'), 15_000, 'every client to be connected again');
    await sleep(300);
    await Promise.all(publishers.map((p) => p.stop()));
    await waitFor(() => watchers.every((w) => w.ends.size === publishers.length), 15_000, 'every end marker on every subscriber');
    const results = watchers.map((w) => check(w, publishers));
    const total = { expected: 0, received: 0, covered: 0, silent: 0, duplicates: 0, republished: 0, outOfOrder: 0, resets: 0 };
    for (const r of results) for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += r[key];
    return {
      acknowledged: publishers.flatMap((p) => p.sent).filter((s) => s.acked === true).length,
      total,
      closes1012: closes,
      attemptsPerReconnect: Math.round((attempts / Math.max(1, reconnect.length)) * 100) / 100,
      neverReconnected: watchers.filter((w) => w.client.state !== 'open').length,
      reconnectMs: summary(reconnect),
      recoveryMs: summary(recovery),
      recoveries,
      subscribers: results,
    };
  } finally {
    for (const c of [...watchers.map((w) => w.client), ...publishers.map((p) => p.client)]) c.close();
    for (const n of nodes) n.kill();
    lb?.close();
    redis.stop();
  }
}
