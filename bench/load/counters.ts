/**
 * Counts what a worker verified, but only inside measured windows (summed over all of them), and
 * every failure at any time: a reply that fails its check during warm-up still fails the run.
 */
import type { WindowCount, WorkerResult } from './messages.js';

/** How many failure reasons are kept to report. */
const MAX_SAMPLES = 5;

/** Window-aware counters of one worker. */
export class Counters {
  #measuring = false;
  #windowStart = 0;
  #windowSeconds = 0;
  #verified = 0;
  #bytes = 0;
  #sent = 0;
  #failures = 0;
  readonly #samples: string[] = [];
  readonly #windows: WindowCount[] = [];
  #verifiedAtStart = 0;
  #bytesAtStart = 0;

  /** Whether the measured window is open. */
  get measuring(): boolean {
    return this.#measuring;
  }

  /** Failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** Opens a measured window. */
  beginWindow(): void {
    if (this.#measuring) return;
    this.#measuring = true;
    this.#windowStart = performance.now();
    this.#verifiedAtStart = this.#verified;
    this.#bytesAtStart = this.#bytes;
  }

  /** Closes the measured window, adding its length to the total. */
  endWindow(): void {
    if (!this.#measuring) return;
    const seconds = (performance.now() - this.#windowStart) / 1000;
    this.#windowSeconds += seconds;
    this.#windows.push({
      verified: this.#verified - this.#verifiedAtStart,
      bytes: this.#bytes - this.#bytesAtStart,
      seconds,
    });
    this.#measuring = false;
  }

  /**
   * Counts one verified message (only inside the window).
   * @param bytes - its payload size
   */
  verified(bytes: number): void {
    if (!this.#measuring) return;
    this.#verified++;
    this.#bytes += bytes;
  }

  /** Counts one message written (only inside the window). */
  sent(): void {
    if (this.#measuring) this.#sent++;
  }

  /**
   * Records a failure, whenever it happens.
   * @param reason - what went wrong, for the report
   */
  fail(reason: string): void {
    this.#failures++;
    if (this.#samples.length < MAX_SAMPLES) this.#samples.push(reason);
  }

  /**
   * The worker's result.
   * @param override - a verified count to report instead of the window's (idle connections)
   * @param latenciesMs - round-trip samples, for latency jobs
   * @returns the result to post to the orchestrator
   */
  result(override?: number, latenciesMs?: Float64Array<ArrayBuffer>): WorkerResult {
    return {
      windows: [...this.#windows],
      verified: override ?? this.#verified,
      bytes: this.#bytes,
      sent: this.#sent,
      seconds: this.#windowSeconds,
      failures: this.#failures,
      failureSamples: [...this.#samples],
      ...(latenciesMs === undefined ? {} : { latenciesMs }),
    };
  }
}
