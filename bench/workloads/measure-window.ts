/**
 * The measuring sequence every throughput workload shares:
 * fresh server process → generator opens its connections → traffic → warm-up → window opens
 * (server CPU and generator CPU read, workers mark) → window closes (read again, workers stop) →
 * server killed first (so it holds the TIME_WAIT sockets) → generator closes its sockets.
 */
import type { Job, WorkerResult } from '../load/messages.js';
import { LoadGenerator } from '../load/generator.js';
import { ServerProcess } from '../servers/server-process.js';
import type { ServerStats } from '../servers/ipc.js';
import type { Impl, RunContext } from './types.js';

/** What one window measured, summed over the workers. */
export interface WindowMeasurement {
  readonly module: string;
  readonly serverPid: number;
  readonly bufferutil: boolean;
  /** Mean of the workers' own window lengths. */
  readonly windowSeconds: number;
  /** Sum over workers of verified / own window: a rate robust to tiny clock skews. */
  readonly verifiedPerSecond: number;
  readonly verified: number;
  readonly sent: number;
  readonly bytes: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  readonly serverCpuSeconds: number;
  readonly generatorCpuSeconds: number;
  /** Broadcast rounds completed while the generator ran (warm-up included). */
  readonly rounds: number;
  /** Every worker's latency samples, concatenated (latency jobs). */
  readonly latenciesMs: Float64Array;
}

/** How to run the window. */
export interface WindowPlan {
  readonly workload: string;
  readonly impl: Impl;
  readonly mode: 'echo' | 'broadcast';
  /** The jobs, one per worker, for a server on `port`. */
  readonly jobs: (port: number) => Job[];
  /** How long opening every connection may take. */
  readonly openTimeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const cpuSeconds = (stats: ServerStats): number => (stats.cpu.user + stats.cpu.system) / 1e6;

/**
 * Runs one measured window against a fresh server.
 * @param context - durations, modules, progress
 * @param plan - which server mode and which jobs
 * @returns the summed measurement
 */
export async function measureWindow(context: RunContext, plan: WindowPlan): Promise<WindowMeasurement> {
  const { progress } = context;
  const server = await ServerProcess.start({
    impl: plan.impl,
    mode: plan.mode,
    module: context.modules[plan.impl],
    host: context.host,
  });
  let generator: LoadGenerator | undefined;
  try {
    progress.line(plan.workload, plan.impl, `server pid ${server.pid} on port ${server.port}; connecting`);
    generator = await LoadGenerator.launch(plan.jobs(server.port), plan.openTimeoutMs ?? 60_000);
    generator.start();
    progress.line(plan.workload, plan.impl, `warm-up ${context.warmupSeconds} s`);
    await sleep(context.warmupSeconds * 1000);

    generator.mark();
    const generatorCpuBefore = process.cpuUsage();
    const serverBefore = await server.stats();
    progress.line(plan.workload, plan.impl, `measuring ${context.durationSeconds} s`);
    await sleep(context.durationSeconds * 1000);
    const [results, serverAfter] = await Promise.all([generator.stop(), server.stats()]);
    const generatorCpu = process.cpuUsage(generatorCpuBefore);
    const rounds = generator.rounds;
    return summarize(results, {
      module: server.hello.module,
      serverPid: server.pid,
      bufferutil: server.hello.bufferutil,
      serverCpuSeconds: cpuSeconds(serverAfter) - cpuSeconds(serverBefore),
      generatorCpuSeconds: (generatorCpu.user + generatorCpu.system) / 1e6,
      rounds,
    });
  } finally {
    await server.kill();
    await generator?.close();
  }
}

function summarize(
  results: readonly WorkerResult[],
  common: Pick<
    WindowMeasurement,
    'module' | 'serverPid' | 'bufferutil' | 'serverCpuSeconds' | 'generatorCpuSeconds' | 'rounds'
  >,
): WindowMeasurement {
  let verified = 0;
  let perSecond = 0;
  let sent = 0;
  let bytes = 0;
  let failures = 0;
  let seconds = 0;
  const samples: string[] = [];
  for (const result of results) {
    verified += result.verified;
    perSecond += result.seconds > 0 ? result.verified / result.seconds : 0;
    sent += result.sent;
    bytes += result.bytes;
    failures += result.failures;
    seconds += result.seconds;
    samples.push(...result.failureSamples);
  }
  const latencyCount = results.reduce((n, r) => n + (r.latenciesMs?.length ?? 0), 0);
  const latenciesMs = new Float64Array(latencyCount);
  let at = 0;
  for (const result of results) {
    if (result.latenciesMs === undefined) continue;
    latenciesMs.set(result.latenciesMs, at);
    at += result.latenciesMs.length;
  }
  return {
    ...common,
    windowSeconds: results.length > 0 ? seconds / results.length : 0,
    verifiedPerSecond: perSecond,
    verified,
    sent,
    bytes,
    failures,
    failureSamples: samples.slice(0, 5),
    latenciesMs,
  };
}
