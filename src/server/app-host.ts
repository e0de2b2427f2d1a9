/**
 * The smallest host for {@link ParleyApp}s: one HTTP server, each app under its prefix, an index
 * page at `/`. `parley serve` builds on it; tests use it to serve one app alone.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import { httpModule } from '../node/node-http.js';
import type { Duplex } from 'node:stream';
import type { ParleyApp } from './app.js';

/** Escapes text for HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The app mounted at the longest prefix of `path`, if any. */
export function appFor(apps: ReadonlyMap<string, ParleyApp>, url: string | undefined): ParleyApp | undefined {
  const path = (url ?? '/').split('?', 1)[0] ?? '/';
  for (const [prefix, app] of apps) {
    if (path === prefix || path.startsWith(prefix + '/')) return app;
  }
  return undefined;
}

/** The host's index page: a card with a link for every app. */
export function indexPage(apps: ReadonlyMap<string, ParleyApp>): string {
  const cards = [...apps].map(([prefix, app]) => `<li class="card">
  <h2><a href="${escapeHtml(prefix)}/">${escapeHtml(app.title)}</a></h2>
  <p>${escapeHtml(app.description)}</p>
  <p class="open" aria-hidden="true">Open ${escapeHtml(prefix)}/ &rarr;</p>
</li>`).join('\n');
  const body = apps.size === 0
    ? '<p>No applications are mounted on this server. Its WebSocket endpoint and HTTP API are described in docs/operations.md.</p>'
    : `<p class="lead">Real-time applications served by this Parley server. Open one in two windows and watch them update each other.</p>
<ul class="cards">
${cards}
</ul>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley</title><style>
:root{color-scheme:light;--ink:#1b1f24;--muted:#4a5563;--accent:#0b57d0;--line:#d9dee5}
body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:#f4f6f9}
main{max-width:52rem;margin:0 auto;padding:3rem 1.25rem}
h1{font-size:2.25rem;margin:0 0 .25rem}
.lead{color:var(--muted);margin:0 0 2rem}
.cards{list-style:none;padding:0;margin:0;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr))}
.card{position:relative;background:#fff;border:1px solid var(--line);border-radius:12px;padding:1.25rem 1.25rem 1rem;box-shadow:0 1px 2px rgba(0,0,0,.04)}
.card:hover{border-color:var(--accent)}
.card h2{margin:0 0 .5rem;font-size:1.25rem}
.card h2 a{color:var(--ink);text-decoration:none}
.card h2 a::after{content:"";position:absolute;inset:0;border-radius:12px}
.card h2 a:focus-visible::after{outline:3px solid var(--accent);outline-offset:2px}
.card p{margin:0 0 .75rem;color:var(--muted)}
.card .open{color:var(--accent);font-weight:600;margin:0}
footer{margin-top:2.5rem;color:var(--muted);font-size:.9rem}
footer a{color:var(--accent)}
</style></head>
<body><main><h1>Parley</h1>
${body}
<footer>Operators: <a href="/admin">admin</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></footer>
</main></body></html>`;
}

/**
 * Routes requests and upgrades on `server` to `apps` (keyed by prefix, e.g. `/auction`). Requests
 * no app takes get the index page at `/` and 404 elsewhere; upgrades no app takes get 404.
 * `fallback` handlers, when given, are asked first for paths outside every app (the server's own
 * API, metrics, admin page).
 */
export function mountApps(
  server: http.Server,
  apps: ReadonlyMap<string, ParleyApp>,
  fallback: {
    request?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
    upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  } = {},
): void {
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const app = appFor(apps, req.url);
      const handled = app !== undefined ? await app.handleRequest(req, res) : (await fallback.request?.(req, res)) ?? false;
      if (handled) return;
      const path = (req.url ?? '/').split('?', 1)[0];
      if (path === '/' && app === undefined) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(indexPage(apps));
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      }
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('internal error\n');
      server.emit('appError', error);
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const app = appFor(apps, req.url);
    const handled = app !== undefined ? app.handleUpgrade(req, socket, head) : fallback.upgrade?.(req, socket, head) ?? false;
    if (!handled) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
}

/** Creates an HTTP server hosting `apps` (not yet listening). */
export function createAppServer(apps: ReadonlyMap<string, ParleyApp>): http.Server {
  const server = httpModule.createServer();
  mountApps(server, apps);
  return server;
}
