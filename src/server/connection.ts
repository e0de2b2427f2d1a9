/**
 * The server's connection class: the public real-time `WebSocket` with the per-connection limit
 * and counters the standalone server needs. It is passed as the `WebSocket` option, so the
 * real-time layer creates it like any connection; everything it adds happens before the layer
 * sees an event.
 * @packageDocumentation
 */
import type { Duplex } from 'node:stream';
import { WebSocket } from '../index.js';
import { LimitCode, TokenBucket } from './limits.js';
import type { Totals } from './metrics.js';

/** What a connection class reports to its server. */
export interface ConnectionHooks {
  totals: Totals;
  /** Messages per second and burst (rate 0: unlimited). */
  rate: { perSecond: number; burst: number };
  /** The connection sent faster than the rate and is being closed. */
  onRateExceeded(ws: ServerConnection): void;
  /** A resubscription with `since` was answered. */
  onRecovery(recovered: boolean): void;
}

/** A server-side connection of the standalone server. */
export interface ServerConnection extends WebSocket {
  /** Messages received and sent on this connection. */
  readonly counts: { in: number; out: number };
  /** When it opened (ms since the epoch). */
  readonly openedAt: number;
  /** The TCP socket under it (set by the server at upgrade time), for byte counts and the address. */
  transport: Duplex | undefined;
  /** The client address. */
  address: string;
  /** The path it was accepted on (`/ws`, `/admin/ws`, `/poker/ws`…), for metrics and logs. */
  endpoint: string;
}

/** Quick test for a `sub` envelope that asks for recovery, without parsing every message. */
function asksRecovery(data: unknown): boolean {
  if (typeof data === 'string') return data.includes('"since"') && data.includes('"sub"');
  if (data instanceof Uint8Array) {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return b.includes('"since"') && b.includes('"sub"');
  }
  return false;
}

/**
 * Creates the connection class for one server: the hooks are bound at class creation because the
 * Node layer constructs connections itself (`new Ctor(null)`), and a message pipelined right
 * behind the handshake may arrive before any code could set a property.
 */
export function connectionClass(hooks: ConnectionHooks): typeof WebSocket {
  const { totals } = hooks;
  class Connection extends WebSocket implements ServerConnection {
    readonly counts = { in: 0, out: 0 };
    readonly openedAt = Date.now();
    transport: Duplex | undefined;
    address = 'unknown';
    endpoint = '';
    #bucket = new TokenBucket(hooks.rate.perSecond, hooks.rate.burst, Date.now());
    #limited = false;
    /** `sub` envelopes with `since` still waiting for their `subok`. */
    #recovering = 0;

    /** Counts messages and enforces the rate before the real-time layer (or the app) sees them. */
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'message') {
        if (this.#limited) return true;
        if (!this.#bucket.take(Date.now())) {
          this.#limited = true;
          hooks.onRateExceeded(this);
          this.close(LimitCode.policy, 'message rate limit');
          return true;
        }
        this.counts.in++;
        totals.messagesIn++;
        if (this.protocol === 'parley.v1' && asksRecovery(args[0])) this.#recovering++;
      }
      return super.emit(event, ...args);
    }

    /** Counts messages out, and notes the outcome of recoveries from the `subok` replies. */
    override send(...args: Parameters<WebSocket['send']>): boolean {
      this.counts.out++;
      totals.messagesOut++;
      if (this.#recovering > 0) {
        const data = args[0];
        if (typeof data === 'string' && data.startsWith('{"t":"subok"')) {
          const reply = JSON.parse(data) as { recovered?: boolean };
          if (reply.recovered !== undefined) {
            this.#recovering--;
            hooks.onRecovery(reply.recovered);
          }
        }
      }
      return super.send(...args);
    }
  }
  return Connection;
}
