/**
 * The adapter's way to a Redis Cluster, through node-redis's cluster client (`createCluster`):
 * commands and scripts go to the master of their first key's slot (the client follows MOVED and
 * ASK), subscriptions are sharded (SSUBSCRIBE, Redis >= 7) on the master owning the channel's
 * slot. node-redis writes every command queued in one turn of the event loop in one write per
 * master connection, so publishes in flight are pipelined, and one topic's publishes from this
 * node keep their order (one slot, one connection).
 *
 * Health: every master answers a PING within the command timeout and every sharded subscriber
 * connection is up. While one master is down, commands for the other masters' slots still go
 * through (`commandsUp`); those for the lost slots fail fast (no offline queue), and the adapter
 * delivers them locally and announces the gap once healthy again, as on one Redis.
 *
 * Failover: node-redis does not notice by itself that a dead master was replaced (it reconnects
 * to the dead address). While a master does not answer, every probe asks the cluster for its slot
 * map again (slot-refresh.ts), until the promoted replica is in it. A sharded subscription on the
 * dead master is dropped by node-redis then; the change of masters is reported as an outage, so
 * the adapter's recovery subscribes again and fills from history (and the topic's new epoch on the
 * new master tells subscribers of the gap, see cluster-scripts.ts).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { createCluster, RESP_TYPES } from 'redis';
import type { BackoffOptions } from './backoff.js';
import { CLUSTER_SCRIPTS } from './cluster-scripts.js';
import { ErrorCode, ParleyError } from '../protocol/index.js';
import type { HealthListener, RedisAdapterCounters, RedisLogger } from './health.js';
import type { ChannelListener, Link } from './link.js';
import { LinkHealth } from './link-health.js';
import { refreshSlots } from './slot-refresh.js';
import type { Script } from './scripts.js';

/** Options of {@link ClusterLink}. */
export interface ClusterLinkOptions {
  /** URLs of some of the cluster's nodes (the client discovers the rest). */
  rootNodes: readonly string[];
  commandTimeoutMs: number;
  healthCheckIntervalMs: number;
  reconnect: BackoffOptions | undefined;
  log: RedisLogger;
  counters: RedisAdapterCounters;
}

type Cluster = ReturnType<typeof createCluster>;
type NodeClient = Awaited<ReturnType<Cluster['nodeClient']>>;

const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
const STRINGS = {} as const;

/** Rejects after `ms` unless `promise` settles first. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ParleyError(ErrorCode.REDIS_TIMEOUT, `Redis did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A Redis Cluster, with health. */
export class ClusterLink implements Link {
  readonly #options: ClusterLinkOptions;
  readonly #health: LinkHealth;
  readonly #scripts: readonly Script[] = Object.values(CLUSTER_SCRIPTS);
  #cluster: Cluster | undefined;
  /** Masters (by address) that have the scripts loaded since they last answered. */
  readonly #loaded = new Set<string>();
  /** The masters at the last probe, to notice a failover between two probes. */
  #masters = '';
  /** This node-redis has no slot refresh (logged once). */
  #refreshMissing = false;

  /** @param options - where the cluster is, timeouts, and where to report */
  constructor(options: ClusterLinkOptions) {
    if (options.rootNodes.length === 0) throw new RangeError('a Redis Cluster needs at least one node URL');
    for (const url of options.rootNodes) if (!/^rediss?:\/\//.test(url)) throw new RangeError(`a Redis Cluster node URL must start with redis:// or rediss://, got ${url}`);
    this.#options = options;
    this.#health = new LinkHealth({
      // The link's options carry the interval, reconnect delays, log and counters LinkHealth takes.
      ...options,
      check: () => this.#ping(),
      messages: { up: 'Redis Cluster reachable', down: 'Redis Cluster unreachable in part: delivering locally what it cannot take until it is back' },
    });
  }

  /** @inheritDoc */
  get healthy(): boolean {
    return this.#health.healthy;
  }

  /** @inheritDoc */
  get commandsUp(): boolean {
    return this.#health.commandsUp;
  }

  /** @inheritDoc */
  get reason(): string {
    return this.#health.reason;
  }

  /** @inheritDoc */
  onHealth(listener: HealthListener): () => void {
    return this.#health.onHealth(listener);
  }

  /** @inheritDoc */
  async connect(): Promise<void> {
    const reconnectStrategy = this.#health.reconnectStrategy();
    const cluster = createCluster({
      rootNodes: this.#options.rootNodes.map((url) => ({ url })),
      // No offline queue: a command for a master that is down fails at once instead of waiting.
      defaults: { socket: { reconnectStrategy, connectTimeout: Math.max(this.#options.commandTimeoutMs, 1000) }, disableOfflineQueue: true },
    });
    this.#cluster = cluster;
    // Discovery failures ('error') and node connections failing: the probe decides what they mean.
    const probe = (): void => void this.#health.probe();
    cluster.on('error', probe);
    cluster.on('node-error', probe);
    cluster.on('node-ready', probe);
    await cluster.connect();
    await this.#health.probe();
    if (!this.#health.healthy) await this.#health.probe();
    if (!this.#health.healthy) throw new ParleyError(ErrorCode.REDIS_UNAVAILABLE, `Redis Cluster is not answering: ${this.#health.reason}`);
    this.#health.startProbing();
  }

  /** @inheritDoc */
  async run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#send(keys[0], ['EVALSHA', script.sha, ...tail], buffers);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.#send(keys[0], ['EVAL', script.source, ...tail], buffers);
    }
  }

  /** @inheritDoc */
  command(args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    return this.#send(args[1], args, buffers);
  }

  async #send(key: string | Buffer | undefined, args: ReadonlyArray<string | Buffer>, buffers: boolean): Promise<unknown> {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#health.closed) throw new ParleyError(ErrorCode.REDIS_UNAVAILABLE, 'the Redis adapter is not connected');
    try {
      // The reply is timed here: node-redis times a command only until it is written.
      return await within(cluster.sendCommand(key, false, args as Array<string | Buffer>, { typeMapping: buffers ? BUFFERS : STRINGS }), this.#options.commandTimeoutMs);
    } catch (error) {
      this.#options.counters.commandErrors++;
      // One master may be gone: the probe finds out which, and looks for its replacement.
      void this.#health.probe();
      throw error;
    }
  }

  /** @inheritDoc */
  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#health.closed) return Promise.reject(new ParleyError(ErrorCode.REDIS_UNAVAILABLE, 'the Redis adapter is not connected'));
    return within(cluster.sSubscribe(channel, listener, true), this.#options.commandTimeoutMs);
  }

  /** @inheritDoc */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#health.closed) return Promise.resolve();
    return within(cluster.sUnsubscribe(channel, listener, true), this.#options.commandTimeoutMs);
  }

  /** PINGs every master (loading the scripts where needed), and rediscovers the slots if one is down. */
  async #ping(): Promise<void> {
    const cluster = this.#cluster;
    if (cluster === undefined) return;
    const ms = this.#options.commandTimeoutMs;
    const masters = [...cluster.masters];
    let live: NodeClient | undefined;
    const down: string[] = [];
    await Promise.all(masters.map(async (master) => {
      try {
        const client = await within(cluster.nodeClient(master), ms);
        await within(client.sendCommand(['PING']), ms);
        if (!this.#loaded.has(master.address)) {
          // Loaded before the master counts as healthy: see RedisLink (a NOSCRIPT retry could
          // overtake a later publish).
          for (const script of this.#scripts) await within(client.sendCommand(['SCRIPT', 'LOAD', script.source]), ms);
          this.#loaded.add(master.address);
        }
        live ??= client;
      } catch {
        this.#loaded.delete(master.address);
        down.push(master.address);
      }
    }));
    const health = this.#health;
    if (health.closed) return;
    const names = masters.map((m) => m.address).sort().join(',');
    if (this.#masters !== '' && names !== this.#masters && health.healthy) {
      // A failover between two probes: node-redis dropped the dead master's subscriptions.
      health.update(health.commandsUp, false, `the cluster's masters changed (${this.#masters} → ${names})`);
    }
    this.#masters = names;
    const subscribersDown = masters.filter((m) => m.pubSub !== undefined && !m.pubSub.client.isReady).map((m) => m.address);
    if (down.length > 0 || masters.length === 0) {
      health.update(live !== undefined, false, masters.length === 0 ? 'no master known' : `master ${down.join(', ')} not answering`);
      // Ask the cluster who owns the slots now (a replica is promoted after cluster-node-timeout).
      await this.#refresh(cluster, live);
      return;
    }
    if (subscribersDown.length > 0) {
      health.update(true, false, `sharded subscriber connection to ${subscribersDown.join(', ')} not ready`);
      return;
    }
    health.update(true, true, undefined);
  }

  /**
   * Reads the slot map again, from a master that answers (or a root node): node-redis does not
   * notice a dead master's replacement by itself (slot-refresh.ts says why this is not public API).
   */
  async #refresh(cluster: Cluster, live: NodeClient | undefined): Promise<void> {
    const roots = this.#options.rootNodes;
    const refresh = refreshSlots(cluster, live ?? { options: { url: roots[Math.floor(Math.random() * roots.length)] } });
    if (refresh === undefined) {
      if (!this.#refreshMissing) {
        this.#refreshMissing = true;
        this.#options.log('warn', 'this node-redis cannot be asked for the slot map again: a failed-over master is found only when a node answers MOVED');
      }
      return;
    }
    await within(refresh, this.#options.commandTimeoutMs).catch(() => {});
  }

  /** @inheritDoc */
  close(): void {
    if (this.#health.closed) return;
    this.#health.close();
    try {
      this.#cluster?.destroy();
    } catch {
      // Already closed.
    }
  }
}
