/**
 * The public `WebSocket`: the Node layer's class (the `ws` 8 API, unchanged) plus topics on
 * server-side connections of a real-time {@link WebSocketServer}: `subscribe`, `unsubscribe`,
 * `isSubscribed`, `topics` and `publish`.
 *
 * On a `parley.v1` connection the frames the client sends are protocol envelopes, handled by the
 * server (they are not emitted as 'message'). Plain connections emit 'message' as always.
 * @packageDocumentation
 */
import { InvalidStateError } from '../protocol/index.js';
import { WebSocket as NodeWebSocket, defineWebIdlAttributes, type BinaryType } from '../node/websocket.js';
import type { StreamPosition } from '../wire/envelope.js';
import { isPromise } from '../pubsub/maybe-async.js';
import type { PublishResult } from '../pubsub/pubsub.js';
import type { RealtimeSession } from './session.js';

/** @internal Binds a server connection to its real-time session. */
export const kBindSession = Symbol('parley.realtime.bindSession');
/** @internal The session of a server connection. */
export const kSession = Symbol('parley.realtime.session');

/** Options of {@link WebSocket.subscribe}. */
export interface SocketSubscribeOptions {
  /** Resume after this position: the missed messages are sent first when history still has every one. */
  since?: StreamPosition;
  /** Join the topic's presence with this member info (any JSON). */
  presence?: unknown;
}

/** Options of {@link WebSocket.publish}. */
export interface SocketPublishOptions {
  /** Conflation key (`conflate` policy). */
  key?: string;
  /** Frame type for plain subscribers; default binary for bytes, text otherwise. */
  binary?: boolean;
}

/** What a publish from server code answers when the adapter assigns offsets asynchronously. */
export const PENDING_PUBLISH: Readonly<PublishResult> = Object.freeze({ status: 'ok', offset: -1, delivered: 0 });

/**
 * The session of a server connection, or InvalidStateError. A function, not a private method:
 * a class with private methods gives every instance a brand field (8 bytes per connection).
 */
function need(session: RealtimeSession<WebSocket> | undefined, what: string): RealtimeSession<WebSocket> {
  if (session === undefined) throw new InvalidStateError(`${what} is only available on a server-side connection of a real-time WebSocketServer`);
  return session;
}

/**
 * A WebSocket connection with topics. Client-side instances (`new WebSocket(url)`) behave exactly
 * as the Node layer's; the topic methods throw `InvalidStateError` on them.
 */
export class WebSocket extends NodeWebSocket {
  #session: RealtimeSession<WebSocket> | undefined;

  /** @internal Called by the real-time server before 'connection'. */
  [kBindSession](session: RealtimeSession<WebSocket>): void {
    this.#session = session;
  }

  /** @internal */
  get [kSession](): RealtimeSession<WebSocket> | undefined {
    return this.#session;
  }


  /**
   * Subscribes this connection to `topic`. Published messages reach it as `msg` envelopes on a
   * `parley.v1` connection and as the data itself on a plain one.
   * @returns true when newly subscribed; false when it already was or the connection closed
   * @throws TypeError for an invalid topic name; InvalidStateError on a client-side WebSocket
   */
  subscribe(topic: string, options: SocketSubscribeOptions = {}): boolean {
    return need(this.#session, 'subscribe()').subscribe(topic, options);
  }

  /**
   * Unsubscribes from `topic` (leaving its presence).
   * @returns false when it was not subscribed
   */
  unsubscribe(topic: string): boolean {
    return need(this.#session, 'unsubscribe()').unsubscribe(topic);
  }

  /** Whether this connection is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return need(this.#session, 'isSubscribed()').isSubscribed(topic);
  }

  /** The topics this connection is subscribed to (a copy). */
  get topics(): string[] {
    return need(this.#session, 'topics').topics;
  }

  /** A `ws` application may keep its own `topics` property: assigning one shadows this getter. */
  set topics(value: string[]) {
    Object.defineProperty(this, 'topics', { value, writable: true, configurable: true, enumerable: true });
  }

  /** This connection's id (`conn` in the protocol), or undefined on a client-side WebSocket. */
  get connectionId(): string | undefined {
    return this.#session?.id;
  }

  /** The user this connection belongs to (the server's `userOf`), or undefined on a client-side WebSocket. */
  get realtimeUser(): string | undefined {
    return this.#session?.user;
  }

  /**
   * Publishes to every subscriber of `topic` except this connection. A `parley.v1` sender that is
   * itself subscribed still receives it: skipping it would leave a hole in its offsets, which the
   * protocol reads as loss.
   * @throws TypeError for an invalid topic or data; InvalidStateError on a client-side WebSocket
   */
  publish(topic: string, data: unknown, options: SocketPublishOptions = {}): PublishResult {
    const result = need(this.#session, 'publish()').publish(topic, data, options);
    if (!isPromise(result)) return result;
    result.catch(() => {});
    return { ...PENDING_PUBLISH };
  }

  /** @inheritDoc */
  override get binaryType(): BinaryType {
    return super.binaryType;
  }

  /**
   * As the Node layer's, except that a `parley.v1` connection keeps synchronous binary data:
   * envelopes are read as they arrive, and a Blob can only be read later.
   */
  override set binaryType(type: BinaryType) {
    if (type === 'blob' && this.#session?.envelopes === true) return;
    super.binaryType = type;
  }

  /**
   * Routes the events the real-time layer needs: a `parley.v1` connection's messages go to its
   * session instead of 'message' listeners; 'drain' and 'close' are noted before listeners run.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const session = this.#session;
    if (session !== undefined) {
      if (event === 'message') {
        if (session.envelopes) {
          session.onMessage(args[0], args[1] === true);
          return true;
        }
      } else if (event === 'drain') {
        session.onDrain();
      } else if (event === 'close') {
        session.onClose();
      }
    }
    return super.emit(event, ...args);
  }
}
// The exported class shows the same WebIDL attributes as the Node layer's (as `ws`).
defineWebIdlAttributes(WebSocket);
