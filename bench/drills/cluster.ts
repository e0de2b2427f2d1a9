/**
 * What the fault drills share: a private redis-server, a TCP proxy per node in front of it (so a
 * drill decides when each node can reach Redis again), node processes
 * (test/redis/fixtures/cluster-node.ts), real `ParleyClient`s that record what they get, and the
 * check of those records: every published message delivered, or covered by a reset the client
 * was given after it was published; no duplicates; each publisher's messages in order.
 * @packageDocumentation
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from '../../src/index.js';
import { ParleyClient } from '../../src/client/index.js';

// The drills start Redis and find ports the way the Redis tests do (test/redis/support.ts).
export { sparePort, PrivateRedis as DrillRedis } from '../../test/redis/support.js';

/**
 * A TCP proxy to Redis for one node. Blocked, it cuts its connections and refuses new ones, so
 * the node cannot reach Redis until the drill opens it: rejoin order is the drill's choice.
 */
export class RedisProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<net.Socket>();
  #blocked = false;

  private constructor(server: net.Server, readonly port: number) {
    this.#server = server;
  }

  /** Listens on a spare port, forwarding to `target`. */
  static start(target: number): Promise<RedisProxy> {
    return new Promise((resolve, reject) => {
      let proxy: RedisProxy | undefined = undefined;
      const server = net.createServer((client) => {
        if (proxy === undefined || proxy.#blocked) {
          client.destroy();
          return;
        }
        const upstream = net.connect({ host: '127.0.0.1', port: target });
        const pairs = proxy.#pairs;
        pairs.add(client);
        pairs.add(upstream);
        const end = (): void => {
          client.destroy();
          upstream.destroy();
          pairs.delete(client);
          pairs.delete(upstream);
        };
        for (const s of [client, upstream]) {
          s.setNoDelay(true);
          s.on('error', end);
          s.on('close', end);
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        proxy = new RedisProxy(server, (server.address() as net.AddressInfo).port);
        resolve(proxy);
      });
    });
  }

  /** Its URL, for a node's REDIS_URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Cuts every connection and refuses new ones. */
  block(): void {
    this.#blocked = true;
    for (const s of this.#pairs) s.destroy();
    this.#pairs.clear();
  }

  /** Lets connections through again. */
  open(): void {
    this.#blocked = false;
  }

  /** Stops listening and cuts everything. */
  close(): void {
    this.block();
    this.#server.close();
  }
}

/** A node process. */
export interface DrillNode {
  readonly child: ChildProcess;
  readonly url: string;
  /** Lines of its adapter's log (stderr). */
  readonly log: string[];
}

/** Starts test/redis/fixtures/cluster-node.js with `env` and waits for its port. */
export async function startDrillNode(redisUrl: string, env: Record<string, string>): Promise<DrillNode> {
  const script = new URL('../../test/redis/fixtures/cluster-node.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { env: { ...process.env, REDIS_URL: redisUrl, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => log.push(...chunk.split('\n').filter((l) => l.length > 0)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`node exited with ${code}: ${log.join('\n')}`)));
  });
  return { child, url: `ws://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`, log };
}

/** What one subscriber saw, in order. */
export type Seen = { kind: 'm'; src: number; seq: number; at: number; position: string } | { kind: 'reset'; at: number };

/** A subscribing client that records every message and reset. */
export class Watcher {
  readonly seen: Seen[] = [];
  readonly client: ParleyClient;
  /** When the last `end` marker of each source arrived. */
  readonly ends = new Set<number>();
  /** Called on every `subscribed` event after the first (a resubscription: recovered or reset). */
  subscribed: ((kind: 'fresh' | 'recovered' | 'reset') => void) | undefined = undefined;

  constructor(readonly node: number, url: string, readonly topic: string) {
    this.client = new ParleyClient(url, { WebSocket, reconnect: { initialDelay: 50, maxDelay: 500 } });
  }

  /** Subscribes and waits for the first `subok`. */
  async start(): Promise<void> {
    const sub = this.client.subscribe(this.topic, (data, info) => {
      const d = data as { n: number; s: number; end?: true };
      if (d.end === true) this.ends.add(d.n);
      else this.seen.push({ kind: 'm', src: d.n, seq: d.s, at: performance.now(), position: `${info.epoch}/${info.offset}` });
    });
    sub.on('reset', () => this.seen.push({ kind: 'reset', at: performance.now() }));
    let first = true;
    sub.on('subscribed', (info) => {
      if (!first) this.subscribed?.(info.kind);
      first = false;
    });
    await sub.ready();
  }
}

/** One publish as its publisher saw it. */
export interface Sent {
  seq: number;
  sentAt: number;
  /** undefined while unanswered; true acknowledged; false refused. */
  acked: boolean | undefined;
}

/** A publishing client: `{ n, s }` with ack, every `intervalMs`. */
export class Publisher {
  readonly sent: Sent[] = [];
  readonly client: ParleyClient;
  readonly #pending = new Set<Promise<unknown>>();
  #timer: NodeJS.Timeout | undefined;
  refusedCodes = new Map<string, number>();

  constructor(readonly n: number, url: string, readonly topic: string) {
    this.client = new ParleyClient(url, { WebSocket, reconnect: { initialDelay: 50, maxDelay: 500 } });
  }

  /** Starts publishing. */
  start(intervalMs: number): void {
    this.#timer = setInterval(() => {
      const record: Sent = { seq: this.sent.length + 1, sentAt: performance.now(), acked: undefined };
      this.sent.push(record);
      const p = this.client.publish(this.topic, { n: this.n, s: record.seq }, { ack: true }).then(
        () => { record.acked = true; },
        (error: { code?: string }) => {
          record.acked = false;
          const code = error.code ?? 'unknown';
          this.refusedCodes.set(code, (this.refusedCodes.get(code) ?? 0) + 1);
        },
      );
      this.#pending.add(p);
      void p.then(() => this.#pending.delete(p));
    }, intervalMs);
  }

  /** Stops publishing and waits for every answer; then publishes the `end` marker. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#pending);
    await this.client.publish(this.topic, { n: this.n, s: 0, end: true }, { ack: true });
  }
}

/** The check of one subscriber. */
export interface WatchResult {
  node: number;
  /** Acknowledged publishes it should account for. */
  expected: number;
  received: number;
  /** Not received, with a reset after they were sent. */
  covered: number;
  /** Not received and never covered by a reset: silent loss. */
  silent: number;
  /** Received twice without a reset in between. */
  duplicates: number;
  /**
   * Of those, the ones that came at two different offsets: the publish itself was applied twice
   * (a retried `pub` the cluster did not recognise), not delivered twice.
   */
  republished: number;
  /** Received after a later message of the same publisher, without a reset in between. */
  outOfOrder: number;
  resets: number;
}

/**
 * Checks a subscriber against what the publishers had acknowledged: each message either arrived,
 * or the subscriber was given a reset after it was sent (what a reset promises: what you may have
 * missed until now is not replayed); within the stretch between two resets, no message twice and
 * each publisher's in order.
 */
export function check(w: Watcher, publishers: readonly Publisher[]): WatchResult {
  const got = new Set<string>();
  let segment = new Map<string, string>();
  let republished = 0;
  let lastOf = new Map<number, number>();
  let duplicates = 0;
  let outOfOrder = 0;
  let lastReset = Number.NEGATIVE_INFINITY;
  for (const e of w.seen) {
    if (e.kind === 'reset') {
      segment = new Map();
      lastOf = new Map();
      lastReset = e.at;
      continue;
    }
    const key = `${e.src}:${e.seq}`;
    const earlier = segment.get(key);
    if (earlier !== undefined) {
      duplicates++;
      if (earlier !== e.position) republished++;
    } else if ((lastOf.get(e.src) ?? 0) > e.seq) outOfOrder++;
    segment.set(key, e.position);
    got.add(key);
    lastOf.set(e.src, Math.max(lastOf.get(e.src) ?? 0, e.seq));
  }
  let expected = 0;
  let covered = 0;
  let silent = 0;
  for (const p of publishers) {
    for (const s of p.sent) {
      if (s.acked !== true) continue;
      expected++;
      if (got.has(`${p.n}:${s.seq}`)) continue;
      if (lastReset >= s.sentAt) covered++;
      else silent++;
    }
  }
  return { node: w.node, expected, received: got.size, covered, silent, duplicates, republished, outOfOrder, resets: w.seen.filter((e) => e.kind === 'reset').length };
}

/** Waits until `predicate()` holds; throws `what` after `ms`. */
export async function waitFor(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
