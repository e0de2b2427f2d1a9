/**
 * The smallest host for {@link ParleyApp}s: one HTTP server, each app under its prefix, an index
 * page at `/`. `parley serve` builds on it; tests use it to serve one app alone.
 * @packageDocumentation
 */
import * as http from 'node:http';
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

/** The host's index page: a link to every app. */
export function indexPage(apps: ReadonlyMap<string, ParleyApp>): string {
  const items = [...apps].map(([prefix, app]) =>
    `<li><a href="${escapeHtml(prefix)}/">${escapeHtml(app.title)}</a> — ${escapeHtml(app.description)}</li>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}a{color:#0b57d0}</style></head>
<body><main><h1>Parley</h1><p>Real-time applications served by this Parley server:</p><ul>
${items}
</ul></main></body></html>`;
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
  const server = http.createServer();
  mountApps(server, apps);
  return server;
}
