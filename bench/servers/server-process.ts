/**
 * The orchestrator's handle on one benchmark server child: start it on a free port (port 0, so
 * runs never collide), wait for `ready PORT`, ask it for CPU and memory, kill it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trackChild } from '../child-processes.js';
import type { ServerHello, ServerMode, ServerStats, ServerToParent, StatsRequest } from './ipc.js';
import { procCpuSeconds } from './proc-cpu.js';

/** What to start. */
export interface ServerSpec {
  readonly impl: 'parley' | 'ws';
  readonly mode: ServerMode;
  /** The module imported for this slot ('parley', or 'ws' for a harness check). */
  readonly module: string;
  readonly host: string;
}

const SERVER_SCRIPT = new URL('./echo-server.js', import.meta.url);
const READY_TIMEOUT_MS = 15_000;
const STATS_TIMEOUT_MS = 30_000;

/** A server's CPU time at one instant, read both ways (either may be missing). */
export interface CpuSample {
  /** From `process.cpuUsage()` over IPC, when the server answered promptly. */
  readonly ipcSeconds: number | undefined;
  /** From /proc/PID/stat at the instant of the request, where /proc exists. */
  readonly procSeconds: number | undefined;
}

/** How long a CPU reading over IPC may lag the window edge before /proc is used instead. */
const PROMPT_MS = 250;

/**
 * The CPU time between two samples: `process.cpuUsage()` when both readings were prompt, else
 * /proc, else NaN.
 * @param before - the sample at the window's start
 * @param after - the sample at its end
 * @returns seconds, and which source gave them
 */
export function cpuDelta(before: CpuSample, after: CpuSample): { seconds: number; source: 'cpuUsage' | 'procfs' | 'none' } {
  if (before.ipcSeconds !== undefined && after.ipcSeconds !== undefined) {
    return { seconds: after.ipcSeconds - before.ipcSeconds, source: 'cpuUsage' };
  }
  if (before.procSeconds !== undefined && after.procSeconds !== undefined) {
    return { seconds: after.procSeconds - before.procSeconds, source: 'procfs' };
  }
  return { seconds: Number.NaN, source: 'none' };
}

/** A running benchmark server. */
export class ServerProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (stats: ServerStats) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #exit: Promise<void>;
  /** Its port. */
  readonly port: number;
  /** What it said about itself. */
  readonly hello: ServerHello;

  private constructor(child: ChildProcess, port: number, hello: ServerHello) {
    this.#child = child;
    this.port = port;
    this.hello = hello;
    this.#exit = new Promise((resolve) => {
      const onExit = (): void => {
        for (const waiter of this.#pending.values()) waiter.reject(new Error(`${hello.impl} server exited`));
        this.#pending.clear();
        resolve();
      };
      if (child.exitCode !== null || child.signalCode !== null) onExit();
      else child.once('exit', onExit);
    });
    // A send racing the child's exit reports here; the exit itself rejects what is pending.
    child.on('error', () => {});
    child.on('message', (raw: unknown) => {
      const message = raw as ServerToParent;
      if (message.type !== 'stats') return;
      this.#pending.get(message.id)?.resolve(message.stats);
      this.#pending.delete(message.id);
    });
  }

  /** The child's pid. */
  get pid(): number {
    return this.hello.pid;
  }

  /**
   * Starts a server and waits until it listens.
   * @param spec - implementation, mode and module
   * @returns the running server
   */
  static start(spec: ServerSpec): Promise<ServerProcess> {
    const child = fork(
      SERVER_SCRIPT,
      ['--impl', spec.impl, '--mode', spec.mode, '--port', '0', '--host', spec.host, '--module', spec.module],
      { execArgv: ['--expose-gc', ...extraExecArgv()], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    );
    trackChild(child);
    return new Promise<ServerProcess>((resolve, reject) => {
      let hello: ServerHello | undefined;
      const fail = (reason: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${spec.impl} server (${spec.module}): ${reason}`));
      };
      const timer = setTimeout(() => fail(`not ready within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void =>
        fail(`exited before ready (code ${code ?? 'none'}, ${signal ?? 'no signal'})`);
      child.once('exit', onEarlyExit);
      let readyPort: number | undefined;
      // The hello (IPC) and the ready line (stdout) travel on different channels and may arrive
      // in either order: resolve once both are in.
      const settle = (): void => {
        if (hello === undefined || readyPort === undefined) return;
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        resolve(new ServerProcess(child, readyPort, hello));
      };
      child.on('message', (raw: unknown) => {
        const message = raw as ServerToParent;
        if (message.type === 'hello' && hello === undefined) {
          hello = message;
          settle();
        }
      });
      if (child.stdout === null) {
        fail('no stdout pipe');
        return;
      }
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^ready (\d+)$/.exec(line);
        if (match === null || readyPort !== undefined) return;
        readyPort = Number(match[1]);
        settle();
      });
    });
  }

  /**
   * Reads CPU time now: /proc at once, and `process.cpuUsage()` if the server answers within
   * {@link PROMPT_MS}.
   * @returns both readings
   */
  async cpuSample(): Promise<CpuSample> {
    const procSeconds = procCpuSeconds(this.pid);
    const ipc = this.stats().then(
      (stats) => (stats.cpu.user + stats.cpu.system) / 1e6,
      () => undefined,
    );
    const late = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), PROMPT_MS).unref());
    return { ipcSeconds: await Promise.race([ipc, late]), procSeconds };
  }

  /**
   * Asks for CPU time and memory.
   * @param gc - force full GCs before the memory reading (CPU is read before them)
   * @returns the server's stats
   */
  stats(gc = false): Promise<ServerStats> {
    if (!this.#child.connected) return Promise.reject(new Error(`${this.hello.impl} server is gone`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.hello.impl} server gave no stats within ${STATS_TIMEOUT_MS} ms`));
      }, STATS_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (stats) => {
          clearTimeout(timer);
          resolve(stats);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      const request: StatsRequest = { type: 'stats', id, gc };
      this.#child.send(request);
    });
  }

  /** Kills the server and waits for it to be gone. */
  async kill(): Promise<void> {
    if (extraExecArgv().length > 0 && this.#child.connected) {
      // A profiled server is asked to exit (it does when its IPC channel closes), so Node writes
      // the profile; SIGKILL follows only if it has not gone within 5 s.
      this.#child.disconnect();
      await Promise.race([this.#exit, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    }
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exit;
  }
}

/**
 * Extra Node options for the server children, from `PARLEY_BENCH_SERVER_ARGS` (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile both servers under load (Node refuses
 * `--cpu-prof` in `NODE_OPTIONS`).
 */
function extraExecArgv(): string[] {
  const value = process.env['PARLEY_BENCH_SERVER_ARGS'];
  return value === undefined ? [] : value.split(' ').filter((a) => a !== '');
}
