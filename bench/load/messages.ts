/**
 * The messages between the orchestrator (main thread) and the generator workers. The orchestrator
 * drives the phases, so every worker's measured window starts and ends on the same command. A job
 * can be paused and resumed: measured slices of the two implementations then alternate.
 */

/** Closed-loop echo: each connection sends one message and waits for its echo before the next. */
export interface EchoJob {
  readonly kind: 'echo';
  readonly host: string;
  readonly port: number;
  /** Connections this worker opens. */
  readonly connections: number;
  /** Binary payload size in bytes. */
  readonly payloadSize: number;
}

/** Broadcast rounds: every client sends once per round; the server relays to all clients. */
export interface BroadcastJob {
  readonly kind: 'broadcast';
  readonly host: string;
  readonly port: number;
  /** First client id this worker owns. */
  readonly firstClient: number;
  /** Clients this worker owns. */
  readonly clients: number;
  /** Clients across all workers: the deliveries each client expects per round. */
  readonly totalClients: number;
  /** Binary payload size in bytes (at least 4: the sender id leads the payload). */
  readonly payloadSize: number;
}

/** Open, close-handshake and drop connections as fast as possible with bounded concurrency. */
export interface HandshakeJob {
  readonly kind: 'handshakes';
  readonly host: string;
  readonly port: number;
  /** Handshakes in flight at once. */
  readonly concurrency: number;
}

/** Open connections and keep them idle. */
export interface IdleJob {
  readonly kind: 'idle';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Handshakes in flight at once while opening. */
  readonly concurrency: number;
}

/** Open-loop echo at a fixed rate, timing every round trip. */
export interface LatencyJob {
  readonly kind: 'latency';
  readonly host: string;
  readonly port: number;
  readonly connections: number;
  /** Messages per second this worker sends, spread over its connections. */
  readonly ratePerSecond: number;
  readonly payloadSize: number;
}

/** Any job a worker can run. */
export type Job = EchoJob | BroadcastJob | HandshakeJob | IdleJob | LatencyJob;

/** Commands from the orchestrator to a worker. */
export type MainToWorker =
  /** Open the job's connections; answered by 'ready'. */
  | { readonly type: 'run'; readonly job: Job }
  /** Start or resume sending. */
  | { readonly type: 'start' }
  /** Open a measured window. */
  | { readonly type: 'mark' }
  /** Close the window and stop sending. */
  | { readonly type: 'pause' }
  /** Answer 'drained' once no reply is outstanding, or when the time is up. */
  | { readonly type: 'drain'; readonly timeoutMs: number }
  /** Answer 'result' with the sum over every window so far. */
  | { readonly type: 'report' }
  /** Broadcast: every client of this worker sends its next message. */
  | { readonly type: 'next-round' }
  /** Destroy every connection; answered by 'closed'. */
  | { readonly type: 'close' };

/** What one worker counted in one window. */
export interface WindowCount {
  readonly verified: number;
  readonly bytes: number;
  readonly seconds: number;
}

/** What one worker measured, summed over its windows (each from 'mark' to 'pause'). */
export interface WorkerResult {
  /** Each window on its own, in order. */
  readonly windows: readonly WindowCount[];
  /** Verified messages, deliveries, handshakes, or (idle) connections held open. */
  readonly verified: number;
  /** Verified payload bytes. */
  readonly bytes: number;
  /** Messages written in the window. */
  readonly sent: number;
  /** Seconds inside windows, by this worker's clock. */
  readonly seconds: number;
  /** Failed verifications or broken connections since the job began (not only in the window). */
  readonly failures: number;
  /** The first few failure reasons. */
  readonly failureSamples: readonly string[];
  /** Round-trip times in milliseconds (latency jobs only). */
  readonly latenciesMs?: Float64Array<ArrayBuffer>;
}

/** Reports from a worker to the orchestrator. */
export type WorkerToMain =
  | { readonly type: 'ready' }
  | { readonly type: 'round-done' }
  | { readonly type: 'drained'; readonly complete: boolean }
  | { readonly type: 'result'; readonly result: WorkerResult }
  | { readonly type: 'closed' }
  | { readonly type: 'fatal'; readonly message: string };
