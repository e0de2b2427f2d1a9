/**
 * The bus of `parley serve --workers` without Redis, in the primary process: one
 * {@link InMemoryAdapter} (history, offsets, presence) with one node per worker. A worker's node
 * forwards what the adapter delivers to it over IPC, for the topics the worker watches only, so a
 * worker hears of a topic exactly as a Redis node does (it subscribed to the channel). The
 * primary handles one request at a time, so each topic has one order and one sequence of offsets
 * across the workers, as it has in one process.
 *
 * A worker that goes away (a reload, or a crash) is removed: its topics are unwatched and its
 * presence connections leave, so the other workers' clients hear `leave` for its users.
 * @packageDocumentation
 */
import { InMemoryAdapter, TopicMessage, type AdapterNode, type Delivery, type MessageRecord, type PresenceMember, type Recovery } from '../../index.js';
import type { SequencerEvent, SequencerMessage, WorkerCall, WorkerRequest } from './ipc-messages.js';

const NO_DELIVERY: Readonly<Delivery> = Object.freeze({ delivered: 0, dropped: 0, held: 0, closed: 0, conflated: 0 });

/** Options of {@link Sequencer}. */
export interface SequencerOptions {
  /** The clock (ms since the epoch). Default `Date.now`. */
  now?: () => number;
  /** Idempotency keys remembered at most (oldest forgotten first). Default 100,000. */
  maxIdempotencyKeys?: number;
}

/** A receipt remembered for an idempotency key. */
interface Remembered {
  epoch: string;
  offset: number;
  expires: number;
}

/** One worker, as the in-memory adapter sees it. */
class WorkerNode implements AdapterNode {
  /** Topics the worker has subscribers for, with how many of its engines watch each. */
  readonly watched = new Map<string, number>();
  /** Presence connections the worker joined, by topic and connection (to leave them if it dies). */
  readonly joined = new Map<string, { topic: string; member: PresenceMember }>();

  /** While a batch is handled: what is sent to this worker, kept to go out as one message. */
  #batch: SequencerEvent[] | undefined;

  constructor(readonly post: (message: SequencerMessage) => void, readonly sequencer: Sequencer) {}

  /** Sends `event` to the worker, or keeps it for the batch being answered (same order either way). */
  send(event: SequencerEvent): void {
    if (this.#batch !== undefined) this.#batch.push(event);
    else this.post(event);
  }

  /** Runs `handle` with everything sent to this worker kept, then sends that as one message. */
  answerBatch(handle: () => void): void {
    const batch: SequencerEvent[] = [];
    this.#batch = batch;
    try {
      handle();
    } finally {
      this.#batch = undefined;
      if (batch.length === 1) this.post(batch[0]!);
      else if (batch.length > 1) this.post({ parley: 1, t: 'batch', events: batch });
    }
  }

  deliver(message: TopicMessage): Delivery {
    if (this.watched.has(message.topic)) this.send({ parley: 1, t: 'deliver', record: this.sequencer.recordOf(message), pid: this.sequencer.publishId(message) });
    return NO_DELIVERY;
  }

  presenceChanged(topic: string, event: 'join' | 'leave', member: PresenceMember): void {
    if (this.watched.has(topic)) this.send({ parley: 1, t: 'presence', topic, event, member });
  }

  gap(): void {
    // The in-memory adapter loses nothing; a worker's channel is in order or closed.
  }
}

/** The primary's sequencer: attach each worker with {@link Sequencer.add} and hand it the worker's requests. */
export class Sequencer {
  readonly #adapter: InMemoryAdapter;
  readonly #workers = new Map<number, WorkerNode>();
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, Remembered>();
  /** Records of messages in history: encoded once for every worker and every recovery. */
  readonly #records = new WeakMap<TopicMessage, MessageRecord>();
  readonly #pids = new WeakMap<TopicMessage, string>();

  /** @param options - clock and idempotency bound */
  constructor(options: SequencerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#adapter = new InMemoryAdapter({ now: this.#now });
    this.#maxKeys = options.maxIdempotencyKeys ?? 100_000;
  }

  /** The message as it travels to workers (made once per message). */
  recordOf(message: TopicMessage): MessageRecord {
    let record = this.#records.get(message);
    if (record === undefined) {
      record = message.toRecord();
      this.#records.set(message, record);
    }
    return record;
  }

  /** The publish id its sender gave a message ('' for none). */
  publishId(message: TopicMessage): string {
    return this.#pids.get(message) ?? '';
  }

  /** Workers attached. */
  get size(): number {
    return this.#workers.size;
  }

  /**
   * Attaches worker `id`; `send` carries messages to it, in order.
   * @throws RangeError when `id` is attached already
   */
  add(id: number, send: (message: SequencerMessage) => void): void {
    if (this.#workers.has(id)) throw new RangeError(`worker ${id} is attached already`);
    const node = new WorkerNode(send, this);
    this.#workers.set(id, node);
    this.#adapter.attach(node);
  }

  /** Detaches worker `id` (it exited): its topics are unwatched and its presence connections leave. */
  remove(id: number): void {
    const node = this.#workers.get(id);
    if (node === undefined) return;
    this.#workers.delete(id);
    this.#adapter.detach(node);
    for (const [topic, n] of node.watched) for (let i = 0; i < n; i++) this.#adapter.watch(topic, false);
    for (const { topic, member } of node.joined.values()) this.#adapter.leave(topic, member);
  }

  /**
   * Handles a request of worker `id` (answers go back through its `send`). A batch's calls are
   * handled in order, as if they had come one by one, and what they send that worker (their
   * replies) goes back in one message: nothing else can come between, since the primary handles
   * one request at a time, so the worker reads it in the same order (a reply still follows every
   * delivery sequenced before it and precedes every one after).
   */
  handle(id: number, request: WorkerRequest): void {
    const node = this.#workers.get(id);
    if (node === undefined) return;
    if (request.t === 'batch') {
      node.answerBatch(() => {
        for (const call of request.calls) this.#call(node, call);
      });
      return;
    }
    this.#call(node, request);
  }

  #call(node: WorkerNode, request: WorkerCall): void {
    const reply = (requestId: number, run: () => unknown): void => {
      let value: unknown;
      try {
        value = run();
      } catch (error) {
        node.send({ parley: 1, t: 'reply', id: requestId, error: error instanceof Error ? error.message : String(error) });
        return;
      }
      node.send({ parley: 1, t: 'reply', id: requestId, value });
    };
    switch (request.t) {
      case 'watch': {
        const n = (node.watched.get(request.topic) ?? 0) + (request.active ? 1 : -1);
        if (n < 0) return;
        if (n === 0) node.watched.delete(request.topic);
        else node.watched.set(request.topic, n);
        this.#adapter.watch(request.topic, request.active);
        return;
      }
      case 'publish':
        reply(request.id, () => this.#publish(request));
        return;
      case 'position':
        reply(request.id, () => this.#adapter.position(request.topic, request.limits));
        return;
      case 'since':
        reply(request.id, () => this.#since(this.#adapter.since(request.topic, request.from, request.limits)));
        return;
      case 'members':
        reply(request.id, () => this.#adapter.members(request.topic));
        return;
      case 'join':
        node.joined.set(`${request.topic}\n${request.member.conn}`, { topic: request.topic, member: request.member });
        this.#adapter.join(request.topic, request.member);
        return;
      case 'leave':
        node.joined.delete(`${request.topic}\n${request.member.conn}`);
        this.#adapter.leave(request.topic, request.member);
        return;
    }
  }

  #publish(request: Extract<WorkerCall, { t: 'publish' }>): { epoch: string; offset: number } {
    const now = this.#now();
    const { record, idempotency } = request;
    let key: string | undefined;
    if (idempotency !== undefined) {
      // The same atomic step as the Redis script: a repeat from any worker gets the first receipt.
      key = `${record.topic}\n${idempotency.key}`;
      const seen = this.#keys.get(key);
      if (seen !== undefined && seen.expires > now) return { epoch: seen.epoch, offset: seen.offset };
      if (seen !== undefined) this.#keys.delete(key);
    }
    const message = TopicMessage.fromRecord(record);
    this.#pids.set(message, request.pid);
    const receipt = this.#adapter.publish(message, request.limits);
    if (key !== undefined) {
      this.#keys.set(key, { epoch: receipt.epoch, offset: receipt.offset, expires: now + idempotency!.ttl });
      // Oldest first: past the bound, and any that expired at the front.
      for (const [k, r] of this.#keys) {
        if (this.#keys.size <= this.#maxKeys && r.expires > now) break;
        this.#keys.delete(k);
      }
    }
    return { epoch: receipt.epoch, offset: receipt.offset };
  }

  #since(r: Recovery): { recovered: boolean; position: { epoch: string; offset: number }; messages?: MessageRecord[] } {
    if (!r.recovered) return { recovered: false, position: r.position };
    return { recovered: true, position: r.position, messages: r.messages.map((m) => this.recordOf(m)) };
  }

  /** Topics with history kept (for tests and stats). */
  get topicCount(): number {
    return this.#adapter.topicCount;
  }

  /** Stops the adapter's timer and forgets the workers. */
  close(): void {
    for (const id of [...this.#workers.keys()]) this.remove(id);
    this.#adapter.close();
  }
}
