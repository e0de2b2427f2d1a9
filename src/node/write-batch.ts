/**
 * Write batching: frames queued for a connection during one turn of the event loop leave in one
 * write after the I/O phase (`setImmediate`), so a broadcast that sends many small frames to the
 * same client costs one system call per client per turn instead of one per frame. Every send
 * takes this path, whatever API made it (`send`, `ping`, `close`, a prepared message).
 * @packageDocumentation
 */
import { clearFrameCache } from './frame-cache.js';

/**
 * The method a {@link Flushable} writes its queued frames with: a symbol, so a connection is
 * its own flushable without a public `flush` or a closure kept per connection.
 */
export const kFlush = Symbol('parley.flush');

/** Something with queued frames to flush. */
export interface Flushable {
  /** Writes everything queued. */
  [kFlush](): void;
}

let dirty: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  const list = dirty;
  dirty = [];
  scheduled = false;
  clearFrameCache();
  for (const item of list) item[kFlush]();
}

/** Arranges for `item[kFlush]()` to run once, after the current I/O phase. */
export function scheduleFlush(item: Flushable): void {
  dirty.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
