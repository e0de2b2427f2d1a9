/**
 * The state of a running `parley serve` that its parts read: started, listening, shutting down,
 * and from these and the adapter's health whether it is ready (`/readyz`). One object, set only
 * by the assembly (serve.ts) and the shutdown, instead of locals shared by closures.
 * @packageDocumentation
 */

/** Where a server is in its life. */
export class ServerState {
  /** When the server was made (ms since the epoch), for `uptimeSec`. */
  readonly startedAt = Date.now();
  /** Set once the server listens. */
  listening = false;
  /** Set when the graceful shutdown begins; never cleared. */
  shuttingDown = false;
  readonly #adapterHealthy: () => boolean | undefined;

  /** @param adapterHealthy - the cluster adapter's health (undefined: cannot tell, counts as healthy) */
  constructor(adapterHealthy: () => boolean | undefined) {
    this.#adapterHealthy = adapterHealthy;
  }

  /** Whether `/readyz` answers 200: listening, not shutting down, the adapter not unhealthy. */
  get ready(): boolean {
    return this.listening && !this.shuttingDown && this.#adapterHealthy() !== false;
  }
}
