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
 * map again (`rediscover`), until the promoted replica is in it. A sharded subscription on the
 * dead master is dropped by node-redis then; the change of masters is reported as an outage, so
 * the adapter's recovery subscribes again and fills from history (and the topic's new epoch on the
 * new master tells subscribers of the gap, see cluster-scripts.ts).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { createCluster, RESP_TYPES } from 'redis';
import { backoffDelay, resolveBackoff, type BackoffOptions } from './backoff.js';
import { CLUSTER_SCRIPTS } from './cluster-scripts.js';
import { ErrorCode, ParleyError } from '../protocol/index.js';
import type { HealthListener, RedisAdapterCounters, RedisLogger } from './health.js';
import type { ChannelListener, Link } from './link.js';
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
  readonly #listeners = new Set<HealthListener>();
  readonly #scripts: readonly Script[] = Object.values(CLUSTER_SCRIPTS);
  #cluster: Cluster | undefined;
  /** Masters (by address) that have the scripts loaded since they last answered. */
  readonly #loaded = new Set<string>();
  /** The masters at the last probe, to notice a failover between two probes. */
  #masters = '';
  #commandsUp = false;
  #healthy = false;
  #reason = 'not connected';
  #closed = false;
  #probing: Promise<void> | undefined;
  #probeTimer: NodeJS.Timeout | undefined;

  /** @param options - where the cluster is, timeouts, and where to report */
  constructor(options: ClusterLinkOptions) {
    if (options.rootNodes.length === 0) throw new RangeError('a Redis Cluster needs at least one node URL');
    for (const url of options.rootNodes) if (!/^rediss?:\/\//.test(url)) throw new RangeError(`a Redis Cluster node URL must start with redis:// or rediss://, got ${url}`);
    this.#options = options;
  }

  /** @inheritDoc */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** @inheritDoc */
  get commandsUp(): boolean {
    return this.#commandsUp && !this.#closed;
  }

  /** @inheritDoc */
  get reason(): string {
    return this.#healthy ? 'ok' : this.#reason;
  }

  /** @inheritDoc */
  onHealth(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @inheritDoc */
  async connect(): Promise<void> {
    const bounds = resolveBackoff(this.#options.reconnect);
    const reconnectStrategy = (retries: number): number => {
      this.#options.counters.reconnectAttempts++;
      return backoffDelay(retries, bounds);
    };
    const cluster = createCluster({
      rootNodes: this.#options.rootNodes.map((url) => ({ url })),
      // No offline queue: a command for a master that is down fails at once instead of waiting.
      defaults: { socket: { reconnectStrategy, connectTimeout: Math.max(this.#options.commandTimeoutMs, 1000) }, disableOfflineQueue: true },
    });
    this.#cluster = cluster;
    // Discovery failures ('error') and node connections failing: the probe decides what they mean.
    cluster.on('error', () => void this.#probe());
    cluster.on('node-error', () => void this.#probe());
    cluster.on('node-ready', () => void this.#probe());
    await cluster.connect();
    await this.#probe();
    if (!this.#healthy) await this.#probe();
    if (!this.#healthy) throw new Error(`Redis Cluster is not answering: ${this.#reason}`);
    this.#probeTimer = setInterval(() => void this.#probe(), this.#options.healthCheckIntervalMs);
    this.#probeTimer.unref();
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
    if (cluster === undefined || this.#closed) throw new Error('the Redis adapter is not connected');
    try {
      // The reply is timed here: node-redis times a command only until it is written.
      return await within(cluster.sendCommand(key, false, args as Array<string | Buffer>, { typeMapping: buffers ? BUFFERS : STRINGS }), this.#options.commandTimeoutMs);
    } catch (error) {
      this.#options.counters.commandErrors++;
      // One master may be gone: the probe finds out which, and looks for its replacement.
      void this.#probe();
      throw error;
    }
  }

  /** @inheritDoc */
  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#closed) return Promise.reject(new Error('the Redis adapter is not connected'));
    return within(cluster.sSubscribe(channel, listener, true), this.#options.commandTimeoutMs);
  }

  /** @inheritDoc */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    const cluster = this.#cluster;
    if (cluster === undefined || this.#closed) return Promise.resolve();
    return within(cluster.sUnsubscribe(channel, listener, true), this.#options.commandTimeoutMs);
  }

  #probe(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return (this.#probing ??= this.#ping().finally(() => { this.#probing = undefined; }));
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
    if (this.#closed) return;
    const names = masters.map((m) => m.address).sort().join(',');
    if (this.#masters !== '' && names !== this.#masters && this.#healthy) {
      // A failover between two probes: node-redis dropped the dead master's subscriptions.
      this.#set(this.#commandsUp, false, `the cluster's masters changed (${this.#masters} → ${names})`);
    }
    this.#masters = names;
    const subscribersDown = masters.filter((m) => m.pubSub !== undefined && !m.pubSub.client.isReady).map((m) => m.address);
    if (down.length > 0 || masters.length === 0) {
      this.#set(live !== undefined, false, masters.length === 0 ? 'no master known' : `master ${down.join(', ')} not answering`);
      // Ask the cluster who owns the slots now (a replica is promoted after cluster-node-timeout).
      const start = live ?? { options: { url: this.#options.rootNodes[Math.floor(Math.random() * this.#options.rootNodes.length)] } };
      await within(cluster._slots.rediscover(start as NodeClient), ms).catch(() => {});
      return;
    }
    if (subscribersDown.length > 0) {
      this.#set(true, false, `sharded subscriber connection to ${subscribersDown.join(', ')} not ready`);
      return;
    }
    this.#set(true, true, 'ok');
  }

  #set(commandsUp: boolean, healthy: boolean, reason: string): void {
    if (this.#closed) return;
    this.#commandsUp = commandsUp;
    if (!healthy) this.#reason = reason;
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    if (healthy) {
      this.#options.log('info', 'Redis Cluster reachable', { previously: this.#reason });
      this.#emit(true, 'ok');
    } else {
      this.#options.counters.outages++;
      this.#options.log('warn', 'Redis Cluster unreachable in part: delivering locally what it cannot take until it is back', { reason });
      this.#emit(false, reason);
    }
  }

  #emit(healthy: boolean, reason: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(healthy, reason);
      } catch (error) {
        this.#options.log('error', 'a health listener threw', { error: String(error) });
      }
    }
  }

  /** @inheritDoc */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#healthy = false;
    this.#commandsUp = false;
    clearInterval(this.#probeTimer);
    try {
      this.#cluster?.destroy();
    } catch {
      // Already closed.
    }
  }
}
