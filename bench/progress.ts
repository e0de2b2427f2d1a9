/** Progress lines on stderr: which workload, which implementation, what phase, time elapsed. */

/** Writes progress lines, each stamped with the seconds since the run began. */
export class Progress {
  readonly #startedAt = performance.now();

  /** Seconds since the run began. */
  get elapsedSeconds(): number {
    return (performance.now() - this.#startedAt) / 1000;
  }

  /**
   * Writes one line.
   * @param workload - the workload name
   * @param impl - the implementation, or '' for workload-level lines
   * @param phase - what is happening
   */
  line(workload: string, impl: string, phase: string): void {
    const stamp = this.elapsedSeconds.toFixed(1).padStart(6);
    process.stderr.write(`[${stamp}s] ${workload.padEnd(15)} ${impl.padEnd(6)} ${phase}\n`);
  }

  /**
   * Writes a free-form note.
   * @param text - the note
   */
  note(text: string): void {
    process.stderr.write(`[${this.elapsedSeconds.toFixed(1).padStart(6)}s] ${text}\n`);
  }
}
