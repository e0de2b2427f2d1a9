/**
 * Request ids. The server remembers the outcome of recent ids per user to apply a retried
 * `pub`/`req` once, so ids must not collide between two tabs of the same user: each client
 * draws a random prefix and counts from there. With a Redis cluster an anonymous client's `pub`
 * id is remembered cluster-wide when it has at least 16 characters (docs/cluster.md): the
 * prefix alone has 16, about 82 random bits, so it is unique to the client.
 * @packageDocumentation
 */
import type { EnvelopeId } from '../wire/envelope.js';

interface CryptoLike {
  getRandomValues(array: Uint8Array): Uint8Array;
}

/** Returns a generator of ids `<prefix>.<n>` (n in base 36), unique per client with high probability. */
export function createIdSource(): () => EnvelopeId {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: CryptoLike }).crypto;
  if (crypto !== undefined) crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let prefix = '';
  for (const b of bytes) prefix += (b % 36).toString(36);
  let n = 0;
  return () => `${prefix}.${(++n).toString(36)}`;
}
