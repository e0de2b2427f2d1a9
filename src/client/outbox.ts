/**
 * The bounded queue of operations waiting for a connection.
 * @packageDocumentation
 */

/** Anything queued: ordered by `seq`, the order in which the application made the calls. */
export interface Queued {
  readonly seq: number;
}

/**
 * Operations made while disconnected (and replies lost with a connection) wait here, in call
 * order. Past `capacity`, the oldest is evicted and handed to `onEvict` to be refused.
 */
export class Outbox<T extends Queued> {
  #items: T[] = [];
  readonly #capacity: number;
  readonly #onEvict: (item: T) => void;

  /** @param capacity - most items kept @param onEvict - called with each evicted item */
  constructor(capacity: number, onEvict: (item: T) => void) {
    if (!(capacity >= 0)) throw new RangeError('maxQueue must be a non-negative number');
    this.#capacity = capacity;
    this.#onEvict = onEvict;
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Queues `item` (newest), evicting the oldest past capacity. */
  push(item: T): void {
    this.#items.push(item);
    this.#trim();
  }

  /** Puts back items that were sent but not answered, each in its call-order place. */
  restore(items: Iterable<T>): void {
    this.#items.push(...items);
    this.#items.sort((a, b) => a.seq - b.seq);
    this.#trim();
  }

  /** Removes `item` if it is waiting. @returns whether it was */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }

  /** Empties the queue. @returns the items, oldest first */
  drain(): T[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }

  #trim(): void {
    while (this.#items.length > this.#capacity) this.#onEvict(this.#items.shift()!);
  }
}
