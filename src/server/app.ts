/**
 * The server's public app API: the contract between the standalone server (`parley serve`) and
 * the applications it hosts (the auction, the poker table), and the host services an app may use.
 * An application is mounted under one path prefix: it answers HTTP requests and WebSocket
 * upgrades below that prefix and nothing else, and it is built only on Parley's public API
 * (`parley`, `parley/client`) and this module. The host owns the HTTP server, the cluster
 * adapter and the process lifecycle. Lint holds apps to these three modules (eslint.config.js);
 * the server itself never imports an app: the command line hands the bundled ones over.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type ClusterAdapter, type WebSocketServer } from '../index.js';
import { originAllowed } from './origin.js';

// Host services for apps, public here so that apps need no server internals:
// - serveStatic goes with `AppContext.webRoot`: every app serves its built browser files, with the
//   same content types and the same refusal of paths that leave the root;
// - AddressRateLimiter goes with `AppContext.clientAddress`: the token buckets that limit the
//   server's connection rate per address also limit what an app lets one address or user create
//   (sessions, lots). One implementation for both, not a copy per app.
export { serveStatic } from './static-files.js';
export { AddressRateLimiter } from './limits.js';
export { requestPath } from '../node/request-path.js';

/**
 * The host's WebSocket pipeline, which every WebSocket an app accepts passes (the same one
 * `parley serve`'s own `/ws` and `/admin/ws` pass): admission, the per-connection limits,
 * metrics, the admin page and graceful shutdown.
 */
export interface AppSockets {
  /**
   * The connection class to give as the `WebSocket` option of every `WebSocketServer` the app
   * creates: it enforces the host's per-connection message rate (`limits.messagesPerSecond`,
   * close 1008) and counts messages for the metrics. The host refuses (closes with 1011) a
   * connection made by a server that was not given it.
   */
  readonly WebSocket: typeof WebSocket;
  /**
   * Accepts an upgrade for `server`. The host's admission runs first: an address that opens
   * connections too fast gets 429, a host at `limits.maxConnections` or shutting down gets 503
   * (the socket is answered and ended, `onConnection` is never called). Then `server` completes
   * the handshake (its own `origins`, `authenticate`…), the host registers the connection (counted
   * in `parley_connections{endpoint}`, listed on the admin page, closed with the shutdown code on
   * a graceful shutdown), and `onConnection` runs.
   */
  handleUpgrade(
    server: WebSocketServer,
    req: http.IncomingMessage,
    socket: Duplex,
    head: Buffer,
    onConnection: (ws: WebSocket, req: http.IncomingMessage) => void,
  ): void;
}

/**
 * Sockets without a host pipeline: the plain `WebSocket` class and `server.handleUpgrade`. For
 * embedding an app in a host of one's own and for tests; `parley serve` always gives its own.
 */
export const directSockets: AppSockets = {
  WebSocket,
  handleUpgrade(server, req, socket, head, onConnection) {
    server.handleUpgrade(req, socket, head, (ws, request) => onConnection(ws, request));
  },
};

/**
 * Whether a browser's `Origin` is the server the request came to (`Origin`'s host equals
 * `Host`); a request without `Origin` passes (RFC 6455 §10.2: the check is against other sites'
 * pages, not other clients). For a `WebSocketServer`'s `origins` option: another site's page gets
 * 403.
 */
export function sameOrigin(origin: string | undefined, req: http.IncomingMessage): boolean {
  return originAllowed('same-origin', origin, req);
}

/** Settings the host hands one app, by name within the app's group (`antiSnipeMs` for `auction.antiSnipeMs`). */
export type AppSettings = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** What the host gives an application when it creates it. */
export interface AppContext {
  /** The path prefix the app is mounted at, without a trailing slash (`/auction`). */
  basePath: string;
  /** A directory the app may keep durable state in (created by the host). */
  dataDir: string;
  /**
   * A PostgreSQL URL the app keeps its durable state in instead, shared by every node of a
   * cluster (the auction's `auction.databaseUrl`). Absent: the app keeps it in `dataDir`.
   */
  databaseUrl?: string;
  /**
   * The app's own settings from the host's configuration, already checked there against the
   * settings table (`auction.antiSnipeMs` arrives as `{ antiSnipeMs }`). Absent: the app's
   * defaults. An app checks what it reads, since any host may fill this.
   */
  settings?: AppSettings;
  /**
   * The app's own cluster adapter, for the real-time servers it creates. Each app has one of its
   * own (not the host's): its topics live in a namespace that `/ws` clients, tokens granting `*`
   * and the HTTP API cannot reach (docs/security.md, "Apps' topics").
   */
  adapter: ClusterAdapter;
  /** Where the app's compiled browser bundle and static files are (`dist/web/<name>`). */
  webRoot: string;
  /** Structured log sink: one object per event, `msg` says what happened. */
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown> & { msg: string }) => void;
  /**
   * The client's address as the host sees it: the socket's, or the first `X-Forwarded-For`
   * entry when the host trusts its proxy (`trustProxy`). For per-address limits. When absent,
   * apps use the socket's address.
   */
  clientAddress?: (req: http.IncomingMessage) => string;
  /**
   * The host's WebSocket pipeline: apps accept every upgrade through it. `parley serve` always
   * sets it; when absent (a minimal host, tests) apps use {@link directSockets}.
   */
  sockets?: AppSockets;
  /**
   * The Redis the host's cluster runs on (`cluster.adapter` redis), for an app that shares state
   * between servers (the poker tables, docs/poker.md), with a key prefix of the app's own
   * (`<cluster.keyPrefix>apps:<name>:`) that every key and channel it makes must start with.
   * Absent on a single server: the app keeps its state in this process. On a Redis Cluster
   * (`cluster.redisClusterNodes`) `clusterNodes` lists some of its nodes (URLs), and the app must
   * connect to those with a cluster client, not to `url` (then `cluster.redisUrl`, another Redis
   * or none); the keys one script or transaction touches must then share a hash slot.
   */
  redis?: { readonly url: string; readonly keyPrefix: string; readonly clusterNodes?: readonly string[] };
}

/** A hosted application. */
export interface ParleyApp {
  /** Short name, also the default path prefix (`auction`). */
  readonly name: string;
  /** Human title for the host's index page. */
  readonly title: string;
  /** One line for the host's index page. */
  readonly description: string;
  /**
   * Handles an HTTP request whose path starts with the app's prefix. Returns `false` when the app
   * has nothing at that path (the host answers 404).
   */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean | Promise<boolean>;
  /**
   * Handles a WebSocket upgrade whose path starts with the app's prefix. Returns `false` when the
   * app has no endpoint there (the host refuses the upgrade with 404).
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Stops the app: closes its connections with `code` (1001 going away, 1012 restart) and
   * flushes durable state. Resolves when done.
   */
  close(code?: number): Promise<void>;
}

/** Creates an application for a host. */
export type AppFactory = (context: AppContext) => ParleyApp | Promise<ParleyApp>;
