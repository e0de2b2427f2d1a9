/**
 * Write batching: frames queued for a connection during one turn of the event loop leave in one
 * write after the I/O phase (`setImmediate`), so a broadcast that sends many small frames to the
 * same client costs one system call per client per turn instead of one per frame.
 * @packageDocumentation
 */

/** Something with queued frames to flush. */
export interface Flushable {
  /** Writes everything queued. */
  flush(): void;
}

let dirty: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  const list = dirty;
  dirty = [];
  scheduled = false;
  for (const item of list) item.flush();
}

/** Arranges for `item.flush()` to run once, after the current I/O phase. */
export function scheduleFlush(item: Flushable): void {
  dirty.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
