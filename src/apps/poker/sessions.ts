/**
 * Who is who, without passwords: a visitor picks a display name and gets a random session token
 * (kept by the page in localStorage, sent as `?token=` on the WebSocket URL). The token is the
 * secret; the user id it maps to is public (it appears in table state), so knowing someone's id
 * gives nothing. On one server sessions live in memory: a restart forgets them, and the page then
 * asks for a name again; on several, they are kept in Redis too (cluster/shared-sessions.ts).
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { isValidName } from './engine/table.js';
import type { Session } from './wire.js';

export type { Session } from './wire.js';

/** Tokens are 32 random bytes, base64url: only these characters, exactly this long. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** Sessions kept at most (a bound on memory). Default 100,000. */
  max?: number;
  /**
   * When the store is full, a session unused for this long (ms) and with no open connection may
   * be forgotten to make room; when none is, new sessions are refused. Default one hour.
   */
  minIdleMs?: number;
  /** The clock (ms). Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  readonly session: Session;
  /** Last use: created, resumed over HTTP, or a connection opened or closed with it. */
  used: number;
  /** Connections open with it now. */
  open: number;
}

/** Entries looked at for one to forget: a bound on the work of one `create`. */
const SCAN = 64;

/**
 * The session store: token → user and name. Entries are kept least recently used first, so that
 * when the store is full the one forgotten is the one idle longest — never one in use (an open
 * connection) or used within `minIdleMs`: a flood of new sessions is refused, it does not sign
 * real players out.
 */
export class SessionStore {
  readonly #byToken = new Map<string, Entry>();
  readonly #max: number;
  readonly #minIdleMs: number;
  readonly #now: () => number;

  /** @param options - bound, idle time and clock */
  constructor(options: SessionStoreOptions = {}) {
    this.#max = options.max ?? 100_000;
    this.#minIdleMs = options.minIdleMs ?? 60 * 60_000;
    this.#now = options.now ?? Date.now;
    if (!Number.isSafeInteger(this.#max) || this.#max < 1) throw new RangeError('max must be a positive integer');
  }

  /**
   * A new session for `name` (already validated with {@link isValidName}), or `undefined` when
   * the store is full of sessions in use.
   */
  create(name: string): Session | undefined {
    const now = this.#now();
    if (this.#byToken.size >= this.#max && !this.#forgetIdle(now)) return undefined;
    const session: Session = { token: randomBytes(32).toString('base64url'), user: `u-${randomBytes(9).toString('base64url')}`, name: name.trim() };
    this.#byToken.set(session.token, { session, used: now, open: 0 });
    return session;
  }

  /**
   * Keeps `session`, made by another server of the cluster (cluster/shared-sessions.ts), like one
   * created here. When the store is full of sessions in use it is not kept (the next use asks
   * the cluster again).
   */
  adopt(session: Session): void {
    if (this.#byToken.has(session.token)) return;
    const now = this.#now();
    if (this.#byToken.size >= this.#max && !this.#forgetIdle(now)) return;
    this.#byToken.set(session.token, { session: { token: session.token, user: session.user, name: session.name }, used: now, open: 0 });
  }

  /** The session of `token`, if it is one; counts as a use. */
  get(token: unknown): Session | undefined {
    return this.#touch(token)?.session;
  }

  /**
   * Marks a connection opened with `token` (when it is a session's): the session cannot be
   * forgotten while the connection is open.
   * @returns a function to call once when the connection closes
   */
  connect(token: unknown): () => void {
    const entry = this.#touch(token);
    if (entry === undefined) return () => {};
    entry.open++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      entry.open--;
      this.#touch(entry.session.token);
    };
  }

  /** Sessions kept. */
  get size(): number {
    return this.#byToken.size;
  }

  #touch(token: unknown): Entry | undefined {
    if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
    const entry = this.#byToken.get(token);
    if (entry === undefined) return undefined;
    entry.used = this.#now();
    // Map order is insertion order: moving the entry to the end keeps least recently used first.
    this.#byToken.delete(token);
    this.#byToken.set(token, entry);
    return entry;
  }

  /** Forgets the least recently used session if it is idle enough; false when none may go. */
  #forgetIdle(now: number): boolean {
    let looked = 0;
    for (const [token, entry] of this.#byToken) {
      if (++looked > SCAN) return false;
      if (entry.open > 0) continue;
      if (now - entry.used < this.#minIdleMs) return false; // the rest were used more recently
      this.#byToken.delete(token);
      return true;
    }
    return false;
  }

  /** Whether `name` is acceptable. */
  static validName(name: unknown): name is string {
    return isValidName(name);
  }
}
