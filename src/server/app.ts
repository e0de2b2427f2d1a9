/**
 * The contract between the standalone server (`parley serve`) and the applications it hosts
 * (the auction, the poker table). An application is mounted under one path prefix: it answers
 * HTTP requests and WebSocket upgrades below that prefix and nothing else, and it is built only on
 * Parley's public API (`parley`, `parley/client`). The host owns the HTTP server, the cluster
 * adapter and the process lifecycle.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import type { ClusterAdapter } from '../pubsub/index.js';

/** What the host gives an application when it creates it. */
export interface AppContext {
  /** The path prefix the app is mounted at, without a trailing slash (`/auction`). */
  basePath: string;
  /** A directory the app may keep durable state in (created by the host). */
  dataDir: string;
  /** The cluster adapter every real-time server of the host shares. */
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
