/**
 * What the soak processes say to each other: the wire format between load clients and the soak
 * server, the IPC messages, and the counters each side reports.
 *
 * Wire (text frames unless noted):
 * - `E <conn> <seq> <payload>`: echo request; the server sends the same bytes back (same type).
 * - `P <conn> <seq> <sentAtMs>`: publish; the server broadcasts
 *   `B <g> <conn> <seq> <sentAtMs> <padding>` to every open client with `wss.broadcast`, `g` being
 *   one global sequence number, so each client must see consecutive `g`s.
 * - `FLOOD`: a slow reader asks for 64 KiB binary messages every 20 ms until it is closed.
 */

/** Server → orchestrator, once. */
export interface ServerReady {
  type: 'ready';
  port: number;
  pid: number;
}

/** Server counters and memory, sent on request. */
export interface ServerStats {
  type: 'stats';
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  fds: number;
  clients: number;
  accepted: number;
  /** Close codes seen on server-side connections, by code. */
  closes: Record<string, number>;
  /** Error codes reported on server-side connections, by code. */
  errors: Record<string, number>;
  echoes: number;
  publishes: number;
  /** Messages handed to `wss.broadcast` times recipients. */
  deliveries: number;
  floods: number;
  compressedConnections: number;
  deflate: { running: number; queued: number; streams: number; pooled: number };
}

/** Load process → orchestrator, every second (cumulative). */
export interface LoadStats {
  type: 'load';
  index: number;
  open: number;
  openCompressed: number;
  connects: number;
  connectFailures: number;
  closes: number;
  echoesSent: number;
  echoesReceived: number;
  echoLost: number;
  publishesSent: number;
  publishesDelivered: number;
  publishLost: number;
  broadcastsReceived: number;
  broadcastGaps: number;
  orderErrors: number;
  corrupt: number;
  unexpectedCloses: number;
  clientErrors: number;
  slowStarted: number;
  slowCapped: number;
  slowNotCapped: number;
  /** Broadcast latency histogram since the last report: bucket upper bounds in ms → count. */
  latency: number[];
  /** Last unexpected event, for the report. */
  lastProblem: string;
  /** Unexpected events by kind (ids and numbers stripped), with a count and the first example. */
  problems: Record<string, { count: number; example: string }>;
  done: boolean;
}

/** Upper bounds of the latency buckets, ms (the last one catches everything). */
export const LATENCY_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity];

/** Orchestrator → load process. */
export interface LoadConfig {
  type: 'config';
  index: number;
  url: string;
  connections: number;
  compressedShare: number;
  slowReaders: number;
  /** Publishes per second from this process. */
  publishRate: number;
  echoIntervalMs: number;
  lifetimeMinMs: number;
  lifetimeMaxMs: number;
  seed: number;
}

/** Orchestrator → load process: stop churning, drain, close everything, report `done`. */
export interface LoadStop {
  type: 'stop';
}

/** The percentile of a latency histogram, as a bucket's upper bound. */
export function percentile(hist: readonly number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (let i = 0; i < hist.length; i++) {
    seen += hist[i]!;
    if (seen >= total * p) return LATENCY_BUCKETS[i]!;
  }
  return Infinity;
}
