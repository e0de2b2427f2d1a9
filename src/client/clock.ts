/**
 * The client's notion of time, passed in so that tests (and exotic runtimes) can drive it.
 * @packageDocumentation
 */

/** Timers and the wall clock, as the client uses them. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds. @returns a handle for {@link Clock.clearTimeout} */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer made by {@link Clock.setTimeout} (no-op when it already ran). */
  clearTimeout(handle: unknown): void;
}

type TimerHandle = ReturnType<typeof globalThis.setTimeout>;

/** The platform's clock: `Date.now` and the global timers (browsers, Node, Deno, Bun). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as TimerHandle),
};
