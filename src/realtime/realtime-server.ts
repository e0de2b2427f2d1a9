/**
 * The public `WebSocketServer`: the Node layer's server (the `ws` 8 API, unchanged) with topics,
 * presence, history and the `parley.v1` protocol. Every connection it accepts is a real-time
 * {@link WebSocket}; one that offers the `parley.v1` subprotocol gets it (unless the application's
 * own `handleProtocols` decides otherwise), is greeted with `hello`, and has its envelopes handled
 * by the server. Plain connections work exactly as with `ws`, and can still be subscribed to
 * topics from server code: they receive the published data as it was given.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer as NodeWebSocketServer } from '../node/websocket-server.js';
import type { ServerOptions as NodeServerOptions } from '../node/server-options.js';
import { kAdoptConnection } from '../node/internal.js';
import type { WebSocket as NodeWebSocket } from '../node/websocket.js';
import type { WebSocketServerEvents } from '../node/websocket-events.js';
import type { ClusterAdapter } from '../pubsub/adapter.js';
import { REALTIME_SUBPROTOCOL, type PresenceMember, type StreamPosition } from '../wire/envelope.js';
import { resolveHistoryLimits, type HistoryLimits } from '../pubsub/history.js';
import { IdempotencyCache, type IdempotencyOptions } from '../pubsub/idempotency.js';
import { isPromise, type MaybePromise } from '../pubsub/maybe-async.js';
import type { PublishResult, TopicOptions, TopicStats } from '../pubsub/pubsub.js';
import { PubSub } from './node-pubsub.js';
import { PENDING_PUBLISH, WebSocket, kBindSession, kSession } from './realtime-socket.js';
import { RealtimeSession, type SessionHub, type SessionLimits } from './session.js';

/** Limits on what a `parley.v1` client may send. */
export interface RealtimeLimits {
  /** Largest envelope (its JSON) in bytes. Default 65,536. */
  maxEnvelopeBytes?: number;
  /** Deepest JSON nesting. Default 32. */
  maxDepth?: number;
  /** Subscriptions per connection. Default 1,000. */
  maxSubscriptions?: number;
  /** Largest presence info a client may give with `sub` (its JSON, in bytes). Default 1,024. */
  maxPresenceBytes?: number;
  /** Presence info one connection may hold over all its topics (JSON bytes). Default 65,536. */
  maxPresenceTotalBytes?: number;
}

/** The real-time options of {@link WebSocketServer}. */
export interface RealtimeOptions {
  /** Default history bounds: `maxCount` 1,000 messages, `maxAge` 300,000 ms. */
  history?: Partial<HistoryLimits>;
  /** Per-topic policy, byte cap and history; called once per topic while it is in use. */
  topics?: (topic: string) => TopicOptions | undefined;
  /**
   * Whether a `parley.v1` client may subscribe to or publish on a topic. Only `true` allows.
   * Server code (`ws.subscribe`, `wss.publish`) is not asked.
   */
  authorize?: (ws: WebSocket, action: 'subscribe' | 'publish', topic: string) => boolean | Promise<boolean>;
  /**
   * The topic's current state for a client that has none: a new subscription, or one that could
   * not recover (`recovered: false`). Sent in `subok` as `snapshot`; may return a promise.
   */
  snapshot?: (topic: string, ws: WebSocket) => unknown;
  /** The user a connection belongs to. Default: `ws.data.user`, else `ws.data.id`, else the connection id. */
  userOf?: (ws: WebSocket) => string;
  /**
   * `req` handlers by method name. The result (JSON or bytes) is the `res` data; a thrown
   * {@link RealtimeError} is answered with its code and message, anything else with `INTERNAL`.
   */
  requests?: Record<string, (data: unknown, ws: WebSocket) => unknown>;
  /** Limits on incoming envelopes. */
  limits?: RealtimeLimits;
  /**
   * Bounds of the idempotency cache (outcomes of `pub`/`req` ids, for retries): per user
   * (default 1,000 ids), their age (default 300,000 ms), and in total (default 50,000 ids and
   * 8 MiB: past them the oldest outcomes of any user are forgotten).
   */
  idempotency?: Omit<IdempotencyOptions, 'now'>;
  /** The cluster adapter. Default: an in-memory one of this server's own. */
  adapter?: ClusterAdapter;
}

/**
 * Options of {@link WebSocketServer}: those of `ws` 8, Parley's Node-layer additions, and
 * `realtime`. `T` and `U` are the classes of connections and requests, as in `@types/ws`.
 */
export interface ServerOptions<
  T extends typeof NodeWebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends NodeServerOptions<T, U> {
  /** Topics, presence, history and the `parley.v1` protocol. */
  realtime?: RealtimeOptions;
}

/** Options of {@link WebSocketServer.publish}. */
export interface ServerPublishOptions {
  /** Conflation key (`conflate` policy). */
  key?: string;
  /** Frame type for plain subscribers; default binary for bytes, text otherwise. */
  binary?: boolean;
  /** A plain connection not to deliver to. `parley.v1` connections are never skipped (offsets must stay contiguous). */
  except?: NodeWebSocket;
}

const DEFAULT_LIMITS: Readonly<SessionLimits> = Object.freeze({ maxEnvelopeBytes: 65_536, maxDepth: 32, maxSubscriptions: 1000, maxPresenceBytes: 1024, maxPresenceTotalBytes: 65_536 });

function resolveLimits(limits: RealtimeLimits | undefined): SessionLimits {
  const out = { ...DEFAULT_LIMITS };
  for (const name of ['maxEnvelopeBytes', 'maxDepth', 'maxSubscriptions', 'maxPresenceBytes', 'maxPresenceTotalBytes'] as const) {
    const value = limits?.[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`realtime.limits.${name} must be a positive integer, got ${String(value)}`);
    out[name] = value;
  }
  return out;
}

/** Picks `parley.v1` when offered; otherwise the first offer, as the Node layer (and `ws`) would. */
function chooseProtocol(protocols: Set<string>): string | false {
  if (protocols.has(REALTIME_SUBPROTOCOL)) return REALTIME_SUBPROTOCOL;
  for (const p of protocols) return p;
  return false;
}

function defaultUser(ws: WebSocket): string | undefined {
  const data = ws.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const { user, id } = data as { user?: unknown; id?: unknown };
  for (const v of [user, id]) {
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

/**
 * A WebSocket server with topics. Everything `ws` 8's server does works unchanged; see
 * docs/realtime.md for the additions.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- adds typed event overloads only
export class WebSocketServer<
  T extends typeof NodeWebSocket = typeof WebSocket,
  U extends typeof http.IncomingMessage = typeof http.IncomingMessage,
> extends NodeWebSocketServer<T, U> {
  readonly #engine: PubSub;
  readonly #hub: SessionHub<WebSocket>;
  readonly #userOf: ((ws: WebSocket) => string) | undefined;
  /** Connection ids are unique across servers and processes: a random prefix, then a counter. */
  readonly #idPrefix = randomBytes(6).toString('base64url');
  #connections = 0;
  readonly #sweeper: NodeJS.Timeout;

  /**
   * @param options - `ws` options plus `realtime`
   * @param callback - called on 'listening' in port mode
   * @throws TypeError/RangeError for inconsistent options
   */
  constructor(options: ServerOptions<T, U>, callback?: () => void) {
    // No options at all reaches the Node layer's check, which names the options it needs (as `ws`).
    options ??= {};
    const realtime = options.realtime ?? {};
    // Checked before the Node layer starts listening, so bad options leave nothing open.
    const limits = resolveLimits(realtime.limits);
    const idempotency = new IdempotencyCache({ ...realtime.idempotency, now: undefined });
    const history = resolveHistoryLimits(realtime.history);
    // Without a `WebSocket` option T is the default, the real-time class.
    super({ ...options, WebSocket: options.WebSocket ?? (WebSocket as unknown as T), handleProtocols: options.handleProtocols ?? chooseProtocol }, callback);
    this.#engine = new PubSub({
      adapter: realtime.adapter,
      history,
      topics: realtime.topics,
      onPresence: (topic, event, member) => this.emit('presence', topic, event, member),
      onError: (error) => this.#report(error, undefined),
    });
    this.#userOf = realtime.userOf;
    this.#hub = {
      engine: this.#engine,
      limits,
      idempotency,
      authorize: realtime.authorize,
      snapshot: realtime.snapshot,
      requests: realtime.requests,
      reportError: (error, ws) => this.#report(error, ws),
      connectionId: (n) => `${this.#idPrefix}.${n.toString(36)}`,
    };
    this.#sweeper = setInterval(() => idempotency.sweep(), 60_000);
    this.#sweeper.unref();
  }

  /** The pub/sub engine (for adapters, tests and tools). */
  get pubsub(): PubSub {
    return this.#engine;
  }

  /** @internal Gives a new connection its session, before the application sees it. */
  override [kAdoptConnection](ws: NodeWebSocket): void {
    // A `WebSocket` option that is not a real-time class gets plain connections.
    if (!(ws instanceof WebSocket)) return;
    const n = ++this.#connections;
    let user: string | undefined;
    try {
      user = this.#userOf !== undefined ? this.#userOf(ws) : defaultUser(ws);
      if (typeof user !== 'string' || user.length === 0) user = undefined;
    } catch (error) {
      this.#report(error, ws);
    }
    const session = new RealtimeSession(this.#hub, ws, n, user, ws.protocol === REALTIME_SUBPROTOCOL);
    ws[kBindSession](session);
    if (session.envelopes) session.hello();
  }

  /** Reports an application hook's failure on 'handlerError' (never 'error': that would throw without a listener). */
  #report(error: unknown, ws: WebSocket | undefined): void {
    if (this.listenerCount('handlerError') > 0) this.emit('handlerError', error, ws);
  }

  /**
   * Publishes `data` to every subscriber of `topic`: a string, bytes (Buffer, typed array,
   * ArrayBuffer) or any JSON value. Framed once per kind of subscriber, the same bytes for all.
   * @returns status (`ok`, `backpressure`, `dropped`), the message's offset and how many
   * subscribers it was queued for. With an asynchronous adapter the offset is -1 (assigned later).
   * @throws TypeError for an invalid topic name or data that is not a string, bytes or JSON
   */
  publish(topic: string, data: unknown, options: ServerPublishOptions = {}): PublishResult {
    const { except, ...rest } = options;
    const result = this.#engine.publish(topic, data, { ...rest, except: except instanceof WebSocket ? except[kSession] : undefined });
    if (!isPromise(result)) return result;
    result.catch((error: unknown) => this.#report(error, undefined));
    return { ...PENDING_PUBLISH };
  }

  /** Subscribers of `topic` on this server. */
  subscriberCount(topic: string): number {
    return this.#engine.subscriberCount(topic);
  }

  /**
   * Members present in `topic`, one per user (`{ user, conn, info }`: their earliest connection).
   * An array with the in-memory adapter; a promise with an asynchronous one (`await` works for both).
   */
  presence(topic: string): MaybePromise<PresenceMember[]> {
    return this.#engine.members(topic);
  }

  /** The topic's epoch and newest offset. */
  position(topic: string): MaybePromise<StreamPosition> {
    return this.#engine.position(topic);
  }

  /** Counts for `topic` on this server: subscribers, deliveries, and what its slow-consumer policy did. */
  topicStats(topic: string): TopicStats {
    return this.#engine.topicStats(topic);
  }

  /** @inheritDoc */
  override close(callback?: (error?: Error) => void): void {
    clearInterval(this.#sweeper);
    super.close(callback);
  }
}

/** The real-time server's events: the Node layer's (as `ws`) plus 'presence' and 'handlerError'. */
export interface RealtimeServerEvents<W, R extends http.IncomingMessage> extends WebSocketServerEvents<W, R> {
  /** A member joined or left a topic's presence. */
  presence: [topic: string, event: 'join' | 'leave', member: PresenceMember];
  /** An application hook (`authorize`, `snapshot`, `userOf`, a request handler, the adapter) failed. */
  handlerError: [error: unknown, ws: WebSocket | undefined];
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the catch-all overloads mirror EventEmitter's own signatures */
/** Typed event overloads: those of `ws` (see the Node layer) and the real-time events. */
export interface WebSocketServer<T extends typeof NodeWebSocket, U extends typeof http.IncomingMessage> {
  on<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  on(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  once<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  once(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  off<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  off(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  addListener<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  addListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  removeListener<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  removeListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependListener<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  prependListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
  prependOnceListener<K extends keyof Events<T, U>>(event: K, listener: (this: this, ...args: Events<T, U>[K]) => void): this;
  prependOnceListener(event: string | symbol, listener: (this: this, ...args: any[]) => void): this;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

type Events<T extends typeof NodeWebSocket, U extends typeof http.IncomingMessage> = RealtimeServerEvents<InstanceType<T>, InstanceType<U>>;
