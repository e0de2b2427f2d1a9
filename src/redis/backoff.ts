/**
 * Reconnect delays: exponential from `minMs` to `maxMs`, with "equal jitter" (half the delay
 * fixed, half random) so that many nodes losing the same Redis do not all come back in the same
 * millisecond, while none retries sooner than half its step.
 * @packageDocumentation
 */

/** Bounds of the reconnect delay. */
export interface BackoffOptions {
  /** First delay in ms. Default 100. */
  minMs?: number;
  /** Largest delay in ms. Default 5,000. */
  maxMs?: number;
}

/**
 * Validates backoff bounds.
 * @throws RangeError for bounds that are not positive or out of order
 */
export function resolveBackoff(options: BackoffOptions = {}): Required<BackoffOptions> {
  const minMs = options.minMs ?? 100;
  const maxMs = options.maxMs ?? 5000;
  if (!(minMs > 0) || !(maxMs >= minMs)) throw new RangeError(`reconnect delays must satisfy 0 < minMs <= maxMs, got ${minMs} and ${maxMs}`);
  return { minMs, maxMs };
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first).
 * @param random - a source in [0, 1) (tests pass a fixed one)
 */
export function backoffDelay(attempt: number, bounds: Required<BackoffOptions>, random: () => number = Math.random): number {
  const step = Math.min(bounds.maxMs, bounds.minMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (step / 2) * random());
}
