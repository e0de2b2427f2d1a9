/**
 * One connection's real-time state: it is the connection's {@link Subscriber}, and on a
 * `parley.v1` connection it speaks the protocol (docs/realtime-protocol.md). Every incoming
 * envelope is validated (size, depth, types, ids) before anything acts on it; a bad one gets an
 * `err` with a stable code, and a run of them closes the connection with 1008. Nothing a peer
 * sends can throw out of here.
 *
 * Envelopes that change subscriptions or publish (`sub`, `unsub`, `pub`, `presence`) are applied
 * in arrival order even when a hook answers asynchronously, so `sub` then `unsub` never ends
 * subscribed. Requests (`req`) run concurrently, a bounded number at a time.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { CloseCode } from '../protocol/constants.js';
import type { PreparedMessage } from '../node/prepared-message.js';
import {
  EnvelopeError,
  decodeFrame,
  encodeEnvelope,
  parseClientEnvelope,
  type ClientEnvelope,
  type EnvelopeId,
  type RealtimeErrorCode,
  type ServerEnvelope,
  type StreamPosition,
} from '../wire/envelope.js';
import type { EncodedReply, IdempotencyCache } from '../pubsub/idempotency.js';
import { after, attempt, isPromise, type MaybePromise } from '../pubsub/maybe-async.js';
import type { PublishOptions, PublishResult } from '../pubsub/pubsub.js';
import type { PubSub } from './node-pubsub.js';
import { RealtimeError } from '../pubsub/realtime-error.js';
import type { Subscriber } from './node-pubsub.js';

/** What a session needs of its WebSocket. */
export interface SessionSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array | PreparedMessage): unknown;
  close(code?: number, reason?: string): void;
  pause(): void;
  resume(): void;
}

/** A `requests` handler: its result (JSON or bytes) is the `res` data. */
export type RequestHandler<W> = (data: unknown, ws: W) => unknown;

/** Limits on what a client may send, resolved. */
export interface SessionLimits {
  maxEnvelopeBytes: number;
  maxDepth: number;
  maxSubscriptions: number;
  /** Largest presence info a client may give (its JSON, in bytes). */
  maxPresenceBytes: number;
  /** Presence info one connection may hold over all its topics (JSON bytes). */
  maxPresenceTotalBytes: number;
}

/** What sessions share: the server's engine, hooks and limits. */
export interface SessionHub<W> {
  readonly engine: PubSub;
  readonly limits: SessionLimits;
  readonly idempotency: IdempotencyCache;
  readonly authorize: ((ws: W, action: 'subscribe' | 'publish', topic: string) => boolean | Promise<boolean>) | undefined;
  readonly snapshot: ((topic: string, ws: W) => unknown) | undefined;
  readonly requests: Readonly<Record<string, RequestHandler<W>>> | undefined;
  /** An application hook threw or rejected. */
  reportError(error: unknown, ws: W): void;
  /** The connection id for a connection's number. */
  connectionId(n: number): string;
}

/** Options of a subscription made from server code. */
export interface ServerSubscribeOptions {
  /** Resume after this position: missed messages are sent first when history has them all. */
  since?: StreamPosition;
  /** Join the topic's presence with this info (any JSON). */
  presence?: unknown;
}

/**
 * Characters an anonymous client's `pub` id needs to be remembered cluster-wide (see
 * docs/cluster.md): long enough that a random one is unique to its client.
 */
export const MIN_ANONYMOUS_CLUSTER_ID = 16;
/** Malformed envelopes in a row before the connection is closed with 1008. */
export const MAX_MALFORMED_IN_A_ROW = 10;
/** Ordered envelopes waiting behind an asynchronous hook before reading pauses. */
const PAUSE_READING_AT = 64;
/** Ordered envelopes waiting at most; more are refused with RATE_LIMITED. */
const MAX_WAITING = 1024;
/** Requests running at once per connection; more are refused with RATE_LIMITED. */
const MAX_REQUESTS_IN_FLIGHT = 128;
const OPEN = 1;

/** Bits of `RealtimeSession.#bits`. */
const ENVELOPES = 1 << 0;
const CLOSED = 1 << 1;
/** An ordered envelope's operation is running. */
const BUSY = 1 << 2;
/** Reading is paused because too many envelopes wait. */
const PAUSED_READING = 1 << 3;

interface Waiting {
  readonly id: EnvelopeId | undefined;
  readonly op: () => MaybePromise<void>;
}

/** The real-time side of one server connection. */
export class RealtimeSession<W extends SessionSocket> implements Subscriber {
  /**
   * The connection id: its number until first asked for, then the string (the server's prefix,
   * a dot, the number in base 36). Most plain connections are never asked: no string for them.
   */
  #id: number | string;
  /** The user the application gave, or undefined: the connection id stands in. */
  readonly #user: string | undefined;
  readonly #ws: W;
  readonly #hub: SessionHub<W>;
  /** ENVELOPES, CLOSED, BUSY, PAUSED_READING: four booleans in one field (memory per connection). */
  #bits: number;
  #malformedInARow = 0;
  /** Envelopes waiting behind an asynchronous one; created on first use (most connections never need it). */
  #waiting: Waiting[] | undefined;
  #requests = 0;
  /** JSON bytes of the presence info this client gave, per topic; created on first use. */
  #infoBytes: Map<string, number> | undefined;

  /**
   * @param hub - the server's shared state
   * @param ws - the connection
   * @param id - its connection id, or its number for `hub.connectionId` to format when needed
   * @param user - its user, or undefined when the application gave none (the id stands in)
   * @param envelopes - whether it negotiated `parley.v1`
   */
  constructor(hub: SessionHub<W>, ws: W, id: string | number, user: string | undefined, envelopes: boolean) {
    this.#hub = hub;
    this.#ws = ws;
    this.#id = id;
    this.#user = user;
    this.#bits = envelopes ? ENVELOPES : 0;
  }

  /** Connection id (`conn` in the protocol). */
  get id(): string {
    const id = this.#id;
    return typeof id === 'string' ? id : (this.#id = this.#hub.connectionId(id));
  }

  /** The user this connection belongs to (presence and idempotency are per user). */
  get user(): string {
    return this.#user ?? this.id;
  }

  /** Whether the connection negotiated `parley.v1`. */
  get envelopes(): boolean {
    return (this.#bits & ENVELOPES) !== 0;
  }

  /** Whether `user` came from the application rather than the connection id. */
  get userKnown(): boolean {
    return this.#user !== undefined;
  }

  #has(bit: number): boolean {
    return (this.#bits & bit) !== 0;
  }

  #set(bit: number, on: boolean): void {
    if (on) this.#bits |= bit;
    else this.#bits &= ~bit;
  }

  // ---- Subscriber ------------------------------------------------------------------------

  /** @inheritDoc */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** @inheritDoc */
  send(frame: PreparedMessage): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(frame);
  }

  /** @inheritDoc */
  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  // ---- connection events -----------------------------------------------------------------

  /** Whether the connection has closed. */
  get closed(): boolean {
    return this.#has(CLOSED);
  }

  /** Sends `hello`, the first envelope of every `parley.v1` connection. */
  hello(): void {
    this.#reply({ t: 'hello', v: 1, time: Date.now(), conn: this.id, ...(this.userKnown ? { user: this.user } : {}) });
  }

  /** The connection drained: conflated messages held for it can go. */
  onDrain(): void {
    this.#hub.engine.drained(this);
  }

  /** The connection closed: leave every topic (and its presence). */
  onClose(): void {
    if (this.#has(CLOSED)) return;
    this.#set(CLOSED, true);
    this.#waiting = undefined;
    this.#infoBytes = undefined;
    this.#hub.engine.unsubscribeAll(this);
    // A connection that stood in for its user: no one can retry its ids now.
    if (this.#user === undefined) this.#hub.idempotency.forget(this.id);
  }

  /**
   * One incoming frame of a `parley.v1` connection. Never throws: the Node layer would close the
   * connection with 1011 for an exception here.
   */
  onMessage(data: unknown, isBinary: boolean): void {
    if (this.#has(CLOSED)) return;
    try {
      let envelope: ClientEnvelope;
      try {
        const bytes = toBuffer(data);
        const { maxEnvelopeBytes, maxDepth } = this.#hub.limits;
        // Text is measured in bytes before it is decoded: an oversized envelope costs no string.
        if (!isBinary && bytes.length > maxEnvelopeBytes) throw new EnvelopeError('TOO_LARGE', `envelope over ${maxEnvelopeBytes} bytes`);
        envelope = parseClientEnvelope(decodeFrame(isBinary ? bytes : bytes.toString('utf8'), { maxBytes: maxEnvelopeBytes, maxDepth }));
      } catch (error) {
        this.#malformed(error);
        return;
      }
      this.#malformedInARow = 0;
      if (envelope.t === 'req') this.#request(envelope);
      else this.#ordered('id' in envelope ? envelope.id : undefined, () => this.#apply(envelope));
    } catch (error) {
      this.#internal(undefined, error);
    }
  }

  #malformed(error: unknown): void {
    const e = error instanceof EnvelopeError ? error : new EnvelopeError('BAD_ENVELOPE', 'malformed envelope');
    this.#error(e.id, e.code, e.message);
    if (++this.#malformedInARow >= MAX_MALFORMED_IN_A_ROW && this.#ws.readyState === OPEN) {
      this.#ws.close(CloseCode.PolicyViolation, 'too many malformed envelopes');
    }
  }

  // ---- ordering --------------------------------------------------------------------------

  #ordered(id: EnvelopeId | undefined, op: () => MaybePromise<void>): void {
    if (!this.#has(BUSY)) {
      this.#run(id, op);
      return;
    }
    const waiting = (this.#waiting ??= []);
    if (waiting.length >= MAX_WAITING) {
      this.#error(id, 'RATE_LIMITED', 'too many envelopes waiting');
      return;
    }
    waiting.push({ id, op });
    if (waiting.length >= PAUSE_READING_AT && !this.#has(PAUSED_READING)) {
      // TCP backpressure instead of an ever longer queue.
      this.#set(PAUSED_READING, true);
      this.#ws.pause();
    }
  }

  #run(id: EnvelopeId | undefined, op: () => MaybePromise<void>): void {
    const result = attempt(op, (error) => this.#internal(id, error));
    if (!isPromise(result)) return;
    this.#set(BUSY, true);
    void result.then(() => this.#next());
  }

  #next(): void {
    this.#set(BUSY, false);
    while (!this.#has(BUSY) && !this.#has(CLOSED) && this.#waiting !== undefined && this.#waiting.length > 0) {
      const { id, op } = this.#waiting.shift()!;
      this.#run(id, op);
    }
    if (this.#has(PAUSED_READING) && (this.#waiting?.length ?? 0) < PAUSE_READING_AT / 2) {
      this.#set(PAUSED_READING, false);
      this.#ws.resume();
    }
  }

  #apply(envelope: Exclude<ClientEnvelope, { t: 'req' }>): MaybePromise<void> {
    switch (envelope.t) {
      case 'sub': return this.#subscribe(envelope);
      case 'unsub': return this.#unsubscribe(envelope);
      case 'pub': return this.#publish(envelope);
      case 'presence': return this.#presence(envelope);
    }
  }

  // ---- envelopes -------------------------------------------------------------------------

  #authorize(action: 'subscribe' | 'publish', topic: string): MaybePromise<boolean> {
    const hook = this.#hub.authorize;
    if (hook === undefined) return true;
    // Only `true` allows: a hook returning something else by mistake must not open a topic.
    return after(hook(this.#ws, action, topic), (allowed) => allowed === true);
  }

  #subscribe(env: Extract<ClientEnvelope, { t: 'sub' }>): MaybePromise<void> {
    const { id, topic } = env;
    const engine = this.#hub.engine;
    const max = this.#hub.limits.maxSubscriptions;
    if (!engine.isSubscribed(this, topic) && engine.subscriptionCount(this) >= max) {
      this.#error(id, 'LIMIT', `at most ${max} subscriptions per connection`);
      return;
    }
    let infoBytes = 0;
    if (env.presence !== undefined) {
      const { maxPresenceBytes, maxPresenceTotalBytes } = this.#hub.limits;
      infoBytes = Buffer.byteLength(JSON.stringify(env.presence) ?? '');
      if (infoBytes > maxPresenceBytes) {
        this.#error(id, 'TOO_LARGE', `presence info over ${maxPresenceBytes} bytes`);
        return;
      }
      let total = infoBytes;
      for (const [t, bytes] of this.#infoBytes ?? []) if (t !== topic) total += bytes;
      if (total > maxPresenceTotalBytes) {
        this.#error(id, 'LIMIT', `at most ${maxPresenceTotalBytes} bytes of presence info per connection`);
        return;
      }
    }
    return after(this.#authorize('subscribe', topic), (allowed) => {
      if (!allowed) {
        this.#error(id, 'FORBIDDEN', 'not allowed to subscribe to this topic');
        return;
      }
      if (this.#has(CLOSED)) return;
      // Presence info reaches every subscriber, as a publish would: only a client that may publish
      // on the topic gives it. Others still join the topic's presence, without info.
      return after(env.presence === undefined ? false : this.#authorize('publish', topic), (mayInform) => this.#join(env, mayInform, infoBytes));
    });
  }

  #join(env: Extract<ClientEnvelope, { t: 'sub' }>, mayInform: boolean, infoBytes: number): MaybePromise<void> {
    const { id, topic } = env;
    const engine = this.#hub.engine;
    if (this.#has(CLOSED)) return;
    if (mayInform) (this.#infoBytes ??= new Map()).set(topic, infoBytes);
    const presence = env.presence !== undefined ? { user: this.user, info: mayInform ? env.presence : undefined } : undefined;
    const ticket = engine.subscribe(this, topic, { since: env.since, presence, hold: true });
    return attempt(
      () => after(ticket.ready, (state) => {
        const hook = this.#hub.snapshot;
        // A snapshot is for a client without usable state: a new subscription, or one that could not recover.
        const snapshot = hook !== undefined && state.recovered !== true ? hook(topic, this.#ws) : undefined;
        return after(snapshot, (value) => {
          if (this.#has(CLOSED)) return;
          const reply: Extract<ServerEnvelope, { t: 'subok' }> = { t: 'subok', id, topic, epoch: state.epoch, offset: state.offset };
          if (state.recovered !== undefined) reply.recovered = state.recovered;
          if (value !== undefined) reply.snapshot = value;
          this.#sendEncoded(encodeEnvelope(reply));
          engine.activate(this, topic);
        });
      }),
      (error) => {
        // The client is told the subscription failed, so it must not stay half made.
        engine.unsubscribe(this, topic);
        this.#infoBytes?.delete(topic);
        throw error;
      },
    );
  }

  #unsubscribe(env: Extract<ClientEnvelope, { t: 'unsub' }>): void {
    this.#infoBytes?.delete(env.topic);
    if (!this.#hub.engine.unsubscribe(this, env.topic)) {
      this.#error(env.id, 'NOT_SUBSCRIBED', 'not subscribed to this topic');
      return;
    }
    this.#reply({ t: 'ok', id: env.id });
  }

  #publish(env: Extract<ClientEnvelope, { t: 'pub' }>): MaybePromise<void> {
    const { id, topic } = env;
    const run = (): MaybePromise<ServerEnvelope | undefined> => {
      // Binary data is a view of the received frame; history keeps a copy, not the frame.
      const data = env.data instanceof Uint8Array ? Buffer.from(env.data) : env.data;
      const options: PublishOptions = env.key !== undefined ? { key: env.key } : {};
      const key = id === undefined ? undefined : this.#clusterKey(id);
      if (key !== undefined) options.idempotency = { key, ttl: this.#hub.idempotency.ttl };
      return after(this.#hub.engine.publish(topic, data, options), (result): ServerEnvelope | undefined =>
        id === undefined ? undefined : { t: 'ok', id, offset: result.offset });
    };
    // Authorised before the id is claimed: a refusal is answered but never kept, so a client that
    // may not publish cannot fill the idempotency cache with made-up ids.
    const allowed = attempt<boolean | undefined>(() => this.#authorize('publish', topic), (error) => {
      this.#internal(id, error);
      return undefined;
    });
    return after(allowed, (ok) => {
      if (ok === undefined) return;
      if (!ok) {
        this.#error(id, 'FORBIDDEN', 'not allowed to publish to this topic');
        return;
      }
      if (id === undefined) {
        // Without an id only failures are answered.
        return after(attempt(run, (error) => this.#errorFor(undefined, error)), (reply) => {
          if (reply !== undefined) this.#reply(reply);
        });
      }
      return this.#once(id, `pub ${topic}`, run);
    });
  }

  /**
   * The key under which a networked adapter remembers a `pub` id cluster-wide, so that a client
   * re-sending it after a reconnect, to any node, does not publish it twice (docs/cluster.md).
   * Scoped like the node's own cache: per user when the application gave one. An anonymous
   * connection has no identity that survives a reconnect, so its id must be one: only a string of
   * at least {@link MIN_ANONYMOUS_CLUSTER_ID} characters (ParleyClient's ids carry a random
   * per-client prefix) is taken as unique to its client; a short id (`1`, `"a"`) would collide
   * with another client's, and a collision would silently swallow a publish.
   */
  #clusterKey(id: EnvelopeId): string | undefined {
    const idKey = typeof id === 'number' ? `#${id}` : `$${id}`;
    // The user's length first: no user and id can spell another pair's key.
    if (this.#user !== undefined) return `u${this.#user.length}:${this.#user}${idKey}`;
    return typeof id === 'string' && id.length >= MIN_ANONYMOUS_CLUSTER_ID ? `a:${idKey}` : undefined;
  }

  #presence(env: Extract<ClientEnvelope, { t: 'presence' }>): MaybePromise<void> {
    const engine = this.#hub.engine;
    if (!engine.isSubscribed(this, env.topic)) {
      this.#error(env.id, 'NOT_SUBSCRIBED', 'subscribe to the topic to see its presence');
      return;
    }
    return after(engine.members(env.topic), (members) => this.#reply({ t: 'ok', id: env.id, members }));
  }

  #request(env: Extract<ClientEnvelope, { t: 'req' }>): void {
    const { id, method } = env;
    const handlers = this.#hub.requests;
    // Own properties only: "__proto__" or "constructor" is a method name like any other.
    const handler = handlers !== undefined && Object.hasOwn(handlers, method) ? handlers[method] : undefined;
    if (typeof handler !== 'function') {
      this.#error(id, 'UNKNOWN_METHOD', `unknown method "${method}"`);
      return;
    }
    if (this.#requests >= MAX_REQUESTS_IN_FLIGHT) {
      this.#error(id, 'RATE_LIMITED', 'too many requests in flight');
      return;
    }
    this.#requests++;
    const done = this.#once(id, `req ${method}`, () => after(handler(env.data, this.#ws), (data): ServerEnvelope => ({ t: 'res', id, data: data ?? null })));
    if (isPromise(done)) void done.then(() => { this.#requests--; });
    else this.#requests--;
  }

  /**
   * Runs a `pub` or `req` once per (user, id): a repeat gets the first outcome (docs: idempotent
   * retries), a different request with a used id gets BAD_ENVELOPE.
   */
  #once(id: EnvelopeId, fingerprint: string, run: () => MaybePromise<ServerEnvelope | undefined>): MaybePromise<void> {
    const found = this.#hub.idempotency.claim(this.user, id, fingerprint, (encoded) => this.#sendEncoded(encoded));
    if (found.state === 'conflict') {
      this.#error(id, 'BAD_ENVELOPE', 'id already used for a different request');
      return;
    }
    if (found.state !== 'run') return;
    return after(attempt(run, (error) => this.#errorFor(id, error)), (reply) => {
      if (reply === undefined) return;
      let encoded: EncodedReply;
      let failed = reply.t === 'err';
      try {
        encoded = encodeEnvelope(reply);
      } catch (error) {
        // A handler result that JSON cannot carry (a BigInt, a cycle).
        encoded = encodeEnvelope(this.#errorFor(id, error));
        failed = true;
      }
      // A refusal or failure is not kept: it would let any client fill the cache for free, and a
      // retry of a failed request should run again.
      if (failed) found.claim.release(encoded);
      else found.claim.settle(encoded);
      this.#sendEncoded(encoded);
    });
  }

  // ---- replies ---------------------------------------------------------------------------

  /** The `err` for a thrown error: the application's own code, or INTERNAL with nothing internal. */
  #errorFor(id: EnvelopeId | undefined, error: unknown): ServerEnvelope {
    if (error instanceof RealtimeError) return errorEnvelope(id, error.code, error.message);
    this.#hub.reportError(error, this.#ws);
    return errorEnvelope(id, 'INTERNAL', 'internal error');
  }

  #internal(id: EnvelopeId | undefined, error: unknown): void {
    this.#reply(this.#errorFor(id, error));
  }

  #error(id: EnvelopeId | undefined, code: RealtimeErrorCode, message: string): void {
    this.#reply(errorEnvelope(id, code, message));
  }

  #reply(envelope: ServerEnvelope): void {
    this.#sendEncoded(encodeEnvelope(envelope));
  }

  #sendEncoded(encoded: EncodedReply): void {
    if (this.#ws.readyState === OPEN) this.#ws.send(encoded);
  }

  // ---- server-side API -------------------------------------------------------------------

  /**
   * Subscribes from server code (no `subok`: the client did not ask). With `since`, the missed
   * messages are sent first.
   * @returns false when already subscribed or closed
   */
  subscribe(topic: string, options: ServerSubscribeOptions = {}): boolean {
    if (this.#has(CLOSED)) return false;
    const presence = options.presence !== undefined ? { user: this.user, info: options.presence } : undefined;
    return this.#hub.engine.subscribe(this, topic, { since: options.since, presence }).added;
  }

  /** @returns false when not subscribed */
  unsubscribe(topic: string): boolean {
    this.#infoBytes?.delete(topic);
    return this.#hub.engine.unsubscribe(this, topic);
  }

  /** Whether subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return this.#hub.engine.isSubscribed(this, topic);
  }

  /** The topics subscribed to. */
  get topics(): string[] {
    return this.#hub.engine.topicsOf(this);
  }

  /** Publishes from server code to every subscriber of `topic` but this connection (see `except`). */
  publish(topic: string, data: unknown, options: PublishOptions = {}): MaybePromise<PublishResult> {
    return this.#hub.engine.publish(topic, data, { ...options, except: this });
  }
}

function errorEnvelope(id: EnvelopeId | undefined, code: string, message: string): ServerEnvelope {
  return id === undefined ? { t: 'err', code, message } : { t: 'err', id, code, message };
}

/** A message event's data as bytes, whatever `binaryType` delivered. */
function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  throw new EnvelopeError('BAD_ENVELOPE', 'unreadable frame');
}
