/**
 * Per-connection settings shared by the server and the client, with their documented defaults
 * and the checks that turn bad configuration into a `TypeError`/`RangeError` at construction.
 * @packageDocumentation
 */
import { Defaults } from '../protocol/index.js';

/** What to do when a send finds `maxBufferedAmount` bytes already queued. */
export type BufferOverflowPolicy = 'close' | 'refuse';

/** Heartbeat: ping an idle peer, and cut it off when it stays silent. */
export interface HeartbeatOptions {
  /** Ping after this many ms without receiving anything. */
  interval: number;
  /** Terminate when nothing (not even a pong) arrives this many ms after the ping. Default: `interval`. */
  timeout?: number;
}

/** Settings every connection carries; each has a default listed in docs/api.md. */
export interface ConnectionSettings {
  maxPayload: number;
  maxFragments: number;
  skipUTF8Validation: boolean;
  autoPong: boolean;
  maxBufferedAmount: number;
  bufferOverflow: BufferOverflowPolicy;
  closeTimeout: number;
  /** Client side: fills each 4-byte masking key instead of the built-in random source (`ws`'s option). */
  generateMask?: (mask: Buffer) => void;
}

/** Defaults of {@link ConnectionSettings}. */
export const DEFAULT_SETTINGS: Readonly<ConnectionSettings> = Object.freeze({
  maxPayload: Defaults.maxPayload,
  maxFragments: Defaults.maxFragments,
  skipUTF8Validation: false,
  autoPong: true,
  /**
   * A peer that never reads can make the server queue at most this much (plus one message).
   * Large enough that a reading peer sent several maximum-size messages back to back is not
   * mistaken for a stalled one.
   */
  maxBufferedAmount: 64 * 1024 * 1024,
  bufferOverflow: 'close',
  /** How long to wait for the peer's close frame, or for it to close TCP, before cutting it off. */
  closeTimeout: 30_000,
});

/** Options that map onto {@link ConnectionSettings}, as accepted by the constructors. */
export interface ConnectionOptions {
  /** Largest message accepted in bytes; 0 for no limit. Default 100 MiB (as `ws`). */
  maxPayload?: number;
  /** Most frames one message may span; 0 for no limit. Default 1,048,576. */
  maxFragments?: number;
  /** Deliver text without checking UTF-8 (as `ws`). Default false. */
  skipUTF8Validation?: boolean;
  /** Answer pings automatically (as `ws`). Default true. */
  autoPong?: boolean;
  /** Cap on bytes queued for a peer that does not read; 0 for no cap. Default 64 MiB. */
  maxBufferedAmount?: number;
  /** Past the cap: `'close'` the connection with 1008 (default) or `'refuse'` the send. */
  bufferOverflow?: BufferOverflowPolicy;
  /** Ms to wait for the close handshake to finish. Default 30,000. */
  closeTimeout?: number;
  /**
   * Client side, as `ws`: fills each 4-byte masking key. The default draws keys from
   * `crypto.randomFillSync`, as RFC 6455 §10.3 asks; set this only where the peer is trusted.
   */
  generateMask?: (mask: Buffer) => void;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative finite number, got ${String(value)}`);
  }
  return value;
}

/** Validates options and fills in defaults. */
export function resolveSettings(options: ConnectionOptions): ConnectionSettings {
  const policy = options.bufferOverflow ?? DEFAULT_SETTINGS.bufferOverflow;
  if (policy !== 'close' && policy !== 'refuse') {
    throw new TypeError(`bufferOverflow must be 'close' or 'refuse', got ${String(policy)}`);
  }
  const settings: ConnectionSettings = {
    maxPayload: nonNegative('maxPayload', options.maxPayload, DEFAULT_SETTINGS.maxPayload),
    maxFragments: nonNegative('maxFragments', options.maxFragments, DEFAULT_SETTINGS.maxFragments),
    skipUTF8Validation: options.skipUTF8Validation ?? false,
    autoPong: options.autoPong ?? true,
    maxBufferedAmount: nonNegative('maxBufferedAmount', options.maxBufferedAmount, DEFAULT_SETTINGS.maxBufferedAmount),
    bufferOverflow: policy,
    closeTimeout: nonNegative('closeTimeout', options.closeTimeout, DEFAULT_SETTINGS.closeTimeout),
  };
  if (options.generateMask !== undefined) {
    if (typeof options.generateMask !== 'function') throw new TypeError('generateMask must be a function');
    settings.generateMask = options.generateMask;
  }
  return settings;
}

/** Validates heartbeat options. */
export function resolveHeartbeat(h: HeartbeatOptions | undefined): Required<HeartbeatOptions> | undefined {
  if (h === undefined) return undefined;
  const interval = nonNegative('heartbeat.interval', h.interval, 0);
  if (interval === 0) throw new RangeError('heartbeat.interval must be above 0');
  const timeout = nonNegative('heartbeat.timeout', h.timeout, interval);
  return { interval, timeout };
}
