/**
 * The server's own HTTP routes, outside every app: `/healthz`, `/readyz`, `/metrics`, the HTTP
 * API at `/api/*` and the admin page at `/admin`; and its own upgrades, `/ws` and `/admin/ws`.
 * The app host (app-host.ts) asks these first for every path no app is mounted at.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { requestPath } from '../node/request-path.js';
import type { AdminPage } from './admin.js';
import type { ServerConfig } from './config.js';
import type { createApi } from './http-api.js';
import { requestId } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerState } from './server-state.js';
import type { WsEndpoint } from './ws-endpoint.js';

/** What the routes answer from. */
export interface RoutesOptions {
  config: Pick<ServerConfig, 'metrics' | 'cluster'>;
  state: ServerState;
  metrics: ServerMetrics;
  log: Logger;
  api: ReturnType<typeof createApi>;
  /** The admin page, when `admin.enabled`. */
  admin: AdminPage | undefined;
  ws: WsEndpoint;
  /** Open connections on every endpoint (for `/readyz`). */
  connections: () => number;
  /** The cluster adapter's health; undefined when it cannot tell. */
  adapterHealthy: () => boolean | undefined;
}

/** The server's request and upgrade handlers; each returns false for a path it does not serve. */
export interface Routes {
  request(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean>;
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** Builds the server's routes. */
export function createRoutes(options: RoutesOptions): Routes {
  const { config, state, metrics, log, api, admin } = options;

  const request = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const path = requestPath(req.url);
    const id = requestId(req);
    res.setHeader('X-Request-Id', id);
    const rlog = log.child({ reqId: id });
    let route: string;
    if (path === '/healthz') {
      route = 'healthz';
      json(res, 200, { status: 'ok', uptimeSec: Math.round((Date.now() - state.startedAt) / 1000) });
    } else if (path === '/readyz') {
      route = 'readyz';
      const ready = state.ready;
      json(res, ready ? 200 : 503, { ready, shuttingDown: state.shuttingDown, adapter: { kind: config.cluster.adapter, healthy: options.adapterHealthy() ?? true }, connections: options.connections() });
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

  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const path = requestPath(req.url);
    if (path === '/ws') {
      options.ws.upgrade(req, socket, head);
      return true;
    }
    if (path === '/admin/ws' && admin !== undefined) {
      admin.handleUpgrade(req, socket, head);
      return true;
    }
    return false;
  };

  return { request, upgrade };
}
