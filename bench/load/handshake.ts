/**
 * The load generator's own client opening handshake (RFC 6455 §4.1). It is written here, not taken
 * from the library under test, so a bug in the library's handshake cannot hide itself.
 */
import { createHash } from 'node:crypto';

/** The GUID every server appends to the key before hashing (RFC 6455 §1.3). */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * A fixed key: the nonce only proves the server read this request, and a fixed one lets the
 * request be built once per port. It is the sample nonce of RFC 6455 §1.3.
 */
export const CLIENT_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The accept value the server must answer to {@link CLIENT_KEY}, computed with node:crypto. */
export const EXPECTED_ACCEPT = computeAccept(CLIENT_KEY);

/**
 * Computes `Sec-WebSocket-Accept` for a key (RFC 6455 §4.2.2 step 5.4).
 * @param key - the `Sec-WebSocket-Key` the client sent
 * @returns base64 of SHA-1(key + GUID)
 */
export function computeAccept(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/**
 * Builds the upgrade request once per target. No extensions are offered, so the server must not
 * answer with any and every frame it sends has RSV bits clear.
 * @param host - host the server listens on
 * @param port - its port
 * @returns the request bytes
 */
export function buildUpgradeRequest(host: string, port: number): Buffer {
  return Buffer.from(
    'GET / HTTP/1.1\r\n' +
      `Host: ${host}:${port}\r\n` +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${CLIENT_KEY}\r\n` +
      'Sec-WebSocket-Version: 13\r\n' +
      '\r\n',
    'latin1',
  );
}

/** The outcome of reading a handshake response from the bytes received so far. */
export type HandshakeParse =
  | { readonly state: 'incomplete' }
  | { readonly state: 'failed'; readonly reason: string }
  | { readonly state: 'accepted'; readonly rest: Buffer };

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
/** A response head larger than this is not a WebSocket handshake answer. */
const MAX_HEAD = 16 * 1024;

/**
 * Checks the server's response: status 101, `Upgrade: websocket`, `Connection: upgrade`, the
 * right accept value and no extension (RFC 6455 §4.1, client requirements 1–5).
 * @param received - every byte received so far on the connection
 * @returns incomplete, failed with a reason, or accepted with the bytes that followed the head
 */
export function parseUpgradeResponse(received: Buffer): HandshakeParse {
  const end = received.indexOf(HEADER_END);
  if (end === -1) {
    return received.length > MAX_HEAD
      ? { state: 'failed', reason: 'response head too large' }
      : { state: 'incomplete' };
  }
  const lines = received.toString('latin1', 0, end).split('\r\n');
  const status = lines[0] ?? '';
  if (!/^HTTP\/1\.1 101 /.test(status + ' ')) {
    return { state: 'failed', reason: `expected status 101, got "${status}"` };
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { state: 'failed', reason: `malformed header line "${line}"` };
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') {
    return { state: 'failed', reason: 'missing Upgrade: websocket' };
  }
  const connection = (headers.get('connection') ?? '').toLowerCase().split(',').map((t) => t.trim());
  if (!connection.includes('upgrade')) {
    return { state: 'failed', reason: 'missing Connection: upgrade' };
  }
  const accept = headers.get('sec-websocket-accept');
  if (accept !== EXPECTED_ACCEPT) {
    return { state: 'failed', reason: `wrong Sec-WebSocket-Accept "${accept ?? ''}"` };
  }
  if (headers.has('sec-websocket-extensions')) {
    return { state: 'failed', reason: 'server negotiated an extension that was not offered' };
  }
  return { state: 'accepted', rest: received.subarray(end + HEADER_END.length) };
}
