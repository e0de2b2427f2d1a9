/**
 * Where zlib streams come from. A connection with context takeover owns its streams from its
 * first compressed message to its close; one without (RFC 7692 §7.2.1) only borrows a reset
 * stream for one message from a small pool shared by every connection of the same configuration,
 * so such connections hold no zlib memory between messages; a pooled stream idle for two seconds
 * is closed. Also the counters that tests and monitoring read.
 * @packageDocumentation
 */
import * as zlib from 'node:zlib';
import { Coder } from './zlib-coder.js';
import { limiterTotals } from './zlib-limiter.js';

/** Idle pooled streams are closed after this long. */
const POOL_IDLE_MS = 2000;

/** Reset streams kept for connections without context takeover, by configuration. */
const pool = new Map<string, Array<{ coder: Coder; idleSince: number }>>();
let pooled = 0;
let poolTimer: NodeJS.Timeout | undefined;

/** zlib streams open now (in use or pooled). */
let liveStreams = 0;

function coderKey(inflate: boolean, windowBits: number, options: zlib.ZlibOptions): string {
  return `${inflate ? 'i' : 'd'}${windowBits}:${JSON.stringify(options)}`;
}

/**
 * A new raw DEFLATE compressor (`inflate` false) or decompressor with `windowBits`, counted while
 * open. `key` is its pool key ('' for a connection's own stream, never pooled).
 */
export function createCoder(inflate: boolean, windowBits: number, options: zlib.ZlibOptions, key: string): Coder {
  const opts = { ...options, windowBits };
  const stream = inflate ? zlib.createInflateRaw(opts) : zlib.createDeflateRaw(opts);
  liveStreams++;
  stream.once('close', () => liveStreams--);
  return new Coder(stream, key);
}

/** A reset stream from the pool, or a new one. */
export function borrow(inflate: boolean, windowBits: number, options: zlib.ZlibOptions): Coder {
  const key = coderKey(inflate, windowBits, options);
  const list = pool.get(key);
  const entry = list?.pop();
  if (entry !== undefined) {
    pooled--;
    if (list!.length === 0) pool.delete(key);
    return entry.coder;
  }
  return createCoder(inflate, windowBits, options, key);
}

/** Resets a stream and keeps it for the next borrower; at most `max` idle per configuration. */
export function giveBack(coder: Coder, max: number): void {
  if (coder.destroyed) return;
  const list = pool.get(coder.key) ?? [];
  if (list.length >= max) {
    coder.close();
    return;
  }
  // RFC 7692 §7.2.1: without context takeover every message starts from an empty window.
  coder.stream.reset();
  list.push({ coder, idleSince: performance.now() });
  pool.set(coder.key, list);
  pooled++;
  if (poolTimer === undefined) {
    poolTimer = setTimeout(sweepPool, POOL_IDLE_MS);
    poolTimer.unref();
  }
}

function sweepPool(): void {
  poolTimer = undefined;
  const now = performance.now();
  for (const [key, list] of pool) {
    const keep = list.filter((e) => now - e.idleSince < POOL_IDLE_MS);
    for (const e of list) if (!keep.includes(e)) e.coder.close();
    pooled -= list.length - keep.length;
    if (keep.length === 0) pool.delete(key);
    else pool.set(key, keep);
  }
  if (pooled > 0) {
    poolTimer = setTimeout(sweepPool, POOL_IDLE_MS);
    poolTimer.unref();
  }
}

/** Counters for tests and monitoring: zlib jobs running and waiting, zlib streams open and idle in the pool. */
export function deflateStats(): { running: number; queued: number; streams: number; pooled: number } {
  const { running, queued } = limiterTotals();
  return { running, queued, streams: liveStreams, pooled };
}

/** Closes every idle pooled stream now (tests; or to return memory after a burst). */
export function drainDeflatePool(): void {
  for (const list of pool.values()) for (const e of list) e.coder.close();
  pool.clear();
  pooled = 0;
  if (poolTimer !== undefined) clearTimeout(poolTimer);
  poolTimer = undefined;
}
