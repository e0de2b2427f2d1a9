/**
 * A tiny typed event emitter for the browser client: no Node `EventEmitter`, no DOM
 * `EventTarget`, just listeners keyed by event name with typed arguments.
 * @packageDocumentation
 */

/** Maps each event name to the tuple of arguments its listeners receive. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

/** A listener for event `K` of map `E`. */
export type Listener<E extends EventMap<E>, K extends keyof E> = (...args: E[K]) => void;

/**
 * Typed emitter. A listener that throws does not stop the others or the client: its error is
 * rethrown from a microtask, where the platform reports it (console in browsers, an uncaught
 * exception in Node, as with `EventEmitter`).
 * @typeParam E - event map, e.g. `{ open: []; reconnecting: [attempt: number, delay: number] }`
 */
export class Emitter<E extends EventMap<E>> {
  #listeners: { [K in keyof E]?: Array<Listener<E, K>> } = {};

  /**
   * Adds a listener.
   * @returns a function that removes it
   */
  on<K extends keyof E>(type: K, listener: Listener<E, K>): () => void {
    (this.#listeners[type] ??= []).push(listener);
    return () => this.off(type, listener);
  }

  /**
   * Adds a listener that is removed after its first call.
   * @returns a function that removes it before then
   */
  once<K extends keyof E>(type: K, listener: Listener<E, K>): () => void {
    const off = this.on(type, (...args: E[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes one registration of `listener` (no-op when absent). */
  off<K extends keyof E>(type: K, listener: Listener<E, K>): void {
    const list = this.#listeners[type];
    if (list === undefined) return;
    const i = list.indexOf(listener);
    if (i >= 0) list.splice(i, 1);
  }

  /** Number of listeners for `type`. */
  listenerCount<K extends keyof E>(type: K): number {
    return this.#listeners[type]?.length ?? 0;
  }

  /**
   * Calls every listener of `type` with `args`, in registration order. Listeners added or
   * removed during the call take effect from the next one.
   */
  emit<K extends keyof E>(type: K, ...args: E[K]): void {
    const list = this.#listeners[type];
    if (list === undefined || list.length === 0) return;
    for (const listener of list.slice()) {
      try {
        listener(...args);
      } catch (error) {
        rethrowLater(error);
      }
    }
  }
}

/** Reports an error thrown by application code without unwinding the client's own state changes. */
export function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
