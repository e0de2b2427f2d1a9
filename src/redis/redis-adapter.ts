/**
 * The Redis cluster adapter: several Parley processes, one pub/sub system.
 *
 * Publish: one Lua script per message gives it the topic's next offset, appends it to the
 * topic's history list and PUBLISHes it on the topic's channel. Redis runs scripts one at a
 * time, so every node sees one order and one sequence of offsets per topic.
 *
 * Delivery: each node SUBSCRIBEs only to the channels of topics it has subscribers for, so Redis
 * traffic follows local interest, not the number of topics. A node delivers every message,
 * including its own, from the channel: one path, one order. It remembers the last offset it
 * delivered per topic; a jump (messages missed while its connection was down) is filled from
 * history before anything newer, and what history no longer has is reported to the topic's
 * subscribers (`gap`: they resubscribe and recover, or learn `recovered: false`).
 *
 * Redis unreachable (`whenUnreachable: 'local'`, the default): publishes still reach this node's
 * subscribers, in a local epoch (a history kept here) that no other node shares. Once Redis is
 * back, every topic that used a local epoch is reported as a gap, so those clients resubscribe and
 * get `recovered: false` from Redis: what was published meanwhile never silently mixes with the
 * cluster's sequence. And since the other nodes' subscribers never got those messages, the node
 * replaces the epoch in Redis of every topic it published to locally, announcing the gap
 * cluster-wide (a `g` entry on the channel; a node that misses it finds the new epoch on its next
 * fill). With `whenUnreachable: 'refuse'` publishes fail (`UNAVAILABLE`) instead.
 *
 * Redis Cluster (`cluster`): the same, per topic. A topic's keys and its shard channel share one
 * hash slot (keys.ts), so each script runs on the topic's master and each topic keeps one order;
 * topics spread over the masters. Delivery uses sharded pub/sub (SSUBSCRIBE), so a message
 * travels only within its shard. A master failing over is an outage of its slots: what this node
 * published there meanwhile is delivered locally and announced as a gap, and a topic's first
 * script on the promoted replica starts a new epoch (the replica may lack the last writes), so no
 * subscriber silently misses a message (cluster-link.ts, cluster-scripts.ts).
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type { AdapterNode, ClusterAdapter, PublishIdempotency, PublishReceipt } from '../pubsub/adapter.js';
import type { PresenceMember, StreamPosition } from '../wire/envelope.js';
import { newEpoch, type HistoryLimits, type Recovery } from '../pubsub/history.js';
import type { TopicMessage } from '../pubsub/message.js';
import type { AdapterContext } from './adapter-context.js';
import type { BackoffOptions } from './backoff.js';
import { encodeBody } from './codec.js';
import { ClusterLink } from './cluster-link.js';
import { CLUSTER_SCRIPTS } from './cluster-scripts.js';
import { RedisLink, type RedisClientLike } from './connection.js';
import { Feeds } from './feeds.js';
import { newCounters, type HealthListener, type RedisAdapterCounters, type RedisLogger } from './health.js';
import { HistoryReads } from './history-reads.js';
import { Keys } from './keys.js';
import { LocalEpochs } from './local-epochs.js';
import { RedisPresence } from './presence.js';
import { SCRIPTS } from './scripts.js';

/** Options of {@link RedisAdapter}. */
export interface RedisAdapterOptions {
  /** Redis URL. Default `redis://127.0.0.1:6379`. Ignored when `client` or `cluster` is given. */
  url?: string;
  /**
   * A Redis Cluster (Redis >= 7: sharded pub/sub) instead of one Redis: the URLs of some of its
   * nodes (`redis://host:port`, with credentials or `rediss://` as needed); node-redis's cluster
   * client discovers the rest. Every topic lives in one hash slot. See docs/cluster.md.
   */
  cluster?: { rootNodes: readonly string[] };
  /**
   * A node-redis v5 client of the application's (connected or not). Commands use it; a duplicate
   * subscribes. The adapter does not close it. Give it `disableOfflineQueue: true`, or publishes
   * made while Redis is away wait in its queue up to `commandTimeoutMs`.
   */
  client?: RedisClientLike;
  /** Prepended to every key and channel. Default `parley:`. */
  keyPrefix?: string;
  /** This node's id (unique in the cluster). Default: random. */
  nodeId?: string;
  /** Heartbeat TTL: a dead node's presence is removed within 1.5 × this. Default 10,000 ms. */
  presenceTtlMs?: number;
  /** An unused topic's epoch and offset are forgotten after this long. Default 86,400,000 ms (a day). */
  topicTtlMs?: number;
  /** A command not answered within this is failed, and Redis considered unreachable. Default 2,000 ms. */
  commandTimeoutMs?: number;
  /** How often Redis is PINGed to notice it paused or came back. Default 1,000 ms. */
  healthCheckIntervalMs?: number;
  /** Reconnect delays (exponential with jitter). Default 100 ms to 5,000 ms. */
  reconnect?: BackoffOptions;
  /** Where the adapter reports outages and recoveries. Default: nowhere. */
  logger?: RedisLogger;
  /**
   * What a publish does while Redis is unreachable. `'local'` (default): it is delivered on this
   * node only, in a local epoch, and once Redis is back every node's subscribers of the topic are
   * told of the gap (`recovered: false`). `'refuse'`: it fails with `UNAVAILABLE` (a `parley.v1`
   * publisher gets `err`), so nothing is delivered that other nodes cannot have.
   */
  whenUnreachable?: 'local' | 'refuse';
}

function integer(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/**
 * A cluster adapter on Redis (node-redis v5). Call {@link RedisAdapter.connect} before use.
 *
 * Its parts, one concern each: the link to Redis with its health (connection.ts or
 * cluster-link.ts), the watched topics and delivery in order (feeds.ts), coalesced history reads
 * (history-reads.ts), local epochs while Redis is away (local-epochs.ts), presence (presence.ts).
 * This class publishes through Redis and runs the recovery when Redis is back.
 */
export class RedisAdapter implements ClusterAdapter {
  /** This node's id. */
  readonly nodeId: string;
  readonly #ctx: AdapterContext;
  readonly #presence: RedisPresence;
  readonly #counters = newCounters();
  readonly #nodes: AdapterNode[] = [];
  readonly #feeds: Feeds;
  readonly #reads: HistoryReads;
  readonly #local: LocalEpochs;
  #publishes = 0;
  #closed = false;

  /**
   * @param options - where Redis is, the key prefix, timeouts
   * @throws RangeError for a bad option
   */
  constructor(options: RedisAdapterOptions = {}) {
    this.nodeId = options.nodeId ?? randomBytes(6).toString('base64url');
    if (this.nodeId.length === 0 || this.nodeId.includes('\n')) throw new RangeError('nodeId must be a non-empty string without newlines');
    const clustered = options.cluster !== undefined;
    if (clustered && options.client !== undefined) throw new TypeError('give either client (one Redis) or cluster, not both');
    const keys = new Keys(options.keyPrefix ?? 'parley:', clustered);
    const log = options.logger ?? (() => {});
    const topicTtl = integer(options.topicTtlMs ?? 86_400_000, 'topicTtlMs', 1000);
    const commandTimeout = integer(options.commandTimeoutMs ?? 2000, 'commandTimeoutMs', 1);
    const when = options.whenUnreachable ?? 'local';
    if (when !== 'local' && when !== 'refuse') throw new RangeError(`whenUnreachable must be 'local' or 'refuse', got ${String(when)}`);
    const presenceTtl = integer(options.presenceTtlMs ?? 10_000, 'presenceTtlMs', 100);
    const linkOptions = {
      commandTimeoutMs: commandTimeout,
      healthCheckIntervalMs: integer(options.healthCheckIntervalMs ?? 1000, 'healthCheckIntervalMs', 10),
      reconnect: options.reconnect,
      log,
      counters: this.#counters,
    };
    const link = options.cluster !== undefined
      ? new ClusterLink({ ...linkOptions, rootNodes: options.cluster.rootNodes })
      : new RedisLink({ ...linkOptions, url: options.url ?? 'redis://127.0.0.1:6379', client: options.client });
    // The scripts for the kind of Redis (one, or a cluster), under the same names.
    const scripts = clustered ? CLUSTER_SCRIPTS : SCRIPTS;
    this.#ctx = { nodeId: this.nodeId, link, keys, scripts, counters: this.#counters, log, nodes: this.#nodes, topicTtl, commandTimeout };
    this.#feeds = new Feeds(this.#ctx);
    this.#reads = new HistoryReads(this.#ctx, this.#feeds);
    this.#local = new LocalEpochs(this.#ctx, this.#feeds, when === 'refuse');
    this.#presence = new RedisPresence(link, keys, this.nodeId, presenceTtl, this.#counters, log);
    link.onHealth((healthy) => {
      if (healthy) void this.#recover();
    });
  }

  /** Connects to Redis (retrying with backoff until it answers) and starts the presence heartbeat. */
  async connect(): Promise<void> {
    await this.#ctx.link.connect();
    await this.#presence.start();
  }

  /** Whether Redis is reachable now. While it is not, delivery is local to this node. */
  isHealthy(): boolean {
    return this.#ctx.link.healthy;
  }

  /** Why Redis is considered unreachable, or `ok`. */
  get healthReason(): string {
    return this.#ctx.link.reason;
  }

  /** Listens to health changes (for logs and metrics). @returns a function that stops listening */
  onHealthChange(listener: HealthListener): () => void {
    return this.#ctx.link.onHealth(listener);
  }

  /** A snapshot of the counters (for metrics). */
  get counters(): Readonly<RedisAdapterCounters> {
    return { ...this.#counters, channels: this.#feeds.size };
  }

  // ---- ClusterAdapter ----------------------------------------------------------------------

  /** @inheritDoc */
  attach(node: AdapterNode): void {
    if (!this.#nodes.includes(node)) this.#nodes.push(node);
  }

  /** @inheritDoc */
  detach(node: AdapterNode): void {
    const i = this.#nodes.indexOf(node);
    if (i !== -1) this.#nodes.splice(i, 1);
  }

  /** @inheritDoc */
  publish(message: TopicMessage, limits: HistoryLimits, idempotency?: PublishIdempotency): Promise<PublishReceipt> | PublishReceipt {
    if (this.#closed) throw new TypeError('the Redis adapter is closed');
    const { link, keys: k, scripts } = this.#ctx;
    if (!link.commandsUp) {
      // Refused as a rejection, as when the command fails: server code sees it where it sees the other.
      if (this.#local.refuses) return new Promise((resolve) => resolve(this.#local.publish(message, limits, undefined)));
      return this.#local.publish(message, limits, undefined);
    }
    const topic = message.topic;
    const publishId = `${this.nodeId}:${(++this.#publishes).toString(36)}`;
    if (this.#feeds.get(topic) !== undefined) this.#feeds.expect(publishId, message);
    const args = [newEpoch(), String(limits.maxCount), String(limits.maxAge), String(Math.max(this.#ctx.topicTtl, limits.maxAge + 1000)), k.channel(topic), encodeBody(message, publishId)];
    const keys = [k.meta(topic), k.history(topic)];
    if (idempotency !== undefined) {
      keys.push(k.idempotency(topic, idempotency.key));
      // PX takes whole ms; an endless cache ttl (Infinity) is kept for 24 days, PX's safe bound.
      args.push(String(Math.min(2_147_483_647, Math.max(1, Math.ceil(idempotency.ttl)))));
    }
    return link.run(scripts.publish, keys, args).then(
      (reply) => {
        const [epoch, offset, , repeat] = reply as [string, string, string, number?];
        if (repeat === 1) {
          // Applied before (through any node): nothing was published, nothing will come back.
          this.#feeds.forget(publishId);
          this.#counters.repeatedPublishes++;
          return { epoch, offset: Number(offset) };
        }
        this.#counters.published++;
        // Unwatched (now): nothing will come back for it on the channel.
        if (this.#feeds.get(topic) === undefined) this.#feeds.forget(publishId);
        return { epoch, offset: Number(offset) };
      },
      (error: unknown) => {
        this.#feeds.forget(publishId);
        return this.#local.publish(message, limits, error);
      },
    );
  }

  /** @inheritDoc */
  position(topic: string, limits: HistoryLimits): Promise<StreamPosition> | StreamPosition {
    if (!this.#ctx.link.commandsUp) return this.#local.history(topic, limits).position();
    return this.#reads.read(topic, limits, undefined).then(
      (r) => r.position,
      () => this.#local.history(topic, limits).position(),
    );
  }

  /** @inheritDoc */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): Promise<Recovery> | Recovery {
    if (!this.#ctx.link.commandsUp) return this.#local.since(topic, from, limits);
    return this.#reads.read(topic, limits, from).catch(() => this.#local.since(topic, from, limits));
  }

  /** @inheritDoc */
  join(topic: string, member: PresenceMember): Promise<void> {
    return this.#presence.join(topic, member);
  }

  /** @inheritDoc */
  leave(topic: string, member: PresenceMember): Promise<void> {
    return this.#presence.leave(topic, member);
  }

  /** @inheritDoc */
  members(topic: string): Promise<PresenceMember[]> {
    return this.#presence.members(topic);
  }

  /** @inheritDoc */
  watch(topic: string, active: boolean): void {
    if (this.#closed) return;
    this.#feeds.watch(topic, active);
  }

  /** Redis is reachable again: resubscribe, catch up on every watched topic, announce gaps, redo presence. */
  async #recover(): Promise<void> {
    if (this.#closed) return;
    // A local epoch is over: clients resuming from it must hear `recovered: false` from Redis.
    this.#local.clear();
    this.#feeds.resume();
    await this.#local.announce(() => this.#closed);
    try {
      await this.#presence.resync();
    } catch (error) {
      this.#ctx.log('warn', 'presence resync failed; retried on the next recovery', { error: String(error) });
    }
  }

  /** Leaves presence, unsubscribes and closes the connections the adapter opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#presence.stop();
    this.#nodes.length = 0;
    this.#feeds.clear();
    this.#ctx.link.close();
  }
}
