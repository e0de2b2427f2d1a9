/**
 * `ParleyClient`: the `parley.v1` real-time client for browsers and Node.
 * @packageDocumentation
 */
import {
  REALTIME_SUBPROTOCOL,
  decodeFrame,
  encodeEnvelope,
  isValidTopic,
  parseServerEnvelope,
  type ClientEnvelope,
  type EnvelopeId,
  type EnvelopeLimits,
  type PresenceMember,
  type ServerEnvelope,
} from '../wire/envelope.js';
import { CloseCode } from '../protocol/constants.js';
import { backoffDelay, resolveBackoff, type BackoffPolicy, type ReconnectOptions } from './backoff.js';
import { systemClock, type Clock } from './clock.js';
import { Emitter } from './emitter.js';
import { ParleyError } from './errors.js';
import { createIdSource } from './ids.js';
import { Outbox } from './outbox.js';
import { platformWebSocket, socketUrl, type SocketEvent, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { Subscription, type MessageHandler, type MessageInfo, type SubscribedInfo } from './subscription.js';
import { TopicStream } from './topic-stream.js';

/** A token, or a function that returns one (called before every connection, so it may refresh). */
export type TokenSource = string | (() => string | Promise<string>);

/** Options of {@link ParleyClient}. */
export interface ParleyClientOptions {
  /** Sent as the `token` query parameter of every connection. */
  token?: TokenSource;
  /** WebSocket class. Default `globalThis.WebSocket`; in Node 20 pass Parley's `WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Backoff between connection attempts, or `false` to stay closed once the connection is lost. */
  reconnect?: ReconnectOptions | false;
  /** Most publishes/requests kept while disconnected; past it the oldest is refused (`QUEUE_FULL`). Default 1,000. */
  maxQueue?: number;
  /** Default timeout of {@link ParleyClient.request} and {@link ParleyClient.presence}, in ms. Default 10,000. */
  requestTimeout?: number;
  /** Limits on envelopes from the server. Default 64 MiB and depth 128 (the server is trusted). */
  limits?: EnvelopeLimits;
  /** Timers and wall clock (tests inject a fake one). Default the platform's. */
  clock?: Clock;
  /** Uniform random source in [0, 1) for the reconnection jitter. Default `Math.random`. */
  random?: () => number;
}

/** Options of {@link ParleyClient.subscribe}. */
export interface SubscribeOptions {
  /** Join the topic's presence with this member info (any JSON). */
  presence?: unknown;
}

/** Options of {@link ParleyClient.publish}. */
export interface PublishOptions {
  /**
   * Ask the server to confirm: the promise resolves with the message's offset once it is
   * stored, and the publish is re-sent with the same id after a reconnect until then (the
   * server applies an id once). Without it the publish is at most once and its promise
   * resolves when it is handed to the socket.
   */
  ack?: boolean;
  /** Conflation key: a slow subscriber under the `conflate` policy gets only the latest per key. */
  key?: string;
  /** Give up after this many ms (`TIMEOUT`). Default: never (an acked publish waits for `ok`/`err`). */
  timeout?: number;
}

/** Options of {@link ParleyClient.request}. */
export interface RequestOptions {
  /** Reject with `TIMEOUT` after this many ms. Default the client's `requestTimeout`. */
  timeout?: number;
}

/** Connection states. */
export type ClientState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Argument of the `open` event. */
export interface OpenInfo {
  /** The server's id for this connection. */
  conn: string;
  /** The authenticated user, if the server named one. */
  user: string | undefined;
  /** Whether an earlier connection of this client was open before. */
  reconnected: boolean;
}

/** Argument of the `close` event. */
export interface CloseInfo {
  /** WebSocket close code (1006: lost without a close frame). */
  code: number;
  /** Close reason. */
  reason: string;
  /** Whether the client will try again (false after `close()` or with `reconnect: false`). */
  willReconnect: boolean;
}

/** Events of {@link ParleyClient}. */
export type ClientEvents = {
  /** Connected and greeted (`hello`); subscriptions have been renewed and the queue flushed. */
  open: [info: OpenInfo];
  /** A connection ended. The last event is a `close` with `willReconnect: false`. */
  close: [info: CloseInfo];
  /** Trying again after `delay` ms; `attempt` counts from 1 since the last successful connection. */
  reconnecting: [attempt: number, delay: number];
  /** Something failed that no promise reports: the socket, a token, an unreadable envelope, an `err` without id. */
  error: [error: ParleyError];
};

/** Counters, for monitoring and tests. */
export interface ClientStats {
  /** Reconnection attempts scheduled. */
  reconnects: number;
  /** Messages dropped as already seen. */
  duplicates: number;
  /** Resubscriptions made because an offset was skipped, the epoch changed, or the server sent `gap`. */
  resyncs: number;
  /** `reset` events (the server could not replay what was missed). */
  resets: number;
}

interface Operation {
  readonly seq: number;
  readonly envelope: ClientEnvelope;
  /** Id the reply will carry; undefined for a publish without ack. */
  readonly id: EnvelopeId | undefined;
  /** The reply type that settles it. */
  readonly expects: 'ok' | 'res' | undefined;
  readonly pick: (reply: Reply) => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
  timer: unknown;
  done: boolean;
}

interface TopicEntry {
  readonly stream: TopicStream;
  readonly handles: Set<Subscription>;
}

/** A server envelope of type `T`, as the codec checked it. */
type Envelope<T extends ServerEnvelope['t']> = Extract<ServerEnvelope, { t: T }>;
/** What settles an operation. */
type Reply = Envelope<'ok'> | Envelope<'res'>;

const DEFAULT_LIMITS: EnvelopeLimits = { maxBytes: 64 * 1024 * 1024, maxDepth: 128 };

/**
 * A `parley.v1` client. It connects at once, reconnects with backoff, renews every subscription
 * with `since` so that nothing is silently missed, queues publishes and requests while
 * offline, and re-sends acked publishes with the same id.
 *
 * @example
 * ```ts
 * const client = new ParleyClient('wss://example.com/rt', { token: () => getToken() });
 * client.subscribe('auction:42', (bid) => render(bid)).on('reset', (snapshot) => rebuild(snapshot));
 * await client.publish('auction:42', { amount: 120 }, { ack: true });
 * ```
 */
export class ParleyClient extends Emitter<ClientEvents> {
  /** The URL given to the constructor. */
  readonly url: string;
  /** Counters: reconnects, duplicates dropped, resyncs, resets. */
  readonly stats: ClientStats = { reconnects: 0, duplicates: 0, resyncs: 0, resets: 0 };

  readonly #token: TokenSource | undefined;
  readonly #WebSocket: WebSocketConstructor;
  readonly #backoff: BackoffPolicy | false;
  readonly #requestTimeout: number;
  readonly #limits: EnvelopeLimits;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #nextId = createIdSource();
  readonly #outbox: Outbox<Operation>;
  readonly #inflight = new Map<EnvelopeId, Operation>();
  readonly #topics = new Map<string, TopicEntry>();
  readonly #subIds = new Map<EnvelopeId, TopicStream>();

  #socket: WebSocketLike | undefined;
  #ready = false;
  #closed = false;
  #everOpened = false;
  #attempt = 0;
  #generation = 0;
  #seq = 0;
  #reconnectTimer: unknown;
  #serverTimeOffset = 0;
  #conn: string | undefined;
  #user: string | undefined;

  /**
   * Creates the client and starts connecting.
   * @param url - `ws:`/`wss:` (or `http:`/`https:`, or a path relative to the page in browsers)
   * @throws TypeError for an invalid URL or when there is no WebSocket class; RangeError for bad options
   */
  constructor(url: string, options: ParleyClientOptions = {}) {
    super();
    socketUrl(url, undefined); // throws early on a bad URL rather than on every retry
    const WebSocketClass = options.WebSocket ?? platformWebSocket();
    if (WebSocketClass === undefined) throw new TypeError('no WebSocket class on this platform: pass options.WebSocket');
    this.url = url;
    this.#token = options.token;
    this.#WebSocket = WebSocketClass;
    this.#backoff = options.reconnect === false ? false : resolveBackoff(options.reconnect);
    this.#requestTimeout = options.requestTimeout ?? 10_000;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#outbox = new Outbox<Operation>(options.maxQueue ?? 1000, (op) => {
      this.#fail(op, new ParleyError('QUEUE_FULL', `offline queue full (${String(options.maxQueue ?? 1000)}): oldest operation refused`));
    });
    this.#connect();
  }

  // ---- state ------------------------------------------------------------------------------

  /** `connecting`, `open` (greeted by the server), `reconnecting` (waiting to retry) or `closed`. */
  get state(): ClientState {
    if (this.#closed) return 'closed';
    if (this.#ready) return 'open';
    return this.#reconnectTimer === undefined ? 'connecting' : 'reconnecting';
  }

  /** Server clock minus local clock in ms, from the last `hello` (0 before the first). */
  get serverTimeOffset(): number {
    return this.#serverTimeOffset;
  }

  /** The server's clock now, in ms since the Unix epoch: for countdowns that agree across clients. */
  serverNow(): number {
    return this.#clock.now() + this.#serverTimeOffset;
  }

  /** The server's id for the current (or last) connection. */
  get connectionId(): string | undefined {
    return this.#conn;
  }

  /** The user the server authenticated, if any. */
  get user(): string | undefined {
    return this.#user;
  }

  /** Publishes and requests waiting for a connection. */
  get queued(): number {
    return this.#outbox.size;
  }

  // ---- API --------------------------------------------------------------------------------

  /**
   * Subscribes to `topic`. `onMessage` gets every message once, in offset order, across
   * reconnects; when that cannot be guaranteed the subscription emits `reset` instead.
   * @throws ParleyError `BAD_TOPIC`, or `CLOSED` after {@link ParleyClient.close}
   */
  subscribe<T = unknown>(topic: string, onMessage: MessageHandler<T>, options: SubscribeOptions = {}): Subscription {
    if (!isValidTopic(topic)) throw badTopic(topic);
    if (this.#closed) throw new ParleyError('CLOSED', 'client is closed');
    let entry = this.#topics.get(topic);
    const fresh = entry === undefined;
    if (entry === undefined) {
      entry = { stream: new TopicStream(topic, options.presence), handles: new Set() };
      this.#topics.set(topic, entry);
    }
    const owner = entry;
    const subscription = new Subscription(entry.stream, onMessage as MessageHandler, (s) => this.#detach(s, owner));
    entry.handles.add(subscription);
    if (fresh && this.#ready) this.#sendSub(entry.stream);
    return subscription;
  }

  /**
   * Publishes `data` (JSON, or a `Uint8Array` sent as a binary frame) to every subscriber of
   * `topic`, this client included when it is subscribed (a `parley.v1` subscriber is never
   * skipped: a hole in its offsets would read as loss).
   * @returns with `ack`, the message's offset once the server stored it; otherwise undefined once sent
   */
  publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<number | undefined> {
    if (!isValidTopic(topic)) return Promise.reject(badTopic(topic));
    const envelope: Extract<ClientEnvelope, { t: 'pub' }> = { t: 'pub', topic, data };
    if (options.key !== undefined) envelope.key = options.key;
    if (options.ack !== true) {
      const sent = this.#submit(envelope, undefined, undefined, () => undefined, options.timeout);
      sent.catch(() => undefined); // at most once: ignoring the outcome must not be an unhandled rejection
      return sent as Promise<undefined>;
    }
    const id = this.#nextId();
    envelope.id = id;
    return this.#submit(envelope, id, 'ok', (reply) => (reply.t === 'ok' ? reply.offset : undefined), options.timeout) as Promise<number | undefined>;
  }

  /**
   * Calls a server request handler.
   * @returns the handler's answer
   * @throws ParleyError with `code` `TIMEOUT`, the server's code (`UNKNOWN_METHOD`, …), `QUEUE_FULL` or `CLOSED`
   */
  request<T = unknown>(method: string, data?: unknown, options: RequestOptions = {}): Promise<T> {
    const id = this.#nextId();
    return this.#submit({ t: 'req', id, method, data }, id, 'res', (reply) => (reply.t === 'res' ? reply.data : undefined), options.timeout ?? this.#requestTimeout) as Promise<T>;
  }

  /** The members present on `topic` now. */
  presence(topic: string, options: RequestOptions = {}): Promise<PresenceMember[]> {
    if (!isValidTopic(topic)) return Promise.reject(badTopic(topic));
    const id = this.#nextId();
    const pick = (reply: Reply): PresenceMember[] => (reply.t === 'ok' ? reply.members ?? [] : []);
    return this.#submit({ t: 'presence', id, topic }, id, 'ok', pick, options.timeout ?? this.#requestTimeout) as Promise<PresenceMember[]>;
  }

  /**
   * Closes the connection for good: pending publishes and requests reject with `CLOSED`,
   * subscriptions end, no reconnection. Emits a final `close`. Idempotent.
   * @param code - 1000 or 3000–4999 (browsers refuse others) @param reason - close reason
   */
  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ready = false;
    this.#generation++;
    if (this.#reconnectTimer !== undefined) {
      this.#clock.clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
    }
    this.#shutdown(new ParleyError('CLOSED', 'client closed'));
    const ws = this.#socket;
    if (ws !== undefined) {
      try {
        ws.close(code, reason);
        return; // its close event emits ours
      } catch (error) {
        this.#socket = undefined;
        this.#report('CONNECTION', error);
      }
    }
    queueMicrotask(() => this.emit('close', { code, reason, willReconnect: false }));
  }

  // ---- connection ---------------------------------------------------------------------------

  #connect(): void {
    this.#reconnectTimer = undefined;
    const generation = ++this.#generation;
    let token: string | undefined | Promise<string>;
    try {
      token = typeof this.#token === 'function' ? this.#token() : this.#token;
    } catch (error) {
      this.#report('CONNECTION', error, 'token');
      this.#lost(CloseCode.Abnormal, 'no token', false);
      return;
    }
    if (typeof token === 'string' || token === undefined) {
      this.#open(token);
      return;
    }
    token.then(
      (value) => {
        if (generation === this.#generation && !this.#closed) this.#open(value);
      },
      (error: unknown) => {
        if (generation !== this.#generation || this.#closed) return;
        this.#report('CONNECTION', error, 'token');
        this.#lost(CloseCode.Abnormal, 'no token', false);
      },
    );
  }

  #open(token: string | undefined): void {
    let ws: WebSocketLike;
    try {
      ws = new this.#WebSocket(socketUrl(this.url, token), REALTIME_SUBPROTOCOL);
      ws.binaryType = 'arraybuffer';
    } catch (error) {
      this.#report('CONNECTION', error);
      this.#lost(CloseCode.Abnormal, 'could not connect', false);
      return;
    }
    this.#socket = ws;
    ws.addEventListener('open', () => {
      if (this.#socket !== ws || this.#closed || ws.protocol === REALTIME_SUBPROTOCOL) return;
      this.#report('CONNECTION', new Error(`the server did not select the ${REALTIME_SUBPROTOCOL} subprotocol`));
      ws.close(CloseCode.Normal, `${REALTIME_SUBPROTOCOL} required`);
    });
    ws.addEventListener('message', (event: SocketEvent) => {
      if (this.#socket === ws && !this.#closed) this.#onFrame(event.data);
    });
    ws.addEventListener('error', (event: SocketEvent) => {
      if (this.#socket === ws && !this.#closed) this.#report('CONNECTION', event.error ?? new Error('WebSocket error'));
    });
    ws.addEventListener('close', (event: SocketEvent) => {
      if (this.#socket !== ws) return;
      this.#socket = undefined;
      this.#lost(event.code ?? CloseCode.Abnormal, event.reason ?? '', true);
    });
  }

  /** A connection ended, or an attempt failed before a socket existed. */
  #lost(code: number, reason: string, hadSocket: boolean): void {
    this.#ready = false;
    for (const entry of this.#topics.values()) entry.stream.disconnected();
    this.#subIds.clear();
    if (this.#inflight.size > 0) {
      const unanswered = [...this.#inflight.values()];
      this.#inflight.clear();
      this.#outbox.restore(unanswered); // acked publishes and requests go again, with the same ids
    }
    const backoff = this.#closed ? false : this.#backoff;
    const willReconnect = backoff !== false;
    if (!this.#closed && !willReconnect) {
      this.#closed = true;
      this.#shutdown(new ParleyError('CLOSED', `connection closed (${code}) and reconnect is off`));
    }
    if (hadSocket || !willReconnect) this.emit('close', { code, reason, willReconnect });
    if (backoff !== false && !this.#closed) {
      const attempt = ++this.#attempt;
      const delay = backoffDelay(attempt, backoff, this.#random);
      this.stats.reconnects++;
      this.#reconnectTimer = this.#clock.setTimeout(() => this.#connect(), delay);
      this.emit('reconnecting', attempt, delay);
    }
  }

  /** Rejects everything pending and ends every subscription. */
  #shutdown(error: ParleyError): void {
    for (const op of this.#outbox.drain()) this.#fail(op, error);
    const inflight = [...this.#inflight.values()];
    this.#inflight.clear();
    for (const op of inflight) this.#fail(op, error);
    const entries = [...this.#topics.values()];
    this.#topics.clear();
    this.#subIds.clear();
    for (const entry of entries) for (const handle of entry.handles) handle.end(error);
  }

  // ---- sending ------------------------------------------------------------------------------

  #write(envelope: ClientEnvelope): boolean {
    const ws = this.#socket;
    if (ws === undefined || !this.#ready) return false;
    try {
      ws.send(encodeEnvelope(envelope));
      return true;
    } catch (error) {
      this.#report('CONNECTION', error);
      return false;
    }
  }

  #submit(envelope: ClientEnvelope, id: EnvelopeId | undefined, expects: Operation['expects'], pick: Operation['pick'], timeout: number | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ParleyError('CLOSED', 'client is closed'));
    return new Promise((resolve, reject) => {
      const op: Operation = { seq: ++this.#seq, envelope, id, expects, pick, resolve, reject, timer: undefined, done: false };
      if (timeout !== undefined && Number.isFinite(timeout)) {
        op.timer = this.#clock.setTimeout(() => this.#timedOut(op, timeout), timeout);
      }
      if (this.#ready) this.#send(op);
      else this.#outbox.push(op);
    });
  }

  #send(op: Operation): void {
    if (!this.#write(op.envelope)) {
      this.#outbox.restore([op]);
      return;
    }
    if (op.id === undefined || op.expects === undefined) this.#settle(op, undefined);
    else this.#inflight.set(op.id, op);
  }

  #timedOut(op: Operation, ms: number): void {
    if (op.done) return;
    this.#outbox.remove(op);
    if (op.id !== undefined) this.#inflight.delete(op.id);
    this.#fail(op, new ParleyError('TIMEOUT', `no reply within ${ms} ms`));
  }

  #settle(op: Operation, value: unknown): void {
    if (op.done) return;
    op.done = true;
    if (op.timer !== undefined) this.#clock.clearTimeout(op.timer);
    op.resolve(value);
  }

  #fail(op: Operation, error: Error): void {
    if (op.done) return;
    op.done = true;
    if (op.timer !== undefined) this.#clock.clearTimeout(op.timer);
    op.reject(error);
  }

  #sendSub(stream: TopicStream): void {
    const id = this.#nextId();
    const envelope: Extract<ClientEnvelope, { t: 'sub' }> = { t: 'sub', id, topic: stream.topic };
    if (stream.position !== undefined) envelope.since = { epoch: stream.position.epoch, offset: stream.position.offset };
    if (stream.presence !== undefined) envelope.presence = stream.presence;
    stream.pendingSub = id;
    stream.pendingSince = envelope.since !== undefined;
    this.#subIds.set(id, stream);
    this.#write(envelope);
  }

  /** Asks again with `since` after a skipped offset, a new epoch or a `gap` envelope. */
  #resync(stream: TopicStream): void {
    if (!this.#ready || !stream.live || stream.pendingSub !== undefined) return; // a subok is on its way
    this.stats.resyncs++;
    this.#sendSub(stream);
  }

  #detach(subscription: Subscription, entry: TopicEntry): void {
    entry.handles.delete(subscription);
    const topic = entry.stream.topic;
    if (entry.handles.size > 0 || this.#topics.get(topic) !== entry) return;
    this.#topics.delete(topic);
    if (entry.stream.pendingSub !== undefined) this.#subIds.delete(entry.stream.pendingSub);
    this.#write({ t: 'unsub', id: this.#nextId(), topic });
  }

  // ---- receiving ----------------------------------------------------------------------------

  #onFrame(data: unknown): void {
    let payload: string | Uint8Array;
    if (typeof data === 'string') payload = data;
    else if (data instanceof ArrayBuffer) payload = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else {
      this.#report('BAD_ENVELOPE', new Error('unsupported message type (is binaryType "arraybuffer"?)'));
      return;
    }
    let envelope: ServerEnvelope | undefined;
    try {
      // One codec checks every field the handlers below read (src/wire/envelope.ts).
      envelope = parseServerEnvelope(decodeFrame(payload, this.#limits));
    } catch (error) {
      this.#report('BAD_ENVELOPE', error);
      return;
    }
    switch (envelope?.t) {
      case 'hello':
        return this.#onHello(envelope);
      case 'subok':
        return this.#onSubok(envelope);
      case 'msg':
        return this.#onMsg(envelope);
      case 'ok':
      case 'res':
        return this.#onReply(envelope);
      case 'err':
        return this.#onError(envelope);
      case 'pres':
        return this.#onPresence(envelope);
      case 'gap':
        return this.#onGap(envelope);
      case undefined:
        return; // a newer server's envelope: ignored, as the protocol asks
    }
  }

  #onHello(env: Envelope<'hello'>): void {
    if (this.#ready) return;
    this.#serverTimeOffset = env.time - this.#clock.now();
    this.#conn = env.conn;
    this.#user = env.user;
    this.#ready = true;
    this.#attempt = 0;
    const reconnected = this.#everOpened;
    this.#everOpened = true;
    for (const entry of this.#topics.values()) this.#sendSub(entry.stream);
    for (const op of this.#outbox.drain()) this.#send(op);
    this.emit('open', { conn: env.conn, user: this.#user, reconnected });
  }

  #onSubok(env: Envelope<'subok'>): void {
    const { id, epoch, offset } = env;
    const stream = this.#subIds.get(id);
    if (stream === undefined) return; // unsubscribed meanwhile
    this.#subIds.delete(id);
    const entry = this.#topics.get(stream.topic);
    if (entry?.stream !== stream || stream.pendingSub !== id) return;
    const kind = stream.subscribed(epoch, offset, env.recovered);
    const position = { epoch: stream.position!.epoch, offset: stream.position!.offset };
    const handles = [...entry.handles];
    if (kind === 'reset') {
      this.stats.resets++;
      for (const handle of handles) handle.emit('reset', env.snapshot, position);
    }
    const info: SubscribedInfo = { position, kind };
    if (env.snapshot !== undefined) info.snapshot = env.snapshot;
    for (const handle of handles) handle.emit('subscribed', info);
  }

  #onMsg(env: Envelope<'msg'>): void {
    const { topic, epoch, offset } = env;
    const entry = this.#topics.get(topic);
    if (entry === undefined) return;
    const conflated = env.conflated === true;
    switch (entry.stream.accept(epoch, offset, conflated)) {
      case 'deliver': {
        const info: MessageInfo = { topic, epoch, offset };
        if (env.key !== undefined) info.key = env.key;
        if (conflated) info.conflated = true;
        for (const handle of [...entry.handles]) handle.deliver(env.data, info);
        return;
      }
      case 'duplicate':
        this.stats.duplicates++;
        return;
      case 'gap':
        return this.#resync(entry.stream);
      case 'ignore':
        return;
    }
  }

  #onError(env: Envelope<'err'>): void {
    const error = new ParleyError(env.code, env.message);
    const id = env.id;
    if (id === undefined) {
      this.emit('error', error);
      return;
    }
    const stream = this.#subIds.get(id);
    if (stream !== undefined) return this.#refused(id, stream, error);
    const op = this.#inflight.get(id);
    if (op === undefined) return;
    this.#inflight.delete(id);
    this.#fail(op, error);
  }

  #onReply(env: Reply): void {
    const op = this.#inflight.get(env.id);
    if (op === undefined || op.expects !== env.t) return; // late (timed out) or an unsub's ok
    this.#inflight.delete(env.id);
    this.#settle(op, op.pick(env));
  }

  /** The server refused a `sub`: the subscription ends with that error. */
  #refused(id: EnvelopeId, stream: TopicStream, error: ParleyError): void {
    this.#subIds.delete(id);
    const entry = this.#topics.get(stream.topic);
    if (entry?.stream !== stream) return;
    this.#topics.delete(stream.topic);
    // A refused resync leaves the earlier server subscription standing: end it too.
    if (stream.live) this.#write({ t: 'unsub', id: this.#nextId(), topic: stream.topic });
    let told = false;
    for (const handle of [...entry.handles]) {
      if (handle.listenerCount('error') > 0) told = true;
      handle.emit('error', error);
      handle.end(error);
    }
    if (!told) this.emit('error', error);
  }

  #onPresence(env: Envelope<'pres'>): void {
    const entry = this.#topics.get(env.topic);
    if (entry === undefined) return;
    for (const handle of [...entry.handles]) handle.emit('presence', env.event, env.member);
  }

  #onGap(env: Envelope<'gap'>): void {
    const entry = this.#topics.get(env.topic);
    if (entry !== undefined) this.#resync(entry.stream);
  }

  #report(code: string, error: unknown, what?: string): void {
    const message = error instanceof Error ? error.message : String(error);
    this.emit('error', new ParleyError(code, what === undefined ? message : `${what}: ${message}`));
  }
}

function badTopic(topic: unknown): ParleyError {
  return new ParleyError('BAD_TOPIC', `invalid topic ${JSON.stringify(String(topic)).slice(0, 64)}`);
}
