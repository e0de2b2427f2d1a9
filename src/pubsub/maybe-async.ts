/**
 * Values that are ready now on the in-memory path and later with a networked cluster adapter.
 * Chaining through {@link after} keeps the in-memory path synchronous: no promise is created per
 * publish or per delivery unless an adapter actually answers asynchronously.
 * @packageDocumentation
 */

/** A value now, or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Whether `value` is a promise (any thenable). */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Applies `fn` to `value` at once when it is ready, or when its promise resolves.
 * @returns `fn`'s result, or a promise of it
 */
export function after<T, R>(value: MaybePromise<T>, fn: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(fn) : fn(value);
}

/**
 * Runs `run`, sending a synchronous throw or an asynchronous rejection to `onError`.
 * @returns `run`'s result, or `onError`'s
 */
export function attempt<T>(run: () => MaybePromise<T>, onError: (error: unknown) => MaybePromise<T>): MaybePromise<T> {
  let result: MaybePromise<T>;
  try {
    result = run();
  } catch (error) {
    return onError(error);
  }
  return isPromise(result) ? result.catch(onError) : result;
}
