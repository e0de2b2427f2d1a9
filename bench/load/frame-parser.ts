/**
 * A minimal streaming parser for frames a server sends (RFC 6455 §5.2). It is the generator's own,
 * so the library under test is never checked by its own code. Payload bytes are handed on as views
 * of the received chunks, never copied, so 16 MiB echoes are checked without assembling them.
 */

/** What the parser reports; a connection's verifier implements it. */
export interface FrameSink {
  /** A text (1) or binary (2) message begins. */
  onMessageStart(opcode: number): void;
  /** Payload bytes of the current data message, in order, as a view valid only during the call. */
  onPayload(chunk: Buffer): void;
  /** The current data message ended (a frame with FIN set). */
  onMessageEnd(): void;
  /** A complete control frame (close, ping, pong) with its payload (a copy). */
  onControl(opcode: number, payload: Buffer): void;
  /** The server broke the framing rules; the parser stops. */
  onProtocolError(reason: string): void;
}

/** Where the parser is inside the current frame. */
const State = { Header: 0, Payload: 1 } as const;

/** Streaming parser of unmasked server-to-client frames, with no extensions negotiated. */
export class FrameParser {
  readonly #sink: FrameSink;
  #state: (typeof State)[keyof typeof State] = State.Header;
  readonly #header = Buffer.alloc(10);
  #headerHave = 0;
  #headerNeed = 2;
  #fin = false;
  #opcode = 0;
  #left = 0;
  #inMessage = false;
  #control: Buffer | undefined;
  #controlHave = 0;
  #failed = false;

  /**
   * @param sink - receives messages, payload views and control frames
   */
  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Whether the parser stopped on a protocol error. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Stops parsing for good, e.g. once a verifier has seen a wrong reply. */
  stop(): void {
    this.#failed = true;
  }

  /**
   * Feeds received bytes.
   * @param chunk - the next bytes from the socket
   */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end && !this.#failed) {
      if (this.#state === State.Header) {
        while (this.#headerHave < this.#headerNeed && pos < end) {
          this.#header[this.#headerHave++] = chunk[pos++] ?? 0;
          if (this.#headerHave === 2 && !this.#readFirstTwo()) return;
        }
        if (this.#headerHave < this.#headerNeed) return;
        if (!this.#beginFrame()) return;
        if (this.#left === 0) this.#endFrame();
        continue;
      }
      const n = Math.min(this.#left, end - pos);
      if (this.#control !== undefined) {
        chunk.copy(this.#control, this.#controlHave, pos, pos + n);
        this.#controlHave += n;
      } else {
        this.#sink.onPayload(chunk.subarray(pos, pos + n));
      }
      pos += n;
      this.#left -= n;
      if (this.#left === 0) this.#endFrame();
    }
  }

  #fail(reason: string): false {
    this.#failed = true;
    this.#sink.onProtocolError(reason);
    return false;
  }

  /** Validates the first two header bytes and learns how many follow (RFC 6455 §5.2). */
  #readFirstTwo(): boolean {
    const b0 = this.#header[0] ?? 0;
    const b1 = this.#header[1] ?? 0;
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0) return this.#fail('RSV bit set without a negotiated extension');
    // A server must not mask frames it sends (RFC 6455 §5.1).
    if ((b1 & 0x80) !== 0) return this.#fail('masked frame from the server');
    const len7 = b1 & 0x7f;
    if (this.#opcode >= 0x8) {
      if (this.#opcode > 0xa) return this.#fail(`reserved control opcode ${this.#opcode}`);
      // Control frames: at most 125 bytes, never fragmented (RFC 6455 §5.5).
      if (!this.#fin || len7 > 125) return this.#fail('fragmented or oversized control frame');
    } else if (this.#opcode > 0x2) {
      return this.#fail(`reserved data opcode ${this.#opcode}`);
    }
    this.#headerNeed = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
    return true;
  }

  #beginFrame(): boolean {
    const len7 = (this.#header[1] ?? 0) & 0x7f;
    let length = len7;
    if (len7 === 126) {
      length = this.#header.readUInt16BE(2);
    } else if (len7 === 127) {
      const big = this.#header.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) return this.#fail('frame length beyond 2^53');
      length = Number(big);
    }
    this.#left = length;
    this.#control = undefined;
    if (this.#opcode >= 0x8) {
      this.#control = Buffer.allocUnsafe(length);
      this.#controlHave = 0;
    } else if (this.#opcode === 0x0) {
      if (!this.#inMessage) return this.#fail('continuation frame outside a message');
    } else {
      if (this.#inMessage) return this.#fail('new data frame inside a fragmented message');
      this.#inMessage = true;
      this.#sink.onMessageStart(this.#opcode);
    }
    this.#state = State.Payload;
    return true;
  }

  #endFrame(): void {
    this.#state = State.Header;
    this.#headerHave = 0;
    this.#headerNeed = 2;
    if (this.#control !== undefined) {
      const payload = this.#control;
      this.#control = undefined;
      this.#sink.onControl(this.#opcode, payload);
    } else if (this.#fin) {
      this.#inMessage = false;
      this.#sink.onMessageEnd();
    }
  }
}
