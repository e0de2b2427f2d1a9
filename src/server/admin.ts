/**
 * The live admin page at `/admin`: one static HTML page whose script (`/admin/main.js`, built from
 * src/server/web/admin/) opens a WebSocket to `/admin/ws` and redraws from the snapshots the
 * server pushes every second: cards, charts of the last five minutes (connections, messages in
 * and out, deliveries, drops) and tables of slow consumers, connections and topics. No inline
 * script or style, so the page runs under a strict Content-Security-Policy. The socket must present an admin key in its first message, unless the
 * server has no key configured and listens only on a loopback address.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { serveStatic } from './static-files.js';
import { CloseCode, WebSocketServer, type WebSocket } from '../index.js';
import type { Logger } from 'pino';
import { directSockets, sameOrigin, type AppSockets } from './app.js';

export type { AdminConnection, AdminSnapshot } from './admin-feed.js';
import type { AdminSnapshot } from './admin-feed.js';

/** Options of {@link AdminPage}. */
export interface AdminOptions {
  /** Accepted keys; empty with `open` means no key is asked. */
  keys: readonly string[];
  /** Whether the page may be used without a key (no key configured, loopback only). */
  open: boolean;
  /** Produces a snapshot. */
  snapshot: () => AdminSnapshot;
  log: Logger;
  /** Ms between snapshots. Default 1,000. */
  intervalMs?: number;
  /** Where the page's script and stylesheet are. Default: the package's `dist/web/admin`. */
  webRoot?: string;
  /** The server's WebSocket pipeline, which `/admin/ws` passes like every endpoint. */
  sockets?: AppSockets;
  /**
   * `Origin`s allowed besides the server's own (`ws.origins`). The feed carries connection ids,
   * users and addresses: another site's page must not read it through a visitor's browser, even
   * in open mode.
   */
  origins?: readonly string[];
}

/** The package's `dist/web/admin`, from this compiled file (dist/src/server/admin.js). */
const ADMIN_WEB_ROOT = fileURLToPath(new URL('../../web/admin', import.meta.url));

/** The page's own files under `/admin/`. */
const ASSETS = new Set(['/admin/main.js', '/admin/main.js.map', '/admin/admin.css', '/admin/favicon.svg']);

/** The page's policy: its own script, style and images, and a WebSocket back to this server. */
const ADMIN_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function keyMatches(given: unknown, keys: readonly string[]): boolean {
  if (typeof given !== 'string') return false;
  const g = Buffer.from(given);
  let ok = false;
  for (const key of keys) {
    const k = Buffer.from(key);
    if (k.length === g.length && timingSafeEqual(k, g)) ok = true;
  }
  return ok;
}

/** The admin page and its feed. */
export class AdminPage {
  readonly #wss: WebSocketServer;
  readonly #sockets: AppSockets;
  readonly #viewers = new Set<WebSocket>();
  readonly #options: AdminOptions;
  #timer: NodeJS.Timeout | undefined;

  /** @param options - keys, access and the snapshot source */
  constructor(options: AdminOptions) {
    this.#options = options;
    this.#sockets = options.sockets ?? directSockets;
    const allowed = options.origins ?? [];
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: 4096,
      WebSocket: this.#sockets.WebSocket,
      // Same-origin by default (403 before the upgrade, RFC 6455 §10.2).
      origins: (origin, req) => sameOrigin(origin, req) || (origin !== undefined && allowed.includes(origin)),
    });
  }

  /** Serves `/admin` (the page) and its script, stylesheet and icon. Resolves false for other paths. */
  async handleRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<boolean> {
    if (ASSETS.has(path)) {
      res.setHeader('Content-Security-Policy', ADMIN_CSP);
      return await serveStatic(this.#options.webRoot ?? ADMIN_WEB_ROOT, path.slice('/admin/'.length), req, res);
    }
    if (path !== '/admin' && path !== '/admin/') return false;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': ADMIN_CSP,
      'X-Frame-Options': 'DENY',
    });
    res.end(ADMIN_HTML.replace('__NEEDS_KEY__', this.#options.open ? 'false' : 'true'));
    return true;
  }

  /** Takes the upgrade of `/admin/ws`. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#sockets.handleUpgrade(this.#wss, req, socket, head, (ws) => this.#viewer(ws));
  }

  #viewer(ws: WebSocket): void {
    const { open, keys, log } = this.#options;
    const admit = (): void => {
      this.#viewers.add(ws);
      ws.once('close', () => this.#viewers.delete(ws));
      ws.send(JSON.stringify({ t: 'welcome' }));
      this.#send(ws, this.#options.snapshot());
      this.#start();
    };
    if (open) {
      admit();
      return;
    }
    // The key comes in the first message: browsers cannot set headers on a WebSocket, and a
    // query parameter would end up in access logs.
    const timer = setTimeout(() => ws.close(CloseCode.PolicyViolation, 'admin key required'), 5000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      let key: unknown;
      try {
        key = (JSON.parse(Buffer.isBuffer(data) ? data.toString("utf8") : "") as { key?: unknown }).key;
      } catch {
        key = undefined;
      }
      if (!keyMatches(key, keys)) {
        log.warn({ event: 'admin_denied' }, 'admin page: wrong key');
        ws.close(CloseCode.PolicyViolation, 'wrong admin key');
        return;
      }
      admit();
    });
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#viewers.size === 0) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        return;
      }
      const snapshot = this.#options.snapshot();
      for (const ws of this.#viewers) this.#send(ws, snapshot);
    }, this.#options.intervalMs ?? 1000);
    this.#timer.unref();
  }

  #send(ws: WebSocket, snapshot: AdminSnapshot): void {
    // A viewer that does not keep up gets no more snapshots until it drains: the page is a
    // tool and must never cost the server memory.
    if (ws.readyState === 1 && ws.bufferedAmount < 256 * 1024) ws.send(JSON.stringify({ t: 'snapshot', snapshot }));
  }

  /** Closes every viewer. */
  close(code: number): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    for (const ws of this.#viewers) ws.close(code, 'server shutting down');
    this.#wss.close();
    this.#wss.pubsub.close();
  }
}

/**
 * The page: its script fills it in (text only, never HTML from data). Paths are absolute so
 * `/admin` and `/admin/` load the same files; whether a key is needed is a data attribute.
 */
const ADMIN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley admin</title>
<link rel="icon" href="/admin/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/admin/admin.css">
<script type="module" src="/admin/main.js"></script>
</head><body data-needs-key="__NEEDS_KEY__">
<header class="top"><h1>Parley admin</h1> <span id="state" class="pill">connecting…</span><span class="meta"><span id="uptime"></span> · <a href="/">home</a> · <a href="/metrics">metrics</a></span></header>
<main>
<form id="login" class="login" hidden><label for="key">Admin key</label> <input id="key" type="password" autocomplete="off"> <button>Open</button></form>
<div class="cards" id="cards"></div>
<h2>Last five minutes</h2>
<div class="charts" id="charts"></div>
<h2>Slow consumers</h2><div class="table-wrap" id="slow"></div>
<h2>Connections (most queued first)</h2><div class="table-wrap" id="conns"></div>
<h2>Topics (most subscribers first)</h2><div class="table-wrap" id="topics"></div>
</main>
</body></html>
`;
