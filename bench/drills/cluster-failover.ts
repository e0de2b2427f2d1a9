/**
 * The Redis Cluster failover drill: three node processes on a three-master cluster (one replica
 * each), subscribers (`ParleyClient`s, which resubscribe with `since` on a gap) and a publisher on
 * every node, all on one topic. In each round the master owning the topic's slot is killed with
 * SIGKILL; its replica takes over, and the killed node is started again (it rejoins as a replica)
 * before the next round. Every subscriber must account for every acknowledged publish: delivered,
 * or covered by a reset given after it was sent. Reports how long each round took until each node
 * reached the whole cluster again. `npm run drill:cluster-failover`; the test suite's small
 * version is test/redis/cluster-link.test.ts.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Keys } from '../../src/redis/keys.js';
import { PrivateCluster } from '../../test/redis/support.js';
import { Publisher, Watcher, check, startDrillNode, waitFor, type DrillNode, type WatchResult } from './cluster.js';

/** Options of {@link clusterFailoverDrill}. */
export interface ClusterFailoverOptions {
  /** Failovers, one after the other. Default 1. */
  rounds?: number;
  /** Subscribers per node. Default 2. */
  subscribers?: number;
  /** Each publisher publishes every this many ms. Default 20. */
  publishEveryMs?: number;
  /** `cluster-node-timeout`. Default 1,000 ms. */
  nodeTimeoutMs?: number;
}

/** What {@link clusterFailoverDrill} found. */
export interface ClusterFailoverReport {
  /** Per round: seconds from the kill until the first and the last node were healthy again. */
  rounds: Array<{ victim: number; firstNodeS: number; lastNodeS: number }>;
  published: number;
  acknowledged: number;
  subscribers: WatchResult[];
  total: { expected: number; received: number; covered: number; silent: number; duplicates: number; republished: number; outOfOrder: number; resets: number };
}

const TOPIC = 'drill';

/** Runs the drill. */
export async function clusterFailoverDrill(options: ClusterFailoverOptions = {}): Promise<ClusterFailoverReport> {
  const cluster = await PrivateCluster.start(undefined, { nodeTimeoutMs: options.nodeTimeoutMs ?? 1000 });
  const nodes: DrillNode[] = [];
  const watchers: Watcher[] = [];
  const publishers: Publisher[] = [];
  try {
    const keyPrefix = `drill:${randomBytes(4).toString('hex')}:`;
    const env = { REDIS_CLUSTER_NODES: cluster.rootNodes.join(','), KEY_PREFIX: keyPrefix, COMMAND_TIMEOUT_MS: '500', HEALTH_CHECK_MS: '100' };
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startDrillNode('', env)))));
    nodes.forEach((node, i) => {
      for (let k = 0; k < (options.subscribers ?? 2); k++) watchers.push(new Watcher(i, node.url, TOPIC));
    });
    await Promise.all(watchers.map((w) => w.start()));
    nodes.forEach((node, i) => publishers.push(new Publisher(i, node.url, TOPIC)));
    for (const p of publishers) p.start(options.publishEveryMs ?? 20);
    await sleep(300);

    const reachable = (n: DrillNode): number => n.log.filter((l) => l.startsWith('info: Redis Cluster reachable')).length;
    const keys = new Keys(keyPrefix, true);
    const rounds: ClusterFailoverReport['rounds'] = [];
    for (let r = 0; r < (options.rounds ?? 1); r++) {
      const victim = await cluster.masterOf(keys.meta(TOPIC));
      const before = nodes.map(reachable);
      const killedAt = performance.now();
      cluster.kill(victim);
      const back: Array<number | undefined> = nodes.map(() => undefined);
      for (;;) {
        nodes.forEach((n, i) => {
          if (back[i] === undefined && reachable(n) > before[i]!) back[i] = performance.now();
        });
        if (back.every((x) => x !== undefined)) break;
        if (performance.now() - killedAt > 60_000) throw new Error('the nodes did not reach the whole cluster again within 60 s');
        await sleep(10);
      }
      const times = back.map((x) => x - killedAt);
      rounds.push({ victim, firstNodeS: Math.min(...times) / 1000, lastNodeS: Math.max(...times) / 1000 });
      await sleep(300);
      await cluster.restart(victim);
      await cluster.waitHealthy(true, 30_000);
    }
    await sleep(300);
    await Promise.all(publishers.map((p) => p.stop()));
    await waitFor(() => watchers.every((w) => w.ends.size === publishers.length), 10_000, 'every end marker on every subscriber');

    const results = watchers.map((w) => check(w, publishers));
    const total = { expected: 0, received: 0, covered: 0, silent: 0, duplicates: 0, republished: 0, outOfOrder: 0, resets: 0 };
    for (const r of results) for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += r[key];
    const sent = publishers.flatMap((p) => p.sent);
    return { rounds, published: sent.length, acknowledged: sent.filter((s) => s.acked === true).length, subscribers: results, total };
  } finally {
    for (const c of [...watchers.map((w) => w.client), ...publishers.map((p) => p.client)]) c.close();
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    cluster.stop();
  }
}
