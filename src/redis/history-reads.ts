/**
 * The Redis adapter's history reads for subscribes and resumes (a position, or the messages after
 * one), coalesced per topic.
 *
 * While one read of a topic is in flight, every subscribe and resume that arrives waits for the
 * next, and that one read (from the lowest offset asked in the epoch most of them resume from)
 * answers them all: a reconnect storm of thousands of clients costs a few reads, not one each.
 * A request never shares a read that started before it arrived: that read could miss a message
 * delivered live before the request was made. Each read waits for the topic's SUBSCRIBE first, or
 * a message published in between would be in neither the read nor the live feed.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import { newEpoch, type HistoryLimits, type Recovery } from '../pubsub/history.js';
import type { TopicMessage } from '../pubsub/message.js';
import type { StreamPosition } from '../wire/envelope.js';
import type { AdapterContext } from './adapter-context.js';
import { decodeEntry, type MessageEntry } from './codec.js';
import type { Feeds } from './feeds.js';

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

/** Coalesced history reads through Redis. */
export class HistoryReads {
  readonly #ctx: AdapterContext;
  readonly #feeds: Feeds;
  readonly #reads = new Map<string, ReadQueue>();

  /**
   * @param ctx - the adapter's link, keys, scripts and counters
   * @param feeds - the watched topics (a read waits for the topic's SUBSCRIBE, and positions a new feed)
   */
  constructor(ctx: AdapterContext, feeds: Feeds) {
    this.#ctx = ctx;
    this.#feeds = feeds;
  }

  /**
   * Reads a position (no `from`) or the messages after `from`, once this node's SUBSCRIBE is
   * confirmed, sharing the read with every request of the topic made in the same turn.
   */
  read(topic: string, limits: HistoryLimits, from: StreamPosition | undefined): Promise<Recovery> {
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
    const ctx = this.#ctx;
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
    const k = ctx.keys;
    const args = [newEpoch(), String(Math.max(ctx.topicTtl, maxAge + 1000)), low === Number.POSITIVE_INFINITY ? '' : epoch, low === Number.POSITIVE_INFINITY ? '-1' : String(low)];
    ctx.counters.historyReads++;
    ctx.counters.historyReadsShared += batch.length - 1;
    const reply = (await ctx.link.run(ctx.scripts.range, [k.meta(topic), k.history(topic)], args, true)) as [Buffer, Buffer, Buffer, Buffer[]];
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
      const timer = setTimeout(() => reject(new Error('SUBSCRIBE not confirmed in time')), this.#ctx.commandTimeout);
      promise.then(() => { clearTimeout(timer); resolve(); }, (error: unknown) => { clearTimeout(timer); reject(error instanceof Error ? error : new Error(String(error))); });
    });
  }
}
