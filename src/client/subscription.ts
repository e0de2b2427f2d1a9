/**
 * The application's handle on a subscribed topic.
 * @packageDocumentation
 */
import type { PresenceMember, StreamPosition } from '../wire/envelope.js';
import { Emitter, rethrowLater } from './emitter.js';
import type { ParleyError } from './errors.js';
import type { TopicStream } from './topic-stream.js';

/** What a message handler learns besides the payload. */
export interface MessageInfo {
  /** The topic. */
  topic: string;
  /** The topic's history epoch. */
  epoch: string;
  /** The message's offset in that epoch (the previous one delivered was `offset − 1`). */
  offset: number;
  /** The conflation key the publisher gave, if any. */
  key?: string;
  /**
   * True when the server conflated this topic for this slow client: messages between the
   * previous offset and this one were superseded by newer ones with the same key.
   */
  conflated?: true;
}

/** Called once per message, in order, never twice for the same offset. */
export type MessageHandler<T = unknown> = (data: T, info: MessageInfo) => void;

/** How a subscription (re)started. */
export interface SubscribedInfo {
  /** Position of the newest message at that point (`reset` and first subscription), or of the last one seen (`recovered`). */
  position: StreamPosition;
  /** `'fresh'` first subscription, `'recovered'` missed messages follow, `'reset'` see the `reset` event. */
  kind: 'fresh' | 'recovered' | 'reset';
  /**
   * The server application's snapshot of the topic's state, when it has a snapshot hook: sent
   * with a first subscription and with a reset, so a client can start from the current state.
   */
  snapshot?: unknown;
}

/** Events of a {@link Subscription}. */
export type SubscriptionEvents = {
  /**
   * The server could not replay what this client missed (history too short, or the topic's
   * history started over). Treat local state as stale: rebuild it from `snapshot` (the server
   * application's snapshot hook, `undefined` when it has none). Messages after `position` follow.
   */
  reset: [snapshot: unknown, position: StreamPosition];
  /** A user joined (their first connection) or left (their last) the topic. */
  presence: [event: 'join' | 'leave', member: PresenceMember];
  /** The subscription is live on the current connection (after each `subok`). */
  subscribed: [info: SubscribedInfo];
  /** The server refused the subscription (e.g. `FORBIDDEN`, `LIMIT`); it has ended. */
  error: [error: ParleyError];
};

/** A subscription to one topic. Several handles on one topic share one server subscription. */
export class Subscription<T = unknown> extends Emitter<SubscriptionEvents> {
  /** The topic. */
  readonly topic: string;
  readonly #stream: TopicStream;
  readonly #handler: MessageHandler<T>;
  readonly #detach: (subscription: Subscription<T>) => void;
  #active = true;

  /** @internal Made by {@link ParleyClient.subscribe}. */
  constructor(stream: TopicStream, handler: MessageHandler<T>, detach: (subscription: Subscription<T>) => void) {
    super();
    this.topic = stream.topic;
    this.#stream = stream;
    this.#handler = handler;
    this.#detach = detach;
  }

  /** Whether the subscription still stands (not unsubscribed, not refused, client not closed). */
  get active(): boolean {
    return this.#active;
  }

  /** Whether it is live on the current connection. */
  get live(): boolean {
    return this.#active && this.#stream.live;
  }

  /** Epoch and offset of the last message delivered, sent as `since` when resubscribing. */
  get position(): StreamPosition | undefined {
    const pos = this.#stream.position;
    return pos === undefined ? undefined : { ...pos };
  }

  /**
   * Resolves when the subscription is live (at once if it is), rejects if the server refuses it,
   * it is unsubscribed first, or the client is closed.
   */
  ready(): Promise<void> {
    if (this.live) return Promise.resolve();
    if (!this.#active) return Promise.reject(new Error(`subscription to ${this.topic} has ended`));
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        done();
        reject(error);
      };
      const offs = [
        this.on('subscribed', () => {
          done();
          resolve();
        }),
        this.on('error', fail),
      ];
      this.#endWaiters.add(fail);
      const done = (): void => {
        for (const off of offs) off();
        this.#endWaiters.delete(fail);
      };
    });
  }

  readonly #endWaiters = new Set<(error: Error) => void>();

  /** Stops delivery; the server subscription ends with the topic's last handle. Idempotent. */
  unsubscribe(): void {
    if (!this.#active) return;
    this.#end(new Error(`unsubscribed from ${this.topic}`));
    this.#detach(this);
  }

  /** @internal Delivers one message to the handler. */
  deliver(data: unknown, info: MessageInfo): void {
    if (!this.#active) return;
    try {
      this.#handler(data as T, info);
    } catch (error) {
      rethrowLater(error);
    }
  }

  /** @internal Ends the handle without telling the client (it already knows). */
  end(error: Error): void {
    if (this.#active) this.#end(error);
  }

  #end(error: Error): void {
    this.#active = false;
    for (const fail of [...this.#endWaiters]) fail(error);
  }
}
