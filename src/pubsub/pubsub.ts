/**
 * The pub/sub engine: topics, subscriptions, publish and fan-out, recovery and presence on one
 * node. It sees connections only as {@link Subscriber}s and other nodes only through a
 * {@link ClusterAdapter}, so it is tested with fakes.
 *
 * A message is framed once per kind of subscriber (raw data for plain WebSockets, a `msg`
 * envelope for `parley.v1`) and the same bytes are queued for everyone; the Node layer batches a
 * connection's frames into one write per event-loop turn. Outcomes are status values, not throws.
 * @packageDocumentation
 */
import { CloseCode } from '../protocol/constants.js';
import { ErrorCode, InvalidStateError } from '../protocol/errors.js';
import { defaultFrameEncoder, type FrameEncoder, type PreparedFrame } from '../protocol/prepared-frame.js';
import { InMemoryAdapter, type ClusterAdapter, type AdapterNode, type Delivery, type PublishReceipt } from './adapter.js';
import { encodeEnvelope, isValidTopic, type PresenceMember, type ServerEnvelope, type StreamPosition } from '../wire/envelope.js';
import { resolveHistoryLimits, DEFAULT_HISTORY_LIMITS, type HistoryLimits, type Recovery } from './history.js';
import { after, isPromise, type MaybePromise } from './maybe-async.js';
import { TopicMessage } from './message.js';
import { SlowConsumerGate, resolveSlowConsumer } from './slow-consumer.js';
import type { Subscriber } from './subscriber.js';
import type { PubSubOptions, PublishOptions, PublishResult, PublishStatus, SubscribeOptions, SubscribeTicket, SubscribeState, TopicOptions, TopicStats } from './pubsub-options.js';

export type { PubSubOptions, PublishOptions, PublishResult, PublishStatus, SubscribeOptions, SubscribeTicket, SubscribeState, TopicOptions, TopicStats } from './pubsub-options.js';

/** Live messages a recovering subscription may buffer before it is told to resynchronise (`gap`). */
const MAX_HELD_WHILE_RECOVERING = 10_000;
/** A topic record without subscribers is forgotten after this long (its history lives in the adapter). */
const IDLE_TOPIC_MS = 60_000;
const NO_DELIVERY: Delivery = Object.freeze({ delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 });

interface Subscription {
  readonly sub: Subscriber;
  readonly topic: Topic;
  /** Requested presence, joined at activation. */
  presence: { user: string; info?: unknown } | undefined;
  /** The member as joined. */
  member: PresenceMember | undefined;
  /** Live messages buffered until activation; undefined once live. */
  holding: TopicMessage[] | undefined;
  overflow: boolean;
  /** Recovered messages, sent at activation. */
  missed: readonly TopicMessage[];
  /** Position when the subscription started: buffered messages at or before it are not sent. */
  epoch: string;
  after: number;
}

class Topic {
  readonly subs = new Map<Subscriber, Subscription>();
  published = 0;
  delivered = 0;
  lastUsed: number;
  constructor(readonly name: string, readonly gate: SlowConsumerGate, readonly limits: HistoryLimits, now: number) {
    this.lastUsed = now;
  }
}

/**
 * The engine. One per server. `F` is the type of the frames its encoder makes, and so of what its
 * subscribers' `send` gets.
 */
export class PubSub<F extends PreparedFrame = PreparedFrame> implements AdapterNode {
  /** The cluster adapter in use. */
  readonly adapter: ClusterAdapter;
  readonly #topics = new Map<string, Topic>();
  readonly #bySub = new Map<Subscriber, Map<string, Subscription>>();
  readonly #history: HistoryLimits;
  readonly #topicOptions: ((topic: string) => TopicOptions | undefined) | undefined;
  readonly #onPresence: PubSubOptions['onPresence'];
  readonly #onError: (error: unknown) => void;
  readonly #drainCheckInterval: number;
  readonly #encoder: FrameEncoder<F>;
  readonly #ownAdapter: boolean;
  /** Topics with subscribers holding conflated messages, checked on a timer until they drain. */
  readonly #draining = new Set<Topic>();
  #drainTimer: NodeJS.Timeout | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  /** @param options - adapter, history defaults, per-topic options and listeners */
  constructor(options: PubSubOptions<F> = {}) {
    this.adapter = options.adapter ?? new InMemoryAdapter();
    this.#ownAdapter = options.adapter === undefined;
    this.#history = resolveHistoryLimits(options.history, DEFAULT_HISTORY_LIMITS);
    this.#topicOptions = options.topics;
    this.#onPresence = options.onPresence;
    this.#onError = options.onError ?? (() => {});
    this.#drainCheckInterval = options.drainCheckInterval ?? 50;
    // Without an encoder F is the default PreparedFrame, which is what the default encoder makes.
    this.#encoder = options.encoder ?? (defaultFrameEncoder as FrameEncoder<F>);
    this.adapter.attach(this);
  }

  #topic(name: string): Topic {
    const existing = this.#topics.get(name);
    if (existing !== undefined) return existing;
    const o = this.#topicOptions?.(name) ?? {};
    const { policy, maxQueuedBytes } = resolveSlowConsumer(o.policy, o.maxQueuedBytes);
    const limits = resolveHistoryLimits(o.history, this.#history);
    const gate = new SlowConsumerGate(policy, maxQueuedBytes, {
      send: (sub, message, conflated) => sub.send(sub.envelopes ? message.envelopeFrame(conflated, this.#encoder) : message.rawFrame(this.#encoder)),
      close: (sub) => this.#closeSlow(sub),
      held: () => this.#watchDrain(topic),
    });
    const topic: Topic = new Topic(name, gate, limits, Date.now());
    this.#topics.set(name, topic);
    this.#startSweeper();
    return topic;
  }

  // ---- subscriptions ---------------------------------------------------------------------

  /**
   * Subscribes `sub` to `topic`, or re-synchronises an existing subscription (with `since`, the
   * missed messages are sent again). Live messages flow once the adapter has answered, or, with
   * `hold`, once {@link PubSub.activate} is called.
   * @throws TypeError for an invalid topic name
   */
  subscribe(sub: Subscriber<F>, topicName: string, options: SubscribeOptions = {}): SubscribeTicket {
    if (!isValidTopic(topicName)) throw new TypeError(`invalid topic name: ${JSON.stringify(String(topicName).slice(0, 64))}`);
    const topic = this.#topic(topicName);
    let s = topic.subs.get(sub);
    const added = s === undefined;
    if (s === undefined) {
      s = { sub, topic, presence: options.presence, member: undefined, holding: [], overflow: false, missed: [], epoch: '', after: 0 };
      topic.subs.set(sub, s);
      let mine = this.#bySub.get(sub);
      if (mine === undefined) {
        mine = new Map<string, Subscription>();
        this.#bySub.set(sub, mine);
      }
      mine.set(topicName, s);
      if (topic.subs.size === 1) this.adapter.watch(topicName, true);
    } else {
      s.holding ??= [];
      // Recovery resends everything after `since`: what conflation held for it would come twice.
      if (options.since !== undefined) topic.gate.remove(sub);
      if (s.member === undefined && options.presence !== undefined) s.presence = options.presence;
    }
    const subscription = s;
    const ready = options.since !== undefined
      ? after(this.adapter.since(topicName, options.since, topic.limits), (r) => this.#started(subscription, r.position, r))
      : after(this.adapter.position(topicName, topic.limits), (p) => this.#started(subscription, p, undefined));
    if (options.hold !== true) {
      const activated = after(ready, () => this.activate(sub, topicName));
      if (isPromise(activated)) {
        activated.catch((error: unknown) => {
          this.unsubscribe(sub, topicName);
          this.#onError(error);
        });
      }
    }
    return { added, ready };
  }

  #started(s: Subscription, position: StreamPosition, recovery: Recovery | undefined): SubscribeState {
    s.epoch = position.epoch;
    s.after = position.offset;
    s.missed = recovery?.recovered === true ? recovery.messages : [];
    return { epoch: position.epoch, offset: position.offset, recovered: recovery?.recovered };
  }

  /**
   * Makes a held subscription live: sends the recovered messages, then the live ones buffered
   * meanwhile (those after the starting position), then joins presence if asked.
   */
  activate(sub: Subscriber<F>, topicName: string): void {
    const s = this.#topics.get(topicName)?.subs.get(sub);
    if (s === undefined || s.holding === undefined) return;
    const held = s.holding;
    s.holding = undefined;
    // Recovery is sent whole, past the byte cap: it is bounded by history and was asked for.
    for (const message of s.missed) sub.send(sub.envelopes ? message.envelopeFrame(false, this.#encoder) : message.rawFrame(this.#encoder));
    s.missed = [];
    for (const message of held) {
      if (message.epoch !== s.epoch || message.offset > s.after) this.#offer(s.topic, s, message);
    }
    if (s.overflow) {
      s.overflow = false;
      // Too much arrived while recovering: the client resubscribes with `since` (protocol `gap`).
      if (sub.envelopes) sub.send(this.#prepareEnvelope({ t: 'gap', topic: topicName }));
    }
    if (s.presence !== undefined && s.member === undefined) {
      s.member = { user: s.presence.user, conn: sub.id, info: s.presence.info };
      this.#quietly(this.adapter.join(topicName, s.member));
    }
  }

  /**
   * Unsubscribes `sub` from `topic` (leaving its presence).
   * @returns false when it was not subscribed
   */
  unsubscribe(sub: Subscriber<F>, topicName: string): boolean {
    const s = this.#topics.get(topicName)?.subs.get(sub);
    if (s === undefined) return false;
    this.#remove(s);
    return true;
  }

  /** Unsubscribes `sub` from every topic (its connection closed). */
  unsubscribeAll(sub: Subscriber<F>): void {
    const mine = this.#bySub.get(sub);
    if (mine === undefined) return;
    for (const s of [...mine.values()]) this.#remove(s);
  }

  #remove(s: Subscription): void {
    const { topic, sub } = s;
    topic.subs.delete(sub);
    topic.gate.remove(sub);
    const mine = this.#bySub.get(sub);
    mine?.delete(topic.name);
    if (mine?.size === 0) this.#bySub.delete(sub);
    if (topic.subs.size === 0) {
      topic.lastUsed = Date.now();
      this.adapter.watch(topic.name, false);
    }
    if (s.member !== undefined) this.#quietly(this.adapter.leave(topic.name, s.member));
  }

  /** Whether `sub` is subscribed to `topic`. */
  isSubscribed(sub: Subscriber<F>, topicName: string): boolean {
    return this.#bySub.get(sub)?.has(topicName) === true;
  }

  /** The topics `sub` is subscribed to. */
  topicsOf(sub: Subscriber<F>): string[] {
    const mine = this.#bySub.get(sub);
    return mine === undefined ? [] : [...mine.keys()];
  }

  /** How many topics `sub` is subscribed to. */
  subscriptionCount(sub: Subscriber<F>): number {
    return this.#bySub.get(sub)?.size ?? 0;
  }

  /** Subscribers of `topic` on this node. */
  subscriberCount(topicName: string): number {
    return this.#topics.get(topicName)?.subs.size ?? 0;
  }

  // ---- publishing ------------------------------------------------------------------------

  /**
   * Publishes `data` to `topic`: the adapter assigns its offset, keeps it in history and
   * delivers it to every node.
   * @returns the result at once with the in-memory adapter; a promise with an asynchronous one
   * @throws TypeError for an invalid topic or data that is not a string, bytes or JSON;
   * InvalidStateError `ERR_PUBSUB_CLOSED` after {@link PubSub.close}: a status value would say
   * how delivery went, but nothing was published (no offset) and calling after close is misuse
   */
  publish(topicName: string, data: unknown, options: PublishOptions = {}): MaybePromise<PublishResult> {
    if (this.#closed) throw new InvalidStateError('the pub/sub engine is closed', ErrorCode.PUBSUB_CLOSED);
    if (!isValidTopic(topicName)) throw new TypeError(`invalid topic name: ${JSON.stringify(String(topicName).slice(0, 64))}`);
    const message = new TopicMessage(topicName, data, options);
    message.except = options.except;
    const topic = this.#topic(topicName);
    topic.lastUsed = Date.now();
    const receipt = options.idempotency === undefined ? this.adapter.publish(message, topic.limits) : this.adapter.publish(message, topic.limits, options.idempotency);
    return isPromise(receipt) ? receipt.then(toResult) : toResult(receipt);
  }

  /** @inheritDoc */
  deliver(message: TopicMessage): Delivery {
    const topic = this.#topics.get(message.topic);
    if (topic === undefined) return NO_DELIVERY;
    topic.published++;
    if (topic.subs.size === 0) return NO_DELIVERY;
    const gate = topic.gate;
    const cap = gate.maxQueuedBytes;
    const except = message.except;
    let delivered = 0;
    let dropped = 0;
    let held = 0;
    let closed = 0;
    const conflatedBefore = gate.counts.conflated;
    // Encoded on first need, then shared: the same bytes for every subscriber of each kind.
    let raw: PreparedFrame | undefined;
    let envelope: PreparedFrame | undefined;
    for (const s of topic.subs.values()) {
      const sub = s.sub;
      if (s.holding !== undefined) {
        if (s.holding.length < MAX_HELD_WHILE_RECOVERING) s.holding.push(message);
        else s.overflow = true;
        held++;
        continue;
      }
      const envelopes = sub.envelopes;
      // A parley.v1 subscriber cannot be skipped: a hole in its offsets reads as loss.
      if (sub === except && !envelopes) continue;
      if (sub.bufferedAmount < cap && !gate.isHolding(sub)) {
        sub.send(envelopes ? (envelope ??= message.envelopeFrame(false, this.#encoder)) : (raw ??= message.rawFrame(this.#encoder)));
        delivered++;
        continue;
      }
      switch (gate.offer(sub, message)) {
        case 'sent': delivered++; break;
        case 'dropped': dropped++; break;
        case 'held': held++; break;
        case 'closed': closed++; break;
      }
    }
    topic.delivered += delivered;
    return { delivered, dropped, held, closed, conflated: gate.counts.conflated - conflatedBefore };
  }

  #offer(topic: Topic, s: Subscription, message: TopicMessage): void {
    if (topic.gate.offer(s.sub, message) === 'sent') topic.delivered++;
  }

  // ---- slow consumers --------------------------------------------------------------------

  /** `sub` drained (its connection emitted 'drain'): deliver what conflation held for it. */
  drained(sub: Subscriber<F>): void {
    const mine = this.#bySub.get(sub);
    if (mine === undefined) return;
    for (const s of mine.values()) if (s.topic.gate.isHolding(sub)) s.topic.gate.flush(sub);
  }

  #closeSlow(sub: Subscriber): void {
    this.unsubscribeAll(sub);
    try {
      sub.close(CloseCode.PolicyViolation, 'slow consumer');
    } catch (error) {
      this.#onError(error);
    }
  }

  /**
   * Not every drain emits an event (a cap below the socket's high-water mark never triggers
   * one), so held subscribers are also polled while any exist.
   */
  #watchDrain(topic: Topic): void {
    this.#draining.add(topic);
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setInterval(() => {
      for (const t of this.#draining) if (t.gate.flushDrained() === 0) this.#draining.delete(t);
      if (this.#draining.size === 0) {
        clearInterval(this.#drainTimer);
        this.#drainTimer = undefined;
      }
    }, this.#drainCheckInterval);
    this.#drainTimer.unref();
  }

  // ---- presence and positions ------------------------------------------------------------

  /** @inheritDoc */
  presenceChanged(topicName: string, event: 'join' | 'leave', member: PresenceMember): void {
    const topic = this.#topics.get(topicName);
    if (topic !== undefined) {
      let frame: PreparedFrame | undefined;
      for (const s of topic.subs.values()) {
        if (s.sub.envelopes && s.holding === undefined) {
          s.sub.send((frame ??= this.#prepareEnvelope({ t: 'pres', topic: topicName, event, member })));
        }
      }
    }
    try {
      this.#onPresence?.(topicName, event, member);
    } catch (error) {
      this.#onError(error);
    }
  }

  /** An envelope the engine itself sends (`pres`, `gap`), framed once for all who get it. */
  #prepareEnvelope(envelope: ServerEnvelope): F {
    const encoded = encodeEnvelope(envelope);
    return this.#encoder.prepare(encoded, typeof encoded !== 'string');
  }

  /** @inheritDoc */
  gap(topicName: string): void {
    const topic = this.#topics.get(topicName);
    if (topic === undefined) return;
    let frame: PreparedFrame | undefined;
    for (const s of topic.subs.values()) {
      if (!s.sub.envelopes) continue;
      // A subscription still starting is told once it is live, after its `subok` (as for overflow).
      if (s.holding !== undefined) s.overflow = true;
      else s.sub.send((frame ??= this.#prepareEnvelope({ t: 'gap', topic: topicName })));
    }
  }

  /** Members of `topic` across the cluster, one per user. */
  members(topicName: string): MaybePromise<PresenceMember[]> {
    return this.adapter.members(topicName);
  }

  /** The topic's epoch and newest offset. */
  position(topicName: string): MaybePromise<StreamPosition> {
    return this.adapter.position(topicName, (this.#topics.get(topicName) ?? this.#topic(topicName)).limits);
  }

  /** Counts for `topic` on this node. */
  topicStats(topicName: string): TopicStats {
    const topic = this.#topics.get(topicName);
    if (topic === undefined) {
      const o = this.#topicOptions?.(topicName) ?? {};
      const { policy, maxQueuedBytes } = resolveSlowConsumer(o.policy, o.maxQueuedBytes);
      return { topic: topicName, subscribers: 0, published: 0, delivered: 0, policy, maxQueuedBytes, dropped: 0, conflated: 0, closed: 0, holding: 0 };
    }
    const { gate } = topic;
    return {
      topic: topicName,
      subscribers: topic.subs.size,
      published: topic.published,
      delivered: topic.delivered,
      policy: gate.policy,
      maxQueuedBytes: gate.maxQueuedBytes,
      ...gate.counts,
      holding: gate.heldSubscribers,
    };
  }

  // ---- housekeeping ----------------------------------------------------------------------

  #quietly(result: MaybePromise<void>): void {
    if (isPromise(result)) result.catch(this.#onError);
  }

  #startSweeper(): void {
    if (this.#sweeper !== undefined || this.#closed) return;
    this.#sweeper = setInterval(() => this.sweep(), IDLE_TOPIC_MS / 2);
    this.#sweeper.unref();
  }

  /** Forgets topic records idle without subscribers (their counts restart). */
  sweep(now = Date.now()): void {
    for (const [name, topic] of this.#topics) {
      if (topic.subs.size === 0 && topic.gate.heldSubscribers === 0 && now - topic.lastUsed > IDLE_TOPIC_MS) this.#topics.delete(name);
    }
  }

  /** Stops timers and detaches from the adapter (it is closed too if this engine created it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    if (this.#drainTimer !== undefined) clearInterval(this.#drainTimer);
    this.adapter.detach(this);
    if (this.#ownAdapter) this.#quietly(this.adapter.close());
  }
}

function toResult(receipt: PublishReceipt): PublishResult {
  const d = receipt.delivery;
  if (d === undefined) return { status: 'ok', offset: receipt.offset, delivered: 0 };
  const status: PublishStatus = d.dropped > 0 || d.closed > 0 ? 'dropped' : d.held > 0 ? 'backpressure' : 'ok';
  return { status, offset: receipt.offset, delivered: d.delivered };
}
