/**
 * The incremental frame parser and message assembler (RFC 6455 §5). Bytes go in with `push`;
 * messages, control frames and failures come out as calls on a handler. No I/O, no timers, no
 * allocation per frame on the common path: a frame that arrives whole is unmasked in place and
 * handed on as a view of the received bytes.
 * @packageDocumentation
 */
import { CloseCode, Defaults, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { closeCodeOf, isValidCloseCode } from './close.js';
import { ProtocolError, ProtocolErrorCode } from './errors.js';

/** The prefix of `ws`'s messages for a frame that breaks RFC 6455 (docs/errors.md). */
const FRAME = 'Invalid WebSocket frame: ';
/** `ws`'s message for text or a close reason that is not UTF-8. */
const INVALID_UTF8 = `${FRAME}invalid UTF-8 sequence`;
import { defaultAllocate, type Allocate } from './frame.js';
import { applyMask, maskCopyOf, type MaskCopyFunction, type MaskFunction } from './mask.js';
import { Utf8Validator, isValidUtf8, type Utf8Check } from './utf8.js';

/** What a {@link Receiver} reports. Calls are synchronous and in wire order. */
export interface ReceiverHandler {
  /**
   * A complete data message. `data` may be a view of the received bytes: keep it, but do not
   * expect it to be a copy. When `compressed` is true it is the raw deflate stream (RFC 7692)
   * and has not been checked for UTF-8; the caller inflates and validates it.
   */
  onMessage(data: Uint8Array, isBinary: boolean, compressed: boolean): void;
  /** A ping frame (RFC 6455 §5.5.2); the caller answers with a pong. */
  onPing(data: Uint8Array): void;
  /** A pong frame (RFC 6455 §5.5.3). */
  onPong(data: Uint8Array): void;
  /**
   * A valid close frame (RFC 6455 §5.5.1). `code` is 1005 when the frame had no payload.
   * Nothing after it is parsed.
   */
  onClose(code: number, reason: Uint8Array): void;
  /** The peer broke the protocol. Nothing after it is parsed; fail the connection with `error.closeCode`. */
  onError(error: ProtocolError): void;
}

/** Limits and roles of a {@link Receiver}. */
export interface ReceiverOptions {
  /** True on a server: every client frame must be masked, and no server frame may be (§5.1). */
  expectMasked: boolean;
  /** Largest message in bytes (on the wire; the inflater enforces it after decompression). 0 means no limit. */
  maxPayload?: number;
  /** Most frames one message may span. 0 means no limit. */
  maxFragments?: number;
  /** RSV1 marks compressed messages: true only when permessage-deflate was negotiated (RFC 7692 §6). */
  allowRsv1?: boolean;
  /** Fast whole-buffer UTF-8 check, used on spans of complete code points. */
  utf8?: Utf8Check;
  /** Allocation for reassembled fragmented messages. */
  allocate?: Allocate;
  /** Unmasking with the contract of {@link applyMask} (default); the Node layer passes a SIMD one. */
  mask?: MaskFunction;
  /**
   * Unmasking while copying, for messages assembled from several pieces; default: a copy, then
   * `mask` on it. The Node layer passes a WebAssembly one that saves a copy.
   */
  maskCopy?: MaskCopyFunction;
  /** Skip UTF-8 validation of text (the `ws` option `skipUTF8Validation`); close reasons are still checked. */
  skipUtf8Validation?: boolean;
}

const HEADER = 0;
const PAYLOAD = 1;
const STOPPED = 2;

/** Bits of `Receiver.#bits`: six booleans in one field (memory per idle connection). */
const PAUSED = 1 << 0;
/** A parse is running further up the stack (bytes pushed re-entrantly wait). */
const PROCESSING = 1 << 1;
/** The frame being read is its message's last. */
const FIN = 1 << 2;
const MASKED = 1 << 3;
/** The message being assembled is compressed (RSV1 on its first frame, RFC 7692 §6). */
const COMPRESSED = 1 << 4;
/**
 * The pieces held are still masked, with `#maskKey` from payload byte 0: a message in one frame
 * over GATHER_MAX that is not checked for UTF-8 as it arrives is unmasked while it is assembled.
 */
const MASKED_PIECES = 1 << 5;

const NO_PIECES: readonly Uint8Array[] = Object.freeze([]);

/**
 * {@link ReceiverOptions} with their defaults filled in, read-only. A server makes one for all its
 * connections and passes it to every {@link Receiver}: the limits and functions then cost one
 * field per connection instead of eight.
 */
export class ReceiverConfig {
  /** See {@link ReceiverOptions.expectMasked}. */
  readonly expectMasked: boolean;
  /** See {@link ReceiverOptions.maxPayload}. */
  readonly maxPayload: number;
  /** See {@link ReceiverOptions.maxFragments}. */
  readonly maxFragments: number;
  /** See {@link ReceiverOptions.allowRsv1}. */
  readonly allowRsv1: boolean;
  /** See {@link ReceiverOptions.utf8}. */
  readonly utf8Check: Utf8Check | undefined;
  /** See {@link ReceiverOptions.allocate}. */
  readonly allocate: Allocate;
  /** See {@link ReceiverOptions.skipUtf8Validation}. */
  readonly skipUtf8: boolean;
  /** See {@link ReceiverOptions.mask}. */
  readonly unmask: MaskFunction;
  /** See {@link ReceiverOptions.maskCopy}. */
  readonly unmaskInto: MaskCopyFunction;

  /** @param options - role and limits */
  constructor(options: ReceiverOptions) {
    this.expectMasked = options.expectMasked;
    this.maxPayload = options.maxPayload ?? Defaults.maxPayload;
    this.maxFragments = options.maxFragments ?? Defaults.maxFragments;
    this.allowRsv1 = options.allowRsv1 ?? false;
    this.utf8Check = options.utf8;
    this.allocate = options.allocate ?? defaultAllocate;
    this.skipUtf8 = options.skipUtf8Validation ?? false;
    this.unmask = options.mask ?? applyMask;
    this.unmaskInto = options.maskCopy ?? (options.mask === undefined ? DEFAULT_MASK_COPY : maskCopyOf(options.mask));
    Object.freeze(this);
  }
}

/** Parses a WebSocket byte stream. One per connection. */
export class Receiver {
  readonly #handler: ReceiverHandler;
  readonly #config: ReceiverConfig;

  #state = HEADER;
  /** PAUSED, PROCESSING, FIN, MASKED, COMPRESSED, MASKED_PIECES. */
  #bits = 0;
  /** Chunks received while paused, in order; created when first needed. */
  #queue: Uint8Array[] | undefined;

  /** A header split across chunks is gathered here (at most 14 bytes). */
  #header: Uint8Array | undefined;
  #headerFill = 0;

  // The frame being read.
  #opcode = 0;
  /**
   * A plain array: four small integers cost less per connection than a typed array. Created
   * with the first masked frame, so an idle connection holds none.
   */
  #maskKey: number[] | undefined;
  #length = 0;
  #received = 0;
  #control: Uint8Array | undefined;

  // The message being assembled.
  #messageOpcode = 0;
  #messageSize = 0;
  #fragmentCount = 0;
  /** Pieces of a message that spans chunks or frames; the shared empty list when there are none. */
  #pieces: readonly Uint8Array[] = NO_PIECES;
  /** Small pieces are copied together here so a flood of tiny fragments costs bytes, not objects. */
  #coalesce: Uint8Array | undefined;
  #coalesceFill = 0;
  /**
   * In the last frame of a message of at most GATHER_MAX bytes, once at most GATHER_AHEAD of it
   * are still to come: a buffer of the message's size that the rest is copied (and unmasked)
   * straight into. Its fill is implied: the bytes of the message received so far.
   */
  #target: Uint8Array | undefined;
  #utf8: Utf8Validator | undefined;

  /**
   * @param handler - receives messages, control frames and errors
   * @param options - role and limits; a {@link ReceiverConfig} is used as it is (share one)
   */
  constructor(handler: ReceiverHandler, options: ReceiverOptions | ReceiverConfig) {
    this.#handler = handler;
    this.#config = options instanceof ReceiverConfig ? options : new ReceiverConfig(options);
  }

  /** True once a close frame or an error ended parsing. */
  get stopped(): boolean {
    return this.#state === STOPPED;
  }

  /** True while paused by {@link Receiver.pause}. */
  get paused(): boolean {
    return (this.#bits & PAUSED) !== 0;
  }

  /** Bytes held because parsing is paused (counted against the caller's read budget). */
  get queuedBytes(): number {
    let n = 0;
    for (const c of this.#queue ?? NO_PIECES) n += c.length;
    return n;
  }

  /**
   * Stops delivering after the current call returns, keeping unparsed bytes. The Node layer
   * pauses while it inflates a compressed message, so messages stay in order.
   */
  pause(): void {
    this.#bits |= PAUSED;
  }

  /** Continues with the bytes held while paused. */
  resume(): void {
    if ((this.#bits & PAUSED) === 0) return;
    this.#bits &= ~PAUSED;
    this.#drain();
  }

  /** Parses held chunks in order, unless a parse is already running further up the stack. */
  #drain(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    while (queue.length > 0 && (this.#bits & (PAUSED | PROCESSING)) === 0 && this.#state !== STOPPED) {
      this.#process(queue.shift()!);
    }
    // A queue that went empty is dropped: most connections never need one again.
    if (queue.length === 0 && this.#queue === queue) this.#queue = undefined;
  }

  /** Stops parsing for good (the connection is being torn down); held bytes are dropped. */
  destroy(): void {
    this.#stop();
  }

  /** Feeds bytes received from the peer. The bytes may be modified in place (unmasking). */
  push(chunk: Uint8Array): void {
    if (this.#state === STOPPED || chunk.length === 0) return;
    // Bytes pushed from inside a handler (re-entrantly) wait for the bytes before them.
    if ((this.#bits & (PAUSED | PROCESSING)) !== 0 || this.#queue !== undefined) {
      (this.#queue ??= []).push(chunk);
      if ((this.#bits & PROCESSING) === 0) this.#drain();
      return;
    }
    this.#process(chunk);
    this.#drain();
  }

  #process(chunk: Uint8Array): void {
    this.#bits |= PROCESSING;
    const end = chunk.length;
    let pos = 0;
    try {
      while (pos < end) {
        if ((this.#bits & PAUSED) !== 0) {
          (this.#queue ??= []).unshift(chunk.subarray(pos));
          return;
        }
        if (this.#state === HEADER) {
          const used = this.#readHeader(chunk, pos);
          if (used < 0) return; // header incomplete and buffered, or failed
          pos += used;
          if (this.#length === 0) this.#endFrame(new Uint8Array(0));
          else this.#state = PAYLOAD;
        } else if (this.#state === PAYLOAD) {
          const take = Math.min(this.#length - this.#received, end - pos);
          const piece = chunk.subarray(pos, pos + take);
          pos += take;
          this.#readPayload(piece);
        } else {
          return; // STOPPED: data after a close frame or an error is ignored (§5.5.1)
        }
      }
    } finally {
      this.#bits &= ~PROCESSING;
    }
  }

  /**
   * Parses a header starting at `chunk[pos]`.
   * @returns bytes of `chunk` consumed, or -1 when the header is not complete yet (the bytes were
   * kept) or the frame was rejected
   */
  #readHeader(chunk: Uint8Array, pos: number): number {
    let src: Uint8Array;
    let at: number;
    let used: number;
    const available = chunk.length - pos;
    if (this.#headerFill === 0 && available >= 2 && available >= headerSize(chunk[pos + 1]!)) {
      src = chunk;
      at = pos;
      used = headerSize(chunk[pos + 1]!);
    } else {
      // Gather the header across chunks: first two bytes, then the size they announce.
      const h = (this.#header ??= new Uint8Array(14));
      const before = this.#headerFill;
      let i = pos;
      while (this.#headerFill < 2 && i < chunk.length) h[this.#headerFill++] = chunk[i++]!;
      if (this.#headerFill < 2) return -1;
      const need = headerSize(h[1]!);
      while (this.#headerFill < need && i < chunk.length) h[this.#headerFill++] = chunk[i++]!;
      if (this.#headerFill < need) {
        // Fail fast (bad-input guide §11): a hostile length is refused as soon as its bytes are
        // in, not after the peer chooses to send the masking key.
        // Only a masked frame can be short of `need` with its length complete.
        const lengthEnd = need - ((h[1]! & 0x80) !== 0 ? 4 : 0);
        if (before < lengthEnd && this.#headerFill >= lengthEnd) this.#checkHeader(h, 0);
        return -1;
      }
      this.#headerFill = 0;
      src = h;
      at = 0;
      used = i - pos;
    }
    return this.#parseHeader(src, at) ? used : -1;
  }

  /**
   * Checks a header whose first two bytes and extended length are in (the masking key need not
   * be), without changing any state.
   * @returns the payload length, or -1 when the frame was rejected (the receiver is stopped)
   */
  #checkHeader(b: Uint8Array, at: number): number {
    const b0 = b[at]!;
    const b1 = b[at + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    const o = at + 2;

    // The checks run in `ws`'s order, with `ws`'s codes and messages, so a frame with several
    // faults is reported as `ws` reports it (a drop-in; docs/errors.md).
    if ((b0 & 0x30) !== 0) return this.#reject(ProtocolErrorCode.UNEXPECTED_RSV_2_3, `${FRAME}RSV2 and RSV3 must be clear`, CloseCode.ProtocolError);
    const config = this.#config;
    // RSV1 means "compressed" only when permessage-deflate was negotiated (RFC 7692 §6).
    if (rsv1 && !config.allowRsv1) return this.#reject(ProtocolErrorCode.UNEXPECTED_RSV_1, `${FRAME}RSV1 must be clear`, CloseCode.ProtocolError);

    if (opcode === Opcode.Continuation) {
      // RFC 7692 §6.1: RSV1 is set on the first frame of a message only.
      if (rsv1) return this.#reject(ProtocolErrorCode.UNEXPECTED_RSV_1, `${FRAME}RSV1 must be clear`, CloseCode.ProtocolError);
      // §5.4: a continuation needs a message to continue.
      if (this.#messageOpcode === 0) return this.#reject(ProtocolErrorCode.INVALID_OPCODE, `${FRAME}invalid opcode 0`, CloseCode.ProtocolError);
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      // §5.4: no new message inside a fragmented one.
      if (this.#messageOpcode !== 0) return this.#reject(ProtocolErrorCode.INVALID_OPCODE, `${FRAME}invalid opcode ${opcode}`, CloseCode.ProtocolError);
    } else if (opcode >= Opcode.Close && opcode <= Opcode.Pong) {
      // Control frames (§5.5): never fragmented, no RSV1, payload ≤ 125; a close payload is
      // empty or starts with a 2-byte status code (§5.5.1).
      if (!fin) return this.#reject(ProtocolErrorCode.EXPECTED_FIN, `${FRAME}FIN must be set`, CloseCode.ProtocolError);
      if (rsv1) return this.#reject(ProtocolErrorCode.UNEXPECTED_RSV_1, `${FRAME}RSV1 must be clear`, CloseCode.ProtocolError);
      if (length > MAX_CONTROL_PAYLOAD || (opcode === Opcode.Close && length === 1)) {
        return this.#reject(ProtocolErrorCode.INVALID_CONTROL_PAYLOAD_LENGTH, `${FRAME}invalid payload length ${length}`, CloseCode.ProtocolError);
      }
    } else {
      // §5.2: opcodes 3–7 and 11–15 are reserved.
      return this.#reject(ProtocolErrorCode.INVALID_OPCODE, `${FRAME}invalid opcode ${opcode}`, CloseCode.ProtocolError);
    }
    // §5.1, §5.3: client frames are masked, server frames are not.
    if (masked !== config.expectMasked) {
      return config.expectMasked
        ? this.#reject(ProtocolErrorCode.EXPECTED_MASK, `${FRAME}MASK must be set`, CloseCode.ProtocolError)
        : this.#reject(ProtocolErrorCode.UNEXPECTED_MASK, `${FRAME}MASK must be clear`, CloseCode.ProtocolError);
    }

    if (length === 126) {
      length = (b[o]! << 8) | b[o + 1]!;
    } else if (length === 127) {
      const high = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
      const low = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
      // §5.2: the most significant bit must be 0. Past 2^53 a JS number is inexact, and no
      // limit could allow it anyway.
      // The first test catches a set most significant bit too.
      if (high >= 0x200000) {
        return this.#reject(ProtocolErrorCode.UNSUPPORTED_DATA_PAYLOAD_LENGTH, 'Unsupported WebSocket frame: payload length > 2^53 - 1', CloseCode.MessageTooBig);
      }
      length = high * 0x100000000 + low;
    }

    if (opcode < 0x8) {
      // Checked before a single payload byte is stored (bad-input guide §11). A compressed
      // message is held to maxPayload once inflated (the Node layer's codec stops there); data
      // that does not compress grows a little on the wire (5 bytes per stored block, RFC 1951
      // §3.2.4), so its wire size gets 1/64 plus 1 KiB of slack.
      const compressed = opcode === Opcode.Continuation ? (this.#bits & COMPRESSED) !== 0 : rsv1;
      const maxPayload = config.maxPayload;
      const limit = compressed ? maxPayload + Math.ceil(maxPayload / 64) + 1024 : maxPayload;
      if (maxPayload > 0 && this.#messageSize + length > limit) {
        return this.#reject(ProtocolErrorCode.UNSUPPORTED_MESSAGE_LENGTH, 'Max payload size exceeded', CloseCode.MessageTooBig);
      }
      if ((!fin || opcode === Opcode.Continuation) && config.maxFragments > 0 && this.#fragmentCount + 1 > config.maxFragments) {
        return this.#reject(ProtocolErrorCode.TOO_MANY_BUFFERED_PARTS, 'Too many message fragments', CloseCode.MessageTooBig);
      }
    }
    return length;
  }

  /** Decodes and checks one complete header; false when the frame was rejected. */
  #parseHeader(b: Uint8Array, at: number): boolean {
    const length = this.#checkHeader(b, at);
    if (length < 0) return false;
    const b0 = b[at]!;
    const b1 = b[at + 1]!;
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const o = at + (len7 < 126 ? 2 : len7 === 126 ? 4 : 10);
    if (opcode < 0x8) {
      if (!fin || opcode === Opcode.Continuation) this.#fragmentCount++;
      if (opcode !== Opcode.Continuation) {
        this.#messageOpcode = opcode;
        if (rsv1) this.#bits |= COMPRESSED;
        else this.#bits &= ~COMPRESSED;
        if (opcode === Opcode.Text && !rsv1 && !this.#config.skipUtf8) {
          if (this.#utf8 === undefined) this.#utf8 = new Utf8Validator(this.#config.utf8Check);
          else this.#utf8.reset();
        }
      }
      this.#messageSize += length;
    }

    if (masked) {
      const k = (this.#maskKey ??= [0, 0, 0, 0]);
      k[0] = b[o]!;
      k[1] = b[o + 1]!;
      k[2] = b[o + 2]!;
      k[3] = b[o + 3]!;
    }
    this.#bits = (this.#bits & ~(FIN | MASKED)) | (fin ? FIN : 0) | (masked ? MASKED : 0);
    this.#opcode = opcode;
    this.#length = length;
    this.#received = 0;
    return true;
  }

  /** Takes the next piece of the current frame's payload. */
  #readPayload(piece: Uint8Array): void {
    const config = this.#config;
    const masked = (this.#bits & MASKED) !== 0;
    const offset = this.#received;
    this.#received += piece.length;
    const done = this.#received === this.#length;

    if (this.#opcode >= 0x8) {
      if (masked) config.unmask(piece, this.#maskKey!, offset);
      if (done && offset === 0) {
        this.#endFrame(piece);
        return;
      }
      this.#control ??= new Uint8Array(MAX_CONTROL_PAYLOAD);
      this.#control.set(piece, offset);
      if (done) this.#endFrame(this.#control.subarray(0, this.#length));
      return;
    }

    const validate = this.#messageOpcode === Opcode.Text && (this.#bits & COMPRESSED) === 0 && !config.skipUtf8;
    // A message that did not arrive in one piece is copied into one buffer in the end anyway.
    // In its last frame its size is known (§5.2), so once at most GATHER_AHEAD bytes of it are
    // still to come (nothing is allocated beyond the bytes received plus that, bad-input guide
    // §11) the buffer is allocated and every later piece is unmasked on its way in: one pass
    // over those bytes instead of unmasking in place and copying afterwards. A 64 KiB message,
    // which comes off a socket as a 64 KiB chunk and a small tail, takes this path from its
    // first piece. A message over GATHER_MAX is assembled once its last byte is in instead
    // (see GATHER_MAX for why).
    let target = this.#target;
    if (target === undefined && (this.#bits & FIN) !== 0 && this.#messageSize <= GATHER_MAX && !(done && offset === 0 && this.#pieces.length === 0 && this.#coalesce === undefined)) {
      if (this.#length - this.#received <= GATHER_AHEAD) target = this.#startTarget();
    }
    if (target !== undefined) {
      const at = this.#messageSize - this.#length + offset;
      if (masked) config.unmaskInto(piece, target, at, this.#maskKey!, offset);
      else target.set(piece, at);
      if (validate && !this.#utf8!.push(target.subarray(at, at + piece.length))) {
        this.#fail(ProtocolErrorCode.INVALID_UTF8, INVALID_UTF8, CloseCode.InvalidPayload);
        return;
      }
      if (done) this.#endFrame(undefined);
      return;
    }

    if (masked) {
      // A large message in one frame is unmasked while #endFrame copies it together, one pass
      // over its bytes instead of two (in place here, then the copy). Not text that is checked
      // as it arrives: that needs the bytes in the clear now.
      if (!validate && (this.#bits & FIN) !== 0 && this.#messageSize === this.#length && this.#messageSize > GATHER_MAX && !(done && offset === 0)) {
        this.#bits |= MASKED_PIECES;
      } else {
        config.unmask(piece, this.#maskKey!, offset);
      }
    }
    // Text is validated as it arrives, so invalid UTF-8 fails in the piece where it appears
    // (RFC 6455 §8.1; Autobahn 6.4.x).
    if (validate && !this.#utf8!.push(piece)) {
      this.#fail(ProtocolErrorCode.INVALID_UTF8, INVALID_UTF8, CloseCode.InvalidPayload);
      return;
    }
    if (done && offset === 0) {
      this.#endFrame(piece);
      return;
    }
    this.#keep(piece);
    if (done) this.#endFrame(undefined);
  }

  /** Allocates the message's buffer and copies the pieces held so far into it. */
  #startTarget(): Uint8Array {
    const target = this.#config.allocate(this.#messageSize);
    this.#flushCoalesced();
    let o = 0;
    for (const p of this.#pieces) {
      target.set(p, o);
      o += p.length;
    }
    this.#pieces = NO_PIECES;
    this.#target = target;
    return target;
  }

  /**
   * Completes the current frame. `payload` is the whole frame payload when it arrived in one
   * piece; otherwise the pieces are in `#pieces`.
   */
  #endFrame(payload: Uint8Array | undefined): void {
    this.#state = HEADER;
    const opcode = this.#opcode;
    if (opcode >= 0x8) {
      this.#control = undefined;
      this.#controlFrame(opcode, payload!);
      return;
    }
    const fin = (this.#bits & FIN) !== 0;
    const target = this.#target;
    const whole = fin && target === undefined && this.#pieces.length === 0 && this.#coalesce === undefined;
    if (!whole && target === undefined && payload !== undefined && payload.length > 0) this.#keep(payload);
    if (!fin) return;

    this.#flushCoalesced();
    const pieces = this.#pieces;
    let data: Uint8Array;
    // The common case: a message in one frame that arrived in one chunk is handed on as a view
    // of the received bytes, with no copy.
    if (whole) data = payload ?? new Uint8Array(0);
    else if (target !== undefined) {
      // Gathered in place as it arrived (#readPayload).
      data = target;
      this.#target = undefined;
    }
    else {
      // Still-masked pieces are of one frame, so a byte's place in the message is its place in
      // the frame's payload: the key offset of a piece is where it goes.
      const config = this.#config;
      const key = (this.#bits & MASKED_PIECES) !== 0 ? this.#maskKey! : undefined;
      if (pieces.length === 1) {
        data = pieces[0]!;
        if (key !== undefined) config.unmask(data, key, 0);
      } else if (pieces.length === 0) {
        data = new Uint8Array(0);
      } else {
        data = config.allocate(this.#messageSize);
        let o = 0;
        for (const p of pieces) {
          if (key !== undefined) config.unmaskInto(p, data, o, key, o);
          else data.set(p, o);
          o += p.length;
        }
      }
    }
    const isText = this.#messageOpcode === Opcode.Text;
    const compressed = (this.#bits & COMPRESSED) !== 0;
    if (isText && !compressed && !this.#config.skipUtf8 && !this.#utf8!.complete) {
      this.#fail(ProtocolErrorCode.INVALID_UTF8, INVALID_UTF8, CloseCode.InvalidPayload);
      return;
    }
    this.#pieces = NO_PIECES;
    this.#messageOpcode = 0;
    this.#messageSize = 0;
    this.#fragmentCount = 0;
    this.#bits &= ~(COMPRESSED | MASKED_PIECES);
    this.#handler.onMessage(data, !isText, compressed);
  }

  /**
   * Keeps a piece of the message. A piece that is most of the memory it lives in (a large
   * part of a received chunk) is kept as a view, with no copy; small ones are copied into a
   * buffer that grows from 1 KiB to 64 KiB. Either way the memory held for a message stays
   * within twice its size, and the objects held within one per 4 KiB, however the peer
   * fragments or trickles it (bad-input guide §12).
   */
  #keep(piece: Uint8Array): void {
    if (piece.length >= KEEP_MIN && piece.length * 2 >= piece.buffer.byteLength) {
      this.#flushCoalesced();
      this.#addPiece(piece);
      return;
    }
    let offset = 0;
    while (offset < piece.length) {
      let buf = this.#coalesce;
      if (buf === undefined) {
        const last = this.#pieces.length === 0 ? 0 : this.#pieces[this.#pieces.length - 1]!.length;
        let size = Math.min(COALESCE_MAX, Math.max(1024, last * 2));
        // In the message's last frame the bytes still to come are known: the tail of a large
        // message behind a kept 64 KiB piece needs its few bytes, not another 64 KiB.
        if ((this.#bits & FIN) !== 0) size = Math.min(size, Math.max(1024, piece.length - offset + this.#length - this.#received));
        buf = this.#coalesce = this.#config.allocate(size);
        this.#coalesceFill = 0;
      }
      const n = Math.min(piece.length - offset, buf.length - this.#coalesceFill);
      buf.set(piece.subarray(offset, offset + n), this.#coalesceFill);
      this.#coalesceFill += n;
      offset += n;
      if (this.#coalesceFill === buf.length) this.#flushCoalesced();
    }
  }

  #addPiece(piece: Uint8Array): void {
    if (this.#pieces === NO_PIECES) this.#pieces = [piece];
    else (this.#pieces as Uint8Array[]).push(piece);
  }

  #flushCoalesced(): void {
    if (this.#coalesce === undefined) return;
    if (this.#coalesceFill > 0) this.#addPiece(this.#coalesce.subarray(0, this.#coalesceFill));
    this.#coalesce = undefined;
    this.#coalesceFill = 0;
  }

  #controlFrame(opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.Ping) {
      this.#handler.onPing(payload);
    } else if (opcode === Opcode.Pong) {
      this.#handler.onPong(payload);
    } else {
      // A 1-byte close payload was refused with the header (#checkHeader).
      const code = closeCodeOf(payload);
      if (payload.length >= 2 && !isValidCloseCode(code)) {
        this.#fail(ProtocolErrorCode.INVALID_CLOSE_CODE, `${FRAME}invalid status code ${code}`, CloseCode.ProtocolError);
        return;
      }
      const reason = payload.subarray(2);
      if (!isValidUtf8(reason, this.#config.utf8Check)) {
        this.#fail(ProtocolErrorCode.INVALID_UTF8, INVALID_UTF8, CloseCode.InvalidPayload);
        return;
      }
      this.#stop();
      this.#handler.onClose(code, reason);
    }
  }

  #stop(): void {
    this.#state = STOPPED;
    this.#queue = undefined;
    this.#pieces = NO_PIECES;
    this.#coalesce = undefined;
    this.#target = undefined;
  }

  /** Stops parsing and reports the error. Always returns false, for `return this.#fail(...)`. */
  #fail(code: ProtocolErrorCode, message: string, closeCode: number): false {
    this.#stop();
    this.#handler.onError(new ProtocolError(code, message, closeCode));
    return false;
  }

  /** {@link Receiver.#fail} for {@link Receiver.#checkHeader}, which answers with a length. */
  #reject(code: ProtocolErrorCode, message: string, closeCode: number): -1 {
    this.#fail(code, message, closeCode);
    return -1;
  }
}

/** Copy, then the JavaScript loop: one closure shared by every receiver that injects nothing. */
const DEFAULT_MASK_COPY = maskCopyOf(applyMask);

/**
 * A message's buffer is allocated once at most this many of its bytes are still to come: the
 * receive path's bound on memory ahead of the bytes received (fuzz property
 * `receiver/declared-length`).
 */
const GATHER_AHEAD = 64 * 1024;

/**
 * Largest message gathered ahead of its last byte. For a larger one the saving is at most
 * GATHER_AHEAD of its bytes, and allocating its buffer before the last socket chunk has been
 * allocated costs more than that. V8 runs a scavenge before it allocates a backing store once
 * the young generation's backing stores reach twice its maximum semi-space size (16 MiB on
 * 64-bit Node 20), and a scavenge is what frees the previous message's dead buffer. After the
 * last chunk of a 16 MiB message those backing stores are past the threshold, so the scavenge
 * runs first and the new buffer reuses the old one's pages; one chunk earlier they were just
 * short of it, and in a quarter to a half of the messages the buffer got fresh pages instead:
 * 4,096 page faults and 6-8 ms more per message on the benchmark machine (docs/benchmarks.md).
 */
const GATHER_MAX = 2 * GATHER_AHEAD;

/** Largest buffer that small pieces are copied together into. */
const COALESCE_MAX = 64 * 1024;

/**
 * Pieces smaller than this are always copied together. Socket chunks are at most 64 KiB, so a
 * large message arrives as pieces of about that size, which are kept without a copy; before,
 * every piece under 64 KiB (a message's first piece, behind its header, always is) was copied.
 */
const KEEP_MIN = 4096;

/** Header size announced by the second header byte (§5.2). */
function headerSize(b1: number): number {
  const len = b1 & 0x7f;
  return (len < 126 ? 2 : len === 126 ? 4 : 10) + ((b1 & 0x80) !== 0 ? 4 : 0);
}
