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
import type { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { addDelivery, type AdapterNode, type ClusterAdapter, type Delivery, type PublishIdempotency, type PublishReceipt } from '../pubsub/adapter.js';
import type { PresenceMember, StreamPosition } from '../wire/envelope.js';
import { TopicHistory, newEpoch, type HistoryLimits, type Recovery } from '../pubsub/history.js';
import type { TopicMessage } from '../pubsub/message.js';
import { RealtimeError } from '../pubsub/realtime-error.js';
import type { BackoffOptions } from './backoff.js';
import { decodeEntry, encodeBody, type GapEntry, type MessageEntry } from './codec.js';
import { ClusterLink } from './cluster-link.js';
import { CLUSTER_SCRIPTS } from './cluster-scripts.js';
import { RedisLink, type RedisClientLike } from './connection.js';
import { newCounters, type HealthListener, type RedisAdapterCounters, type RedisLogger } from './health.js';
import { Keys } from './keys.js';
import type { Link } from './link.js';
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

interface Feed {
  /** Engines on this node with subscribers for the topic. */
  watchers: number;
  /** The SUBSCRIBE, until Redis confirmed it. */
  subscribed: Promise<void> | undefined;
  /** Epoch and offset delivered up to; epoch undefined until the first message or position. */
  epoch: string | undefined;
  last: number;
  /** A fill from history is running: live entries wait here. */
  filling: boolean;
  buffer: Array<MessageEntry | GapEntry>;
  /** Messages were delivered in a local epoch during an outage. */
  localUsed: boolean;
}

/** A subscribe or resume waiting for the topic's next history read. */
interface ReadWaiter {
  readonly from: StreamPosition | undefined;
  readonly limits: HistoryLimits;
  readonly resolve: (recovery: Recovery) => void;
  readonly reject: (error: unknown) => void;
}

/** The reads of one topic: one at a time; whoever asks meanwhile shares the next one. */
interface ReadQueue {
  waiting: ReadWaiter[];
  busy: boolean;
}

/** Own publishes remembered until they come back on the channel, at most. */
const MAX_PENDING = 10_000;

/** An error's message for a log line (a rejection may carry anything). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function integer(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

/** A cluster adapter on Redis (node-redis v5). Call {@link RedisAdapter.connect} before use. */
export class RedisAdapter implements ClusterAdapter {
  /** This node's id. */
  readonly nodeId: string;
  readonly #keys: Keys;
  readonly #link: Link;
  /** The scripts for the kind of Redis (one, or a cluster), under the same names. */
  readonly #scripts: Pick<typeof SCRIPTS, 'publish' | 'since' | 'reset' | 'range'>;
  readonly #presence: RedisPresence;
  readonly #counters = newCounters();
  readonly #log: RedisLogger;
  readonly #topicTtl: number;
  readonly #commandTimeout: number;
  readonly #nodes: AdapterNode[] = [];
  readonly #feeds = new Map<string, Feed>();
  /** This node's publishes on watched topics, until they come back on the channel (keeps `except` and frames). */
  readonly #pending = new Map<string, TopicMessage>();
  /** Local epochs of topics published to while Redis was unreachable. */
  readonly #local = new Map<string, TopicHistory>();
  /**
   * Topics published to locally, with a count of those publishes, until the gap is announced
   * cluster-wide (the count tells an announcement that raced a newer local publish).
   */
  readonly #unannounced = new Map<string, number>();
  readonly #refuse: boolean;
  readonly #reads = new Map<string, ReadQueue>();
  readonly #onEntry = (message: Buffer, channel: Buffer): void => this.#receive(message, channel);
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
    this.#keys = new Keys(options.keyPrefix ?? 'parley:', clustered);
    this.#scripts = clustered ? CLUSTER_SCRIPTS : SCRIPTS;
    this.#log = options.logger ?? (() => {});
    this.#topicTtl = integer(options.topicTtlMs ?? 86_400_000, 'topicTtlMs', 1000);
    this.#commandTimeout = integer(options.commandTimeoutMs ?? 2000, 'commandTimeoutMs', 1);
    const when = options.whenUnreachable ?? 'local';
    if (when !== 'local' && when !== 'refuse') throw new RangeError(`whenUnreachable must be 'local' or 'refuse', got ${String(when)}`);
    this.#refuse = when === 'refuse';
    const presenceTtl = integer(options.presenceTtlMs ?? 10_000, 'presenceTtlMs', 100);
    const link = {
      commandTimeoutMs: this.#commandTimeout,
      healthCheckIntervalMs: integer(options.healthCheckIntervalMs ?? 1000, 'healthCheckIntervalMs', 10),
      reconnect: options.reconnect,
      log: this.#log,
      counters: this.#counters,
    };
    this.#link = options.cluster !== undefined
      ? new ClusterLink({ ...link, rootNodes: options.cluster.rootNodes })
      : new RedisLink({ ...link, url: options.url ?? 'redis://127.0.0.1:6379', client: options.client });
    this.#presence = new RedisPresence(this.#link, this.#keys, this.nodeId, presenceTtl, this.#counters, this.#log);
    this.#link.onHealth((healthy) => {
      if (healthy) void this.#recover();
    });
  }

  /** Connects to Redis (retrying with backoff until it answers) and starts the presence heartbeat. */
  async connect(): Promise<void> {
    await this.#link.connect();
    await this.#presence.start();
  }

  /** Whether Redis is reachable now. While it is not, delivery is local to this node. */
  isHealthy(): boolean {
    return this.#link.healthy;
  }

  /** Why Redis is considered unreachable, or `ok`. */
  get healthReason(): string {
    return this.#link.reason;
  }

  /** Listens to health changes (for logs and metrics). @returns a function that stops listening */
  onHealthChange(listener: HealthListener): () => void {
    return this.#link.onHealth(listener);
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
    if (!this.#link.commandsUp) {
      // Refused as a rejection, as when the command fails: server code sees it where it sees the other.
      if (this.#refuse) return new Promise((resolve) => resolve(this.#publishLocally(message, limits, undefined)));
      return this.#publishLocally(message, limits, undefined);
    }
    const topic = message.topic;
    const publishId = `${this.nodeId}:${(++this.#publishes).toString(36)}`;
    const watched = this.#feeds.has(topic);
    if (watched) {
      this.#pending.set(publishId, message);
      // A publish racing the topic's first SUBSCRIBE never comes back: bound what can be left over.
      if (this.#pending.size > MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
    }
    const k = this.#keys;
    const args = [newEpoch(), String(limits.maxCount), String(limits.maxAge), String(Math.max(this.#topicTtl, limits.maxAge + 1000)), k.channel(topic), encodeBody(message, publishId)];
    const keys = [k.meta(topic), k.history(topic)];
    if (idempotency !== undefined) {
      keys.push(k.idempotency(topic, idempotency.key));
      // PX takes whole ms; an endless cache ttl (Infinity) is kept for 24 days, PX's safe bound.
      args.push(String(Math.min(2_147_483_647, Math.max(1, Math.ceil(idempotency.ttl)))));
    }
    return this.#link.run(this.#scripts.publish, keys, args).then(
      (reply) => {
        const [epoch, offset, , repeat] = reply as [string, string, string, number?];
        if (repeat === 1) {
          // Applied before (through any node): nothing was published, nothing will come back.
          this.#pending.delete(publishId);
          this.#counters.repeatedPublishes++;
          return { epoch, offset: Number(offset) };
        }
        this.#counters.published++;
        // Unwatched (now): nothing will come back for it on the channel.
        if (!this.#feeds.has(topic)) this.#pending.delete(publishId);
        return { epoch, offset: Number(offset) };
      },
      (error: unknown) => {
        this.#pending.delete(publishId);
        return this.#publishLocally(message, limits, error);
      },
    );
  }

  #publishLocally(message: TopicMessage, limits: HistoryLimits, error: unknown): PublishReceipt {
    const topic = message.topic;
    if (this.#refuse) {
      this.#counters.refused++;
      // A command that failed may still have run (its reply was lost): say so, the client may retry.
      if (error !== undefined) this.#log('warn', 'publish through Redis failed: refused (it may have been applied)', { topic, error: describe(error) });
      throw new RealtimeError('UNAVAILABLE', 'the cluster cannot take publishes now (Redis is unreachable); try again');
    }
    if (error !== undefined) this.#log('warn', 'publish through Redis failed: delivered on this node only', { topic, error: describe(error) });
    if (!this.#unannounced.has(topic)) this.#log('warn', 'publishing locally while Redis is unreachable: other nodes will be told of the gap', { topic });
    this.#unannounced.set(topic, (this.#unannounced.get(topic) ?? 0) + 1);
    let history = this.#local.get(topic);
    if (history === undefined) {
      // 'L' tells people reading logs that this epoch exists on one node only (epochs are random
      // either way, so a local one never equals a Redis one).
      history = new TopicHistory(limits, `L${newEpoch()}`);
      this.#local.set(topic, history);
    }
    history.limits = limits;
    const offset = history.append(message, Date.now());
    this.#counters.publishedLocally++;
    const feed = this.#feeds.get(topic);
    if (feed !== undefined) feed.localUsed = true;
    const delivery: Delivery = { delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 };
    for (const node of [...this.#nodes]) addDelivery(delivery, node.deliver(message));
    return { epoch: history.epoch, offset, delivery };
  }

  /** @inheritDoc */
  position(topic: string, limits: HistoryLimits): Promise<StreamPosition> | StreamPosition {
    if (!this.#link.commandsUp) return this.#localHistory(topic, limits).position();
    return this.#read(topic, limits, undefined).then(
      (r) => r.position,
      () => this.#localHistory(topic, limits).position(),
    );
  }

  /** @inheritDoc */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): Promise<Recovery> | Recovery {
    if (!this.#link.commandsUp) return this.#localSince(topic, from, limits);
    return this.#read(topic, limits, from).catch(() => this.#localSince(topic, from, limits));
  }

  /** The topic's local epoch, for a subscription started while Redis cannot answer. */
  #localHistory(topic: string, limits: HistoryLimits): TopicHistory {
    let history = this.#local.get(topic);
    if (history === undefined) {
      history = new TopicHistory(limits, `L${newEpoch()}`);
      this.#local.set(topic, history);
    }
    // Its subscribers now hold a local position: tell them to resynchronise as soon as Redis is back.
    const feed = this.#feeds.get(topic);
    if (feed !== undefined) feed.localUsed = true;
    return history;
  }

  #localSince(topic: string, from: StreamPosition, limits: HistoryLimits): Recovery {
    return this.#localHistory(topic, limits).since(from.epoch, from.offset, Date.now());
  }

  /**
   * Reads a position (no `from`) or the messages after `from`, once this node's SUBSCRIBE is
   * confirmed. Reads of one topic are coalesced: while one is in flight, every subscribe and
   * resume that arrives waits for the next, and that one read (from the lowest offset asked)
   * answers them all. A reconnect storm of thousands of clients costs a few reads, not one each.
   * A request never shares a read that started before it arrived: that read could miss a message
   * delivered live before the request was made.
   */
  #read(topic: string, limits: HistoryLimits, from: StreamPosition | undefined): Promise<Recovery> {
    return new Promise<Recovery>((resolve, reject) => {
      let queue = this.#reads.get(topic);
      if (queue === undefined) {
        queue = { waiting: [], busy: false };
        this.#reads.set(topic, queue);
      }
      queue.waiting.push({ from, limits, resolve, reject });
      // Started on the next turn of the event loop: the requests parsed in this one share it.
      if (!queue.busy && queue.waiting.length === 1) setImmediate(() => void this.#readNext(topic));
    });
  }

  async #readNext(topic: string): Promise<void> {
    const queue = this.#reads.get(topic);
    if (queue === undefined || queue.busy) return;
    if (queue.waiting.length === 0) {
      this.#reads.delete(topic);
      return;
    }
    queue.busy = true;
    const batch = queue.waiting;
    queue.waiting = [];
    try {
      const answers = await this.#readBatch(topic, batch);
      batch.forEach((w, i) => w.resolve(answers[i]!));
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
    queue.busy = false;
    void this.#readNext(topic);
  }

  async #readBatch(topic: string, batch: readonly ReadWaiter[]): Promise<Recovery[]> {
    const feed = this.#feeds.get(topic);
    // Read after the SUBSCRIBE took effect, or a message published in between would be in neither.
    // If the subscriber connection is down, read anyway: the catch-up on its return covers it.
    if (feed?.subscribed !== undefined) await this.#within(feed.subscribed).catch(() => {});
    // The entries after the lowest offset of the epoch most of them resume from.
    const votes = new Map<string, number>();
    let maxAge = 0;
    for (const w of batch) {
      maxAge = Math.max(maxAge, w.limits.maxAge);
      if (w.from !== undefined) votes.set(w.from.epoch, (votes.get(w.from.epoch) ?? 0) + 1);
    }
    let epoch = '';
    for (const [e, n] of votes) if (n > (votes.get(epoch) ?? 0)) epoch = e;
    let low = Number.POSITIVE_INFINITY;
    for (const w of batch) if (w.from?.epoch === epoch && epoch !== '') low = Math.min(low, w.from.offset);
    const k = this.#keys;
    const args = [newEpoch(), String(Math.max(this.#topicTtl, maxAge + 1000)), low === Number.POSITIVE_INFINITY ? '' : epoch, low === Number.POSITIVE_INFINITY ? '-1' : String(low)];
    this.#counters.historyReads++;
    this.#counters.historyReadsShared += batch.length - 1;
    const reply = (await this.#link.run(this.#scripts.range, [k.meta(topic), k.history(topic)], args, true)) as [Buffer, Buffer, Buffer, Buffer[]];
    const position = { epoch: reply[0].toString('latin1'), offset: Number(reply[1].toString('latin1')) };
    const now = Number(reply[2].toString('latin1'));
    // A watched topic that has not seen a message yet starts from here.
    if (feed !== undefined && feed.epoch === undefined && !feed.filling) {
      feed.epoch = position.epoch;
      feed.last = position.offset;
    }
    const entries: MessageEntry[] = reply[3].map((raw) => {
      const decoded = decodeEntry(topic, raw);
      if (decoded.kind !== 'm') throw new TypeError('history holds a non-message entry');
      return decoded;
    });
    // One message object per entry, shared by every subscriber (its frame is then encoded once).
    const built: Array<TopicMessage | undefined> = [];
    const message = (i: number): TopicMessage => (built[i] ??= entries[i]!.message());
    const first = entries[0]?.offset ?? 0;
    return batch.map((w): Recovery => {
      const from = w.from;
      // The same decisions as the SINCE script, per request.
      if (from === undefined || from.epoch !== position.epoch || !Number.isSafeInteger(from.offset) || from.offset < 0 || from.offset > position.offset) return { recovered: false, position };
      if (from.offset === position.offset) return { recovered: true, messages: [], position };
      const start = from.offset + 1 - first;
      if (entries.length === 0 || start < 0 || entries.length - start !== position.offset - from.offset) return { recovered: false, position };
      if (entries[start]!.time < now - w.limits.maxAge) return { recovered: false, position };
      const messages: TopicMessage[] = [];
      for (let i = start; i < entries.length; i++) messages.push(message(i));
      return { recovered: true, messages, position };
    });
  }

  #within(promise: Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('SUBSCRIBE not confirmed in time')), this.#commandTimeout);
      promise.then(() => { clearTimeout(timer); resolve(); }, (error: unknown) => { clearTimeout(timer); reject(error instanceof Error ? error : new Error(String(error))); });
    });
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
    let feed = this.#feeds.get(topic);
    if (active) {
      if (feed === undefined) {
        feed = { watchers: 0, subscribed: undefined, epoch: undefined, last: 0, filling: false, buffer: [], localUsed: false };
        this.#feeds.set(topic, feed);
      }
      if (++feed.watchers === 1) {
        const subscribed = this.#link.subscribe(this.#keys.channel(topic), this.#onEntry);
        feed.subscribed = subscribed;
        subscribed.catch((error: unknown) => this.#log('warn', 'SUBSCRIBE failed; retried when Redis is back', { topic, error: String(error) }));
      }
      return;
    }
    if (feed === undefined || --feed.watchers > 0) return;
    this.#feeds.delete(topic);
    this.#link.unsubscribe(this.#keys.channel(topic), this.#onEntry).catch(() => {});
  }

  // ---- delivery ----------------------------------------------------------------------------

  #receive(buf: Buffer, channel: Buffer): void {
    const topic = this.#keys.topicOf(channel.toString('latin1'));
    const feed = topic === undefined ? undefined : this.#feeds.get(topic);
    if (topic === undefined || feed === undefined) return;
    let entry;
    try {
      entry = decodeEntry(topic, buf);
    } catch (error) {
      this.#counters.badEntries++;
      this.#log('warn', 'undecodable entry on a Parley channel', { topic, error: String(error) });
      return;
    }
    if (entry.kind === 'p') {
      for (const node of [...this.#nodes]) node.presenceChanged(topic, entry.event, entry.member);
      return;
    }
    this.#accept(topic, feed, entry);
  }

  /** Delivers the next entry in order, drops a repeat, or fills a jump from history first. */
  #accept(topic: string, feed: Feed, entry: MessageEntry | GapEntry): void {
    if (feed.filling) {
      feed.buffer.push(entry);
      return;
    }
    if (entry.kind === 'g') {
      // Already there: a fill read the new epoch's position, and reported the gap then.
      if (entry.epoch === feed.epoch) return;
      feed.epoch = entry.epoch;
      feed.last = 0;
      this.#gap(topic, `node ${entry.node} delivered messages locally while it could not reach Redis`);
      return;
    }
    if (feed.epoch === undefined) {
      feed.epoch = entry.epoch;
      feed.last = entry.offset - 1;
    }
    if (entry.epoch === feed.epoch) {
      if (entry.offset <= feed.last) {
        this.#counters.duplicates++;
        this.#pending.delete(entry.publishId);
        return;
      }
      if (entry.offset === feed.last + 1) {
        this.#deliver(topic, feed, entry);
        return;
      }
    }
    feed.filling = true;
    feed.buffer.push(entry);
    void this.#fill(topic, feed);
  }

  #deliver(topic: string, feed: Feed, entry: MessageEntry): void {
    const own = this.#pending.get(entry.publishId);
    let message: TopicMessage;
    if (own !== undefined) {
      this.#pending.delete(entry.publishId);
      message = own;
      message.epoch = entry.epoch;
      message.offset = entry.offset;
      message.time = entry.time;
    } else {
      message = entry.message();
    }
    feed.epoch = entry.epoch;
    feed.last = entry.offset;
    this.#counters.delivered++;
    for (const node of [...this.#nodes]) node.deliver(message);
  }

  /**
   * Takes what this node missed of `topic` from history and delivers it before the entries that
   * arrived meanwhile; reports a gap if history no longer has it (or Redis lost the topic).
   */
  async #fill(topic: string, feed: Feed): Promise<void> {
    const from = { epoch: feed.epoch ?? '', offset: feed.last };
    try {
      const k = this.#keys;
      const args = [newEpoch(), String(this.#topicTtl), from.epoch, String(from.offset), String(Number.MAX_SAFE_INTEGER)];
      const reply = (await this.#link.run(this.#scripts.since, [k.meta(topic), k.history(topic)], args, true)) as [Buffer, Buffer, number, Buffer[]?];
      if (this.#feeds.get(topic) !== feed) return;
      if (reply[2] === 1) {
        for (const raw of reply[3] ?? []) {
          const entry = decodeEntry(topic, raw);
          if (entry.kind !== 'm' || (entry.epoch === feed.epoch && entry.offset <= feed.last)) continue;
          this.#counters.filled++;
          this.#deliver(topic, feed, entry);
        }
      } else {
        this.#gap(topic, 'history no longer holds what this node missed');
        feed.epoch = reply[0].toString('latin1');
        feed.last = Number(reply[1].toString('latin1'));
      }
    } catch (error) {
      if (this.#feeds.get(topic) !== feed) return;
      // Redis went away mid-fill: the subscribers resynchronise; the next recovery fills again.
      this.#gap(topic, `fill failed: ${String(error)}`);
      feed.epoch = undefined;
      feed.buffer = [];
    }
    feed.filling = false;
    const waiting = feed.buffer;
    feed.buffer = [];
    for (const entry of waiting) this.#accept(topic, feed, entry);
  }

  #gap(topic: string, reason: string): void {
    this.#counters.gaps++;
    this.#log('warn', 'messages may be lost on this node: subscribers told to resynchronise', { topic, reason });
    for (const node of [...this.#nodes]) node.gap(topic);
  }

  /** Redis is reachable again: resubscribe, catch up on every watched topic, redo presence. */
  async #recover(): Promise<void> {
    if (this.#closed) return;
    // A local epoch is over: clients resuming from it must hear `recovered: false` from Redis.
    this.#local.clear();
    for (const [topic, feed] of this.#feeds) {
      feed.subscribed = this.#link.subscribe(this.#keys.channel(topic), this.#onEntry);
      feed.subscribed.catch(() => {});
      if (feed.localUsed) {
        feed.localUsed = false;
        this.#gap(topic, 'messages were published locally while Redis was unreachable');
      }
      if (feed.epoch !== undefined && !feed.filling) {
        feed.filling = true;
        void this.#fill(topic, feed);
      }
    }
    await this.#announce();
    try {
      await this.#presence.resync();
    } catch (error) {
      this.#log('warn', 'presence resync failed; retried on the next recovery', { error: String(error) });
    }
  }

  /**
   * Tells every node that this one delivered messages locally that they never had: each topic
   * published to locally gets a new epoch in Redis (see RESET in scripts.ts). What fails is
   * tried again at the next recovery.
   */
  async #announce(): Promise<void> {
    const k = this.#keys;
    for (const [topic, count] of [...this.#unannounced]) {
      if (this.#closed || !this.#link.healthy) return;
      try {
        const args = [newEpoch(), String(this.#topicTtl), k.channel(topic), this.nodeId];
        const epoch = await this.#link.run(this.#scripts.reset, [k.meta(topic), k.history(topic)], args);
        this.#counters.gapsAnnounced++;
        this.#log('warn', 'announced a gap to every node: messages were delivered on this node only while Redis was unreachable', { topic, messages: count, epoch: String(epoch) });
        // A local publish that raced the announcement needs one more.
        if (this.#unannounced.get(topic) === count) this.#unannounced.delete(topic);
      } catch (error) {
        this.#log('warn', 'announcing a gap failed; retried on the next recovery', { topic, error: String(error) });
        return;
      }
    }
  }

  /** Leaves presence, unsubscribes and closes the connections the adapter opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#presence.stop();
    this.#nodes.length = 0;
    this.#feeds.clear();
    this.#pending.clear();
    this.#link.close();
  }
}
