/**
 * `parley serve` assembled from its parts: one HTTP server carrying the real-time WebSocket
 * endpoint at `/ws` (ws-endpoint.ts), the HTTP API at `/api/*`, `/metrics`, `/healthz`,
 * `/readyz` and the admin page at `/admin` (http-routes.ts), and every hosted app under
 * `/<name>` (hosted-apps.ts). Every WebSocket it accepts, the apps' included, passes one
 * admission pipeline (pipeline.ts). The cluster adapter is loaded by adapter-loader.ts, the
 * socket made by listener.ts, and {@link startServer}'s handle's `close()` is the graceful
 * shutdown (server-shutdown.ts). The server imports no app: the caller hands the factories over.
 * @packageDocumentation
 */
import type { DestinationStream, Logger } from 'pino';
import type { ClusterAdapter, WebSocketServer } from '../index.js';
import { loadAdapter } from './adapter-loader.js';
import { CloseCode } from '../protocol/index.js';
import { AdminPage } from './admin.js';
import { adminSnapshots } from './admin-snapshot.js';
import type { AppFactory, ParleyApp } from './app.js';
import { mountApps } from './app-host.js';
import type { ServerConfig } from './config.js';
import { checkAppNames, hostedApps } from './hosted-apps.js';
import { createApi } from './http-api.js';
import { createRoutes } from './http-routes.js';
import { clientAddress } from './limits.js';
import { createListener, listen, type ListenAddress } from './listener.js';
import { createLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { ConnectionPipeline } from './pipeline.js';
import { serverShutdown, type CloseOptions } from './server-shutdown.js';
import { ServerState } from './server-state.js';
import type { DrainResult } from './shutdown.js';
import { TokenAuth } from './token-auth.js';
import { createWsEndpoint } from './ws-endpoint.js';

export type { CloseOptions } from './server-shutdown.js';

/** Options for embedding and tests. */
export interface StartOptions {
  /**
   * App factories by name, from which the configured `apps` are started (default: none). The
   * server imports no app: `parley serve` passes the bundled ones (src/apps/index.ts).
   */
  apps?: ReadonlyMap<string, AppFactory>;
  /** A cluster adapter to use instead of the configured one (shared between servers in tests). */
  adapter?: ClusterAdapter;
  /** Where log lines go (default stdout). */
  logDestination?: DestinationStream;
  /**
   * One of several worker processes (`--workers`, src/server/workers): its number, shown by
   * `/healthz`, and whether it binds the port itself with SO_REUSEPORT (otherwise, in a cluster
   * worker, node:cluster's primary hands it connections). A worker stops listening first when
   * it shuts down.
   */
  worker?: { id: number; reusePort: boolean };
}

/** A running server. */
export interface ServerHandle {
  /** Where it listens. */
  readonly address: ListenAddress;
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
  const factories = options.apps ?? new Map<string, AppFactory>();
  checkAppNames(config.apps, factories);
  // Made first: unreadable PEM files fail the start before anything else is opened.
  const server = createListener(config);
  const adapter = await loadAdapter(config.cluster, log, options.adapter);
  const state = new ServerState(adapter.healthy);
  const address = (req: Parameters<typeof clientAddress>[0]): string => clientAddress(req, config.trustProxy);

  const metrics: ServerMetrics = new ServerMetrics({
    // Read at scrape time, once the pipeline below exists.
    connections: () => pipeline.counts(),
    bytes: () => pipeline.bytes(),
    backlog: () => pipeline.backlog(),
    adapterHealthy: adapter.healthy,
    adapterCounters: () => adapter.adapter.counters,
    shuttingDown: () => state.shuttingDown,
  }, { processMetrics: config.metrics.processMetrics, adapter: config.cluster.adapter });
  // Admission: every WebSocket the server accepts, /ws, /admin/ws and the apps' alike, passes it.
  const pipeline: ConnectionPipeline = new ConnectionPipeline({
    limits: config.limits,
    clientAddress: address,
    metrics,
    log,
    shuttingDown: () => state.shuttingDown,
    closeCode: config.shutdown.closeCode,
  });
  const { connections } = pipeline;
  const ws = createWsEndpoint({ config, auth, pipeline, metrics, log, adapter: adapter.adapter, clientAddress: address });

  const snapshot = adminSnapshots({
    connections,
    totals: metrics.totals,
    wss: ws.wss,
    startedAt: state.startedAt,
    maxQueuedBytes: config.limits.maxQueuedBytes,
    adapter: () => ({ kind: adapter.kind, healthy: adapter.healthy() }),
    shuttingDown: () => state.shuttingDown,
  });
  const admin = config.admin.enabled
    ? new AdminPage({
      keys: config.admin.keys.length > 0 ? config.admin.keys : config.api.keys,
      open: config.admin.keys.length === 0 && config.api.keys.length === 0 && isLoopback(config.host),
      sockets: pipeline.appSockets(),
      origins: config.ws.origins,
      snapshot,
      log: log.child({ component: 'admin' }),
    })
    : undefined;
  const api = createApi({
    wss: ws.wss,
    config: config.api,
    history: ws.history,
    metrics,
    disconnectUser: ws.disconnect,
  });
  const routes = createRoutes({ config, state, metrics, log, api, admin, ws, connections: () => connections.size, adapterHealthy: adapter.healthy, ...(options.worker !== undefined ? { worker: options.worker.id } : {}) });
  const apps = hostedApps({ names: config.apps, factories, dataDir: config.dataDir, cluster: config.cluster, databaseUrls: config.auction.databaseUrl === '' ? {} : { auction: config.auction.databaseUrl }, settings: { auction: { antiSnipeMs: config.auction.antiSnipeMs } }, log, clientAddress: address, sockets: pipeline.appSockets() });

  // The app map is filled below; requests only arrive once the server listens.
  mountApps(server, apps.apps, routes);
  server.on('appError', (error: unknown) => log.error({ err: error }, 'request handler failed'));
  const close = serverShutdown({
    config,
    state,
    log,
    connections,
    closeClients: async (code) => {
      admin?.close(code);
      await apps.close(code);
    },
    stopParts: () => ws.close(),
    server,
    stopListeningFirst: options.worker !== undefined,
    closeAdapter: () => adapter.close(),
  });

  let listenAddress: ListenAddress;
  try {
    await apps.start();
    listenAddress = await listen(server, config.port, config.host, config.tls.cert !== '', { reusePort: options.worker?.reusePort === true });
  } catch (error) {
    // Nothing may stay open after a failed start (an app that failed to start, a port in use).
    admin?.close(CloseCode.GoingAway);
    await apps.close(CloseCode.GoingAway);
    ws.close();
    await adapter.close();
    throw error;
  }
  state.listening = true;
  log.info({ address: listenAddress.url, apps: config.apps, adapter: config.cluster.adapter, anonymous: auth.allowsAnonymous, api: api.enabled }, 'parley server listening');

  return {
    address: listenAddress,
    config,
    wss: ws.wss,
    metrics,
    logger: log,
    apps: apps.apps,
    get ready() {
      return state.ready;
    },
    close,
  };
}
