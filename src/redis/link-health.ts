/**
 * The health bookkeeping both links share (one Redis, connection.ts; a Redis Cluster,
 * cluster-link.ts): the two flags the adapter reads (`healthy`, `commandsUp`) and why it is not
 * healthy, the listeners told of each change, the probe (one at a time, every
 * `healthCheckIntervalMs`), and the reconnect strategy handed to node-redis. What counts as
 * healthy is each link's own business: its check calls {@link LinkHealth.update}.
 * @packageDocumentation
 */
import { backoffDelay, resolveBackoff, type BackoffOptions } from './backoff.js';
import type { HealthListener, RedisAdapterCounters, RedisLogger } from './health.js';

/** Options of {@link LinkHealth}. */
export interface LinkHealthOptions {
  /** Looks at Redis (PINGs it) and reports through {@link LinkHealth.update}; never rejects. */
  check: () => Promise<void>;
  healthCheckIntervalMs: number;
  reconnect: BackoffOptions | undefined;
  log: RedisLogger;
  counters: RedisAdapterCounters;
  /** The log lines of the two transitions (operators grep for them: see docs/operations.md). */
  messages: { readonly up: string; readonly down: string };
}

/** Health of one link: flags, reason, listeners, probing. */
export class LinkHealth {
  readonly #options: LinkHealthOptions;
  readonly #listeners = new Set<HealthListener>();
  #commandsUp = false;
  #healthy = false;
  #reason = 'not connected';
  #closed = false;
  /** The check in flight, shared by everyone who asks for a probe meanwhile. */
  #probing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The reconnect delays, checked when the link is made so a bad option fails at construction. */
  readonly #backoff: ReturnType<typeof resolveBackoff>;

  /**
   * @param options - the check, how often to run it, reconnect delays, where to report
   * @throws RangeError for bad reconnect delays
   */
  constructor(options: LinkHealthOptions) {
    this.#options = options;
    this.#backoff = resolveBackoff(options.reconnect);
  }

  /** Whether Redis is reachable now, as the link's last check found it. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Whether commands reach Redis (some of it), even if not all is healthy; false once closed. */
  get commandsUp(): boolean {
    return this.#commandsUp && !this.#closed;
  }

  /** Why Redis is considered unreachable (or 'ok'). */
  get reason(): string {
    return this.#healthy ? 'ok' : this.#reason;
  }

  /** Whether the link was closed: nothing is reported any more. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Listens to health changes. @returns a function that stops listening */
  onHealth(listener: HealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * node-redis's `socket.reconnectStrategy`: the backoff delays, each attempt counted.
   */
  reconnectStrategy(): (retries: number) => number {
    const bounds = this.#backoff;
    return (retries: number): number => {
      this.#options.counters.reconnectAttempts++;
      return backoffDelay(retries, bounds);
    };
  }

  /**
   * Records what the link's check (or a failed command) found. Listeners hear only a change of
   * `healthy`: an outage is counted and logged once, however many parts are down.
   * @param reason - why it is not healthy; undefined keeps the reason recorded before (a part
   *   coming back while another is still down says nothing new)
   */
  update(commandsUp: boolean, healthy: boolean, reason: string | undefined): void {
    if (this.#closed) return;
    this.#commandsUp = commandsUp;
    if (reason !== undefined) this.#reason = reason;
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    if (healthy) {
      this.#options.log('info', this.#options.messages.up, { previously: this.#reason });
      this.#emit(true, 'ok');
    } else {
      this.#options.counters.outages++;
      this.#options.log('warn', this.#options.messages.down, { reason: this.#reason });
      this.#emit(false, this.#reason);
    }
  }

  /** Runs the check now, or joins the one in flight. */
  probe(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return (this.#probing ??= this.#options.check().finally(() => { this.#probing = undefined; }));
  }

  /** Probes every `healthCheckIntervalMs` from now on (the timer does not keep the process alive). */
  startProbing(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.probe(), this.#options.healthCheckIntervalMs);
    this.#timer.unref();
  }

  /** Stops probing and reporting: unhealthy from now on, without telling the listeners (closing is no outage). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#healthy = false;
    this.#commandsUp = false;
    clearInterval(this.#timer);
  }

  #emit(healthy: boolean, reason: string): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(healthy, reason);
      } catch (error) {
        this.#options.log('error', 'a health listener threw', { error: String(error) });
      }
    }
  }
}
