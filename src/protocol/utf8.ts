/**
 * Incremental UTF-8 validation (RFC 3629 §4) that fails fast: a text message is rejected in the
 * fragment, or the part of a frame, where the first invalid byte arrives (RFC 6455 §8.1), while a
 * code point split across fragments is carried over and accepted.
 * @packageDocumentation
 */

/** Validates a whole buffer; the Node layer passes `buffer.isUtf8` (SIMD) here. */
export type Utf8Check = (bytes: Uint8Array) => boolean;

/**
 * A streaming validator. State is three small integers, so it costs nothing per message.
 *
 * The table it enforces (RFC 3629 §4): after a lead byte the first continuation byte has a
 * narrowed range that rules out overlong forms (E0, F0), surrogates (ED) and code points above
 * U+10FFFF (F4); every later continuation byte is 80–BF.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the current code point. */
  #need = 0;
  /** Allowed range of the next continuation byte. */
  #lo = 0x80;
  #hi = 0xbf;
  readonly #fast: Utf8Check | undefined;

  /** @param fast - optional whole-buffer validator used on spans that hold complete code points */
  constructor(fast?: Utf8Check) {
    this.#fast = fast;
  }

  /** True when no code point is left unfinished: the message may end here. */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** Forgets any carried state, ready for the next message. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /**
   * Feeds the next bytes of the message.
   * @returns false as soon as the bytes so far cannot be the start of valid UTF-8
   */
  push(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let i = start;
    // Finish a code point carried over from the previous piece.
    while (this.#need > 0 && i < end) {
      if (!this.#step(bytes[i]!)) return false;
      i++;
    }
    if (i >= end) return true;
    const fast = this.#fast;
    if (fast !== undefined && end - i >= 64) {
      const split = splitPoint(bytes, i, end);
      if (!fast(i === 0 && split === bytes.length ? bytes : bytes.subarray(i, split))) return false;
      i = split;
    }
    for (; i < end; i++) {
      const b = bytes[i]!;
      if (b < 0x80 && this.#need === 0) continue;
      if (!this.#step(b)) return false;
    }
    return true;
  }

  /** Advances the state by one byte; false when the byte is not allowed here. */
  #step(b: number): boolean {
    if (this.#need > 0) {
      if (b < this.#lo || b > this.#hi) return false;
      this.#need--;
      this.#lo = 0x80;
      this.#hi = 0xbf;
      return true;
    }
    if (b < 0x80) return true;
    if (b < 0xc2) return false; // stray continuation byte, or an overlong 2-byte lead (C0, C1)
    if (b < 0xe0) {
      this.#need = 1;
    } else if (b < 0xf0) {
      this.#need = 2;
      if (b === 0xe0) this.#lo = 0xa0; // overlong 3-byte forms
      else if (b === 0xed) this.#hi = 0x9f; // UTF-16 surrogates D800–DFFF
    } else if (b < 0xf5) {
      this.#need = 3;
      if (b === 0xf0) this.#lo = 0x90; // overlong 4-byte forms
      else if (b === 0xf4) this.#hi = 0x8f; // above U+10FFFF
    } else {
      return false; // F5–FF never appear in UTF-8
    }
    return true;
  }
}

/**
 * Where the last complete code point of `bytes[start, end)` ends: the span before it can be
 * checked whole, the rest must be carried into the next piece.
 */
function splitPoint(bytes: Uint8Array, start: number, end: number): number {
  let i = end - 1;
  const floor = Math.max(start, end - 4);
  while (i > floor && (bytes[i]! & 0xc0) === 0x80) i--;
  const lead = bytes[i]!;
  let len: number;
  if (lead >= 0xf0) len = 4;
  else if (lead >= 0xe0) len = 3;
  else if (lead >= 0xc0) len = 2;
  else return end;
  return end - i < len ? i : end;
}

/** Validates a complete byte sequence, such as a close reason (RFC 6455 §5.5.1). */
export function isValidUtf8(bytes: Uint8Array, fast?: Utf8Check): boolean {
  if (fast !== undefined) return fast(bytes);
  const v = new Utf8Validator();
  return v.push(bytes) && v.complete;
}
