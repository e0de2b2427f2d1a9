/**
 * Sessions every server knows (several servers): a session is created on whichever server the
 * player first reached and kept in Redis, so that the token works on any server behind the
 * balancer. Each server keeps the sessions it has seen in its own {@link SessionStore} (bounded,
 * as on one server) and asks Redis for a token it does not know.
 * @packageDocumentation
 */
import type { Session } from '../wire.js';
import type { SessionStore } from '../sessions.js';
import type { RedisLink } from './redis-link.js';

/** Tokens are 32 random bytes, base64url (as {@link SessionStore} makes them). */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Sessions in Redis, with this server's store in front. */
export class SharedSessions {
  readonly #local: SessionStore;
  readonly #redis: RedisLink;
  readonly #prefix: string;
  readonly #ttlMs: number;

  /**
   * @param keyPrefix - prefix of the session keys
   * @param ttlMs - a session unused this long is forgotten by Redis (each resume renews it)
   */
  constructor(local: SessionStore, redis: RedisLink, keyPrefix: string, ttlMs: number) {
    this.#local = local;
    this.#redis = redis;
    this.#prefix = keyPrefix;
    this.#ttlMs = ttlMs;
  }

  /** Stores a session just created here. */
  async save(session: Session): Promise<void> {
    const key = this.#prefix + session.token;
    await this.#redis.command(['SET', key, JSON.stringify(session), 'PX', String(this.#ttlMs)], key);
  }

  /**
   * The session of `token`: this server's, or one another server created (kept here from now on).
   * @param renew - extend its life in Redis (a page resuming its session)
   */
  async get(token: unknown, renew = false): Promise<Session | undefined> {
    if (typeof token !== 'string' || !TOKEN.test(token)) return undefined;
    const key = this.#prefix + token;
    const local = this.#local.get(token);
    if (local !== undefined) {
      if (renew) await this.#redis.command(['PEXPIRE', key, String(this.#ttlMs)], key).catch(() => {});
      return local;
    }
    // Redis unreachable: a token this server has not seen yet opens a guest connection (the page
    // can watch, and signs in again once Redis is back); a resume over HTTP fails with the request.
    const text = await this.#redis.command(renew ? ['GETEX', key, 'PX', String(this.#ttlMs)] : ['GET', key], key).catch((error: unknown) => {
      if (renew) throw error;
      return null;
    });
    if (typeof text !== 'string') return undefined;
    const session = JSON.parse(text) as Session;
    if (session.token !== token || typeof session.user !== 'string' || typeof session.name !== 'string') return undefined;
    this.#local.adopt(session);
    return session;
  }
}
