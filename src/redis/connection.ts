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
import { backoffDelay, resolveBackoff, type BackoffOptions } from './backoff.js';
import type { HealthListener, RedisAdapterCounters, RedisLogger } from './health.js';
import type { Script } from './scripts.js';

/** A channel listener in buffer mode. */
export type ChannelListener = (message: Buffer, channel: Buffer) => void;

/**
 * What the adapter uses of a node-redis (v5) client. A client from `createClient()` fits; it is
 * described by shape so that any module set or type mapping the application chose is accepted.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(overrides?: object): unknown;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: object): Promise<unknown>;
  subscribe(channels: string | string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  unsubscribe(channels: string | string[], listener: ChannelListener, bufferMode: true): Promise<void>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
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

/** Two connections to one Redis, with health. */
export class RedisLink {
  readonly #options: LinkOptions;
  readonly #listeners = new Set<HealthListener>();
  readonly #ownClients: RedisClientLike[] = [];
  #cmd: RedisClientLike | undefined;
  #sub: RedisClientLike | undefined;
  #healthy = false;
  #reason = 'not connected';
  #closed = false;
  /** The PING in flight, shared by everyone who asks for a probe meanwhile. */
  #probing: Promise<void> | undefined;
  #probeTimer: NodeJS.Timeout | undefined;

  /** @param options - where Redis is, timeouts, and where to report */
  constructor(options: LinkOptions) {
    this.#options = options;
  }

  /** Whether Redis is reachable now (both connections up, last PING answered). */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Why Redis is considered unreachable (or 'ok'). */
  get reason(): string {
    return this.#healthy ? 'ok' : this.#reason;
  }

  /** Listens to health changes. @returns a function that stops listening */
  onHealth(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Connects both connections. With a client of the application's, a duplicate of it subscribes.
   * @throws when Redis cannot be reached at all (the caller decides whether to start without it)
   */
  async connect(): Promise<void> {
    const bounds = resolveBackoff(this.#options.reconnect);
    const strategy = (retries: number): number => {
      this.#options.counters.reconnectAttempts++;
      return backoffDelay(retries, bounds);
    };
    const socket = { reconnectStrategy: strategy, connectTimeout: Math.max(this.#options.commandTimeoutMs, 1000) };
    let cmd = this.#options.client;
    if (cmd === undefined) {
      cmd = createClient({ url: this.#options.url, socket, disableOfflineQueue: true }) as unknown as RedisClientLike;
      this.#ownClients.push(cmd);
    }
    // The subscriber keeps its offline queue: a SUBSCRIBE sent while Redis is away is sent on reconnect.
    const sub = cmd.duplicate({ socket, disableOfflineQueue: false }) as RedisClientLike;
    this.#ownClients.push(sub);
    this.#cmd = cmd;
    this.#sub = sub;
    for (const [client, name] of [[cmd, 'command'], [sub, 'subscriber']] as const) {
      client.on('error', (error: Error) => this.#down(`${name} connection: ${error.message}`));
      client.on('end', () => this.#down(`${name} connection ended`));
      client.on('ready', () => void this.#probe());
    }
    if (!cmd.isOpen) await cmd.connect();
    await sub.connect();
    // A probe started by a 'ready' event may have run before the other connection was up.
    await this.#probe();
    if (!this.#healthy) await this.#probe();
    if (!this.#healthy) throw new Error(`Redis is not answering: ${this.#reason}`);
    this.#probeTimer = setInterval(() => void this.#probe(), this.#options.healthCheckIntervalMs);
    this.#probeTimer.unref();
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

  /** Sends one command with the command timeout. */
  async command(args: ReadonlyArray<string | Buffer>, buffers = false): Promise<unknown> {
    const cmd = this.#cmd;
    if (cmd === undefined || this.#closed) throw new Error('the Redis adapter is not connected');
    try {
      return await cmd.sendCommand(args, buffers ? { timeout: this.#options.commandTimeoutMs, typeMapping: BUFFERS } : { timeout: this.#options.commandTimeoutMs });
    } catch (error) {
      this.#options.counters.commandErrors++;
      // A reply Redis gave (an error reply) says nothing about reachability; a timeout does.
      if (error instanceof Error && error.name === 'TimeoutError') this.#down('a command timed out');
      throw error;
    }
  }

  /** Subscribes to a channel (in buffer mode). */
  subscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (this.#sub === undefined) return Promise.reject(new Error('the Redis adapter is not connected'));
    return this.#sub.subscribe(channel, listener, true);
  }

  /** Unsubscribes from a channel. */
  unsubscribe(channel: string, listener: ChannelListener): Promise<void> {
    if (this.#sub === undefined) return Promise.resolve();
    return this.#sub.unsubscribe(channel, listener, true);
  }

  #down(reason: string): void {
    if (this.#closed) return;
    this.#reason = reason;
    if (!this.#healthy) return;
    this.#healthy = false;
    this.#options.counters.outages++;
    this.#options.log('warn', 'Redis unreachable: delivering locally until it is back', { reason });
    this.#emit(false, reason);
  }

  #probe(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return (this.#probing ??= this.#ping().finally(() => { this.#probing = undefined; }));
  }

  async #ping(): Promise<void> {
    const cmd = this.#cmd;
    const sub = this.#sub;
    if (cmd === undefined || sub === undefined) return;
    if (!cmd.isReady || !sub.isReady) {
      this.#down(!cmd.isReady ? 'command connection not ready' : 'subscriber connection not ready');
      return;
    }
    try {
      await this.command(['PING']);
      if (!this.#healthy && !this.#closed && cmd.isReady && sub.isReady) {
        this.#healthy = true;
        this.#options.log('info', 'Redis reachable', { previously: this.#reason });
        this.#emit(true, 'ok');
      }
    } catch (error) {
      this.#down(`PING failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #emit(healthy: boolean, reason: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(healthy, reason);
      } catch (error) {
        this.#options.log('error', 'a health listener threw', { error: String(error) });
      }
    }
  }

  /** Stops probing and closes the connections this link opened (not the application's client). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#healthy = false;
    clearInterval(this.#probeTimer);
    for (const client of this.#ownClients) {
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    }
  }
}
