/**
 * Heartbeat: one timer for many connections. Each tick pings the peers that have been silent for
 * `interval` ms and terminates those that stayed silent `timeout` ms after their ping, so a dead
 * peer (a closed laptop, a dropped mobile link) is found without a timer per connection.
 * @packageDocumentation
 */
import { kHeartbeat } from './internal.js';
import type { WebSocket } from './websocket.js';

/** Watches a set of connections. */
export class Heartbeat {
  readonly #members = new Set<WebSocket>();
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

  /** Starts watching `ws` until it closes. */
  add(ws: WebSocket): void {
    this.#members.add(ws);
    ws.once('close', () => this.delete(ws));
    if (this.#timer === undefined) {
      // Tick often enough that detection is within a quarter of the shorter period.
      const tick = Math.max(10, Math.min(this.#interval, this.#timeout) / 4);
      this.#timer = setInterval(() => this.#tick(), tick);
      this.#timer.unref();
    }
  }

  /** Stops watching `ws`. */
  delete(ws: WebSocket): void {
    this.#members.delete(ws);
    if (this.#members.size === 0) this.stop();
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
