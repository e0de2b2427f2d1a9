/**
 * The orchestrator's handle on the generator worker threads: it hands each worker its job, drives
 * the phases on all of them together (start, mark, pause, drain, report) and runs the round
 * barrier of broadcast jobs, which also keeps a paused-and-resumed broadcast from overlapping rounds.
 */
import { Worker } from 'node:worker_threads';
import type { Job, MainToWorker, WorkerResult, WorkerToMain } from './messages.js';

type MessageOf<T extends WorkerToMain['type']> = Extract<WorkerToMain, { type: T }>;

interface Waiter {
  readonly resolve: (message: WorkerToMain) => void;
  readonly reject: (error: Error) => void;
}

/** One worker thread and the replies awaited from it. */
class WorkerHandle {
  readonly #worker: Worker;
  readonly #waiters = new Map<WorkerToMain['type'], Waiter>();
  #failure: Error | undefined;
  #exited = false;

  constructor(onRoundDone: () => void) {
    this.#worker = new Worker(new URL('./worker.js', import.meta.url));
    this.#worker.on('message', (raw: unknown) => {
      // The worker posts only WorkerToMain messages.
      const message = raw as WorkerToMain;
      if (message.type === 'round-done') {
        onRoundDone();
        return;
      }
      if (message.type === 'fatal') {
        this.#failAll(new Error(`generator worker: ${message.message}`));
        return;
      }
      const waiter = this.#waiters.get(message.type);
      this.#waiters.delete(message.type);
      waiter?.resolve(message);
    });
    this.#worker.on('error', (error: Error) => this.#failAll(error));
    this.#worker.on('exit', (code: number) => {
      this.#exited = true;
      this.#failAll(new Error(`generator worker exited with code ${code}`));
    });
  }

  #failAll(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }

  post(message: MainToWorker): void {
    if (!this.#exited) this.#worker.postMessage(message);
  }

  waitFor<T extends WorkerToMain['type']>(type: T, timeoutMs: number): Promise<MessageOf<T>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<MessageOf<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(type);
        reject(new Error(`generator worker gave no '${type}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(type, {
        resolve: (message) => {
          clearTimeout(timer);
          // The map is keyed by type, so the message is of type T.
          resolve(message as MessageOf<T>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  async terminate(): Promise<void> {
    if (!this.#exited) await this.#worker.terminate();
  }
}

/** A set of generator workers running one job each. */
export class LoadGenerator {
  readonly #workers: WorkerHandle[];
  readonly #broadcast: boolean;
  #roundReports = 0;
  #rounds = 0;
  #roundInFlight = false;
  #running = false;

  private constructor(jobs: readonly Job[]) {
    this.#broadcast = jobs.some((job) => job.kind === 'broadcast');
    this.#workers = jobs.map(() => new WorkerHandle(() => this.#onRoundDone()));
  }

  /**
   * Starts one worker per job and waits until each has opened its connections.
   * @param jobs - one job per worker
   * @param openTimeoutMs - how long opening all connections may take
   * @returns the generator, ready to start
   */
  static async launch(jobs: readonly Job[], openTimeoutMs: number): Promise<LoadGenerator> {
    const generator = new LoadGenerator(jobs);
    try {
      const ready = generator.#workers.map((worker) => worker.waitFor('ready', openTimeoutMs));
      generator.#workers.forEach((worker, i) => {
        const job = jobs[i];
        if (job !== undefined) worker.post({ type: 'run', job });
      });
      await Promise.all(ready);
      return generator;
    } catch (error) {
      await generator.terminate();
      throw error;
    }
  }

  /** Broadcast rounds completed by every worker since {@link LoadGenerator.start}. */
  get rounds(): number {
    return this.#rounds;
  }

  #onRoundDone(): void {
    if (++this.#roundReports < this.#workers.length) return;
    this.#roundReports = 0;
    this.#rounds++;
    this.#roundInFlight = false;
    if (!this.#running) return;
    this.#roundInFlight = this.#broadcast;
    for (const worker of this.#workers) worker.post({ type: 'next-round' });
  }

  /**
   * Every worker starts or resumes sending. A broadcast round still open from before a pause is
   * left to finish: its completion starts the next round.
   */
  start(): void {
    this.#running = true;
    if (this.#roundInFlight) return;
    this.#roundInFlight = this.#broadcast;
    for (const worker of this.#workers) worker.post({ type: 'start' });
  }

  /** Every worker opens its measured window. */
  mark(): void {
    for (const worker of this.#workers) worker.post({ type: 'mark' });
  }

  /** Every worker closes its window and stops sending. */
  pause(): void {
    this.#running = false;
    for (const worker of this.#workers) worker.post({ type: 'pause' });
  }

  /**
   * Waits until no reply is outstanding on any worker.
   * @param timeoutMs - how long the tail may take
   * @returns true when everything came back in time
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const drained = this.#workers.map((worker) => worker.waitFor('drained', timeoutMs + 5_000));
    for (const worker of this.#workers) worker.post({ type: 'drain', timeoutMs });
    return (await Promise.all(drained)).every((message) => message.complete);
  }

  /**
   * Collects every worker's totals over all its windows.
   * @param timeoutMs - how long to wait for the results
   * @returns each worker's result
   */
  async report(timeoutMs = 10_000): Promise<WorkerResult[]> {
    const results = this.#workers.map((worker) => worker.waitFor('result', timeoutMs));
    for (const worker of this.#workers) worker.post({ type: 'report' });
    return (await Promise.all(results)).map((message) => message.result);
  }

  /** Destroys every connection, then ends the workers. Never rejects. */
  async close(): Promise<void> {
    const closed = this.#workers.map((worker) => worker.waitFor('closed', 5_000).catch(() => undefined));
    for (const worker of this.#workers) worker.post({ type: 'close' });
    await Promise.all(closed);
    await this.terminate();
  }

  /** Ends the workers at once. Never rejects. */
  async terminate(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate().catch(() => undefined)));
  }
}
