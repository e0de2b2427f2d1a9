/**
 * The Redis-restart drill (issue 17): three node processes on one Redis, subscribers on every
 * node and a publisher on every node. redis-server is killed (SIGKILL) and started again
 * without its data; the nodes reach it again one at a time, in the order given, while all keep
 * publishing. Every subscriber must account for every acknowledged publish: delivered, or
 * covered by a reset given after it was sent. Used by test/redis/restart-drill.test.ts (small) and
 * `npm run drill:redis-restart` (bigger, several orders).
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DrillRedis, Publisher, RedisProxy, Watcher, check, startDrillNode, waitFor, type DrillNode, type WatchResult } from './cluster.js';

/** Options of {@link restartDrill}. */
export interface RestartDrillOptions {
  /** The order the nodes (0, 1, 2) reach Redis again. */
  order: readonly number[];
  /** Subscribers per node. Default 2. */
  subscribers?: number;
  /** Each publisher publishes every this many ms. Default 20. */
  publishEveryMs?: number;
  /** How long Redis stays down after every node noticed. Default 400 ms. */
  outageMs?: number;
  /** Time between two nodes rejoining. Default 400 ms. */
  stepMs?: number;
  /** The adapter's `whenUnreachable`. Default 'local'. */
  mode?: 'local' | 'refuse';
}

/** What {@link restartDrill} found. */
export interface RestartDrillReport {
  order: readonly number[];
  mode: 'local' | 'refuse';
  published: number;
  acknowledged: number;
  refused: number;
  subscribers: WatchResult[];
  /** Sums over the subscribers. */
  total: { expected: number; received: number; covered: number; silent: number; duplicates: number; republished: number; outOfOrder: number; resets: number };
  /** Lines the nodes logged (warn and info). */
  logs: string[][];
}

const TOPIC = 'drill';

/** Runs the drill once. */
export async function restartDrill(options: RestartDrillOptions): Promise<RestartDrillReport> {
  const mode = options.mode ?? 'local';
  const stepMs = options.stepMs ?? 400;
  const redis = await DrillRedis.start();
  const proxies: RedisProxy[] = [];
  const nodes: DrillNode[] = [];
  const watchers: Watcher[] = [];
  const publishers: Publisher[] = [];
  try {
    const keyPrefix = `drill:${randomBytes(4).toString('hex')}:`;
    for (let i = 0; i < 3; i++) proxies.push(await RedisProxy.start(redis.port));
    nodes.push(...(await Promise.all(proxies.map((p) => startDrillNode(p.url, { KEY_PREFIX: keyPrefix, COMMAND_TIMEOUT_MS: '300', HEALTH_CHECK_MS: '100', WHEN_UNREACHABLE: mode })))));
    nodes.forEach((node, i) => {
      for (let k = 0; k < (options.subscribers ?? 2); k++) watchers.push(new Watcher(i, node.url, TOPIC));
    });
    await Promise.all(watchers.map((w) => w.start()));
    nodes.forEach((node, i) => publishers.push(new Publisher(i, node.url, TOPIC)));
    for (const p of publishers) p.start(options.publishEveryMs ?? 20);
    await sleep(300);

    const unreachable = (n: DrillNode): number => n.log.filter((l) => l.startsWith('warn: Redis unreachable')).length;
    const reachable = (n: DrillNode): number => n.log.filter((l) => l.startsWith('info: Redis reachable')).length;
    const before = nodes.map(reachable);
    redis.stop();
    for (const p of proxies) p.block();
    await waitFor(() => nodes.every((n) => unreachable(n) > 0), 5000, 'every node to notice the outage');
    await sleep(options.outageMs ?? 400);
    await redis.restart();
    for (const i of options.order) {
      proxies[i]!.open();
      await waitFor(() => reachable(nodes[i]!) > before[i]!, 10_000, `node ${i} to reach Redis again`);
      await sleep(stepMs);
    }
    await sleep(300);
    await Promise.all(publishers.map((p) => p.stop()));
    await waitFor(() => watchers.every((w) => w.ends.size === publishers.length), 10_000, 'every end marker on every subscriber');

    const results = watchers.map((w) => check(w, publishers));
    const total = { expected: 0, received: 0, covered: 0, silent: 0, duplicates: 0, republished: 0, outOfOrder: 0, resets: 0 };
    for (const r of results) for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += r[key];
    const sent = publishers.flatMap((p) => p.sent);
    return {
      order: options.order,
      mode,
      published: sent.length,
      acknowledged: sent.filter((s) => s.acked === true).length,
      refused: sent.filter((s) => s.acked === false).length,
      subscribers: results,
      total,
      logs: nodes.map((n) => n.log.filter((l) => l.startsWith('warn') || l.startsWith('info'))),
    };
  } finally {
    for (const c of [...watchers.map((w) => w.client), ...publishers.map((p) => p.client)]) c.close();
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    for (const p of proxies) p.close();
    redis.stop();
  }
}
