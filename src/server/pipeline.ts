/**
 * The one path every WebSocket that `parley serve` accepts takes — its own `/ws` and `/admin/ws`
 * and every hosted app's endpoints alike:
 *
 * 1. admission: refused while shutting down (503), when the client address opens connections
 *    faster than `limits.connectionsPerIpPerSecond` (429), when `limits.maxConnections` are open
 *    or being opened (503), and for an `Origin` the endpoint does not allow (403);
 * 2. the handshake, by the endpoint's own `WebSocketServer`, whose connections are of the
 *    pipeline's class ({@link connectionClass}: the message rate, message counts);
 * 3. registration: the connection is counted (`parley_connections{endpoint}`), listed on the
 *    admin page, logged, and closed with the shutdown code by a graceful shutdown.
 *
 * Apps reach it through {@link AppSockets} (their contract), never through this module.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { WebSocket, WebSocketServer } from '../index.js';
import type { WebSocketServer as NodeWebSocketServer } from '../node/index.js';
import { refuseUpgrade } from '../node/refuse-upgrade.js';
import { requestPath } from '../node/request-path.js';
import type { AppSockets } from './app.js';
import type { ServerConfig } from './config.js';
import { connectionClass, type ServerConnection } from './connection.js';
import { AddressRateLimiter, LimitCode } from './limits.js';
import { redactUrl } from './logger.js';
import { originAllowed, type OriginPolicy } from './origin.js';
import type { ServerMetrics } from './metrics.js';

/** What the pipeline needs from its server. */
export interface PipelineOptions {
  limits: ServerConfig['limits'];
  /** The client address of a request (the socket's, or the proxy's header when trusted). */
  clientAddress: (req: http.IncomingMessage) => string;
  metrics: ServerMetrics;
  log: Logger;
  /** Whether the server is shutting down (then every upgrade is refused). */
  shuttingDown: () => boolean;
  /** The close code of a connection that completes its handshake after shutdown began. */
  closeCode: number;
}

/** Open connections by endpoint and protocol, for `parley_connections`. */
export interface ConnectionCount {
  endpoint: string;
  protocol: string;
  count: number;
}

/** The server's connection pipeline: one per server. */
export class ConnectionPipeline {
  /** Every open connection the server accepted, on any endpoint. */
  readonly connections = new Set<ServerConnection>();
  /** The connection class every endpoint's `WebSocketServer` must be given. */
  readonly WebSocket: typeof WebSocket;
  readonly #options: PipelineOptions;
  readonly #rate: AddressRateLimiter;
  readonly #closedBytes = { read: 0, written: 0 };
  #pending = 0;

  /** @param options - limits, metrics, log and the server's state */
  constructor(options: PipelineOptions) {
    this.#options = options;
    const { limits, metrics, log } = options;
    this.#rate = new AddressRateLimiter(limits.connectionsPerIpPerSecond, limits.connectionBurstPerIp);
    this.WebSocket = connectionClass({
      totals: metrics.totals,
      rate: { perSecond: limits.messagesPerSecond, burst: limits.messageBurst },
      onRateExceeded(ws) {
        metrics.limitCloses.inc({ limit: 'message_rate' });
        log.warn({ conn: ws.connectionId, user: ws.realtimeUser, ip: ws.address, endpoint: ws.endpoint }, 'message rate exceeded: closing with 1008');
      },
      onRecovery(recovered) {
        metrics.recoveries.inc({ outcome: recovered ? 'recovered' : 'reset' });
      },
    });
  }

  /** Handshakes admitted and not yet finished. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Answers a refused upgrade with `status` and ends the socket.
   * @param reason - the `parley_handshake_failures_total` label
   */
  refuse(socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}): void {
    this.#options.metrics.handshakeFailures.inc({ reason });
    refuseUpgrade(socket, status, undefined, headers);
  }

  /**
   * Takes an upgrade for `server` (whose `WebSocket` option must be {@link WebSocket}): admission,
   * the handshake, registration, then `onOpen`. The socket is always answered.
   * @param origin - the `Origin`s this endpoint accepts (checked here, before the handshake)
   */
  accept(
    server: NodeWebSocketServer,
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onOpen: (ws: ServerConnection, req: http.IncomingMessage) => void,
    origin?: OriginPolicy,
  ): void {
    const { limits, log, shuttingDown } = this.#options;
    const ip = this.#options.clientAddress(req);
    const endpoint = requestPath(req.url);
    if (shuttingDown()) return this.refuse(socket, LimitCode.shuttingDownStatus, 'shutting_down', { 'Retry-After': '1' });
    const wait = this.#rate.attempt(ip);
    if (wait > 0) {
      log.info({ ip, endpoint }, 'handshake refused: connection rate');
      return this.refuse(socket, LimitCode.rateStatus, 'rate_limited', { 'Retry-After': String(wait) });
    }
    if (this.connections.size + this.#pending >= limits.maxConnections) {
      log.warn({ ip, endpoint, max: limits.maxConnections }, 'handshake refused: max connections');
      return this.refuse(socket, LimitCode.fullStatus, 'max_connections', { 'Retry-After': '5' });
    }
    if (origin !== undefined && !originAllowed(origin, req.headers.origin, req)) {
      log.info({ ip, endpoint }, 'handshake refused: origin');
      return this.refuse(socket, 403, 'origin');
    }
    // Handshakes in progress count against maxConnections: authentication may be asynchronous,
    // and a burst of slow handshakes must not overshoot the limit.
    this.#pending++;
    let pending = true;
    const settle = (): void => {
      if (pending) {
        pending = false;
        this.#pending--;
      }
    };
    socket.once('close', settle);
    server.handleUpgrade(req, socket, head, (ws) => {
      settle();
      socket.removeListener('close', settle);
      if (!(ws instanceof this.WebSocket)) {
        // A server not built with the pipeline's class would escape the message rate and the
        // counts: refuse its connections rather than serve them unlimited.
        log.error({ endpoint }, 'endpoint server lacks the pipeline\'s WebSocket class: connection closed');
        ws.close(1011);
        return;
      }
      const conn = ws as ServerConnection;
      conn.transport = socket;
      conn.address = ip;
      conn.endpoint = endpoint;
      if (shuttingDown()) {
        conn.close(this.#options.closeCode, 'server shutting down');
        return;
      }
      this.#register(conn, req);
      // Nothing on a connection's path may throw past the server: a failure here (a bug, an
      // application listener) closes this connection with 1011 and the rest carry on.
      try {
        onOpen(conn, req);
      } catch (error) {
        log.error({ err: error, conn: conn.connectionId, endpoint }, 'connection setup failed: closing with 1011');
        conn.close(1011, 'internal error');
      }
    });
  }

  /** The pipeline as an app sees it ({@link AppSockets}): admission with no origin check of its own. */
  appSockets(): AppSockets {
    return {
      WebSocket: this.WebSocket,
      handleUpgrade: (server: WebSocketServer, req, socket, head, onConnection) => this.accept(server, req, socket, head, onConnection),
    };
  }

  /** Open connections by endpoint and protocol. */
  counts(): ConnectionCount[] {
    const by = new Map<string, ConnectionCount>();
    for (const ws of this.connections) {
      const protocol = ws.protocol === 'parley.v1' ? 'parley.v1' : 'plain';
      const key = `${ws.endpoint} ${protocol}`;
      const found = by.get(key);
      if (found !== undefined) found.count++;
      else by.set(key, { endpoint: ws.endpoint, protocol, count: 1 });
    }
    return [...by.values()];
  }

  /** Wire bytes read and written by every connection so far, closed ones included. */
  bytes(): { read: number; written: number } {
    let { read, written } = this.#closedBytes;
    for (const ws of this.connections) {
      const socket = ws.transport as Socket | undefined;
      read += socket?.bytesRead ?? 0;
      written += socket?.bytesWritten ?? 0;
    }
    return { read, written };
  }

  /** Bytes queued for every connection, and how many are over `limits.maxQueuedBytes`. */
  backlog(): { queued: number; slow: number } {
    let queued = 0;
    let slow = 0;
    for (const ws of this.connections) {
      queued += ws.bufferedAmount;
      if (ws.bufferedAmount > this.#options.limits.maxQueuedBytes) slow++;
    }
    return { queued, slow };
  }

  #register(ws: ServerConnection, req: http.IncomingMessage): void {
    const { metrics, log } = this.#options;
    this.connections.add(ws);
    metrics.connectionsOpened.inc();
    const clog = log.child({ conn: ws.connectionId });
    clog.info({ user: ws.realtimeUser, ip: ws.address, endpoint: ws.endpoint, protocol: ws.protocol || 'plain', url: redactUrl(req.url) }, 'connection opened');
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WS_MESSAGE_TOO_BIG') metrics.limitCloses.inc({ limit: 'message_size' });
      clog.debug({ err: error.message, code: error.code }, 'connection error');
    });
    ws.once('close', (code: number) => {
      this.connections.delete(ws);
      const socket = ws.transport as Socket | undefined;
      this.#closedBytes.read += socket?.bytesRead ?? 0;
      this.#closedBytes.written += socket?.bytesWritten ?? 0;
      ws.transport = undefined;
      clog.info({ code, in: ws.counts.in, out: ws.counts.out, ms: Date.now() - ws.openedAt }, 'connection closed');
    });
  }
}
