/**
 * `WebSocketServer`: accepts upgrades in the three modes of `ws` (its own HTTP server on `port`,
 * attached to an existing `http`/`https` server, or `noServer` with `handleUpgrade`), with
 * Parley's additions: an origin allow-list, async authentication whose result reaches the
 * connection, a heartbeat, a handshake deadline and `shutdown()` with 1001.
 *
 * This file is the class: the modes, the order of the handshake's checks, client tracking, close
 * and shutdown. Its options are server-options.ts, the handshake's Node pieces
 * server-handshake.ts, `verifyClient` and `authenticate` upgrade-hooks.ts.
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import type { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CloseCode,
  ErrorCode,
  InvalidStateError,
  acceptResponseLines,
  formatResponseHead,
  negotiateDeflateAsServer,
  validateExtendedConnect,
  validateUpgradeRequest,
  type DeflateAgreement,
  type HandshakeError,
} from '../protocol/index.js';
import { Heartbeat } from './heartbeat.js';
import { requestPath } from './request-path.js';
import { acceptStream, attachHttp2, isHttp2Server, isHttp2Stream, streamResponseLines } from './http2-server.js';
import { httpModule } from './node-http.js';
import { kAdoptConnection, kAttach, kObserveClose, kSetNegotiated, type CloseObserver } from './internal.js';
import type { ConnectionSettings } from './settings.js';
import { WebSocket } from './websocket.js';
import type { DeflateSettings } from './deflate-options.js';
import { PreparedMessage, prepareMessage } from './prepared-message.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import { abortHandshake, answerPlainRequest, destroyOnError, headerLookup, serverAcceptKey } from './server-handshake.js';
import { runUpgradeHooks } from './upgrade-hooks.js';
import type { Data } from './buffers.js';
import type { WebSocketServerEvents } from './websocket-events.js';

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;
const HANDSHAKING = Symbol('parley.handshaking');

/**
 * A WebSocket server with the API of `ws` 8. `T` is the class of its connections (the
 * `WebSocket` option), `U` that of the upgrade requests, as in `@types/ws`.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds typed event overloads only
export class WebSocketServer<
  T extends typeof WebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends EventEmitter {
  /**
   * Connected clients. Typed as `@types/ws` types it; as in `ws`, it is `undefined` (not a Set)
   * when `clientTracking` is false.
   */
  clients!: Set<InstanceType<T>>;
  /** The options given, with defaults for those `ws` exposes. */
  readonly options: ServerOptions<T, U>;

  #server: NonNullable<ServerOptions['server']> | undefined;
  #ownServer = false;
  #removeListeners: (() => void) | undefined;
  #state = RUNNING;
  #settings: ConnectionSettings;
  #heartbeat: Heartbeat | undefined;
  #handshakeTimeout: number;
  #Ctor: typeof WebSocket;
  #deflate: DeflateSettings | undefined;
  /**
   * Told of every tracked connection's close, before its own 'close' listeners run: one object
   * for the server instead of a `once('close')` wrapper and closure per connection.
   */
  readonly #closeObserver: CloseObserver = {
    connectionClosed: (ws) => {
      this.#heartbeat?.delete(ws as WebSocket);
      const clients = this.clients;
      if (clients === undefined) return;
      clients.delete(ws as InstanceType<T>);
      if (this.#state === CLOSING && clients.size === 0 && !this.#ownServer) this.#emitClose();
    },
  };

  /**
   * @param options - exactly one of `port`, `server` or `noServer`
   * @param callback - called on 'listening' in port mode
   * @throws TypeError when the options are inconsistent
   */
  constructor(options: ServerOptions<T, U>, callback?: () => void) {
    super({ captureRejections: true });
    const setup = resolveServerOptions(options);
    const o = setup.options;
    this.options = o;
    this.#deflate = setup.deflate;
    this.#settings = setup.settings;
    if (setup.heartbeat !== undefined) this.#heartbeat = new Heartbeat(setup.heartbeat.interval, setup.heartbeat.timeout);
    this.#handshakeTimeout = setup.handshakeTimeout;
    this.#Ctor = setup.Ctor;
    if (o.clientTracking === true) this.clients = new Set();

    if (o.port !== undefined) {
      const server = httpModule.createServer({
        // Sockets that connect and trickle or send nothing are cut at the deadline (§2, §6).
        headersTimeout: this.#handshakeTimeout,
        requestTimeout: this.#handshakeTimeout,
        connectionsCheckingInterval: Math.min(1000, this.#handshakeTimeout),
      }, answerPlainRequest);
      server.listen(o.port, o.host, o.backlog, callback);
      this.#server = server;
      this.#ownServer = true;
    } else if (o.server !== undefined) {
      this.#server = o.server;
    }
    if (this.#server !== undefined) {
      const server = this.#server;
      const onListening = (): void => { this.emit('listening'); };
      const onError = (error: Error): void => { this.emit('error', error); };
      // One callback for every upgrade, not a closure per upgrade: it is given the request.
      const onConnection = (ws: InstanceType<T>, req: InstanceType<U>): void => this.#emitConnection(ws, req);
      // The attached server is an http.Server<U>: its requests are U's instances.
      const onUpgrade = (req: InstanceType<U>, socket: Duplex, head: Buffer): void => {
        this.handleUpgrade(req, socket, head, onConnection);
      };
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      // HTTP/2 (RFC 8441): extended-CONNECT streams take the same path as upgrades (http2-server.ts).
      // An HTTP/2 request is Node's compatibility request, not one of U's instances.
      const detachHttp2 = isHttp2Server(server) ? attachHttp2(server, this, onConnection as (ws: InstanceType<T>, req: http.IncomingMessage) => void) : undefined;
      this.#removeListeners = () => {
        detachHttp2?.();
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      };
    }
  }

  /** The HTTP server in port or server mode (`ws`'s `_server`), else null. Read-only. */
  get _server(): NonNullable<ServerOptions['server']> | null {
    return this.#server ?? null;
  }

  /** 0 running, 1 closing, 2 closed (`ws`'s `_state`, same numbers). Read-only. */
  get _state(): number {
    return this.#state;
  }

  /** The bound address, as `server.address()`. @throws Error in noServer mode */
  address(): AddressInfo | string | null {
    if (this.options.noServer === true) throw new Error('The server is operating in "noServer" mode');
    return this.#server?.address() ?? null;
  }

  /** Whether `req` is for this server (its `path`, if set). */
  shouldHandle(req: InstanceType<U>): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    return requestPath(req.url) === path;
  }

  /**
   * Completes (or refuses) the upgrade of `req`. On success `callback(ws, req)` runs with the
   * open connection.
   */
  handleUpgrade(req: InstanceType<U>, socket: Duplex, head: Buffer, callback: (ws: InstanceType<T>, req: InstanceType<U>) => void): void {
    const tagged = socket as Duplex & { [HANDSHAKING]?: boolean };
    if (tagged[HANDSHAKING] === true) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    tagged[HANDSHAKING] = true;
    // Node's HTTP server removed its own 'error' listener when it handed the socket over: until
    // the connection is open (or the refusal written) an error must not go unhandled.
    socket.on('error', destroyOnError);

    const header = headerLookup(req.headers);
    let request;
    try {
      request = isHttp2Stream(socket) ? validateExtendedConnect(header) : validateUpgradeRequest(req.method ?? '', header);
    } catch (error) {
      if (this.listenerCount('wsClientError') > 0) {
        this.emit('wsClientError', error, socket, req);
        return;
      }
      const e = error as HandshakeError;
      abortHandshake(socket, e.status, e.message);
      return;
    }
    if (!this.shouldHandle(req)) {
      abortHandshake(socket, 400);
      return;
    }
    const allowed = this.options.origins;
    if (allowed !== undefined) {
      const origin = header('origin');
      if (!(typeof allowed === 'function' ? allowed(origin, req) : origin === undefined || allowed.includes(origin))) {
        abortHandshake(socket, 403, 'Origin not allowed');
        return;
      }
    }
    let protocol: string | undefined;
    if (request.protocols.length > 0 && this.options.handleProtocols !== undefined) {
      const chosen = this.options.handleProtocols(new Set(request.protocols), req);
      if (chosen !== false) protocol = chosen;
    } else if (request.protocols.length > 0) {
      protocol = request.protocols[0];
    }
    // RFC 7692 §7.1: the first acceptable offer wins; invalid ones are declined, never refused.
    const deflate = this.#deflate === undefined ? undefined : negotiateDeflateAsServer(request.extensions, this.#deflate.negotiation);

    if (this.options.verifyClient === undefined && this.options.authenticate === undefined) {
      // No hook to wait for: the upgrade completes now, with no deadline timer and no closures
      // (garbage per handshake is what the connection burst's young generation grows on).
      socket.removeListener('error', destroyOnError);
      this.#completeUpgrade(request.key, protocol, deflate, undefined, req, socket, head, callback);
      return;
    }
    // The slow path: verifyClient, then authenticate, under the handshake deadline.
    runUpgradeHooks(this.options, this.#handshakeTimeout, header, req, socket, (data) => {
      this.#completeUpgrade(request.key, protocol, deflate, data, req, socket, head, callback);
    });
  }

  #completeUpgrade(key: string, protocol: string | undefined, deflate: DeflateAgreement | undefined, data: unknown, req: InstanceType<U>, socket: Duplex, head: Buffer, callback: (ws: InstanceType<T>, req: InstanceType<U>) => void): void {
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (this.#state !== RUNNING) {
      abortHandshake(socket, 503);
      return;
    }
    const h2 = isHttp2Stream(socket);
    const lines = h2 ? streamResponseLines(protocol, deflate?.header) : acceptResponseLines(serverAcceptKey(key), protocol, deflate?.header);
    this.emit('headers', lines, req);
    if (h2) acceptStream(socket, lines);
    else socket.write(formatResponseHead(lines));

    const ws = new this.#Ctor(null);
    ws.data = data;
    // `extensions` names the agreed extensions, as `ws` reports them; the parameters are in the response.
    ws[kSetNegotiated](protocol ?? '', deflate === undefined ? '' : 'permessage-deflate', deflate === undefined ? undefined : { params: deflate.params, settings: this.#deflate! });
    ws[kAttach](socket, head, this.#settings);
    this.clients?.add(ws as InstanceType<T>);
    this.#heartbeat?.add(ws);
    if (this.clients !== undefined || this.#heartbeat !== undefined) ws[kObserveClose](this.#closeObserver);
    this[kAdoptConnection](ws);
    // The connection is an instance of the `WebSocket` option, T.
    callback(ws as InstanceType<T>, req);
  }

  /** @internal A new connection, before its callback and 'connection'; subclasses add to it. */
  [kAdoptConnection](ws: WebSocket): void {
    void ws;
  }

  /** Emits 'connection'; a listener that throws closes that connection with 1011, not the process. */
  #emitConnection(ws: InstanceType<T>, req: InstanceType<U>): void {
    try {
      this.emit('connection', ws, req);
    } catch (error) {
      ws.close(CloseCode.InternalError);
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: ErrorCode.INVALID_STATE });
    }
  }

  /**
   * Sends one message to every open client (`clientTracking` must be on). The frame is encoded
   * once and the same bytes go to every client, batched per client until the end of the
   * event-loop turn. Connections that agreed permessage-deflate get it compressed, also once (see
   * docs/permessage-deflate.md). `data` may be a {@link PreparedMessage} made earlier.
   * @returns the number of clients the message was queued for
   */
  broadcast(data: Data | PreparedMessage, options: { binary?: boolean; except?: WebSocket } = {}): number {
    const clients = this.clients;
    if (clients === undefined) throw new TypeError('broadcast needs clientTracking');
    const message = data instanceof PreparedMessage ? data : prepareMessage(data, options);
    let n = 0;
    for (const ws of clients) {
      if (ws !== options.except && ws.readyState === WebSocket.OPEN) {
        ws.send(message);
        n++;
      }
    }
    return n;
  }

  /**
   * Stops accepting connections and closes the HTTP server if this server created it (as `ws` 8:
   * open connections are not closed; see {@link WebSocketServer.shutdown}). Emits 'close'.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.#state === CLOSED) {
      // As `ws`: closing a closed server emits 'close' again, and the callback learns it was not running.
      if (callback !== undefined) this.once('close', () => callback(new InvalidStateError('The server is not running')));
      process.nextTick(() => this.emit('close'));
      return;
    }
    if (callback !== undefined) this.once('close', callback);
    if (this.#state === CLOSING) return;
    this.#state = CLOSING;
    this.#removeListeners?.();
    this.#removeListeners = undefined;
    this.#heartbeat?.stop();
    if (this.#ownServer) {
      this.#server!.close(() => this.#emitClose());
    } else if (this.clients === undefined || this.clients.size === 0) {
      process.nextTick(() => this.#emitClose());
    }
  }

  /**
   * Graceful shutdown: refuses new upgrades, sends every client a close frame (1001 Going Away by
   * default, or 1012 Service Restart), waits up to `timeout` ms for the close handshakes, then
   * terminates whatever is left and closes the server.
   */
  async shutdown(options: { code?: number; reason?: string; timeout?: number } = {}): Promise<void> {
    const { code = CloseCode.GoingAway, reason = 'server shutting down', timeout = 5_000 } = options;
    const clients = [...(this.clients ?? [])];
    // Every connection's own 'close' is awaited: in port mode the HTTP server's close callback
    // does not wait for upgraded sockets.
    const allClosed = Promise.all(clients.map((ws) => (ws.readyState === WebSocket.CLOSED ? Promise.resolve() : new Promise<void>((resolve) => ws.once('close', () => resolve())))));
    const serverClosed = new Promise<void>((resolve) => this.close(() => resolve()));
    for (const ws of clients) ws.close(code, reason);
    const timer = setTimeout(() => { for (const ws of clients) ws.terminate(); }, timeout);
    timer.unref();
    await Promise.all([allClosed, serverClosed]);
    clearTimeout(timer);
  }

  #emitClose(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.emit('close');
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the catch-all overloads mirror EventEmitter's own signatures */
/**
 * Typed event methods, as in `@types/ws`: an event of {@link WebSocketServerEvents} types its
 * listener's arguments (connections are `T`'s instances); any other name takes any listener.
 */
export interface WebSocketServer<T extends typeof WebSocket, U extends typeof http.IncomingMessage> {
  on<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof ServerEvents<T, U>>(event: K, listener: (this: this, ...args: ServerEvents<T, U>[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The server's events for connections of class `T` and requests of class `U`. */
type ServerEvents<T extends typeof WebSocket, U extends typeof http.IncomingMessage> = WebSocketServerEvents<InstanceType<T>, InstanceType<U>>;
