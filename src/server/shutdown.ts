/**
 * Graceful shutdown: stop accepting, tell every client to reconnect elsewhere with a close frame
 * (1012 Service Restart by default, or 1001 Going Away), wait for the close handshakes, and cut
 * whatever is left at the deadline. Closes may be spread over a period so that a large fleet of
 * clients does not reconnect to the remaining servers in the same instant.
 * @packageDocumentation
 */
import type { WebSocket } from '../index.js';

/** Options of {@link drainConnections}. */
export interface DrainOptions {
  /** Close code sent to every client. */
  code: number;
  /** Close reason (short, no internals). */
  reason: string;
  /** Ms from the start until connections still open are terminated. */
  timeoutMs: number;
  /** Ms over which the close frames are spread (0: all at once). Capped at half the timeout. */
  spreadMs: number;
}

/** What a drain did. */
export interface DrainResult {
  /** Connections that completed the close handshake in time. */
  closed: number;
  /** Connections terminated at the deadline. */
  terminated: number;
}

const OPEN = 1;
const CLOSED = 3;

/**
 * Closes every connection in `connections` and resolves when all are closed or the deadline has
 * passed (then the rest are terminated).
 */
export async function drainConnections(connections: Iterable<WebSocket>, options: DrainOptions): Promise<DrainResult> {
  const list = [...connections];
  let terminated = 0;
  const timers: NodeJS.Timeout[] = [];
  const done = list.map((ws) => (ws.readyState === CLOSED ? Promise.resolve() : new Promise<void>((resolve) => ws.once('close', () => resolve()))));
  const spread = Math.min(options.spreadMs, options.timeoutMs / 2);
  list.forEach((ws, i) => {
    const close = (): void => {
      if (ws.readyState === OPEN) ws.close(options.code, options.reason);
    };
    // Spread in order: connection i closes at i/n of the period.
    const at = list.length > 1 && spread > 0 ? Math.floor((spread * i) / list.length) : 0;
    if (at === 0) close();
    else timers.push(setTimeout(close, at));
  });
  let deadline: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((resolve) => {
    deadline = setTimeout(() => {
      for (const ws of list) {
        if (ws.readyState !== CLOSED) {
          terminated++;
          ws.terminate();
        }
      }
      resolve();
    }, options.timeoutMs);
  });
  await Promise.race([Promise.all(done), cut]);
  clearTimeout(deadline);
  for (const t of timers) clearTimeout(t);
  // Terminated sockets emit 'close' on a later turn; wait for them so callers see zero open.
  await Promise.all(done);
  return { closed: list.length - terminated, terminated };
}
