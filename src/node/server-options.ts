/**
 * The options of `WebSocketServer`: those of `ws` 8 and Parley's additions, and their checks at
 * construction (bad configuration throws `TypeError`/`RangeError` there, never later).
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import { resolveHeartbeat, resolveSettings, type ConnectionOptions, type ConnectionSettings, type HeartbeatOptions } from './settings.js';
import { WebSocket } from './websocket.js';
import { resolvePerMessageDeflate, type DeflateSettings, type PerMessageDeflateOptions } from './deflate-options.js';
import type { VerifyClientCallbackAsync, VerifyClientCallbackSync, WsCompatOptions } from './ws-types.js';

/** `verifyClient` in either of its `ws` forms: synchronous, or with a callback (told apart by arity, as `ws` does). */
export type VerifyClient<Request extends http.IncomingMessage = http.IncomingMessage> = VerifyClientCallbackSync<Request> | VerifyClientCallbackAsync<Request>;

/**
 * Options of `WebSocketServer`: those of `ws` 8 and Parley's additions. `T` is the class of
 * the connections (the `WebSocket` option), `U` that of the requests (Node's `IncomingMessage`
 * option of an attached server), as in `@types/ws`.
 */
export interface ServerOptions<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends ConnectionOptions, WsCompatOptions {
  /** Host to listen on in port mode. */
  host?: string;
  /** Port to listen on (creates an HTTP server). */
  port?: number;
  /** Listen backlog in port mode. */
  backlog?: number;
  /**
   * An existing HTTP(S) server to attach to, or an HTTP/2 one (`node:http2`): then RFC 8441
   * extended-CONNECT streams are accepted too (docs/http2.md).
   */
  server?: http.Server<U> | https.Server<U> | import('node:http2').Http2Server | import('node:http2').Http2SecureServer;
  /** Create no server; call `WebSocketServer.handleUpgrade` yourself. */
  noServer?: boolean;
  /** Accept upgrades only on this path. */
  path?: string;
  /** `ws`'s hook to accept or refuse a client. */
  verifyClient?: VerifyClient<InstanceType<U>>;
  /** Chooses a subprotocol from those offered; return `false` to choose none. */
  handleProtocols?: (protocols: Set<string>, req: InstanceType<U>) => string | false;
  /** Keep connected clients in `clients`. Default true. */
  clientTracking?: boolean;
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, or options (see docs/permessage-deflate.md).
   * Default false: offers are declined and connections open uncompressed (as `ws`).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** The class to instantiate for connections (a subclass of {@link WebSocket}). */
  WebSocket?: T;
  /** Accepted for `ws` compatibility; messages are always delivered as they parse. */
  allowSynchronousEvents?: boolean;
  /**
   * Allowed `Origin` values, or a predicate. Requests from other origins get 403 before any
   * upgrade (bad-input guide §5). Requests without `Origin` (non-browser clients) pass unless
   * the predicate says otherwise.
   */
  origins?: readonly string[] | ((origin: string | undefined, req: InstanceType<U>) => boolean);
  /**
   * Async authentication. Its result becomes `ws.data`; returning `false` or throwing refuses the
   * upgrade with 401 (or the thrown error's numeric `status`).
   */
  authenticate?: (req: InstanceType<U>) => unknown;
  /** Ping idle clients and terminate dead ones. */
  heartbeat?: HeartbeatOptions;
  /** Ms allowed from connection to completed upgrade (headers, verification, authentication). Default 10,000. */
  handshakeTimeout?: number;
}

/** Default `handshakeTimeout`, in ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** {@link ServerOptions} checked, with what the server runs on resolved once. */
export interface ServerSetup<T extends typeof WebSocket, U extends typeof http.IncomingMessage> {
  /** The options given, with defaults for those `ws` exposes (`clientTracking`). */
  options: ServerOptions<T, U>;
  /** permessage-deflate settings; `undefined` when offers are declined. */
  deflate: DeflateSettings | undefined;
  /** What every accepted connection is attached with. */
  settings: ConnectionSettings;
  /** The heartbeat's timings, when on. */
  heartbeat: Required<HeartbeatOptions> | undefined;
  /** Ms from connection to completed upgrade. */
  handshakeTimeout: number;
  /** The class of the connections. */
  Ctor: typeof WebSocket;
}

/**
 * Checks a server's options in the order `ws` does (the mode first, with `ws`'s own message).
 * @throws TypeError when the options are inconsistent, RangeError for a value out of range
 */
export function resolveServerOptions<T extends typeof WebSocket, U extends typeof http.IncomingMessage>(options: ServerOptions<T, U>): ServerSetup<T, U> {
  const o: ServerOptions<T, U> = { clientTracking: true, ...options };
  const modes = [o.port !== undefined, o.server !== undefined, o.noServer === true].filter(Boolean).length;
  if (modes !== 1) {
    throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
  }
  const deflate = resolvePerMessageDeflate(o.perMessageDeflate);
  const settings = resolveSettings(o);
  const heartbeat = resolveHeartbeat(o.heartbeat);
  const handshakeTimeout = o.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (!(handshakeTimeout > 0)) throw new RangeError('handshakeTimeout must be above 0');
  return { options: o, deflate, settings, heartbeat, handshakeTimeout, Ctor: o.WebSocket ?? WebSocket };
}
