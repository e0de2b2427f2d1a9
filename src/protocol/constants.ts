/**
 * Constants of RFC 6455 shared by every layer.
 * @packageDocumentation
 */

/** The GUID appended to `Sec-WebSocket-Key` before hashing (RFC 6455 §1.3, §4.2.2). */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The only protocol version this implementation speaks (RFC 6455 §4.1, §4.4). */
export const WS_VERSION = 13;

/** Frame opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** A frame opcode defined by RFC 6455. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Close status codes this library sends or names (RFC 6455 §7.4.1, IANA registry). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Never sent on the wire: reported when the close frame had no status code (RFC 6455 §7.1.5). */
  NoStatus: 1005,
  /** Never sent on the wire: reported when the connection closed without a close frame (§7.1.5). */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
} as const;

/** Largest payload of a control frame (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/**
 * Largest close reason in bytes: a control frame carries at most 125 bytes, two of which are
 * the status code (RFC 6455 §5.5, §5.5.1).
 */
export const MAX_CLOSE_REASON = 123;

/** Default limits, chosen to bound memory per connection; each is an option of the Node layer. */
export const Defaults = {
  /** Largest message accepted, in bytes, after any decompression (same default as `ws`). */
  maxPayload: 100 * 1024 * 1024,
  /**
   * Most frames one fragmented message may span; floods of tiny or empty fragments stop here
   * (1009). Memory is bounded by `maxPayload` in any case (small fragments are coalesced), so
   * this bounds CPU per message; 4 MiB in 64-byte fragments (Autobahn 9.3.1) fits.
   */
  maxFragments: 1_048_576,
} as const;
