/**
 * Reconnection delays: exponential backoff with jitter.
 * @packageDocumentation
 */

/** How the client waits between connection attempts. */
export interface ReconnectOptions {
  /** Delay before the first retry, in ms. Default 250. */
  initialDelay?: number;
  /** Largest delay, in ms. Default 10,000. */
  maxDelay?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * Share of each delay that is random, from 0 (none) to 1. Default 0.5: the delay is uniform in
   * `[base × (1 − jitter), base]`, so a crowd of clients cut at once does not return at once.
   */
  jitter?: number;
}

/** {@link ReconnectOptions} with every field present. */
export type BackoffPolicy = Required<ReconnectOptions>;

/** The defaults of {@link ReconnectOptions}. */
export const DEFAULT_RECONNECT: BackoffPolicy = Object.freeze({ initialDelay: 250, maxDelay: 10_000, factor: 2, jitter: 0.5 });

/**
 * Fills in defaults and checks the values.
 * @throws RangeError for a negative delay, a factor below 1 or a jitter outside [0, 1]
 */
export function resolveBackoff(options: ReconnectOptions = {}): BackoffPolicy {
  const policy: BackoffPolicy = { ...DEFAULT_RECONNECT, ...stripUndefined(options) };
  const { initialDelay, maxDelay, factor, jitter } = policy;
  if (!(initialDelay >= 0) || !(maxDelay >= initialDelay)) throw new RangeError('reconnect: need 0 <= initialDelay <= maxDelay');
  if (!(factor >= 1)) throw new RangeError('reconnect: factor must be at least 1');
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError('reconnect: jitter must be between 0 and 1');
  return policy;
}

/**
 * The delay before retry number `attempt`: `min(maxDelay, initialDelay × factor^(attempt − 1))`,
 * less a random share of up to `jitter` of it.
 * @param attempt - 1 for the first retry after a connection was lost or refused
 * @param random - a uniform source in [0, 1), `Math.random` by default
 * @returns whole milliseconds in `[base × (1 − jitter), base]`
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelay, policy.initialDelay * policy.factor ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - policy.jitter * random()));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
