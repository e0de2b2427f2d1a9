/**
 * The process-wide limit on zlib jobs running at once. Node's zlib works on its thread pool, so
 * without a limit thousands of connections compressing at once would each hold their buffers
 * and queue in libuv instead; here they wait in order, holding nothing but a callback. One
 * limiter per `concurrencyLimit` value, shared by every connection configured with it.
 * @packageDocumentation
 */

/** Runs at most `limit` jobs at once; the rest wait in order. */
export class Limiter {
  readonly limit: number;
  running = 0;
  readonly #queue: Array<() => void> = [];
  #draining = false;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues `job`; it must call `done` exactly once (extra calls are ignored). */
  run(job: (done: () => void) => void): void {
    this.#queue.push(() => {
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        this.running--;
        this.#drain();
      });
    });
    this.#drain();
  }

  // A loop rather than recursion: jobs that finish at once (closed connections) must not
  // deepen the stack however many are queued.
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    while (this.running < this.limit && this.#queue.length > 0) {
      this.running++;
      this.#queue.shift()!();
    }
    this.#draining = false;
  }
}

const limiters = new Map<number, Limiter>();

/** The shared limiter for `limit` jobs at once, created on first use. */
export function limiterFor(limit: number): Limiter {
  let l = limiters.get(limit);
  if (l === undefined) {
    l = new Limiter(limit);
    limiters.set(limit, l);
  }
  return l;
}

/** zlib jobs running and waiting, over every shared limiter. */
export function limiterTotals(): { running: number; queued: number } {
  let running = 0;
  let queued = 0;
  for (const l of limiters.values()) {
    running += l.running;
    queued += l.queued;
  }
  return { running, queued };
}
