/**
 * The `perMessageDeflate` option of the server and the client, in the shape of `ws`'s: what a
 * user may pass, checked once at construction into the {@link DeflateSettings} every connection
 * of that server (or that client) shares. The negotiation itself (RFC 7692 §5, §7.1) is pure and
 * lives in src/protocol/permessage-deflate.ts; the zlib codec is deflate-codec.ts.
 * @packageDocumentation
 */
import type * as zlib from 'node:zlib';
import { validateDeflateOptions, type DeflateNegotiationOptions } from '../protocol/index.js';

/** `perMessageDeflate` options, in the shape of `ws`'s. */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions {
  /** Options for the compressor (`level`, `memLevel`, `strategy`, `chunkSize`); `windowBits` comes from the negotiation. */
  zlibDeflateOptions?: zlib.ZlibOptions;
  /** Options for the decompressor (`chunkSize`); `windowBits` comes from the negotiation. */
  zlibInflateOptions?: zlib.ZlibOptions;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Most zlib jobs running at once in the process (shared by every connection with the same limit). Default 10. */
  concurrencyLimit?: number;
}

/** {@link PerMessageDeflateOptions} checked and with defaults filled in. */
export interface DeflateSettings {
  negotiation: DeflateNegotiationOptions;
  zlibDeflateOptions: zlib.ZlibOptions;
  zlibInflateOptions: zlib.ZlibOptions;
  threshold: number;
  concurrencyLimit: number;
}

/** Default `threshold`, as `ws`. */
export const DEFAULT_THRESHOLD = 1024;
/** Default `concurrencyLimit`, as `ws`. */
export const DEFAULT_CONCURRENCY_LIMIT = 10;

/**
 * Validates `perMessageDeflate` (true, false, or options) at construction.
 * @returns the settings, or `undefined` when compression is off
 * @throws TypeError or RangeError for bad options
 */
export function resolvePerMessageDeflate(value: boolean | PerMessageDeflateOptions | undefined): DeflateSettings | undefined {
  if (value === undefined || value === false) return undefined;
  const o: PerMessageDeflateOptions = value === true ? {} : value;
  if (typeof o !== 'object' || o === null) throw new TypeError('perMessageDeflate must be a boolean or an options object');
  validateDeflateOptions(o);
  const threshold = o.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0)) throw new RangeError(`perMessageDeflate.threshold must be a non-negative number, got ${String(threshold)}`);
  const concurrencyLimit = o.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
  if (typeof concurrencyLimit !== 'number' || !Number.isInteger(concurrencyLimit) || concurrencyLimit < 1) {
    throw new RangeError(`perMessageDeflate.concurrencyLimit must be an integer of at least 1, got ${String(concurrencyLimit)}`);
  }
  return {
    negotiation: {
      serverNoContextTakeover: o.serverNoContextTakeover,
      clientNoContextTakeover: o.clientNoContextTakeover,
      serverMaxWindowBits: o.serverMaxWindowBits,
      clientMaxWindowBits: o.clientMaxWindowBits,
    },
    zlibDeflateOptions: { ...o.zlibDeflateOptions },
    zlibInflateOptions: { ...o.zlibInflateOptions },
    threshold,
    concurrencyLimit,
  };
}
