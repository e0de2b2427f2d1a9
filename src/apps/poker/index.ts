/**
 * The poker app: no-limit Texas Hold'em tables that people play from browser windows, served
 * under the host's prefix (`/poker`). Pages and assets come from the built web bundle; the game
 * runs over one `parley.v1` WebSocket endpoint (`/poker/ws`) built on Parley's public API only.
 *
 * What goes where: the public state of each table (never a hole card) on `poker:table:<id>`,
 * the list of tables on `poker:lobby`, and each player's own cards on
 * `poker:hole:<table>:<user>`, which only that user may subscribe to. Actions are `req`s; a
 * refused one answers `err` with the engine's stable reason code. On one server state lives in
 * memory; when the host runs on Redis (`context.redis`), tables and sessions are shared by every
 * server, each table owned by one of them at a time (cluster/table-cluster.ts, docs/poker.md).
 * @packageDocumentation
 */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { RealtimeError, WebSocketServer, type WebSocket } from '../../index.js';
import { AddressRateLimiter, directSockets, requestPath, sameOrigin, serveStatic, type AppContext, type AppFactory, type ParleyApp } from '../../server/app.js';
import type { RandomInt } from './engine/deck.js';
import type { TableConfig } from './engine/table.js';
import { privateView } from './engine/view.js';
import { asObject, booleanField, optionalInteger, stringField } from './requests.js';
import { TableRoom, Topics, systemClock, type Clock, type RoomDeps } from './room.js';
import { SessionStore, type Session, type SessionStoreOptions } from './sessions.js';
import { connectRedis, type RedisLink } from './cluster/redis-link.js';
import { SharedSessions } from './cluster/shared-sessions.js';
import { TableCluster, type TableClusterOptions } from './cluster/table-cluster.js';
import { applyOp, type TableOp } from './cluster/table-ops.js';
import type { LobbyTable } from './wire.js';

export type { LobbyTable } from './wire.js';

/** The tables that exist when the app starts. */
export const DEFAULT_TABLES: readonly TableConfig[] = [
  { id: 'main', name: 'Main Street (6-max)', seats: 6, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 30_000 },
  { id: 'full-ring', name: 'Full Ring (9 seats)', seats: 9, smallBlind: 5, bigBlind: 10, minBuyIn: 200, maxBuyIn: 1000, turnMs: 30_000 },
  { id: 'heads-up', name: 'Heads-Up', seats: 2, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 30_000 },
];

/** Options for tests and embedding; {@link createPokerApp} uses the defaults. */
export interface PokerOptions {
  tables?: readonly TableConfig[];
  clock?: Clock;
  /** Uniform integers for the shuffle. Default: `node:crypto`'s `randomInt` (no modulo bias). */
  randomInt?: RandomInt;
  /** Pause after a hand (ms). Default 5,000. */
  handPauseMs?: number;
  /** Pause before a first hand (ms). Default 1,500. */
  startDelayMs?: number;
  /** Sitting out this long frees the seat (ms). Default 15 minutes; checked once a minute. */
  idleSeatMs?: number;
  /**
   * New sessions (`POST <base>/api/session` with a name) one client address may create. Default
   * 10 per minute, 20 at once; past that `429` with `Retry-After`. Resuming a session is free.
   */
  sessionRate?: { perMinute: number; burst: number };
  /**
   * The session store's bounds: at most `max` sessions (default 100,000); when full, the one idle
   * longest goes if it has no open connection and was unused for `minIdleMs` (default one hour),
   * otherwise new sessions get `503`.
   */
  sessions?: Omit<SessionStoreOptions, 'now'>;
  /** On several servers (`context.redis` set): the lease and forwarding times. */
  cluster?: Omit<TableClusterOptions, 'keyPrefix'>;
  /** On several servers: a session unused this long is forgotten (ms). Default 30 days. */
  sessionTtlMs?: number;
}

/** Default {@link PokerOptions.sessionRate}: the auction's. */
export const DEFAULT_SESSION_RATE = { perMinute: 10, burst: 20 } as const;

/** A connection's identity: a signed-in player, or a guest who may only watch. */
interface Identity {
  user: string;
  name: string | null;
}

const MAX_BODY = 1024;

/**
 * Security headers of the page. Scripts, styles and connections from this origin only (`'self'`
 * covers the page's own `ws:`/`wss:` endpoint, CSP Level 3); no plugins; no framing by any site
 * (`frame-ancestors` works only as a header, not in the page's `<meta>` policy), so the table
 * cannot be clickjacked.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RangeError('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.end(text);
}

/**
 * Creates the poker app with `options` (clock, shuffle source, tables, pauses), on this server
 * alone (`context.redis` is not used: {@link startPoker} is the app on several servers).
 */
export function createPoker(context: AppContext, options: PokerOptions = {}): ParleyApp {
  return build(context, options, undefined).app;
}

/**
 * Creates the poker app: on this server alone, or, when `context.redis` is set, as one of the
 * servers sharing that Redis (resolves once it has loaded the tables and taken those nobody owns).
 */
export async function startPoker(context: AppContext, options: PokerOptions = {}): Promise<ParleyApp> {
  if (context.redis === undefined) return createPoker(context, options);
  const redis = await connectRedis(context.redis, (error) => context.log('warn', { msg: 'poker redis connection', error: String(error) }));
  try {
    const built = build(context, options, { redis, keyPrefix: context.redis.keyPrefix });
    await built.ready;
    return built.app;
  } catch (error) {
    redis.close();
    throw error;
  }
}

function build(context: AppContext, options: PokerOptions, shared: { redis: RedisLink; keyPrefix: string } | undefined): { app: ParleyApp; ready: Promise<void> } {
  const clock = options.clock ?? systemClock;
  const sessions = new SessionStore({ ...options.sessions, now: () => clock.now() });
  const sharedSessions = shared === undefined ? undefined : new SharedSessions(sessions, shared.redis, `${shared.keyPrefix}session:`, options.sessionTtlMs ?? 30 * 24 * 3600_000);
  const sessionLimit = options.sessionRate ?? DEFAULT_SESSION_RATE;
  const sessionRate = new AddressRateLimiter(sessionLimit.perMinute / 60, sessionLimit.burst, { now: () => clock.now() });
  let rooms: ReadonlyMap<string, TableRoom> = new Map<string, TableRoom>();
  let cluster: TableCluster | undefined;
  let lastLobby = '';

  // Rooms publish through the server created below; nothing publishes before it exists.
  const publish = (topic: string, data: unknown): void => {
    wss.publish(topic, data);
  };
  const lobby = (): { tables: LobbyTable[] } => ({
    tables: [...rooms.values()].map(({ table }) => ({
      id: table.config.id, name: table.config.name, seats: table.config.seats,
      players: table.seats.filter((s) => s !== null).length,
      smallBlind: table.config.smallBlind, bigBlind: table.config.bigBlind,
      minBuyIn: table.config.minBuyIn, maxBuyIn: table.config.maxBuyIn, playing: table.inHand,
    })),
  });
  /** Publishes the lobby when it changed; a replica's change only updates what this server knows (its owner publishes). */
  const refreshLobby = (announce = true): void => {
    const next = lobby();
    const text = JSON.stringify(next);
    if (text === lastLobby) return;
    lastLobby = text;
    if (announce) publish(Topics.lobby, next);
  };
  /** Applies a change where the table is owned: here, or (several servers) through its owner. */
  const run = (data: Record<string, unknown>, op: TableOp): Promise<{ ok: true }> | { ok: true } => {
    const table = stringField(data, 'table');
    const done = cluster !== undefined ? cluster.run(table, op) : applyOp(room(data), op);
    return done === undefined ? { ok: true } : done.then(() => ({ ok: true }) as const);
  };


  const identity = (ws: WebSocket): Identity => ws.data as Identity;
  const room = (data: Record<string, unknown>): TableRoom => {
    const found = rooms.get(stringField(data, 'table'));
    if (found === undefined) throw new RealtimeError('UNKNOWN_TABLE', 'There is no such table.');
    return found;
  };
  const player = (ws: WebSocket): Identity & { name: string } => {
    const who = identity(ws);
    if (who.name === null) throw new RealtimeError('NOT_SIGNED_IN', 'Choose a name before taking a seat.');
    return { user: who.user, name: who.name };
  };
  /** Parses `poker:<kind>:<table>[:<user>]`. */
  const parseTopic = (topic: string): { kind: string; table?: TableRoom; user?: string } => {
    const [prefix, kind = '', tableId = '', user, ...rest] = topic.split(':');
    if (prefix !== 'poker' || rest.length > 0) return { kind: '' };
    return { kind, table: rooms.get(tableId), user };
  };

  const sockets = context.sockets ?? directSockets;
  const wss = new WebSocketServer({
    noServer: true,
    // The host's connection class: its message rate and counters apply here as on every endpoint.
    WebSocket: sockets.WebSocket,
    // Pages are served from this host; another site's page gets 403.
    origins: sameOrigin,
    // Envelopes are tiny; a larger one is answered TOO_LARGE by the protocol layer (below the
    // frame limit, so the client gets a reason rather than a closed connection).
    maxPayload: 256 * 1024,
    heartbeat: { interval: 30_000, timeout: 10_000 },
    authenticate: (req): Identity | Promise<Identity> => {
      const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
      // No token (or a forgotten one): a guest, who can watch but not sit.
      const identify = (session: Session | undefined): Identity => (session === undefined ? { user: `guest-${randomInt(2 ** 47).toString(36)}`, name: null } : { user: session.user, name: session.name });
      return sharedSessions === undefined ? identify(sessions.get(token)) : sharedSessions.get(token).then(identify);
    },
    realtime: {
      adapter: context.adapter,
      history: { maxCount: 200 },
      limits: { maxEnvelopeBytes: 16 * 1024, maxDepth: 16, maxSubscriptions: 100 },
      authorize: (ws, action, topic) => {
        if (action !== 'subscribe') return false; // everything a client changes goes through requests
        if (topic === Topics.lobby) return true;
        const parsed = parseTopic(topic);
        if (parsed.table === undefined) return false;
        if (parsed.kind === 'table') return parsed.user === undefined;
        // A private topic: its owner only.
        return parsed.kind === 'hole' && parsed.user === identity(ws).user;
      },
      snapshot: (topic, ws) => {
        if (topic === Topics.lobby) return lobby();
        const parsed = parseTopic(topic);
        if (parsed.table === undefined) return undefined;
        if (parsed.kind === 'table') return parsed.table.message();
        if (parsed.kind === 'hole' && parsed.user === identity(ws).user) return privateView(parsed.table.table, parsed.user);
        return undefined;
      },
      requests: {
        whoami: (_data, ws) => identity(ws),
        tables: () => lobby(),
        sit: (data, ws) => {
          const d = asObject(data);
          const who = player(ws);
          return run(d, { kind: 'sit', user: who.user, name: who.name, seat: d.seat, buyIn: d.buyIn });
        },
        leave: (data, ws) => {
          const d = asObject(data);
          return run(d, { kind: 'leave', user: identity(ws).user });
        },
        sitOut: (data, ws) => {
          const d = asObject(data);
          return run(d, { kind: 'sitOut', user: identity(ws).user, out: booleanField(d, 'out') });
        },
        act: (data, ws) => {
          const d = asObject(data);
          return run(d, { kind: 'act', user: identity(ws).user, action: d.action, amount: d.amount, hand: optionalInteger(d, 'hand') });
        },
      },
    },
  });
  const deps: RoomDeps = {
    publish, clock, randomInt: options.randomInt ?? ((n) => randomInt(n)),
    handPauseMs: options.handPauseMs ?? 5000, startDelayMs: options.startDelayMs ?? 1500, idleSeatMs: options.idleSeatMs ?? 15 * 60_000,
    onChange: () => refreshLobby(), log: context.log,
  };
  const configs = options.tables ?? DEFAULT_TABLES;
  if (shared === undefined) {
    rooms = new Map(configs.map((config) => [config.id, new TableRoom(config, deps)]));
  } else {
    cluster = new TableCluster(configs, deps, shared.redis, { ...options.cluster, keyPrefix: shared.keyPrefix });
    cluster.onReplicaChange = () => refreshLobby(false);
    rooms = cluster.rooms;
  }
  lastLobby = JSON.stringify(lobby());
  // Once a minute, seats of players who sat out too long are freed.
  let sweeper: unknown;
  const sweep = (): void => {
    for (const r of rooms.values()) r.sweep();
    sweeper = clock.setTimeout(sweep, 60_000);
  };
  sweeper = clock.setTimeout(sweep, 60_000);
  wss.on('handlerError', (error: unknown) => context.log('error', { msg: 'poker request failed', error: String(error) }));

  const base = context.basePath;

  /** index.html with its `<base href>` set to where the app is mounted. */
  const servePage = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let html: string;
    try {
      html = await readFile(join(context.webRoot, 'index.html'), 'utf8');
    } catch {
      return false;
    }
    const body = Buffer.from(html.replaceAll('{{base}}', escapeHtml(base)));
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...PAGE_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };

  const handleSession = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch {
      sendJson(res, 400, { error: 'BAD_REQUEST', message: 'Send a small JSON object.' });
      return;
    }
    const { token, name } = (typeof body === 'object' && body !== null ? body : {}) as { token?: unknown; name?: unknown };
    const existing = sharedSessions === undefined ? sessions.get(token) : await sharedSessions.get(token, true);
    if (existing !== undefined) {
      sendJson(res, 200, existing);
      return;
    }
    if (token !== undefined && name === undefined) {
      sendJson(res, 404, { error: 'UNKNOWN_SESSION', message: 'That session is not known here (the server may have restarted).' });
      return;
    }
    // Only new sessions count: a page resumes its own on every load.
    const address = context.clientAddress?.(req) ?? req.socket.remoteAddress ?? 'unknown';
    const wait = sessionRate.attempt(address);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      sendJson(res, 429, { error: 'RATE_LIMITED', message: `Too many new sessions from this address; try again in ${wait} s.` });
      return;
    }
    if (!SessionStore.validName(name)) {
      sendJson(res, 400, { error: 'BAD_NAME', message: 'A name is 1 to 24 printable characters.' });
      return;
    }
    const created = sessions.create(name);
    if (created === undefined) {
      res.setHeader('Retry-After', '60');
      sendJson(res, 503, { error: 'FULL', message: 'The server has too many players signed in; try again later.' });
      return;
    }
    await sharedSessions?.save(created);
    sendJson(res, 201, created);
  };

  const app: ParleyApp = {
    name: 'poker',
    title: 'Texas Hold\u2019em',
    description: 'No-limit Texas Hold\u2019em tables for 2 to 9 players, with spectators.',
    async handleRequest(req, res) {
      const path = requestPath(req.url);
      if (path !== base && !path.startsWith(base + '/')) return false;
      const rel = path.slice(base.length);
      if (rel === '') {
        res.writeHead(301, { Location: `${base}/` }).end();
        return true;
      }
      if (rel === '/api/session') {
        if (req.method !== 'POST') {
          res.writeHead(405, { Allow: 'POST' }).end();
          return true;
        }
        await handleSession(req, res);
        return true;
      }
      if (rel === '/api/tables' && req.method === 'GET') {
        sendJson(res, 200, lobby());
        return true;
      }
      // Page routes all load the single page, which reads the path itself.
      if (rel === '/' || rel === '/index.html' || /^\/tables\/[a-z0-9-]{1,40}$/.test(rel)) return servePage(req, res);
      return serveStatic(context.webRoot, rel.slice(1), req, res);
    },
    handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
      if (requestPath(req.url) !== `${base}/ws`) return false;
      sockets.handleUpgrade(wss, req, socket, head, (ws) => {
        // A session in use by a connection is never forgotten to make room for a new one.
        ws.once('close', sessions.connect(new URL(req.url ?? '/', 'http://localhost').searchParams.get('token')));
        wss.emit('connection', ws, req);
      });
      return true;
    },
    async close(code = 1001) {
      clock.clearTimeout(sweeper);
      for (const r of rooms.values()) r.close();
      // Several servers: the leases are released, so another server takes the tables at once.
      await cluster?.close();
      await wss.shutdown({ code, timeout: 2000 });
    },
  };
  return { app, ready: cluster?.start() ?? Promise.resolve() };
}

/** The bundled app factory (`['poker', createPokerApp]` in the registry): {@link startPoker}. */
export const createPokerApp: AppFactory = (context) => startPoker(context);
