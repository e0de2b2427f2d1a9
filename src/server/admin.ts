/**
 * The live admin page at `/admin`: one static HTML page whose script opens a WebSocket to
 * `/admin/ws` and redraws from the snapshots the server pushes every second (connections, topics,
 * rates, slow consumers). The socket must present an admin key in its first message, unless the
 * server has no key configured and listens only on a loopback address.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from '../index.js';
import type { Logger } from 'pino';
import { directSockets, sameOrigin, type AppSockets } from './app.js';

/** One connection as the admin page shows it. */
export interface AdminConnection {
  id: string;
  /** The path it was accepted on: `/ws`, `/admin/ws`, or an app's endpoint such as `/poker/ws`. */
  endpoint: string;
  user: string;
  address: string;
  protocol: string;
  topics: number;
  queuedBytes: number;
  messagesIn: number;
  messagesOut: number;
  ageSec: number;
}

/** What the page receives every second. */
export interface AdminSnapshot {
  time: number;
  uptimeSec: number;
  shuttingDown: boolean;
  adapter: { kind: string; healthy: boolean | undefined };
  connections: number;
  rates: { messagesInPerSec: number; messagesOutPerSec: number; publishesPerSec: number; deliveriesPerSec: number };
  totals: { messagesIn: number; messagesOut: number; publishes: number; deliveries: number; dropped: number };
  topics: Array<{ topic: string; subscribers: number; published: number; delivered: number; dropped: number; policy: string }>;
  /** The connections with the most queued bytes (the slowest first), at most 50. */
  busiest: AdminConnection[];
  /** Connections over the slow-consumer cap. */
  slow: AdminConnection[];
}

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
  /** The server's WebSocket pipeline, which `/admin/ws` passes like every endpoint. */
  sockets?: AppSockets;
  /**
   * `Origin`s allowed besides the server's own (`ws.origins`). The feed carries connection ids,
   * users and addresses: another site's page must not read it through a visitor's browser, even
   * in open mode.
   */
  origins?: readonly string[];
}

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

  /** Serves `/admin` (the page). Returns false for other paths. */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    if (path !== '/admin' && path !== '/admin/') return false;
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      // The page's only script is inline and its only connection is back to this server.
      'Content-Security-Policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
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
    const timer = setTimeout(() => ws.close(1008, 'admin key required'), 5000);
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
        ws.close(1008, 'wrong admin key');
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

/** The page: plain DOM, text only (no HTML from data), one inline script. */
const ADMIN_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley admin</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fafbfc}
h1{font-size:1.3rem;margin:0 0 .5rem}h2{font-size:1rem;margin:1.2rem 0 .4rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}table{border-collapse:collapse;background:#fff;width:100%;max-width:70rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
#state{font-weight:600}.bad{color:#b42318}.ok{color:#1a7f37}form{margin:1rem 0}
</style></head><body>
<h1>Parley admin <span id="state">connecting…</span></h1>
<form id="login" hidden><label>Admin key <input id="key" type="password" autocomplete="off"></label> <button>Open</button></form>
<div class="cards" id="cards"></div>
<h2>Slow consumers</h2><table id="slow"></table>
<h2>Connections (most queued first)</h2><table id="conns"></table>
<h2>Topics (most subscribers first)</h2><table id="topics"></table>
<script>
const NEEDS_KEY = __NEEDS_KEY__;
const $ = (id) => document.getElementById(id);
function cell(row, text, numeric) { const td = row.insertCell(); td.textContent = String(text); if (numeric) td.className = 'n'; }
function table(el, head, rows) {
  el.replaceChildren();
  const h = el.createTHead().insertRow();
  for (const name of head) { const th = document.createElement('th'); th.textContent = name; h.appendChild(th); }
  const body = el.createTBody();
  if (rows.length === 0) { const r = body.insertRow(); cell(r, 'none'); r.cells[0].colSpan = head.length; }
  for (const values of rows) { const r = body.insertRow(); values.forEach((v) => cell(r, v, typeof v === 'number')); }
}
function card(label, value) { const d = document.createElement('div'); d.className = 'card'; d.textContent = label; const b = document.createElement('b'); b.textContent = String(value); d.prepend(b); return d; }
const connRow = (c) => [c.id, c.user, c.address, c.protocol, c.topics, c.queuedBytes, c.messagesIn, c.messagesOut, c.ageSec];
const connHead = ['id', 'user', 'address', 'protocol', 'topics', 'queued bytes', 'msgs in', 'msgs out', 'age s'];
function render(s) {
  $('cards').replaceChildren(
    card('connections', s.connections),
    card('msgs in /s', s.rates.messagesInPerSec), card('msgs out /s', s.rates.messagesOutPerSec),
    card('publishes /s', s.rates.publishesPerSec), card('deliveries /s', s.rates.deliveriesPerSec),
    card('dropped (total)', s.totals.dropped), card('uptime s', s.uptimeSec),
    card('adapter ' + s.adapter.kind, s.adapter.healthy === false ? 'DOWN' : 'up'));
  $('state').textContent = s.shuttingDown ? 'shutting down' : 'live';
  $('state').className = s.shuttingDown ? 'bad' : 'ok';
  table($('slow'), connHead, s.slow.map(connRow));
  table($('conns'), connHead, s.busiest.map(connRow));
  table($('topics'), ['topic', 'subscribers', 'published', 'delivered', 'dropped', 'policy'], s.topics.map((t) => [t.topic, t.subscribers, t.published, t.delivered, t.dropped, t.policy]));
}
function connect(key) {
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/admin/ws');
  ws.onopen = () => { if (key !== undefined) ws.send(JSON.stringify({ key })); };
  ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.t === 'snapshot') render(m.snapshot); };
  ws.onclose = (e) => {
    $('state').textContent = 'disconnected (' + e.code + (e.reason ? ': ' + e.reason : '') + ')';
    $('state').className = 'bad';
    if (e.code === 1008) { sessionStorage.removeItem('parley-admin-key'); $('login').hidden = false; return; }
    setTimeout(() => connect(key), 2000);
  };
}
if (NEEDS_KEY) {
  const saved = sessionStorage.getItem('parley-admin-key');
  $('login').onsubmit = (e) => { e.preventDefault(); const k = $('key').value; sessionStorage.setItem('parley-admin-key', k); $('login').hidden = true; connect(k); };
  if (saved === null) { $('login').hidden = false; $('state').textContent = 'key needed'; } else connect(saved);
} else connect(undefined);
</script></body></html>
`;
