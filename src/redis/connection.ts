/**
 * The adapter's two Redis connections (commands, and a subscriber: a connection in subscribe
 * mode can send nothing else) and their health. Healthy means both are connected and Redis
 * answers a PING within the command timeout; a paused Redis keeps its sockets open, so the PING
 * is what notices it. Commands fail fast while unhealthy instead of queueing, so a publish never
 * waits for a Redis that may not come back.
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { createClient, RESP_TYPES } from 'redis';
import { ErrorCode, ParleyError } from '../protocol/index.js';
import type { BackoffOptions } from './backoff.js';
import type { HealthListener, RedisAdapterCounters, RedisLogger } from './health.js';
import type { ChannelListener, Link } from './link.js';
import { LinkHealth } from './link-health.js';
import { SCRIPTS, type Script } from './scripts.js';

export type { ChannelListener } from './link.js';

/**
 * What the adapter uses of a node-redis (v5) client. A client from `createClient()` fits; it is
 * described by shape so that any module set or type mapping the application chose is accepted.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** The options the client was created with (node-redis exposes them). */
  readonly options?: { readonly socket?: object } | undefined;
  connect(): Promise<unknown>;
  duplicate(overrides?: object): unknown;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: object): Promise<unknown>;
  subscribe(channels: string | string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string | string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  destroy(): void;
}

/** Options of {@link RedisLink}. */
export interface LinkOptions {
  url: string;
  client: RedisClientLike | undefined;
  commandTimeoutMs: number;
  healthCheckIntervalMs: number;
  reconnect: BackoffOptions | undefined;
  log: RedisLogger;
  counters: RedisAdapterCounters;
}


const BUFFERS = { [RESP_TYPES.BLOB_STRING]: Buffer } as const;
const STRINGS = {} as const;

/** Two connections to one Redis, with health. */
export class RedisLink implements Link {
  readonly #options: LinkOptions;
  readonly #health: LinkHealth;
  readonly #ownClients: RedisClientLike[] = [];
  #cmd: RedisClientLike | undefined;
  #sub: RedisClientLike | undefined;
  /** The command connection is up and Redis answered its last PING. */
  #commandUp = false;
  /** The subscriber connection is up. */
  #subscriberUp = false;
  /** Whether this command connection has loaded the scripts since it last (re)connected. */
  #scriptsLoaded = false;

  /** @param options - where Redis is, timeouts, and where to report */
  constructor(options: LinkOptions) {
    this.#options = options;
    this.#health = new LinkHealth({
      // The link's options carry the interval, reconnect delays, log and counters LinkHealth takes.
      ...options,
      check: () => this.#ping(),
      messages: { up: 'Redis reachable', down: 'Redis unreachable: delivering locally until it is back' },
    });
  }

  /** Whether Redis is reachable now (both connections up, last PING answered). */
  get healthy(): boolean {
    return this.#health.healthy;
  }

  /**
   * Whether commands reach Redis (publishes and reads can go through it), even if the subscriber
   * connection is still coming back: a publish then keeps its place in the cluster's order, and
   * this node catches up from history once it is subscribed again.
   */
  get commandsUp(): boolean {
    return this.#health.commandsUp;
  }

  /** Why Redis is considered unreachable (or 'ok'). */
  get reason(): string {
    return this.#health.reason;
  }

  /** Listens to health changes. @returns a function that stops listening */
  onHealth(listener: HealthListener): () => void {
    return this.#health.onHealth(listener);
  }

  /**
   * Connects both connections. With a client of the application's, a duplicate of it subscribes.
   * @throws when Redis cannot be reached at all (the caller decides whether to start without it)
   */
  async connect(): Promise<void> {
    const socket = { reconnectStrategy: this.#health.reconnectStrategy(), connectTimeout: Math.max(this.#options.commandTimeoutMs, 1000) };
    let cmd = this.#options.client;
    if (cmd === undefined) {
      cmd = createClient({ url: this.#options.url, socket, disableOfflineQueue: true });
      this.#ownClients.push(cmd);
    }
    // The subscriber keeps its offline queue: a SUBSCRIBE sent while Redis is away is sent on
    // reconnect. An application's socket options (host, TLS) are kept; only reconnecting is ours.
    const sub = cmd.duplicate({ socket: { ...cmd.options?.socket, ...socket }, disableOfflineQueue: false }) as RedisClientLike;
    this.#ownClients.push(sub);
    this.#cmd = cmd;
    this.#sub = sub;
    for (const [client, name] of [[cmd, 'command'], [sub, 'subscriber']] as const) {
      client.on('error', (error: unknown) => this.#set(name, false, `${name} connection: ${error instanceof Error ? error.message : String(error)}`));
      client.on('end', () => this.#set(name, false, `${name} connection ended`));
      client.on('ready', () => {
        // A new connection may be to a Redis that restarted and lost its script cache.
        if (name === 'command') this.#scriptsLoaded = false;
        void this.#health.probe();
      });
    }
    if (!cmd.isOpen) await cmd.connect();
    await sub.connect();
    // A probe started by a 'ready' event may have run before the other connection was up.
    await this.#health.probe();
    if (!this.#health.healthy) await this.#health.probe();
    if (!this.#health.healthy) throw new ParleyError(ErrorCode.REDIS_UNAVAILABLE, `Redis is not answering: ${this.#health.reason}`);
    this.#health.startProbing();
  }

  /**
   * Runs a script (EVALSHA, then EVAL if Redis no longer has it).
   * @param buffers - bulk strings as Buffers (entries carry binary data) instead of strings
   */
  async run(script: Script, keys: readonly string[], args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(['EVALSHA', script.sha, ...tail], buffers);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.command(['EVAL', script.source, ...tail], buffers);
    }
  }

  /**
   * Sends one command with the command timeout. node-redis times a command out only until it is
   * written; a paused Redis never answers one already written, so the timer here covers the reply.
   */
  async command(args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    const cmd = this.#cmd;
    if (cmd === undefined || this.#health.closed) throw new ParleyError(ErrorCode.REDIS_UNAVAILABLE, 'the Redis adapter is not connected');
    const ms = this.#options.commandTimeoutMs;
    // An explicit type mapping either way: an application's client may map replies its own way.
    const sent = cmd.sendCommand(args, { timeout: ms, typeMapping: buffers ? BUFFERS : STRINGS });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // ERR_REDIS_TIMEOUT: Redis did not answer in time (it may still run the command later).
      timer = setTimeout(() => reject(new ParleyError(ErrorCode.REDIS_TIMEOUT, `Redis did not answer within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([sent, timeout]);
    } catch (error) {
      this.#options.counters.commandErrors++;
      // A late answer or failure of a timed-out command has no one left to hear it.
      sent.catch(() => {});
      // A reply Redis gave (an error reply) says nothing about reachability; a timeout does.
      if (error instanceof Error && ((error instanceof ParleyError && error.code === ErrorCode.REDIS_TIMEOUT) || error.name === 'TimeoutError')) this.#set('command', false, 'a command timed out');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Subscribes to a channel (in buffer mode). */
  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    const sub = this.#sub;
    if (sub === undefined || this.#health.closed) return Promise.reject(new ParleyError(ErrorCode.REDIS_UNAVAILABLE, 'the Redis adapter is not connected'));
    try {
      return sub.subscribe(channel, listener, true);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Unsubscribes from a channel. */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    const sub = this.#sub;
    if (sub === undefined || this.#health.closed) return Promise.resolve();
    try {
      return sub.unsubscribe(channel, listener, true);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Healthy means both connections are up; a part coming back keeps the other's reason. */
  #set(part: 'command' | 'subscriber', up: boolean, reason: string): void {
    if (part === 'command') this.#commandUp = up;
    else this.#subscriberUp = up;
    this.#health.update(this.#commandUp, this.#commandUp && this.#subscriberUp, up ? undefined : reason);
  }

  async #ping(): Promise<void> {
    const cmd = this.#cmd;
    const sub = this.#sub;
    if (cmd === undefined || sub === undefined) return;
    this.#set('subscriber', sub.isReady, 'subscriber connection not ready');
    if (!cmd.isReady) {
      this.#set('command', false, 'command connection not ready');
      return;
    }
    try {
      await this.command(['PING']);
      if (!this.#scriptsLoaded) {
        // Loaded before publishes resume: a NOSCRIPT retry (EVAL) could overtake a later publish's
        // EVALSHA and break the order of this node's own publishes.
        for (const script of Object.values(SCRIPTS)) await this.command(['SCRIPT', 'LOAD', script.source]);
        this.#scriptsLoaded = true;
      }
      this.#set('command', cmd.isReady, 'command connection not ready');
    } catch (error) {
      this.#set('command', false, `PING failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Stops probing and closes the connections this link opened (not the application's client). */
  close(): void {
    if (this.#health.closed) return;
    this.#health.close();
    for (const client of this.#ownClients) {
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    }
  }
}
