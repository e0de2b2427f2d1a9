/**
 * The smallest host for {@link ParleyApp}s: one HTTP server, each app under its prefix, an index
 * page at `/`. `parley serve` builds on it; tests use it to serve one app alone.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import { httpModule } from '../node/node-http.js';
import type { Duplex } from 'node:stream';
import { refuseUpgrade } from '../node/refuse-upgrade.js';
import { requestPath } from '../node/request-path.js';
import type { ParleyApp } from './app.js';
import { FAVICON_SVG, NOT_FOUND_HTML, SITE_CSS, pageHead } from './site-pages.js';

/** Escapes text for HTML. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The app mounted at the longest prefix of `path`, if any. */
export function appFor(apps: ReadonlyMap<string, ParleyApp>, url: string | undefined): ParleyApp | undefined {
  const path = requestPath(url);
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
  return `${pageHead('Parley')}
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
      const path = requestPath(req.url);
      if (path === '/' && app === undefined) {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(indexPage(apps));
      } else if (app === undefined && (path === '/favicon.svg' || path === '/favicon.ico' || path === '/parley.css')) {
        // Browsers ask for /favicon.ico on every page without an icon link; an SVG answers both.
        const css = path === '/parley.css';
        res.writeHead(200, { 'Content-Type': css ? 'text/css; charset=utf-8' : 'image/svg+xml', 'Cache-Control': 'public, max-age=3600', 'X-Content-Type-Options': 'nosniff' }).end(css ? SITE_CSS : FAVICON_SVG);
      } else if (req.method === 'GET' || req.method === 'HEAD') {
        // A person who mistyped an address gets a page that leads back, not a bare line.
        res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : NOT_FOUND_HTML);
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
      refuseUpgrade(socket, 404);
    }
  });
}

/** Creates an HTTP server hosting `apps` (not yet listening). */
export function createAppServer(apps: ReadonlyMap<string, ParleyApp>): http.Server {
  const server = httpModule.createServer();
  mountApps(server, apps);
  return server;
}
