/**
 * The cluster adapter of a `parley serve --workers` worker without Redis: every publish, history
 * read and presence change goes over the IPC channel to the primary's {@link Sequencer}, which
 * gives each topic one order and one sequence of offsets for all workers (one process decides, as
 * Redis's single-threaded scripts do for the Redis adapter). Deliveries come back on the same
 * channel, in offset order per topic, for the topics this worker watches.
 *
 * One channel carries both directions in order, which is what makes subscribe and recovery exact:
 * a worker's `watch` reaches the primary before its `position`/`since` request, so every message
 * sequenced after the answer's position is delivered to the worker, and the engine drops the
 * live messages at or before it (pubsub.ts, `holding`). And the primary sends a publish's delivery
 * before its receipt, so a worker's own message reaches its subscribers before its `ok`.
 *
 * Subscribes are coalesced: the `watch`, `position` and `since` calls of one turn of the event
 * loop (every subscribe whose frame arrived in that turn's I/O phase) wait in a queue that leaves
 * as one IPC message after the I/O phase (`setImmediate`, as the Node layer batches its writes),
 * and the primary answers them in one message. A handshake storm then costs one IPC round trip per
 * turn instead of one per subscribe. Every other call (publish, presence, members) sends the queue
 * first and then itself, so the primary still sees this worker's calls in the order they were made:
 * a subscribe's offset baseline is exactly what it was unbatched, relative to every publish.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import {
  RealtimeError,
  TopicMessage,
  type AdapterNode,
  type ClusterAdapter,
  type HistoryLimits,
  type PresenceMember,
  type PublishIdempotency,
  type PublishReceipt,
  type Recovery,
  type StreamPosition,
} from '../../index.js';
import type { MessageRecord } from '../../index.js';
import type { SequencerEvent, SequencerMessage, WorkerCall, WorkerRequest } from './ipc-messages.js';

/** How a worker's adapter reaches the primary. */
export interface IpcLink {
  /** Sends a request (in order with every other): one IPC message. */
  send(request: WorkerRequest): void;
  /** Whether the channel to the primary is open. */
  connected(): boolean;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The answer to `since`, as it travels. */
interface RecoveryRecord {
  recovered: boolean;
  position: StreamPosition;
  messages?: MessageRecord[];
}

function unavailable(): RealtimeError {
  return new RealtimeError('UNAVAILABLE', 'this worker lost its primary process; try again (another worker will answer)');
}

/** A worker's {@link ClusterAdapter}: the primary's sequencer, over IPC. Feed it the primary's messages with {@link IpcAdapter.receive}. */
export class IpcAdapter implements ClusterAdapter {
  readonly #link: IpcLink;
  readonly #nodes: AdapterNode[] = [];
  readonly #waiting = new Map<number, Waiting>();
  /** This worker's publishes until their receipt: the delivery reuses the object (its frames, its `except`). */
  readonly #pending = new Map<string, TopicMessage>();
  /** Unique among workers: the primary sends every delivery's publish id to every watcher. */
  readonly #prefix = randomBytes(6).toString('base64url');
  #ids = 0;
  #publishes = 0;
  #closed = false;
  /** Subscribe-shaped calls of this turn, not sent yet (in order). */
  #queued: WorkerCall[] = [];
  #flushing: NodeJS.Immediate | undefined;
  readonly #flushLater = (): void => {
    this.#flushing = undefined;
    this.#flush();
  };

  /** @param link - the channel to the primary */
  constructor(link: IpcLink) {
    this.#link = link;
  }

  /** Whether the primary is reachable (`/readyz`). */
  isHealthy(): boolean {
    return !this.#closed && this.#link.connected();
  }

  /** Sends a call: queued with this turn's subscribes (`queue`), or now, after the queue. */
  #send(call: WorkerCall, queue: boolean): void {
    if (!queue) {
      this.#flush();
      this.#link.send(call);
      return;
    }
    this.#queued.push(call);
    this.#flushing ??= setImmediate(this.#flushLater);
  }

  /** Sends the queued calls: one message, a batch when there are several. */
  #flush(): void {
    if (this.#queued.length === 0) return;
    const calls = this.#queued;
    this.#queued = [];
    if (this.#closed || !this.#link.connected()) {
      for (const call of calls) this.#fail(call);
      return;
    }
    this.#link.send(calls.length === 1 ? calls[0]! : { parley: 1, t: 'batch', calls });
  }

  /** A call that could not be sent: its caller (if it waits) gets UNAVAILABLE. */
  #fail(call: WorkerCall): void {
    if (!('id' in call)) return;
    const w = this.#waiting.get(call.id);
    this.#waiting.delete(call.id);
    w?.reject(unavailable());
  }

  #request(request: WorkerCall & { id: number }, queue = false): Promise<unknown> {
    if (this.#closed || !this.#link.connected()) return Promise.reject(unavailable());
    return new Promise((resolve, reject) => {
      this.#waiting.set(request.id, { resolve, reject });
      this.#send(request, queue);
    });
  }

  /** Handles a message from the primary. */
  receive(message: SequencerMessage): void {
    if (message.t === 'batch') {
      for (const event of message.events) this.#receive(event);
      return;
    }
    this.#receive(message);
  }

  #receive(message: SequencerEvent): void {
    switch (message.t) {
      case 'deliver': {
        const own = this.#pending.get(message.pid);
        let m: TopicMessage;
        if (own !== undefined) {
          this.#pending.delete(message.pid);
          m = own;
          m.epoch = message.record.epoch;
          m.offset = message.record.offset;
          m.time = message.record.time;
        } else {
          m = TopicMessage.fromRecord(message.record);
        }
        for (const node of [...this.#nodes]) node.deliver(m);
        return;
      }
      case 'presence':
        for (const node of [...this.#nodes]) node.presenceChanged(message.topic, message.event, message.member);
        return;
      case 'reply': {
        const w = this.#waiting.get(message.id);
        if (w === undefined) return;
        this.#waiting.delete(message.id);
        if (message.error !== undefined) w.reject(new RealtimeError('UNAVAILABLE', message.error));
        else w.resolve(message.value);
        return;
      }
    }
  }

  /** The channel closed (the primary exited): every request waiting fails. */
  disconnected(): void {
    this.#queued = [];
    clearImmediate(this.#flushing);
    this.#flushing = undefined;
    for (const w of this.#waiting.values()) w.reject(unavailable());
    this.#waiting.clear();
    this.#pending.clear();
  }

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
  publish(message: TopicMessage, limits: HistoryLimits, idempotency?: PublishIdempotency): Promise<PublishReceipt> {
    if (this.#closed) throw new TypeError('the IPC adapter is closed');
    const pid = `${this.#prefix}:${(++this.#publishes).toString(36)}`;
    const request: WorkerCall & { id: number } = { parley: 1, t: 'publish', id: ++this.#ids, pid, record: message.toRecord(), limits };
    if (idempotency !== undefined) request.idempotency = { key: idempotency.key, ttl: idempotency.ttl };
    this.#pending.set(pid, message);
    return this.#request(request).then((value) => {
      // The delivery came first (or not at all: no subscriber here, or a repeat).
      this.#pending.delete(pid);
      const { epoch, offset } = value as StreamPosition;
      return { epoch, offset };
    }, (error: unknown) => {
      this.#pending.delete(pid);
      throw error;
    });
  }

  /** @inheritDoc */
  position(topic: string, limits: HistoryLimits): Promise<StreamPosition> {
    return this.#request({ parley: 1, t: 'position', id: ++this.#ids, topic, limits }, true) as Promise<StreamPosition>;
  }

  /** @inheritDoc */
  since(topic: string, from: StreamPosition, limits: HistoryLimits): Promise<Recovery> {
    return this.#request({ parley: 1, t: 'since', id: ++this.#ids, topic, from: { epoch: from.epoch, offset: from.offset }, limits }, true).then((value): Recovery => {
      const r = value as RecoveryRecord;
      if (!r.recovered) return { recovered: false, position: r.position };
      return { recovered: true, position: r.position, messages: (r.messages ?? []).map((record) => TopicMessage.fromRecord(record)) };
    });
  }

  /** @inheritDoc */
  join(topic: string, member: PresenceMember): void {
    if (!this.#closed && this.#link.connected()) this.#send({ parley: 1, t: 'join', topic, member: { user: member.user, conn: member.conn, info: member.info } }, false);
  }

  /** @inheritDoc */
  leave(topic: string, member: PresenceMember): void {
    if (!this.#closed && this.#link.connected()) this.#send({ parley: 1, t: 'leave', topic, member: { user: member.user, conn: member.conn, info: member.info } }, false);
  }

  /** @inheritDoc */
  members(topic: string): Promise<PresenceMember[]> {
    return this.#request({ parley: 1, t: 'members', id: ++this.#ids, topic }) as Promise<PresenceMember[]>;
  }

  /** @inheritDoc */
  watch(topic: string, active: boolean): void {
    if (!this.#closed && this.#link.connected()) this.#send({ parley: 1, t: 'watch', topic, active }, true);
  }

  /** @inheritDoc */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.disconnected();
    this.#nodes.length = 0;
  }
}
