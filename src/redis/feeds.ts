/**
 * The Redis adapter's delivery side: one feed per topic this node has subscribers for.
 *
 * Subscriptions follow local interest: a topic's channel is subscribed when its first engine on
 * this node watches it and unsubscribed when the last stops, so Redis traffic scales with what
 * this node needs, not with the number of topics.
 *
 * Order: a node delivers every message, its own included, from the channel: one path, one order.
 * A feed remembers the epoch and offset it delivered up to; the next offset is delivered, a repeat
 * dropped, and a jump (messages missed while the connection was down) is filled from history
 * before anything newer, the live entries waiting meanwhile. What history no longer has is
 * reported to the topic's subscribers (`gap`: they resubscribe and recover, or learn
 * `recovered: false`). This node's own publishes are kept until they come back on the channel, so
 * the message object (with its `except` list and its frames) is delivered, not a decoded copy.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import { newEpoch } from '../pubsub/history.js';
import type { TopicMessage } from '../pubsub/message.js';
import type { AdapterContext } from './adapter-context.js';
import { decodeEntry, type GapEntry, type MessageEntry } from './codec.js';

/** One watched topic. */
export interface Feed {
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

/** Own publishes remembered until they come back on the channel, at most. */
const MAX_PENDING = 10_000;

/** The watched topics of one adapter, and delivery from their channels in order. */
export class Feeds {
  readonly #ctx: AdapterContext;
  readonly #feeds = new Map<string, Feed>();
  /** This node's publishes on watched topics, until they come back on the channel (keeps `except` and frames). */
  readonly #pending = new Map<string, TopicMessage>();
  readonly #onEntry = (message: Buffer, channel: Buffer): void => this.#receive(message, channel);

  /** @param ctx - the adapter's link, keys, counters and engines */
  constructor(ctx: AdapterContext) {
    this.#ctx = ctx;
  }

  /** Channels subscribed to now (the `channels` gauge). */
  get size(): number {
    return this.#feeds.size;
  }

  /** The topic's feed, if this node watches it. */
  get(topic: string): Feed | undefined {
    return this.#feeds.get(topic);
  }

  /** Counts an engine's interest in a topic: the first subscribes to its channel, the last unsubscribes. */
  watch(topic: string, active: boolean): void {
    const ctx = this.#ctx;
    let feed = this.#feeds.get(topic);
    if (active) {
      if (feed === undefined) {
        feed = { watchers: 0, subscribed: undefined, epoch: undefined, last: 0, filling: false, buffer: [], localUsed: false };
        this.#feeds.set(topic, feed);
      }
      if (++feed.watchers === 1) {
        const subscribed = ctx.link.subscribe(ctx.keys.channel(topic), this.#onEntry);
        feed.subscribed = subscribed;
        subscribed.catch((error: unknown) => ctx.log('warn', 'SUBSCRIBE failed; retried when Redis is back', { topic, error: String(error) }));
      }
      return;
    }
    if (feed === undefined || --feed.watchers > 0) return;
    this.#feeds.delete(topic);
    ctx.link.unsubscribe(ctx.keys.channel(topic), this.#onEntry).catch(() => {});
  }

  /** Remembers this node's publish to a watched topic until it comes back on the channel. */
  expect(publishId: string, message: TopicMessage): void {
    this.#pending.set(publishId, message);
    // A publish racing the topic's first SUBSCRIBE never comes back: bound what can be left over.
    if (this.#pending.size > MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
  }

  /** Forgets a publish that will not come back (failed, a repeat, or its topic no longer watched). */
  forget(publishId: string): void {
    this.#pending.delete(publishId);
  }

  /** The topic's subscribers got a message in a local epoch: they resynchronise once Redis is back. */
  markLocal(topic: string): void {
    const feed = this.#feeds.get(topic);
    if (feed !== undefined) feed.localUsed = true;
  }

  /**
   * Redis is reachable again: subscribes every watched channel again, tells the subscribers of
   * topics that went local of the gap, and fills every topic from where it was.
   */
  resume(): void {
    const ctx = this.#ctx;
    for (const [topic, feed] of this.#feeds) {
      feed.subscribed = ctx.link.subscribe(ctx.keys.channel(topic), this.#onEntry);
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
  }

  /** Forgets every feed and pending publish (the adapter is closing). */
  clear(): void {
    this.#feeds.clear();
    this.#pending.clear();
  }

  #receive(buf: Buffer, channel: Buffer): void {
    const ctx = this.#ctx;
    const topic = ctx.keys.topicOf(channel.toString('latin1'));
    const feed = topic === undefined ? undefined : this.#feeds.get(topic);
    if (topic === undefined || feed === undefined) return;
    let entry;
    try {
      entry = decodeEntry(topic, buf);
    } catch (error) {
      ctx.counters.badEntries++;
      ctx.log('warn', 'undecodable entry on a Parley channel', { topic, error: String(error) });
      return;
    }
    if (entry.kind === 'p') {
      for (const node of [...ctx.nodes]) node.presenceChanged(topic, entry.event, entry.member);
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
        this.#ctx.counters.duplicates++;
        this.#pending.delete(entry.publishId);
        return;
      }
      if (entry.offset === feed.last + 1) {
        this.#deliver(feed, entry);
        return;
      }
    }
    feed.filling = true;
    feed.buffer.push(entry);
    void this.#fill(topic, feed);
  }

  #deliver(feed: Feed, entry: MessageEntry): void {
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
    this.#ctx.counters.delivered++;
    for (const node of [...this.#ctx.nodes]) node.deliver(message);
  }

  /**
   * Takes what this node missed of `topic` from history and delivers it before the entries that
   * arrived meanwhile; reports a gap if history no longer has it (or Redis lost the topic).
   */
  async #fill(topic: string, feed: Feed): Promise<void> {
    const ctx = this.#ctx;
    const from = { epoch: feed.epoch ?? '', offset: feed.last };
    try {
      const k = ctx.keys;
      const args = [newEpoch(), String(ctx.topicTtl), from.epoch, String(from.offset), String(Number.MAX_SAFE_INTEGER)];
      const reply = (await ctx.link.run(ctx.scripts.since, [k.meta(topic), k.history(topic)], args, true)) as [Buffer, Buffer, number, Buffer[]?];
      if (this.#feeds.get(topic) !== feed) return;
      if (reply[2] === 1) {
        for (const raw of reply[3] ?? []) {
          const entry = decodeEntry(topic, raw);
          if (entry.kind !== 'm' || (entry.epoch === feed.epoch && entry.offset <= feed.last)) continue;
          ctx.counters.filled++;
          this.#deliver(feed, entry);
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
    this.#ctx.counters.gaps++;
    this.#ctx.log('warn', 'messages may be lost on this node: subscribers told to resynchronise', { topic, reason });
    for (const node of [...this.#ctx.nodes]) node.gap(topic);
  }
}
