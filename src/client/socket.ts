/**
 * The slice of the WHATWG `WebSocket` the client needs, so that the browser's own class, Parley's
 * Node `WebSocket` or a test double can be plugged in.
 * @packageDocumentation
 */

/** The fields of the socket events the client reads. */
export interface SocketEvent {
  /** `open`, `message`, `close` or `error`. */
  type: string;
  /** `message`: a string for text, an `ArrayBuffer` (or a view) for binary. */
  data?: unknown;
  /** `close`: the close code. */
  code?: number;
  /** `close`: the close reason. */
  reason?: string;
  /** `error` (Parley's Node class): the underlying error. */
  error?: unknown;
}

/** A WebSocket as the client uses it. */
export interface WebSocketLike {
  /** The subprotocol the server selected. */
  readonly protocol: string;
  /** Set to `'arraybuffer'` by the client. */
  binaryType: string;
  /** Sends a text (string) or binary (bytes) message. */
  send(data: string | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Adds a listener for `open`, `message`, `close` or `error`. */
  addEventListener(type: string, listener: (event: SocketEvent) => void): void;
}

/** A WebSocket class: `new (url, protocols)`. */
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/**
 * The URL to open: `url` resolved against the page (in browsers), `http(s):` turned into
 * `ws(s):`, with the token as the `token` query parameter (browsers cannot set headers on a
 * WebSocket handshake).
 */
export function socketUrl(url: string, token: string | undefined): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  const u = new URL(url, base);
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (token !== undefined && token !== '') u.searchParams.set('token', token);
  return u.href;
}

/** The platform's WebSocket class, if it has one. */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}
