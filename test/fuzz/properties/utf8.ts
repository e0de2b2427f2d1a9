/**
 * Fuzzing the streaming UTF-8 validator (src/protocol/utf8.ts) against the platform's
 * `TextDecoder('utf-8', { fatal: true })` in streaming mode, which implements the WHATWG decoder:
 * the same byte ranges (RFC 3629 §4) and the same fail-fast point. Bytes are split at random
 * places; the validator must refuse in exactly the piece where the decoder first throws, accept a
 * code point split across pieces, and report `complete` exactly when the decoder's final flush
 * succeeds. With and without the fast whole-buffer check.
 */
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { Utf8Validator, isValidUtf8 } from '../../../src/protocol/utf8.js';
import { BAD_UTF8, concatBytes, show } from './documented.js';
import { defineProperty, type FuzzProperty } from '../property.js';

const enc = new TextEncoder();

/** Valid text, bad sequences and random bytes, mixed. */
const segment = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => enc.encode(s)), weight: 6 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 60, maxLength: 200 }).map((s) => enc.encode(s)), weight: 1 },
  { arbitrary: fc.constantFrom(...BAD_UTF8).map((b) => Uint8Array.from(b)), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 6 }), weight: 1 },
  // Lead bytes and continuation bytes at the edges of the allowed ranges.
  { arbitrary: fc.array(fc.constantFrom(0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0x9f, 0xed, 0xef, 0xf0, 0x90, 0x8f, 0xf4, 0xf5), { maxLength: 5 }).map((a) => Uint8Array.from(a)), weight: 2 },
);
const inputArb = fc.record({
  bytes: fc.array(segment, { maxLength: 8 }).map((parts) => concatBytes(parts)),
  /** Cut points, as fractions of the length (so they shrink well). */
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
  fast: fc.boolean(),
});

function check({ bytes, cuts, fast }: { bytes: Uint8Array; cuts: number[]; fast: boolean }): void {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const bounds = [0, ...points, bytes.length];
  const pieces: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) pieces.push(bytes.subarray(bounds[i], bounds[i + 1]));

  // Reference: the piece in which the streaming decoder first throws, and whether it flushes.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let refFail = -1;
  for (let i = 0; i < pieces.length && refFail < 0; i++) {
    try {
      decoder.decode(pieces[i], { stream: true });
    } catch {
      refFail = i;
    }
  }
  let refComplete = false;
  if (refFail < 0) {
    try {
      decoder.decode();
      refComplete = true;
    } catch {
      refComplete = false;
    }
  }

  const v = new Utf8Validator(fast ? (b) => isUtf8(b) : undefined);
  let fail = -1;
  for (let i = 0; i < pieces.length && fail < 0; i++) {
    // Half the time through the start/end form on a wider buffer.
    const p = pieces[i]!;
    const ok = i % 2 === 0 ? v.push(p) : v.push(concatBytes([Uint8Array.of(0xff), p, Uint8Array.of(0xff)]), 1, 1 + p.length);
    if (!ok) fail = i;
  }
  if (fail !== refFail) throw new Error(`validator fails in piece ${fail}, TextDecoder in piece ${refFail}: ${pieces.map(show).join(' | ')}`);
  if (fail < 0 && v.complete !== refComplete) throw new Error(`complete=${v.complete}, TextDecoder flush ${refComplete ? 'ok' : 'throws'}: ${show(bytes)}`);
  const whole = isValidUtf8(bytes);
  const wholeRef = refFail < 0 && refComplete;
  if (whole !== wholeRef) throw new Error(`isValidUtf8=${whole}, TextDecoder ${wholeRef}: ${show(bytes)}`);
  // After reset the validator starts clean.
  v.reset();
  if (!v.push(enc.encode('ok ✓')) || !v.complete) throw new Error('reset did not clear the state');
}

export const utf8Properties: FuzzProperty[] = [
  defineProperty(
    'utf8/streaming-validator',
    'Utf8Validator over random splits fails in the same piece as TextDecoder(fatal, stream) and completes when it flushes; isValidUtf8 agrees',
    8000,
    () => fc.property(inputArb, check),
  ),
];
