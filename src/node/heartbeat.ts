/**
 * Heartbeat: one timer for many connections. Each tick pings the peers that have been silent for
 * `interval` ms and terminates those that stayed silent `timeout` ms after their ping, so a dead
 * peer (a closed laptop, a dropped mobile link) is found without a timer per connection. A
 * connection's side of it (`heartbeatTick`) reads and writes its fields (internal.ts) directly.
 * @packageDocumentation
 */
import { CloseCode, ErrorCode, ParleyError } from '../protocol/index.js';
import { errorOccurred, readyStateOf, ReadyState, type Step } from '../protocol/connection.js';
import {
  ConnectionFlag, kApply, kFlags, kHeartbeat, kHeartbeatStart, kLastReceived, kPingedAt, kState, type CloseObserver, type HeartbeatMember,
} from './internal.js';

/** What a tick needs of a connection: its fields (internal.ts) and its API. */
export interface HeartbeatHost {
  readonly [kState]: number;
  [kFlags]: number;
  [kLastReceived]: number;
  [kPingedAt]: number;
  [kApply](step: Step, error?: unknown): void;
  ping(): void;
  terminate(): void;
}

/**
 * One heartbeat tick of one connection: pings a peer idle for `interval` ms; terminates one that
 * sent nothing for `timeout` ms after that ping.
 * @returns true when the connection was terminated
 */
export function heartbeatTick(ws: HeartbeatHost, now: number, interval: number, timeout: number): boolean {
  if (readyStateOf(ws[kState]) !== ReadyState.OPEN) return false;
  if ((ws[kFlags] & ConnectionFlag.RECEIVED) !== 0) {
    ws[kFlags] &= ~ConnectionFlag.RECEIVED;
    ws[kLastReceived] = now;
  }
  if (ws[kPingedAt] > ws[kLastReceived]) {
    if (now - ws[kPingedAt] >= timeout) {
      ws[kApply](errorOccurred(ws[kState]), new ParleyError(ErrorCode.HEARTBEAT_TIMEOUT, `no answer to a ping within ${timeout} ms`, CloseCode.Abnormal));
      ws.terminate();
      return true;
    }
    return false;
  }
  if (now - ws[kLastReceived] >= interval) {
    ws[kPingedAt] = now;
    ws.ping();
  }
  return false;
}

/** A heartbeat starts watching the connection: silence is counted from `now`. */
export function heartbeatStart(ws: HeartbeatHost, now: number): void {
  ws[kLastReceived] = now;
  ws[kFlags] &= ~ConnectionFlag.RECEIVED;
}

/**
 * Watches a set of connections. It is also a close observer (internal.ts), for a client
 * connection that has no server to tell it of the close.
 */
export class Heartbeat implements CloseObserver {
  readonly #members = new Set<HeartbeatMember>();
  readonly #interval: number;
  readonly #timeout: number;
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param interval - ms of silence before a ping
   * @param timeout - ms after the ping before the peer is declared dead
   */
  constructor(interval: number, timeout: number) {
    this.#interval = interval;
    this.#timeout = timeout;
  }

  /** Starts watching `ws`; the server calls {@link Heartbeat.delete} when it closes. */
  add(ws: HeartbeatMember): void {
    this.#members.add(ws);
    ws[kHeartbeatStart](performance.now());
    if (this.#timer === undefined) {
      // Tick often enough that detection is within a quarter of the shorter period.
      const tick = Math.max(10, Math.min(this.#interval, this.#timeout) / 4);
      this.#timer = setInterval(() => this.#tick(), tick);
      this.#timer.unref();
    }
  }

  /** Stops watching `ws`. */
  delete(ws: HeartbeatMember): void {
    this.#members.delete(ws);
    if (this.#members.size === 0) this.stop();
  }

  /** {@link CloseObserver}: `ws` closed. */
  connectionClosed(ws: object): void {
    this.delete(ws as HeartbeatMember);
  }

  /** Stops the timer. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    const now = performance.now();
    for (const ws of this.#members) {
      if (ws[kHeartbeat](now, this.#interval, this.#timeout)) this.#members.delete(ws);
    }
  }
}
