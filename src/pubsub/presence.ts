/**
 * Presence: who is in each topic. Members are keyed by user, each with the connections (tabs,
 * devices) they are present through. A user joins on their first connection and leaves on their
 * last, so opening a second tab or losing one of two is not an event for anyone else.
 * @packageDocumentation
 */
import type { PresenceMember } from '../wire/envelope.js';

export type { PresenceMember } from '../wire/envelope.js';

/** A presence change: `join` on a user's first connection, `leave` on their last. */
export interface PresenceChange {
  readonly event: 'join' | 'leave';
  readonly member: PresenceMember;
}

/** One user in one topic: their connections in arrival order, with each one's info. */
type UserConnections = Map<string, unknown>;

/** Presence for every topic of one node (or, in the in-memory adapter, of the whole cluster). */
export class Presence {
  readonly #topics = new Map<string, Map<string, UserConnections>>();

  /**
   * Adds `member.conn` to `member.user`'s connections in `topic`.
   * @returns a `join` change when it is the user's first connection there; undefined otherwise
   * (another tab of a present user, or a connection already present, whose info is updated)
   */
  join(topic: string, member: PresenceMember): PresenceChange | undefined {
    let users = this.#topics.get(topic);
    if (users === undefined) {
      users = new Map();
      this.#topics.set(topic, users);
    }
    const conns = users.get(member.user);
    if (conns !== undefined) {
      conns.set(member.conn, member.info);
      return undefined;
    }
    users.set(member.user, new Map([[member.conn, member.info]]));
    return { event: 'join', member: { user: member.user, conn: member.conn, info: member.info } };
  }

  /**
   * Removes one connection of a user from `topic`.
   * @returns a `leave` change when it was the user's last connection there; undefined otherwise
   */
  leave(topic: string, user: string, conn: string): PresenceChange | undefined {
    const users = this.#topics.get(topic);
    const conns = users?.get(user);
    if (users === undefined || conns === undefined || !conns.has(conn)) return undefined;
    const info = conns.get(conn);
    conns.delete(conn);
    if (conns.size > 0) return undefined;
    users.delete(user);
    if (users.size === 0) this.#topics.delete(topic);
    return { event: 'leave', member: { user, conn, info } };
  }

  /**
   * The members of `topic`, one per user: their earliest connection still present and its info.
   */
  members(topic: string): PresenceMember[] {
    const users = this.#topics.get(topic);
    if (users === undefined) return [];
    const out: PresenceMember[] = [];
    for (const [user, conns] of users) {
      for (const [conn, info] of conns) {
        out.push({ user, conn, info });
        break;
      }
    }
    return out;
  }

  /** The connections through which `user` is present in `topic`. */
  connections(topic: string, user: string): string[] {
    return [...(this.#topics.get(topic)?.get(user)?.keys() ?? [])];
  }

  /** How many users are present in `topic`. */
  count(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }
}
