/**
 * The Redis adapter while Redis cannot take a topic's publishes (all of Redis, or the topic's
 * master on a cluster).
 *
 * With `whenUnreachable: 'local'` (the default) a publish still reaches this node's subscribers,
 * in a local epoch: a history kept here that no other node shares ('L' in front of its random
 * epoch tells people reading logs so). Once Redis is back the local epochs are over: every topic
 * that used one is reported as a gap (feeds.ts), so those clients resubscribe and get
 * `recovered: false` from Redis, and what was published meanwhile never silently mixes with the
 * cluster's sequence. Since the other nodes' subscribers never got those messages, each topic
 * published to locally then gets a new epoch in Redis (the RESET script: a `g` entry on its
 * channel, and a node that misses it finds the new epoch on its next fill), announcing the gap
 * cluster-wide. With `whenUnreachable: 'refuse'` publishes fail (`UNAVAILABLE`) instead.
 * @packageDocumentation
 */
import { addDelivery, type Delivery, type PublishReceipt } from '../pubsub/adapter.js';
import { TopicHistory, newEpoch, type HistoryLimits, type Recovery } from '../pubsub/history.js';
import type { TopicMessage } from '../pubsub/message.js';
import { RealtimeError } from '../pubsub/realtime-error.js';
import type { StreamPosition } from '../wire/envelope.js';
import type { AdapterContext } from './adapter-context.js';
import type { Feeds } from './feeds.js';

/** An error's message for a log line (a rejection may carry anything). */
function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Local epochs of one adapter, and the gaps they leave to announce. */
export class LocalEpochs {
  readonly #ctx: AdapterContext;
  readonly #feeds: Feeds;
  readonly #refuse: boolean;
  /** Local epochs of topics published to (or subscribed to) while Redis was unreachable. */
  readonly #local = new Map<string, TopicHistory>();
  /**
   * Topics published to locally, with a count of those publishes, until the gap is announced
   * cluster-wide (the count tells an announcement that raced a newer local publish).
   */
  readonly #unannounced = new Map<string, number>();

  /**
   * @param ctx - the adapter's link, keys, scripts, counters and engines
   * @param feeds - the watched topics (marked, so that their subscribers hear of the gap)
   * @param refuse - `whenUnreachable: 'refuse'`
   */
  constructor(ctx: AdapterContext, feeds: Feeds, refuse: boolean) {
    this.#ctx = ctx;
    this.#feeds = feeds;
    this.#refuse = refuse;
  }

  /** Whether publishes are refused rather than delivered locally. */
  get refuses(): boolean {
    return this.#refuse;
  }

  /**
   * Publishes on this node only, or refuses.
   * @param error - why Redis did not take it (undefined: it was not tried, Redis being down)
   * @throws RealtimeError `UNAVAILABLE` with `whenUnreachable: 'refuse'`
   */
  publish(message: TopicMessage, limits: HistoryLimits, error: unknown): PublishReceipt {
    const ctx = this.#ctx;
    const topic = message.topic;
    if (this.#refuse) {
      ctx.counters.refused++;
      // A command that failed may still have run (its reply was lost): say so, the client may retry.
      if (error !== undefined) ctx.log('warn', 'publish through Redis failed: refused (it may have been applied)', { topic, error: describe(error) });
      throw new RealtimeError('UNAVAILABLE', 'the cluster cannot take publishes now (Redis is unreachable); try again');
    }
    if (error !== undefined) ctx.log('warn', 'publish through Redis failed: delivered on this node only', { topic, error: describe(error) });
    if (!this.#unannounced.has(topic)) ctx.log('warn', 'publishing locally while Redis is unreachable: other nodes will be told of the gap', { topic });
    this.#unannounced.set(topic, (this.#unannounced.get(topic) ?? 0) + 1);
    const history = this.history(topic, limits);
    history.limits = limits;
    const offset = history.append(message, Date.now());
    ctx.counters.publishedLocally++;
    const delivery: Delivery = { delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 };
    for (const node of [...ctx.nodes]) addDelivery(delivery, node.deliver(message));
    return { epoch: history.epoch, offset, delivery };
  }

  /**
   * The topic's local epoch, for a publish or a subscription made while Redis cannot answer; its
   * subscribers now hold a local position, so they are told to resynchronise once Redis is back.
   */
  history(topic: string, limits: HistoryLimits): TopicHistory {
    let history = this.#local.get(topic);
    if (history === undefined) {
      history = new TopicHistory(limits, `L${newEpoch()}`);
      this.#local.set(topic, history);
    }
    this.#feeds.markLocal(topic);
    return history;
  }

  /** A resume answered from the local epoch. */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): Recovery {
    return this.history(topic, limits).since(from.epoch, from.offset, Date.now());
  }

  /** Ends every local epoch (Redis is back): clients resuming from one must hear `recovered: false` from Redis. */
  clear(): void {
    this.#local.clear();
  }

  /**
   * Tells every node that this one delivered messages locally that they never had: each topic
   * published to locally gets a new epoch in Redis (see RESET in scripts.ts). What fails is
   * tried again at the next recovery.
   * @param closed - whether the adapter closed meanwhile
   */
  async announce(closed: () => boolean): Promise<void> {
    const ctx = this.#ctx;
    const k = ctx.keys;
    for (const [topic, count] of [...this.#unannounced]) {
      if (closed() || !ctx.link.healthy) return;
      try {
        const args = [newEpoch(), String(ctx.topicTtl), k.channel(topic), ctx.nodeId];
        const epoch = await ctx.link.run(ctx.scripts.reset, [k.meta(topic), k.history(topic)], args);
        ctx.counters.gapsAnnounced++;
        ctx.log('warn', 'announced a gap to every node: messages were delivered on this node only while Redis was unreachable', { topic, messages: count, epoch: String(epoch) });
        // A local publish that raced the announcement needs one more.
        if (this.#unannounced.get(topic) === count) this.#unannounced.delete(topic);
      } catch (error) {
        ctx.log('warn', 'announcing a gap failed; retried on the next recovery', { topic, error: String(error) });
        return;
      }
    }
  }
}
