/**
 * `parley serve` assembled: one HTTP server carrying the real-time WebSocket endpoint at `/ws`,
 * the HTTP API at `/api/*`, `/metrics`, `/healthz`, `/readyz`, the admin page at `/admin`, and
 * every hosted app under `/<name>`. {@link startServer} returns a handle whose `close()` is the
 * graceful shutdown.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import { httpModule } from '../node/node-http.js';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { DestinationStream, Logger } from 'pino';
import { InMemoryAdapter, WebSocketServer, type ClusterAdapter, type HistoryLimits } from '../index.js';
import { isHttp2Stream } from '../node/http2-stream.js';
import { buildErrorResponse } from '../protocol/index.js';
import { BUNDLED_APPS } from '../apps/index.js';
import { AdminPage } from './admin.js';
import { adminSnapshots } from './admin-snapshot.js';
import type { AppFactory, ParleyApp } from './app.js';
import { mountApps } from './app-host.js';
import type { ServerConfig } from './config.js';
import type { ServerConnection } from './connection.js';
import { CONTROL_TOPIC, ControlChannel } from './control.js';
import { createApi } from './http-api.js';
import { LimitCode, clientAddress } from './limits.js';
import { createLogger, redactUrl, requestId } from './logger.js';
import { MeteredAdapter } from './metered-adapter.js';
import { ServerMetrics, type AdapterCounters } from './metrics.js';
import { ConnectionPipeline } from './pipeline.js';
import { drainConnections, type DrainResult } from './shutdown.js';
import { createTlsServer } from './tls-server.js';
import { AuthError, TokenAuth, type Identity } from './token-auth.js';
import { userTopic } from './user-topic.js';

/** A cluster adapter as loaded at start; `isHealthy`, `connect` and `counters` when it has them (Redis). */
interface LoadedAdapter extends ClusterAdapter {
  connect?(): Promise<void>;
  isHealthy?(): boolean;
  readonly counters?: Readonly<AdapterCounters>;
}

/** Options the server gives the Redis adapter (a subset of RedisAdapterOptions). */
interface RedisAdapterSettings {
  url: string;
  keyPrefix: string;
  whenUnreachable: 'local' | 'refuse';
  logger: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** Options for embedding and tests. */
export interface StartOptions {
  /** App factories by name (default: the bundled apps). */
  apps?: ReadonlyMap<string, AppFactory>;
  /** A cluster adapter to use instead of the configured one (shared between servers in tests). */
  adapter?: ClusterAdapter;
  /** Where log lines go (default stdout). */
  logDestination?: DestinationStream;
}

/** Options of {@link ServerHandle.close}. */
export interface CloseOptions {
  /** Close code; default `shutdown.closeCode`. */
  code?: number;
  /** Drain deadline in ms; default `shutdown.timeoutMs`. */
  timeoutMs?: number;
}

/** A running server. */
export interface ServerHandle {
  /** Where it listens. */
  readonly address: { host: string; port: number; url: string; wsUrl: string };
  readonly config: ServerConfig;
  /** The real-time server behind `/ws` (publish, presence, topic stats). */
  readonly wss: WebSocketServer;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Hosted apps by path prefix. */
  readonly apps: ReadonlyMap<string, ParleyApp>;
  /** Whether `/readyz` answers 200. */
  readonly ready: boolean;
  /** Graceful shutdown: refuse new connections, close every client with 1012/1001, drain, stop. */
  close(options?: CloseOptions): Promise<DrainResult>;
}

/** The package root's `dist/web`, from this compiled file (dist/src/server/serve.js). */
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** Loads the Redis adapter by a computed specifier, so builds without src/redis still compile. */
async function loadRedisAdapter(cluster: ServerConfig['cluster'], log: Logger): Promise<LoadedAdapter> {
  const specifier = ['..', 'redis', 'index.js'].join('/');
  let mod: { RedisAdapter?: new (options: RedisAdapterSettings) => LoadedAdapter };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (error) {
    throw new Error('cluster.adapter is "redis" but this build has no Redis adapter (src/redis)', { cause: error });
  }
  if (typeof mod.RedisAdapter !== 'function') throw new Error('the Redis adapter module exports no RedisAdapter class');
  // Outages, recoveries, gaps and dead-node sweeps go to the server's log (operators must see them).
  const rlog = log.child({ component: 'redis' });
  const logger: RedisAdapterSettings['logger'] = (level, message, fields) => rlog[level](fields ?? {}, message);
  const adapter = new mod.RedisAdapter({ url: cluster.redisUrl, keyPrefix: cluster.keyPrefix, whenUnreachable: cluster.whenUnreachable, logger });
  await adapter.connect?.();
  return adapter;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || host.startsWith('127.');
}

/**
 * Starts the server: validates what only a start can (keys, apps, the adapter), listens, and
 * resolves with a handle once listening.
 * @throws Error when a key cannot be read, an app is unknown, the adapter cannot connect or the port is taken
 */
export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<ServerHandle> {
  const log = createLogger(config.log.level, options.logDestination);
  const auth = new TokenAuth(config.auth);
  const factories = options.apps ?? BUNDLED_APPS;
  for (const name of config.apps) {
    if (!factories.has(name)) throw new Error(`apps: unknown app '${name}' (available: ${[...factories.keys()].join(', ') || 'none'})`);
  }
  // With TLS: HTTP/2 and HTTP/1.1 on one port, WebSockets over either (tls-server.ts, docs/http2.md).
  // Made first: unreadable PEM files fail the start before anything else is opened.
  const tls = config.tls.cert !== '' ? config.tls : undefined;
  const headersTimeout = config.limits.headersTimeoutMs;
  const timeouts = { headersTimeout, requestTimeout: Math.max(30_000, headersTimeout) };
  const server = tls !== undefined
    ? createTlsServer(tls, timeouts)
    : httpModule.createServer({
      ...timeouts,
      keepAliveTimeout: 5_000,
      // Node checks the deadlines every 30 s by default, which let slow headers run ~25 s past
      // the deadline; checking often keeps the cut within a second of it.
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(headersTimeout / 4))),
    });
  const ownAdapter = options.adapter === undefined;
  const adapter: LoadedAdapter = options.adapter ?? (config.cluster.adapter === 'redis' ? await loadRedisAdapter(config.cluster, log) : new InMemoryAdapter());
  const adapterHealthy = (): boolean | undefined => (typeof adapter.isHealthy === 'function' ? adapter.isHealthy() : undefined);

  let shuttingDown = false;
  let listening = false;
  const startedAt = Date.now();
  const { limits } = config;

  const metrics: ServerMetrics = new ServerMetrics({
    // Read at scrape time, once the pipeline below exists.
    connections: () => pipeline.counts(),
    bytes: () => pipeline.bytes(),
    backlog: () => pipeline.backlog(),
    adapterHealthy,
    adapterCounters: () => adapter.counters,
    shuttingDown: () => shuttingDown,
  }, { processMetrics: config.metrics.processMetrics, adapter: config.cluster.adapter });
  const totals = metrics.totals;
  // Every WebSocket the server accepts, /ws, /admin/ws and the apps' alike, passes this pipeline.
  const pipeline: ConnectionPipeline = new ConnectionPipeline({
    limits,
    clientAddress: (req) => clientAddress(req, config.trustProxy),
    metrics,
    log,
    shuttingDown: () => shuttingDown,
    closeCode: config.shutdown.closeCode,
  });
  const { connections } = pipeline;

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
        log.info({ reason, ip: clientAddress(req, config.trustProxy), url: redactUrl(req.url) }, 'handshake refused: authentication');
        throw error;
      }
    },
    realtime: {
      adapter: new MeteredAdapter(adapter, totals),
      history,
      // The control topic keeps no history: a command is for the servers running now.
      topics: (topic) => (topic === CONTROL_TOPIC ? { history: false } : { policy: limits.slowConsumerPolicy, maxQueuedBytes: limits.maxQueuedBytes }),
      authorize: (ws, action, topic) => auth.allows(ws.data as Identity, action, topic),
      limits: { maxEnvelopeBytes: limits.maxMessageBytes, maxPresenceBytes: limits.maxPresenceBytes },
    },
  });
  wss.on('wsClientError', (error: Error & { status?: number }, socket: Duplex) => {
    metrics.handshakeFailures.inc({ reason: 'bad_request' });
    if (socket.writable) socket.end(buildErrorResponse(error.status ?? 400, error.message));
    else socket.destroy();
  });
  wss.on('handlerError', (error: unknown) => log.error({ err: error }, 'real-time hook failed'));

  /** What `/ws` adds to a connection the pipeline opened. */
  const onConnection = (ws: ServerConnection): void => {
    const identity = ws.data as Identity;
    // Every connection of a user hears what is published to that user (HTTP API: /api/users/:id/publish).
    // Any `sub` is a user id; userTopic encodes it into a valid topic name.
    if (identity.user !== undefined) ws.subscribe(userTopic(identity.user));
    // The token's expiry ends the connection: a revoked user cannot stay connected forever.
    if (identity.expiresAt !== undefined) {
      const expiresAt = identity.expiresAt * 1000;
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
  };

  const wsOrigin = (origin: string | undefined): boolean => config.ws.origins.length === 0 || origin === undefined || config.ws.origins.includes(origin);
  const upgradeWs = (req: http.IncomingMessage, socket: Duplex, head: Buffer): true => {
    pipeline.accept(wss, req, socket, head, (conn) => {
      metrics.connectionsByTransport.inc({ transport: isHttp2Stream(socket) ? 'h2' : 'h1' });
      onConnection(conn);
      wss.emit('connection', conn, req);
    }, wsOrigin);
    return true;
  };

  const admin = config.admin.enabled
    ? new AdminPage({
      keys: config.admin.keys.length > 0 ? config.admin.keys : config.api.keys,
      open: config.admin.keys.length === 0 && config.api.keys.length === 0 && isLoopback(config.host),
      sockets: pipeline.appSockets(),
      origins: config.ws.origins,
      snapshot: () => snapshot(),
      log: log.child({ component: 'admin' }),
    })
    : undefined;

  const snapshot = adminSnapshots({
    connections,
    totals,
    wss,
    startedAt,
    maxQueuedBytes: limits.maxQueuedBytes,
    adapter: () => ({ kind: options.adapter !== undefined ? 'shared' : config.cluster.adapter, healthy: adapterHealthy() }),
    shuttingDown: () => shuttingDown,
  });

  /** Closes this server's `/ws` connections of `user` (apps' users are another namespace). */
  const disconnectLocal = (user: string, code: number, reason: string): number => {
    let n = 0;
    for (const ws of connections) {
      if (ws.endpoint === '/ws' && (ws.data as Identity | undefined)?.user === user) {
        ws.close(code, reason);
        n++;
      }
    }
    log.info({ user, code, connections: n }, 'user disconnected');
    return n;
  };
  const control = new ControlChannel(wss, { disconnect: disconnectLocal }, (error) => log.warn({ err: error }, 'unreadable control command'));

  const api = createApi({
    wss,
    config: config.api,
    history,
    metrics,
    disconnectUser(user, code, reason) {
      // The user may be connected to other servers of the cluster too: they hear it on the control topic.
      control.disconnect(user, code, reason);
      return disconnectLocal(user, code, reason);
    },
  });

  const isReady = (): boolean => listening && !shuttingDown && adapterHealthy() !== false;

  const handleRequest = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const id = requestId(req);
    res.setHeader('X-Request-Id', id);
    const rlog = log.child({ reqId: id });
    let route: string;
    if (path === '/healthz') {
      route = 'healthz';
      json(res, 200, { status: 'ok', uptimeSec: Math.round((Date.now() - startedAt) / 1000) });
    } else if (path === '/readyz') {
      route = 'readyz';
      const healthy = adapterHealthy();
      const ready = isReady();
      json(res, ready ? 200 : 503, { ready, shuttingDown, adapter: { kind: config.cluster.adapter, healthy: healthy ?? true }, connections: connections.size });
    } else if (path === '/metrics' && config.metrics.enabled) {
      route = 'metrics';
      if (config.metrics.token !== '' && req.headers.authorization !== `Bearer ${config.metrics.token}`) {
        json(res, 401, { error: 'unauthorized', message: 'send Authorization: Bearer <metrics token>' });
      } else {
        const text = await metrics.render();
        res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
        res.end(text);
      }
    } else if (path === '/api' || path.startsWith('/api/')) {
      route = await api.handle(req, res, rlog);
    } else if (admin !== undefined && (path === '/admin' || path.startsWith('/admin/'))) {
      route = 'admin';
      // The page and its files; anything else under /admin/ is the host's 404.
      if (!await admin.handleRequest(req, res, path)) return false;
    } else {
      return false;
    }
    metrics.httpRequests.inc({ route, status: String(res.statusCode) });
    if (route === 'healthz' || route === 'readyz' || route === 'metrics') rlog.debug({ method: req.method, path, status: res.statusCode }, 'http request');
    return true;
  };

  const handleUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path === '/ws') return upgradeWs(req, socket, head);
    if (path === '/admin/ws' && admin !== undefined) {
      admin.handleUpgrade(req, socket, head);
      return true;
    }
    return false;
  };

  const apps = new Map<string, ParleyApp>();
  // Each app's own adapter: its topics are out of reach of /ws and the HTTP API.
  const appAdapters: InMemoryAdapter[] = [];
  server.maxConnections = limits.maxSockets > 0 ? limits.maxSockets : limits.maxConnections + 1024;
  server.on('clientError', (error: Error & { code?: string }, socket) => {
    // The answer names the problem as HTTP does: a head too slow (408) or too large (431).
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  // The app map is filled below; requests only arrive once the server listens.
  mountApps(server, apps, { request: handleRequest, upgrade: handleUpgrade });
  server.on('appError', (error: unknown) => log.error({ err: error }, 'request handler failed'));
  try {
    // Apps: each under /<name>, with its own data directory and the shared adapter.
    for (const name of config.apps) {
      const dataDir = resolvePath(config.dataDir, name);
      mkdirSync(dataDir, { recursive: true });
      const alog = log.child({ app: name });
      const appAdapter = new InMemoryAdapter();
      appAdapters.push(appAdapter);
      const app = await factories.get(name)!({
        basePath: `/${name}`,
        dataDir,
        ...(name === 'auction' && config.auction.databaseUrl !== '' ? { databaseUrl: config.auction.databaseUrl } : {}),
        adapter: appAdapter,
        webRoot: resolvePath(WEB_ROOT, name),
        log: (level, fields) => alog[level](fields, fields.msg),
        clientAddress: (req) => clientAddress(req, config.trustProxy),
        sockets: pipeline.appSockets(),
      });
      apps.set(`/${name}`, app);
    }

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Nothing may stay open after a failed start (an app that failed to start, a port in use).
    admin?.close(1001);
    await Promise.all([...apps.values()].map((app) => app.close(1001).catch(() => {})));
    for (const a of appAdapters) a.close();
    control.close();
    wss.close();
    wss.pubsub.close();
    if (ownAdapter) await adapter.close();
    throw error;
  }
  listening = true;
  const bound = server.address() as AddressInfo;
  const hostText = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const s = tls !== undefined ? 's' : '';
  const address = { host: bound.address, port: bound.port, url: `http${s}://${hostText}:${bound.port}`, wsUrl: `ws${s}://${hostText}:${bound.port}/ws` };
  log.info({ address: address.url, apps: config.apps, adapter: config.cluster.adapter, anonymous: auth.allowsAnonymous, api: api.enabled }, 'parley server listening');

  let closing: Promise<DrainResult> | undefined;
  const close = (closeOptions: CloseOptions = {}): Promise<DrainResult> => {
    closing ??= (async () => {
      shuttingDown = true;
      const code = closeOptions.code ?? config.shutdown.closeCode;
      const timeoutMs = closeOptions.timeoutMs ?? config.shutdown.timeoutMs;
      log.info({ connections: connections.size, code, timeoutMs }, 'shutting down: draining connections');
      admin?.close(code);
      const [result] = await Promise.all([
        drainConnections(connections, { code, reason: 'server shutting down', timeoutMs, spreadMs: config.shutdown.spreadMs }),
        ...[...apps.values()].map((app) => app.close(code).catch((error: unknown) => log.error({ err: error }, 'app failed to close'))),
      ]);
      for (const a of appAdapters) a.close();
      control.close();
      wss.close();
      wss.pubsub.close();
      // Stop listening, then end idle keep-alive sockets; busy ones finish their request.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), 1000);
      cut.unref();
      await stopped;
      clearTimeout(cut);
      if (ownAdapter) await adapter.close();
      log.info({ closed: result.closed, terminated: result.terminated }, 'shutdown complete');
      log.flush();
      return result;
    })();
    return closing;
  };

  return {
    address,
    config,
    wss,
    metrics,
    logger: log,
    apps,
    get ready() {
      return isReady();
    },
    close,
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

