/**
 * What the documentation promises, restated for the fuzz oracles: the error codes of
 * docs/errors.md with their close codes, and the codes of docs/realtime-protocol.md.
 */

/** docs/errors.md: the ProtocolError codes a peer can trigger, and the close code that answers each. */
export const PROTOCOL_ERROR_CLOSE: ReadonlyMap<string, number> = new Map([
  ['WS_ERR_INVALID_OPCODE', 1002],
  ['WS_ERR_UNEXPECTED_RSV_1', 1002],
  ['WS_ERR_UNEXPECTED_RSV_2_3', 1002],
  ['WS_ERR_EXPECTED_FIN', 1002],
  ['WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002],
  ['WS_ERR_EXPECTED_MASK', 1002],
  ['WS_ERR_UNEXPECTED_MASK', 1002],
  ['WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009],
  ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009],
  ['WS_ERR_INVALID_UTF8', 1007],
  ['WS_ERR_INVALID_CLOSE_CODE', 1002],
  ['WS_ERR_TOO_MANY_BUFFERED_PARTS', 1009],
  ['ERR_WS_INFLATE_FAILED', 1007],
]);

/** Short names used by the oracles. */
export const E = {
  OPCODE: 'WS_ERR_INVALID_OPCODE',
  RSV1: 'WS_ERR_UNEXPECTED_RSV_1',
  RSV23: 'WS_ERR_UNEXPECTED_RSV_2_3',
  FIN: 'WS_ERR_EXPECTED_FIN',
  CONTROL_LENGTH: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  EXPECTED_MASK: 'WS_ERR_EXPECTED_MASK',
  UNEXPECTED_MASK: 'WS_ERR_UNEXPECTED_MASK',
  LENGTH: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  TOO_BIG: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  UTF8: 'WS_ERR_INVALID_UTF8',
  CLOSE: 'WS_ERR_INVALID_CLOSE_CODE',
  FRAGMENTS: 'WS_ERR_TOO_MANY_BUFFERED_PARTS',
  INFLATE: 'ERR_WS_INFLATE_FAILED',
  HANDSHAKE: 'ERR_WS_HANDSHAKE_FAILED',
} as const;

/** docs/realtime-protocol.md: codes `decodeFrame` may answer with. */
export const DECODE_CODES: ReadonlySet<string> = new Set(['TOO_LARGE', 'TOO_DEEP', 'BAD_ENVELOPE']);
/** docs/realtime-protocol.md: codes `parseClientEnvelope` may answer with. */
export const PARSE_CODES: ReadonlySet<string> = new Set(['BAD_ENVELOPE', 'BAD_TOPIC', 'UNKNOWN_TYPE']);

/**
 * Close codes a peer may send (RFC 6455 §7.4.1 and the IANA registry: 1000–1003, 1007–1014;
 * 3000–4999 for libraries and applications), written out as a list rather than as ranges.
 */
export function refValidCloseCode(code: number): boolean {
  if ([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014].includes(code)) return true;
  return code >= 3000 && code <= 4999;
}

/** A deterministic byte pattern, so large payloads cost no generation time. */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed | 0) ^ 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    out[i] = (x >>> 16) & 0xff;
  }
  return out;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Short printable form of bytes for assertion messages. */
export function show(bytes: Uint8Array): string {
  const hex = Array.from(bytes.subarray(0, 48), (b) => b.toString(16).padStart(2, '0')).join('');
  let h = 0;
  for (const b of bytes) h = (Math.imul(h, 31) + b) | 0;
  return `${bytes.length}B:${hex}${bytes.length > 48 ? '…' : ''}#${(h >>> 0).toString(16)}`;
}

/** UTF-8 sequences that must be refused (RFC 3629 §4): overlongs, surrogates, > U+10FFFF, truncations, stray bytes. */
export const BAD_UTF8: readonly (readonly number[])[] = [
  [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfe], [0xff], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc2],
  [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc],
];
