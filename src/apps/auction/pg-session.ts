/**
 * A node's own PostgreSQL session for the auction: it LISTENs on the auction's channel and
 * competes for the advisory lock whose holder runs the lots' end timers.
 *
 * Both live on this one connection on purpose. A session-level advisory lock is released when
 * its session ends, whatever ended it (PostgreSQL manual, "Advisory Locks"): a node killed with
 * SIGKILL has its socket closed by the kernel, the server ends the session, and another node's
 * next `pg_try_advisory_lock` wins. And a node that loses the connection stops hearing changes
 * at the same moment as it stops holding the lock, so it never runs timers on a stale copy.
 * @packageDocumentation
 */
import type pg from 'pg';
import { loadPg } from './pg-store.js';

/** What the session tells its owner. */
export interface SessionEvents {
  /** A notification's payload, in commit order. */
  notification(payload: string): void;
  /**
   * Listening (again): notifications may have been missed while down, so reload everything.
   * The lock is competed for once this resolves; when it rejects, the connection is dropped
   * and tried again (at start, {@link AuctionSession.start} rejects).
   */
  listening(): Promise<void>;
  /** This node now holds the timer lock (`true`) or lost it with the connection (`false`). */
  leader(leading: boolean): void;
  /** A connection attempt or a query failed; the session retries on its own. */
  error(error: unknown): void;
}

/** Options of an {@link AuctionSession}. */
export interface AuctionSessionOptions {
  /** How often a node without the lock tries to take it, ms. Default 1,000. */
  lockRetryMs?: number;
  /** Longest wait between reconnection attempts, ms. Default 5,000. */
  maxReconnectMs?: number;
  /** The session's `application_name`, so `pg_stat_activity` and `pg_locks` show which node leads. */
  applicationName?: string;
}

/** The listening, lock-holding session; reconnects until {@link AuctionSession.stop}. */
export class AuctionSession {
  readonly #url: string;
  readonly #channel: string;
  readonly #lock: string;
  readonly #events: SessionEvents;
  readonly #lockRetryMs: number;
  readonly #maxReconnectMs: number;
  readonly #applicationName: string | undefined;
  #client: pg.Client | undefined;
  #leader = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #backoff = 100;

  /**
   * @param url - the database
   * @param channel - the channel to listen on
   * @param lock - the advisory lock's name (hashed to its key)
   */
  constructor(url: string, channel: string, lock: string, events: SessionEvents, options: AuctionSessionOptions = {}) {
    this.#url = url;
    this.#channel = channel;
    this.#lock = lock;
    this.#events = events;
    this.#lockRetryMs = options.lockRetryMs ?? 1000;
    this.#maxReconnectMs = options.maxReconnectMs ?? 5000;
    this.#applicationName = options.applicationName;
  }

  /** Whether this node holds the timer lock now. */
  get leader(): boolean {
    return this.#leader;
  }

  /** Connects and listens; resolves once listening (the first time), rejects if that fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const { Client } = await loadPg();
    const client = new Client({ connectionString: this.#url, keepAlive: true, ...(this.#applicationName !== undefined ? { application_name: this.#applicationName } : {}) });
    client.on('notification', (message) => {
      if (message.channel === this.#channel && message.payload !== undefined) this.#events.notification(message.payload);
    });
    client.on('error', (error) => {
      this.#events.error(error);
      this.#lost(client);
    });
    client.on('end', () => this.#lost(client));
    try {
      await client.connect();
      // A quoted identifier: the channel carries the schema's name, which may hold any character.
      await client.query(`LISTEN ${client.escapeIdentifier(this.#channel)}`);
      this.#client = client;
      await this.#events.listening();
    } catch (error) {
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.#stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#backoff = 100;
    await this.#tryLock();
  }

  /** Tries to take the timer lock, and keeps trying every `lockRetryMs` until it holds it. */
  async #tryLock(): Promise<void> {
    const client = this.#client;
    if (client === undefined || this.#stopped || this.#leader) return;
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [this.#lock]);
      if (rows[0]?.ok === true && this.#client === client && !this.#stopped) {
        this.#leader = true;
        this.#events.leader(true);
        return;
      }
    } catch (error) {
      // The connection's own 'error' or 'end' handles a broken connection.
      this.#events.error(error);
    }
    if (this.#client === client && !this.#stopped) this.#later(() => this.#tryLock(), this.#lockRetryMs);
  }

  /** The connection is gone: give up the lead and reconnect. */
  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#leader) {
      this.#leader = false;
      this.#events.leader(false);
    }
    if (!this.#stopped) this.#reconnect();
  }

  #reconnect(): void {
    const wait = this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#maxReconnectMs);
    this.#later(() => {
      this.#connect().catch((error: unknown) => {
        this.#events.error(error);
        if (!this.#stopped) this.#reconnect();
      });
    }, wait);
  }

  #later(run: () => unknown, ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void run();
    }, ms);
    this.#timer.unref();
  }

  /** Ends the session (releasing the lock) and stops reconnecting. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#leader = false;
    if (client !== undefined) await client.end().catch(() => undefined);
  }
}
