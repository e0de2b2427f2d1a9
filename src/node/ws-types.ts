/**
 * The types `ws` 8 programs name (`WebSocket.RawData`, `WebSocket.VerifyClientCallbackSync`,
 * `WebSocket.MessageEvent`, …), with the shapes the `ws` API uses and Parley's runtime delivers,
 * so TypeScript written against `ws` and `@types/ws` compiles with Parley. Types only: this module
 * emits no code. Those that mention the connection take its class as `W`, bound to `WebSocket`
 * where they are exported (index.ts), so this module imports nothing from the classes.
 * @packageDocumentation
 */
import type { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type * as net from 'node:net';
import type * as tls from 'node:tls';

/**
 * A callback type checked as a method parameter is: a listener declared for a narrower argument
 * (`(err: Error) => void`, as `@types/ws` writes some callbacks) is still accepted. Parley calls
 * it with the arguments the name documents; the annotation is the caller's choice.
 */
export type BivariantCallback<A extends unknown[], R = void> = { bivarianceHack(...args: A): R }['bivarianceHack'];

/**
 * A received message as the `'message'` event delivers it: a Buffer (`binaryType` 'nodebuffer',
 * the default), an ArrayBuffer ('arraybuffer') or an array of Buffers ('fragments'). Text
 * messages arrive as a Buffer too, with `isBinary` false. (With Parley's `binaryType = 'blob'`,
 * for browser code, binary messages arrive as a Blob, which this `ws` type does not list.)
 */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** A message as a WHATWG `MessageEvent` carries it: a string for text, else as {@link RawData}. */
export type Data = string | Buffer | ArrayBuffer | Buffer[];

/** Certificate or key material, as `ws`'s `CertMeta`. */
export type CertMeta = string | string[] | Buffer | Buffer[];

/** The three `readyState` values. */
export type ReadyState = 0 | 1 | 2 | 3;

/**
 * What `verifyClient` is told. `origin` is the `Origin` header (`Sec-WebSocket-Origin` for a
 * version 8 client), which non-browser clients do not send: it is then `undefined`, in `ws` as
 * in Parley, though `@types/ws` types it `string`.
 */
export interface VerifyClientInfo<Request extends http.IncomingMessage = http.IncomingMessage> {
  /** The `Origin` header, if any. */
  origin: string | undefined;
  /** Whether the connection is over TLS. */
  secure: boolean;
  /** The upgrade request. */
  req: Request;
}

/**
 * `verifyClient` answering at once: true accepts the upgrade, false refuses it with 401.
 * Bivariant, so a callback written for `@types/ws`'s `origin: string` is accepted.
 */
export type VerifyClientCallbackSync<Request extends http.IncomingMessage = http.IncomingMessage> = BivariantCallback<[info: VerifyClientInfo<Request>], boolean>;

/**
 * `verifyClient` answering later through `callback(result, code = 401, message?, headers?)`;
 * a refusal is sent with that status, message and headers.
 */
export type VerifyClientCallbackAsync<Request extends http.IncomingMessage = http.IncomingMessage> = BivariantCallback<[
  info: VerifyClientInfo<Request>,
  callback: (result: boolean, code?: number, message?: string, headers?: http.OutgoingHttpHeaders) => void,
]>;

/**
 * `finishRequest(request, websocket)`: last changes to the client's handshake request; it must
 * call `request.end()` itself.
 */
export type FinishRequestCallback<W> = (request: http.ClientRequest, websocket: W) => void;

/** The WHATWG `Event` given to `onopen` and 'open' listeners of `addEventListener`. */
export interface Event<W> {
  /** 'open', 'message', 'close' or 'error'. */
  type: string;
  /** The connection that fired it. */
  target: W;
  /** The same as `target` (DOM). */
  currentTarget: W;
}

/** The WHATWG `ErrorEvent` of `onerror`. */
export interface ErrorEvent<W> extends Event<W> {
  /** The error. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as @types/ws: any thrown value
  error: any;
  /** The error's message. */
  message: string;
}

/** The WHATWG `CloseEvent` of `onclose`. */
export interface CloseEvent<W> extends Event<W> {
  /** True when the close handshake completed (RFC 6455 §7.1.4). */
  wasClean: boolean;
  /** Close code; 1005 when the close frame had none, 1006 when no close frame came (§7.1.5). */
  code: number;
  /** Close reason, as text. */
  reason: string;
}

/** The WHATWG `MessageEvent` of `onmessage`. */
export interface MessageEvent<W> extends Event<W> {
  /** The message: a string for text; binary as `binaryType` says. */
  data: Data;
}

/** The WHATWG events by name, for `addEventListener`. */
export interface WebSocketEventMap<W> {
  open: Event<W>;
  error: ErrorEvent<W>;
  close: CloseEvent<W>;
  message: MessageEvent<W>;
}

/** Options of `addEventListener`. */
export interface EventListenerOptions {
  /** Remove the listener after its first call. */
  once?: boolean | undefined;
}

/** A WHATWG listener for `K`: a function or an object with `handleEvent`. */
export type WebSocketEventListener<W, K extends keyof WebSocketEventMap<W>> =
  | ((event: WebSocketEventMap<W>[K]) => void)
  | { handleEvent(event: WebSocketEventMap<W>[K]): void };

/** The bound address of a server, as `server.address()` returns it in port mode. */
export interface AddressInfo {
  /** The address bound. */
  address: string;
  /** 'IPv4' or 'IPv6'. */
  family: string;
  /** The port bound. */
  port: number;
}

/**
 * Options of `ws` 8 that both constructors accept and Parley's own option lists do not name.
 * `maxBufferedChunks` bounds `ws`'s list of received chunks; Parley's receiver keeps no such list
 * (messages are bounded by `maxPayload` and `maxFragments`), so it is accepted and unused.
 */
export interface WsCompatOptions {
  /** Accepted for `ws` compatibility; unused (see above). */
  maxBufferedChunks?: number | undefined;
}

/** Client options of `ws` 8 that Parley's client option list does not name otherwise. */
export interface WsClientCompatOptions<W> extends WsCompatOptions {
  /** Last changes to the handshake request; the callback must call `request.end()`. */
  finishRequest?: FinishRequestCallback<W> | undefined;
  /**
   * Makes the handshake's connection, as `http.request`'s option does; `net.createConnection` or
   * `tls.connect` themselves are accepted, as in `ws`.
   */
  createConnection?: typeof net.createConnection | typeof tls.connect | http.RequestOptions['createConnection'] | undefined;
  /** Fills `mask` with the masking key of the next frame (`ws`'s hook for tests and benchmarks). */
  generateMask?(mask: Buffer): void;
}
