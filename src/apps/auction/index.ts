/**
 * The live auction as a hosted application ({@link AppFactory}): pages and assets under its
 * base path, a small JSON API for sessions, and the real-time endpoint `<base>/ws` where pages
 * watch lots (topics `lobby`, `lot:<id>`, `user:<id>`) and place bids (requests `bid`,
 * `createLot`). Built only on Parley's public API. The protocol is described in docs/apps.md.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import type * as http from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { InMemoryAdapter, RealtimeError, WebSocketServer, type ClusterAdapter, type WebSocket } from '../../index.js';
import { AddressRateLimiter, directSockets, requestPath, sameOrigin, serveStatic, type AppContext, type AppFactory, type ParleyApp } from '../../server/app.js';
import { Auction } from './auction.js';
import { AuctionRefusal, Topics, type AuctionEngine, type AuctionOptions, type Person, type Publish, type Rate } from './engine.js';
import { PgAuctionStore } from './pg-store.js';
import { AuctionError, checkName, type AntiSnipe } from './rules.js';
import { SharedAuction, type SharedAuctionOptions } from './shared-auction.js';
import { AuctionStore, type Session } from './store.js';

/** Options beyond the host's context, for tests and embedding. */
export interface AuctionAppOptions extends AuctionOptions, Omit<SharedAuctionOptions, keyof AuctionOptions> {
  /** Heartbeat interval for idle connections, ms. Default 30,000. */
  heartbeatMs?: number;
  /** Bytes queued per watcher of a lot or the lobby before conflation starts. Default 256 KiB. */
  maxQueuedBytes?: number;
  /**
   * Sessions (`POST <base>/api/session`) one client address may create. Default 10 per minute,
   * 20 at once; past that `429` with `Retry-After`. Each session is a row kept for good.
   */
  sessionRate?: Rate;
}

/** Default {@link AuctionAppOptions.sessionRate}. */
export const DEFAULT_SESSION_RATE: Rate = { perMinute: 10, burst: 20 };

/** The auction app, with its parts exposed for tests and tools. */
export interface AuctionApp extends ParleyApp {
  /** The running auction: {@link Auction} on SQLite, {@link SharedAuction} on PostgreSQL. */
  readonly auction: AuctionEngine;
  /** The real-time server behind `<base>/ws`. */
  readonly realtime: WebSocketServer;
}

/** Page paths that all serve the single-page app's `index.html`. */
const PAGE = /^\/(?:|sell|lots\/\d{1,15})$/;

/** A lot's topic, as the auction publishes it. */
const LOT_TOPIC = /^lot:[1-9]\d{0,14}$/;

/**
 * Security headers for pages: scripts, styles and connections from this origin only (`'self'`
 * covers the page's own `ws:`/`wss:` endpoint, CSP Level 3); images may be remote (sellers give
 * image addresses); no plugins; no framing by any site, so bidding cannot be clickjacked.
 */
const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' https: http: data:; connect-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** Who a connection belongs to: `ws.data` as `authenticate` set it. */
function personOf(ws: WebSocket): Person | undefined {
  const data = ws.data as Partial<Person> | undefined;
  return typeof data?.user === 'string' && typeof data.name === 'string' ? { user: data.user, name: data.name } : undefined;
}

function signedIn(ws: WebSocket): Person {
  const who = personOf(ws);
  if (who === undefined) throw new RealtimeError(AuctionError.NOT_SIGNED_IN, 'choose a name before bidding or selling');
  return who;
}

/** A rule's refusal as the client's error reply; anything else as it is. */
function refusal(error: unknown): never {
  if (error instanceof AuctionRefusal) throw new RealtimeError(error.code, error.message);
  throw error;
}

/** Runs an auction operation (synchronous on SQLite, not on PostgreSQL), turning a refusal into the client's error reply. */
function answer<T>(operation: () => T | Promise<T>): T | Promise<T> {
  try {
    const result = operation();
    return result instanceof Promise ? result.catch(refusal) : result;
  } catch (error) {
    return refusal(error);
  }
}

/** Where sessions are kept: the SQLite store (synchronous) or the PostgreSQL one. */
interface Sessions {
  createSession(name: string, now: number): Session | Promise<Session>;
  session(token: string): Omit<Session, 'token'> | undefined | Promise<Omit<Session, 'token'> | undefined>;
}

function field(data: unknown, name: string): unknown {
  return typeof data === 'object' && data !== null && Object.hasOwn(data, name) ? (data as Record<string, unknown>)[name] : undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a small JSON body; `undefined` when it is too large or not JSON. */
async function readJson(req: http.IncomingMessage, limit = 4096): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Longest anti-sniping time a host may set (`auction.antiSnipeMs`'s maximum in the server's settings). */
const MAX_ANTI_SNIPE_MS = 3_600_000;

/**
 * The anti-sniping rule the host set (`settings.antiSnipeMs`: a bid with less than that left
 * moves the end to that long after it), or `undefined` for the rules' default.
 * @throws RangeError naming the setting when the host handed over something else
 */
export function antiSnipeSetting(context: AppContext): AntiSnipe | undefined {
  const ms = context.settings?.antiSnipeMs;
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0 || ms > MAX_ANTI_SNIPE_MS) {
    throw new RangeError(`auction.antiSnipeMs must be a whole number of ms from 0 to ${MAX_ANTI_SNIPE_MS}, got ${JSON.stringify(ms)} (from the host's app settings)`);
  }
  return { windowMs: ms, extendMs: ms };
}

/** `options` over what the host's settings say: the options are a test's or an embedder's own choice. */
function withSettings(context: AppContext, options: AuctionAppOptions): AuctionAppOptions {
  const antiSnipe = options.antiSnipe ?? antiSnipeSetting(context);
  return antiSnipe === undefined ? options : { ...options, antiSnipe };
}

/**
 * Creates the auction app with `options` (a clock, anti-sniping and lot limits for tests; an
 * `antiSnipe` given here wins over the host's `settings.antiSnipeMs`). Opens (or creates)
 * `auction.sqlite` in the context's data directory and resumes every lot: one node only (the
 * file is locked to this process).
 * @throws RangeError when the host's `settings.antiSnipeMs` is not a valid time
 */
export function createAuction(context: AppContext, given: AuctionAppOptions = {}): AuctionApp {
  const options = withSettings(context, given);
  const store = new AuctionStore(join(context.dataDir, 'auction.sqlite'));
  return mount(context, options, store, context.adapter, (publish, onError) => new Auction(store, publish, { onError, ...options }), () => Promise.resolve(store.close()));
}

/**
 * Creates the auction on the PostgreSQL database at `url` (default: the context's
 * `databaseUrl`), for several nodes sharing it: creates or upgrades its tables, loads every lot
 * and joins the other nodes (docs/apps.md, "The auction on several nodes"). Its watchers get
 * changes from the database's notifications, so its real-time server uses an adapter of its
 * own rather than the cluster's: every node publishes every change to its own watchers once.
 * @throws Error when the database cannot be reached or its schema cannot be created
 * @throws RangeError when the host's `settings.antiSnipeMs` is not a valid time
 */
export async function createSharedAuction(context: AppContext, given: AuctionAppOptions & { url?: string } = {}): Promise<AuctionApp> {
  const options = withSettings(context, given);
  const url = given.url ?? context.databaseUrl;
  if (url === undefined || url === '') throw new Error('createSharedAuction needs a PostgreSQL URL (auction.databaseUrl)');
  const store = await PgAuctionStore.open(url);
  let auction: SharedAuction | undefined;
  try {
    const hub: { publish?: Publish } = {};
    const onError = (error: unknown): void => context.log('error', { msg: 'auction database trouble', error: String(error) });
    auction = await SharedAuction.start(store, (topic, data, key) => hub.publish?.(topic, data, key), { onError, ...options });
    const started = auction;
    const adapter = new InMemoryAdapter();
    const app = mount(context, options, store, adapter, (publish) => {
      hub.publish = publish;
      return started;
    }, async () => {
      adapter.close();
      await store.close();
    });
    context.log('info', { msg: 'auction on PostgreSQL', node: store.node });
    return app;
  } catch (error) {
    auction?.stop();
    await store.close();
    throw error;
  }
}

/** The app around an auction engine: pages, the session API and the real-time endpoint. */
function mount(
  context: AppContext,
  options: AuctionAppOptions,
  store: Sessions,
  adapter: ClusterAdapter,
  makeAuction: (publish: Publish, onError: (error: unknown) => void) => AuctionEngine,
  closeStore: () => Promise<void>,
): AuctionApp {
  const base = context.basePath;
  const sessionLimit = options.sessionRate ?? DEFAULT_SESSION_RATE;
  const sessionRate = new AddressRateLimiter(sessionLimit.perMinute / 60, sessionLimit.burst, { now: options.now ?? Date.now });
  // Declared before the auction, which may end overdue lots (and publish) while it loads.
  const hub: { wss?: WebSocketServer } = {};
  const auction = makeAuction((topic, data, key) => {
    hub.wss?.publish(topic, data, { key });
  }, (error) => context.log('error', { msg: 'auction could not end a lot', error: String(error) }));

  const sockets = context.sockets ?? directSockets;
  const server = new WebSocketServer({
    noServer: true,
    // The host's connection class: its message rate and counters apply here as on every endpoint.
    WebSocket: sockets.WebSocket,
    maxPayload: 64 * 1024,
    // Pages are served from this host; another site's page gets 403.
    origins: sameOrigin,
    heartbeat: { interval: options.heartbeatMs ?? 30_000 },
    authenticate: async (req: http.IncomingMessage) => {
      const token = new URL(req.url ?? '/', 'http://localhost').searchParams.get('token');
      // An unknown token is not an error: the visitor watches anonymously, and the page, seeing
      // no user in `hello`, asks for a name again.
      const session = token === null || token.length > 200 ? undefined : await store.session(token);
      return session ?? {};
    },
    realtime: {
      adapter,
      history: { maxCount: 200, maxAge: 10 * 60_000 },
      // Lot and lobby messages carry whole states, so a watcher that falls behind needs only the
      // newest per key; private notices are few and each matters.
      topics: (topic) => (topic.startsWith('user:') ? { policy: 'drop', maxQueuedBytes: 256 * 1024 } : { policy: 'conflate', maxQueuedBytes: options.maxQueuedBytes ?? 256 * 1024 }),
      authorize: (ws, action, topic) => {
        if (action !== 'subscribe') return false;
        if (topic === Topics.lobby) return true;
        // One spelling per lot (`lot:7`, not `lot:07`): messages are published under that one.
        if (LOT_TOPIC.test(topic)) return auction.find(Number(topic.slice(4)));
        return personOf(ws) !== undefined && topic === Topics.user(personOf(ws)!.user);
      },
      snapshot: (topic, ws) => {
        const serverTime = auction.now();
        if (topic === Topics.lobby) return { type: 'lobby', lots: auction.lobby(), serverTime };
        if (LOT_TOPIC.test(topic)) {
          const id = Number(topic.slice(4));
          const reserve = auction.reserveFor(id, personOf(ws)?.user);
          return { type: 'lot', lot: auction.view(id), serverTime, ...(reserve !== undefined ? { reserve } : {}) };
        }
        return undefined;
      },
      requests: {
        bid: (data, ws) => answer(() => auction.bid(signedIn(ws), field(data, 'lot'), field(data, 'amount'), field(data, 'key'))),
        createLot: (data, ws) => answer(() => auction.createLot(signedIn(ws), data)),
        lot: (data, ws) => {
          const id = field(data, 'lot');
          const view = typeof id === 'number' ? auction.view(id) : undefined;
          if (view === undefined) throw new RealtimeError(AuctionError.NO_SUCH_LOT, 'there is no such lot');
          const reserve = auction.reserveFor(view.id, personOf(ws)?.user);
          return { lot: view, serverTime: auction.now(), ...(reserve !== undefined ? { reserve } : {}) };
        },
      },
    },
  });
  hub.wss = server;
  server.on('handlerError', (error) => context.log('error', { msg: 'auction handler failed', error: String(error) }));

  async function page(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    let html: string;
    try {
      html = await readFile(join(context.webRoot, 'index.html'), 'utf8');
    } catch {
      return false;
    }
    // The page's relative links resolve against the app's mount point, wherever that is.
    html = html.replace('<base href="/auction/">', `<base href="${base}/">`);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', ...PAGE_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : html);
    return true;
  }

  async function api(path: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    if (path === '/api/session') {
      if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' }).end();
        return true;
      }
      const address = context.clientAddress?.(req) ?? req.socket.remoteAddress ?? 'unknown';
      const wait = sessionRate.attempt(address);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        sendJson(res, 429, { code: AuctionError.RATE_LIMITED, message: `too many new sessions from this address; try again in ${wait} s` });
        return true;
      }
      const body = await readJson(req);
      const name = checkName(field(body, 'name'));
      if (!name.ok) {
        sendJson(res, 400, { code: name.code, message: name.message });
        return true;
      }
      sendJson(res, 201, await store.createSession(name.name, auction.now()));
      return true;
    }
    if (path === '/api/lots' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, { lots: auction.lobby(), serverTime: auction.now() });
      return true;
    }
    return false;
  }

  return {
    name: 'auction',
    title: 'Live auction',
    description: 'Bid on lots in real time: prices, countdowns and outbid notices update on every screen at once.',
    auction,
    realtime: server,
    async handleRequest(req, res) {
      const path = requestPath(req.url).slice(base.length);
      if (path === '') {
        res.writeHead(308, { Location: `${base}/` }).end();
        return true;
      }
      if (path.startsWith('/api/')) return api(path, req, res);
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (PAGE.test(path)) return page(req, res);
      return serveStatic(context.webRoot, path.slice(1), req, res);
    },
    handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer) {
      if (requestPath(req.url) !== `${base}/ws`) return false;
      sockets.handleUpgrade(server, req, socket, head, (ws) => server.emit('connection', ws, req));
      return true;
    },
    async close(code = 1001) {
      auction.stop();
      await server.shutdown({ code, timeout: 2000 });
      await closeStore();
    },
  };
}

/** The auction for `parley serve`: on PostgreSQL when `auction.databaseUrl` is set, else on SQLite. */
export const createAuctionApp: AppFactory = (context) => (context.databaseUrl !== undefined && context.databaseUrl !== '' ? createSharedAuction(context) : createAuction(context));
