/**
 * The private topic of one user, `user:<id>`. A user id is whatever the token's `sub` says (1–128
 * characters of any kind: `auth0|123`, `alice+x@example.com`, `jöe`), while topic names have a
 * small alphabet (`A–Z a–z 0–9 : _ - . / @ #`, at most 200 characters; docs/realtime-protocol.md).
 * So the id is encoded into the topic, reversibly where it fits:
 *
 * - ids made only of `A–Z a–z 0–9 _ - . @ :` are used as they are (`user:alice`);
 * - otherwise every other character is written as `#` and two upper-case hex digits per UTF-8
 *   byte — percent-encoding with `#` for `%` (`auth0|123` → `user:auth0#7C123`). A plain id never
 *   contains `#`, so the two forms cannot collide;
 * - an encoded id longer than {@link MAX_ENCODED} characters (only ids with many non-ASCII
 *   characters get there) becomes `##` and the base64url SHA-256 of its UTF-8 bytes: not
 *   reversible, but deterministic, and `##` never starts an escape.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';

/** The prefix of every user topic. */
export const USER_TOPIC_PREFIX = 'user:';

/** Longest encoded id kept reversible: `user:` plus this is the 200-character topic limit. */
export const MAX_ENCODED = 195;

/** Characters a user id keeps as they are in its topic. */
const PLAIN = /^[A-Za-z0-9_\-.@:]+$/;
const KEEP = /[A-Za-z0-9_\-.@:]/;

/**
 * The topic every connection of `user` is subscribed to, a valid topic name for any non-empty id.
 * @throws TypeError when `user` is not a non-empty string
 */
export function userTopic(user: string): string {
  if (typeof user !== 'string' || user.length === 0) throw new TypeError('a user id is a non-empty string');
  if (user.length <= MAX_ENCODED && PLAIN.test(user)) return USER_TOPIC_PREFIX + user;
  let encoded = '';
  for (const char of user) {
    if (KEEP.test(char)) {
      encoded += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) encoded += `#${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    if (encoded.length > MAX_ENCODED) break;
  }
  if (encoded.length <= MAX_ENCODED) return USER_TOPIC_PREFIX + encoded;
  return `${USER_TOPIC_PREFIX}##${createHash('sha256').update(user, 'utf8').digest('base64url')}`;
}

/**
 * The user id of a user topic, when its encoding is reversible.
 * @returns the id, or undefined for a topic that is not a user topic or holds a hashed id
 */
export function userOfTopic(topic: string): string | undefined {
  if (!topic.startsWith(USER_TOPIC_PREFIX)) return undefined;
  const encoded = topic.slice(USER_TOPIC_PREFIX.length);
  if (encoded === '' || encoded.startsWith('##')) return undefined;
  if (!encoded.includes('#')) return encoded;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const c = encoded.charCodeAt(i);
    if (c === 0x23) {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
