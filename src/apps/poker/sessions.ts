/**
 * Who is who, without passwords: a visitor picks a display name and gets a random session token
 * (kept by the page in localStorage, sent as `?token=` on the WebSocket URL). The token is the
 * secret; the user id it maps to is public (it appears in table state), so knowing someone's id
 * gives nothing. Sessions live in memory: a server restart forgets them, and the page then asks
 * for a name again.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { isValidName } from './engine/table.js';
import type { Session } from './wire.js';

export type { Session } from './wire.js';

/** Tokens are 32 random bytes, base64url: only these characters, exactly this long. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The session store: token → user and name. */
export class SessionStore {
  readonly #byToken = new Map<string, Session>();
  readonly #max: number;

  /** @param max - sessions kept; past it the oldest is forgotten (a bound on memory). */
  constructor(max = 100_000) {
    this.#max = max;
  }

  /** A new session for `name` (already validated with {@link isValidName}). */
  create(name: string): Session {
    const session: Session = { token: randomBytes(32).toString('base64url'), user: `u-${randomBytes(9).toString('base64url')}`, name: name.trim() };
    this.#byToken.set(session.token, session);
    if (this.#byToken.size > this.#max) {
      const oldest = this.#byToken.keys().next();
      if (oldest.done !== true) this.#byToken.delete(oldest.value);
    }
    return session;
  }

  /** The session of `token`, if it is one. */
  get(token: unknown): Session | undefined {
    if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
    return this.#byToken.get(token);
  }

  /** Whether `name` is acceptable. */
  static validName(name: unknown): name is string {
    return isValidName(name);
  }
}
