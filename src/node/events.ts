/**
 * WHATWG-style event objects and the `addEventListener` glue of the `WebSocket` class, so code
 * written for the browser's WebSocket runs unchanged on Node.
 * @packageDocumentation
 */

/** A minimal DOM `Event`. */
export class WsEvent {
  /** Event type: 'open', 'message', 'close' or 'error'. */
  readonly type: string;
  /** The WebSocket that fired the event. */
  target: unknown = null;
  /** @param type - the event type */
  constructor(type: string) {
    this.type = type;
  }
  /** Same as `target`, for DOM compatibility. */
  get currentTarget(): unknown {
    return this.target;
  }
}

/** The `message` event: `data` is a string for text, and follows `binaryType` for binary. */
export class WsMessageEvent extends WsEvent {
  /** The message. */
  readonly data: unknown;
  /** @param data - the message */
  constructor(data: unknown) {
    super('message');
    this.data = data;
  }
}

/** The `close` event. */
export class WsCloseEvent extends WsEvent {
  /** Close status code; 1005 when none was received, 1006 when no close frame arrived. */
  readonly code: number;
  /** Close reason as text. */
  readonly reason: string;
  /** True when the close handshake completed (RFC 6455 §7.1.4). */
  readonly wasClean: boolean;
  /** @param code - close code @param reason - close reason @param wasClean - clean close */
  constructor(code: number, reason: string, wasClean: boolean) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

/** The `error` event. */
export class WsErrorEvent extends WsEvent {
  /** The error. */
  readonly error: unknown;
  /** The error's message. */
  readonly message: string;
  /** @param error - the error */
  constructor(error: unknown) {
    super('error');
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

/** A DOM event listener: a function or an object with `handleEvent`. */
export type EventListenerLike = ((event: WsEvent) => unknown) | { handleEvent(event: WsEvent): unknown };
