/** What the report says about the machine: the figures mean little without it. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** The machine a run used. */
export interface MachineInfo {
  readonly cpus: number;
  readonly availableParallelism: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly totalMemoryMiB: number;
  /** Soft `ulimit -n`, inherited by the servers; undefined when it could not be read. */
  readonly openFileLimit: number | undefined;
  /** 1-minute load average when the run began: other work on a shared box shows here. */
  readonly loadAverageAtStart: number;
}

/**
 * Reads the soft open-files limit the way a shell reports it (Node has no getrlimit).
 * @returns the limit, or undefined when unlimited or unreadable
 */
export function readOpenFileLimit(): number | undefined {
  const result = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  const value = Number(result.stdout.trim());
  return result.status === 0 && Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * Describes this machine.
 * @returns the description
 */
export function describeMachine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    openFileLimit: readOpenFileLimit(),
    loadAverageAtStart: os.loadavg()[0] ?? 0,
  };
}
