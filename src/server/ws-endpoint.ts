/**
 * The connection lifecycle of `/ws`, the server's own real-time endpoint: its real-time server
 * (authentication, topic policies, history, limits), what every connection gets once the pipeline
 * has opened it (the user's topic, an end at the token's expiry), and disconnecting a user on
 * this server and, through the control topic, on every server of the cluster.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type ClusterAdapter, type HistoryLimits } from '../index.js';
import { isHttp2Stream } from '../node/http2-stream.js';
import { refuseUpgrade } from '../node/refuse-upgrade.js';
import type { ServerConfig } from './config.js';
import type { ServerConnection } from './connection.js';
import { CONTROL_TOPIC, ControlChannel } from './control.js';
import { LimitCode } from './limits.js';
import { redactUrl } from './logger.js';
import { MeteredAdapter } from './metered-adapter.js';
import type { ServerMetrics } from './metrics.js';
import type { ConnectionPipeline } from './pipeline.js';
import { AuthError, type Identity, type TokenAuth } from './token-auth.js';
import { userTopic } from './user-topic.js';

/** What the `/ws` endpoint is built from. */
export interface WsEndpointOptions {
  config: Pick<ServerConfig, 'limits' | 'ws' | 'history'>;
  auth: TokenAuth;
  pipeline: ConnectionPipeline;
  metrics: ServerMetrics;
  log: Logger;
  /** The cluster adapter (metered here: the server's publish counters). */
  adapter: ClusterAdapter;
  /** The client address of a request, for the log. */
  clientAddress: (req: http.IncomingMessage) => string;
}

/** The `/ws` endpoint, as the routes, the HTTP API and the shutdown use it. */
export interface WsEndpoint {
  /** The real-time server behind `/ws`. */
  readonly wss: WebSocketServer;
  /** The history limits of its topics (the HTTP API's history route reads with them). */
  readonly history: HistoryLimits;
  /** Takes an upgrade of `/ws` through the pipeline. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes `user`'s `/ws` connections on this server; how many. */
  disconnectLocal(user: string, code: number, reason: string): number;
  /** Closes `user`'s `/ws` connections on every server of the cluster; how many on this one. */
  readonly disconnect: (user: string, code: number, reason: string) => number;
  /** Stops the control channel and the real-time server (the connections are drained before). */
  close(): void;
}

/** Ends `ws` with 1008 when its token expires: a revoked user cannot stay connected forever. */
function endAtExpiry(ws: ServerConnection, expiresAtSec: number): void {
  const expiresAt = expiresAtSec * 1000;
  let timer: NodeJS.Timeout | undefined;
  // Timers hold at most ~24.8 days: a longer wait is taken in steps.
  const arm = (): void => {
    const ms = expiresAt - Date.now();
    timer = ms <= 0 ? undefined : setTimeout(arm, Math.min(ms, 2 ** 31 - 1));
    timer?.unref();
    if (ms <= 0) ws.close(LimitCode.policy, 'token expired');
  };
  arm();
  ws.once('close', () => clearTimeout(timer));
}

/** Builds the `/ws` endpoint. */
export function createWsEndpoint(options: WsEndpointOptions): WsEndpoint {
  const { config, auth, pipeline, metrics, log } = options;
  const { limits } = config;
  const history: HistoryLimits = { maxCount: config.history.maxCount, maxAge: config.history.maxAgeMs };
  const wss = new WebSocketServer({
    noServer: true,
    WebSocket: pipeline.WebSocket,
    maxPayload: limits.maxMessageBytes,
    heartbeat: config.ws.heartbeatMs > 0 ? { interval: config.ws.heartbeatMs } : undefined,
    authenticate: async (req) => {
      try {
        return await auth.authenticate(req);
      } catch (error) {
        const reason = error instanceof AuthError ? error.reason : 'error';
        metrics.handshakeFailures.inc({ reason });
        log.info({ reason, ip: options.clientAddress(req), url: redactUrl(req.url) }, 'handshake refused: authentication');
        throw error;
      }
    },
    realtime: {
      adapter: new MeteredAdapter(options.adapter, metrics.totals),
      history,
      // The control topic keeps no history: a command is for the servers running now.
      topics: (topic) => (topic === CONTROL_TOPIC ? { history: false } : { policy: limits.slowConsumerPolicy, maxQueuedBytes: limits.maxQueuedBytes }),
      authorize: (ws, action, topic) => auth.allows(ws.data as Identity, action, topic),
      limits: { maxEnvelopeBytes: limits.maxMessageBytes, maxPresenceBytes: limits.maxPresenceBytes },
    },
  });
  wss.on('wsClientError', (error: Error & { status?: number }, socket: Duplex) => {
    metrics.handshakeFailures.inc({ reason: 'bad_request' });
    refuseUpgrade(socket, error.status ?? 400, error.message);
  });
  wss.on('handlerError', (error: unknown) => log.error({ err: error }, 'real-time hook failed'));

  /** What `/ws` adds to a connection the pipeline opened. */
  const onConnection = (ws: ServerConnection): void => {
    const identity = ws.data as Identity;
    // Every connection of a user hears what is published to that user (HTTP API: /api/users/:id/publish).
    // Any `sub` is a user id; userTopic encodes it into a valid topic name.
    if (identity.user !== undefined) ws.subscribe(userTopic(identity.user));
    if (identity.expiresAt !== undefined) endAtExpiry(ws, identity.expiresAt);
  };

  const disconnectLocal = (user: string, code: number, reason: string): number => {
    let n = 0;
    for (const ws of pipeline.connections) {
      // Apps' users are another namespace: only /ws connections are this user's.
      if (ws.endpoint === '/ws' && (ws.data as Identity | undefined)?.user === user) {
        ws.close(code, reason);
        n++;
      }
    }
    log.info({ user, code, connections: n }, 'user disconnected');
    return n;
  };
  const control = new ControlChannel(wss, { disconnect: disconnectLocal }, (error) => log.warn({ err: error }, 'unreadable control command'));

  return {
    wss,
    history,
    upgrade(req, socket, head) {
      pipeline.accept(wss, req, socket, head, (conn) => {
        metrics.connectionsByTransport.inc({ transport: isHttp2Stream(socket) ? 'h2' : 'h1' });
        onConnection(conn);
        wss.emit('connection', conn, req);
      }, config.ws.origins);
    },
    disconnectLocal,
    disconnect(user, code, reason) {
      // The user may be connected to other servers of the cluster too: they hear it on the control topic.
      control.disconnect(user, code, reason);
      return disconnectLocal(user, code, reason);
    },
    close() {
      control.close();
      wss.close();
      wss.pubsub.close();
    },
  };
}
