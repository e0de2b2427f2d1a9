/** Messages between the orchestrator and a benchmark server child process. */

/** The server's own account of the resources it used. */
export interface ServerStats {
  /** `process.cpuUsage()` since the process started, in microseconds, read before any GC. */
  readonly cpu: { readonly user: number; readonly system: number };
  /** `process.memoryUsage()` in bytes, right after forced full GCs when they were asked for. */
  readonly memory: {
    readonly rss: number;
    readonly heapTotal: number;
    readonly heapUsed: number;
    readonly external: number;
    readonly arrayBuffers: number;
  };
  /** Whether full GCs ran before the memory reading (asked for, and run with --expose-gc). */
  readonly gcForced: boolean;
  /** Connections open now. */
  readonly connections: number;
}

/**
 * What a benchmark server does with each message: `echo` sends it back; `broadcast` relays it to
 * every client the library's own way (Parley: `wss.broadcast`); `broadcast-loop` relays it with
 * the loop over `wss.clients` from ws's README on both sides (what a program written for ws
 * gets when only its import changes).
 */
export type ServerMode = 'echo' | 'broadcast' | 'broadcast-loop';

/** Sent once, before 'ready' is printed. */
export interface ServerHello {
  readonly type: 'hello';
  readonly pid: number;
  readonly impl: 'parley' | 'ws';
  /** The module actually imported for this slot. */
  readonly module: string;
  readonly mode: ServerMode;
  /** How broadcast mode relays a message. */
  readonly broadcast: string;
  /** Whether `bufferutil` loads in the server process (ws uses it when it does). */
  readonly bufferutil: boolean;
}

/** From the orchestrator: report stats, answered with the same id. */
export interface StatsRequest {
  readonly type: 'stats';
  readonly id: number;
  /**
   * Force full GCs before reading memory. Only memory readings ask for it: a GC inside a
   * throughput window would add a pause and CPU time that are not the workload's.
   */
  readonly gc: boolean;
}

/** The answer to a {@link StatsRequest}. */
export interface StatsReply {
  readonly type: 'stats';
  readonly id: number;
  readonly stats: ServerStats;
}

/** Anything a server child sends over IPC. */
export type ServerToParent = ServerHello | StatsReply;
