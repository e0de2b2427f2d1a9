/**
 * The measuring sequence every throughput workload shares. Both servers (fresh processes) and a
 * generator for each are started and connected first; then measured slices alternate between the
 * two, A B B A A B …, each slice: resume traffic → warm-up → window (server CPU and generator CPU
 * read at both edges) → pause → drain until no reply is outstanding. Alternating short slices keeps
 * load from other work on a shared machine from landing on one side only. A side is torn down
 * right after its last slice — server killed first, so it holds the TIME_WAIT sockets — and a side
 * that fails is dropped without stopping the other.
 */
import type { Job, WorkerResult } from '../load/messages.js';
import { LoadGenerator } from '../load/generator.js';
import type { ServerHello, ServerMode } from '../servers/ipc.js';
import { ServerProcess, cpuDelta } from '../servers/server-process.js';
import { errorMessage } from '../error-message.js';
import { median } from './statistics.js';
import type { Impl, RunContext } from './types.js';

/** What one side measured, summed over its slices and workers. */
export interface WindowMeasurement {
  readonly module: string;
  readonly serverPid: number;
  readonly bufferutil: boolean;
  /** How the server relays a broadcast (see bench/servers/broadcast.ts). */
  readonly broadcastStrategy: string;
  /** Measured seconds: the mean over workers of each one's summed windows. */
  readonly windowSeconds: number;
  /** Sum over workers of verified / own measured seconds: the pooled rate. */
  readonly verifiedPerSecond: number;
  /** The rate of each slice (summed over workers), in slice order. */
  readonly sliceRates: readonly number[];
  /** The median of {@link WindowMeasurement.sliceRates}: what throughput figures report. */
  readonly medianSliceRate: number;
  readonly verified: number;
  readonly sent: number;
  readonly bytes: number;
  readonly failures: number;
  readonly failureSamples: readonly string[];
  /** Server CPU seconds inside the windows (NaN when it could not be read). */
  readonly serverCpuSeconds: number;
  /** How the server CPU was read: cpuUsage over IPC, /proc when the server was too busy, or none. */
  readonly serverCpuSource: string;
  /** Orchestrator process CPU seconds inside the windows (the generator threads, mostly). */
  readonly generatorCpuSeconds: number;
  /** Slices measured. */
  readonly slices: number;
  /** Slices after which replies were still outstanding when the drain time ran out. */
  readonly undrainedSlices: number;
  /** Broadcast rounds completed (warm-ups included). */
  readonly rounds: number;
  /** Every worker's latency samples, concatenated (latency jobs). */
  readonly latenciesMs: Float64Array;
}

/** How to measure one workload. */
export interface WindowPlan {
  readonly workload: string;
  readonly mode: ServerMode;
  /** The jobs, one per worker, for a server on `port`. */
  readonly jobs: (port: number) => Job[];
  /** Slices per side; 1 runs the sides one after the other (for workloads that cannot drain quickly). */
  readonly slices?: number;
  /** How long the tail of a slice may take to come back. */
  readonly drainTimeoutMs?: number;
  /** How long opening every connection may take. */
  readonly openTimeoutMs?: number;
  /** A longer first warm-up than --warmup, for workloads that take longer to reach steady state. */
  readonly minWarmupSeconds?: number;
}

/** The result for each side: a measurement, or why there is none. */
export type SideOutcome = { readonly ok: true; readonly measurement: WindowMeasurement } | { readonly ok: false; readonly error: string };

interface Side {
  readonly impl: Impl;
  hello: ServerHello | undefined;
  server: ServerProcess | undefined;
  generator: LoadGenerator | undefined;
  error: string | undefined;
  warmedUp: boolean;
  serverCpuSeconds: number;
  cpuSources: Set<string>;
  generatorCpuSeconds: number;
  slices: number;
  undrainedSlices: number;
  results: WorkerResult[] | undefined;
  rounds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Warm-up before a side's later slices: enough to refill the pipeline after a pause. */
const REWARM_SECONDS = 0.15;

/**
 * The slice order: A B B A A B B A … so each side goes first and last equally often.
 * @param order - the two sides, first one first
 * @param slicesPerSide - slices for each
 * @returns the sequence of sides
 */
export function sliceSequence(order: readonly Impl[], slicesPerSide: number): Impl[] {
  const [a, b] = order;
  if (a === undefined || b === undefined) return [...order];
  const sequence: Impl[] = [];
  for (let i = 0; i < slicesPerSide; i++) sequence.push(...(i % 2 === 0 ? [a, b] : [b, a]));
  return sequence;
}

async function teardown(side: Side): Promise<void> {
  const { server, generator } = side;
  side.server = undefined;
  side.generator = undefined;
  await server?.kill();
  await generator?.close();
}

async function setUp(context: RunContext, plan: WindowPlan, side: Side): Promise<void> {
  const server = await ServerProcess.start({
    impl: side.impl,
    mode: plan.mode,
    module: context.modules[side.impl],
    host: context.host,
  });
  side.server = server;
  side.hello = server.hello;
  context.progress.line(plan.workload, side.impl, `server pid ${server.pid} on port ${server.port}; connecting`);
  side.generator = await LoadGenerator.launch(plan.jobs(server.port), plan.openTimeoutMs ?? 60_000);
}

async function measureSlice(context: RunContext, plan: WindowPlan, side: Side, seconds: number, last: boolean): Promise<void> {
  const { server, generator } = side;
  if (server === undefined || generator === undefined) return;
  generator.start();
  const warmup = Math.max(context.warmupSeconds, plan.minWarmupSeconds ?? 0);
  await sleep((side.warmedUp ? REWARM_SECONDS : warmup) * 1000);
  side.warmedUp = true;
  generator.mark();
  const generatorBefore = process.cpuUsage();
  const serverBefore = await server.cpuSample();
  await sleep(seconds * 1000);
  generator.pause();
  const generatorCpu = process.cpuUsage(generatorBefore);
  const serverAfter = await server.cpuSample();
  const delta = cpuDelta(serverBefore, serverAfter);
  side.serverCpuSeconds += delta.seconds;
  side.cpuSources.add(delta.source);
  side.generatorCpuSeconds += (generatorCpu.user + generatorCpu.system) / 1e6;
  side.slices++;
  if (last) {
    // Nothing follows on this side: collect its totals and free the CPU for the other side.
    side.results = await generator.report();
    side.rounds = generator.rounds;
    await teardown(side);
    return;
  }
  const drained = await generator.drain(plan.drainTimeoutMs ?? 3_000);
  if (!drained) side.undrainedSlices++;
}

/**
 * Measures a workload on both sides in alternating slices.
 * @param context - durations, modules, progress
 * @param plan - server mode, jobs and slicing
 * @param order - which side goes first
 * @returns each side's measurement or error
 */
export async function measureAlternating(
  context: RunContext,
  plan: WindowPlan,
  order: readonly Impl[],
): Promise<Record<Impl, SideOutcome>> {
  const slicesPerSide = plan.slices ?? context.slices;
  const sliceSeconds = context.durationSeconds / slicesPerSide;
  const sides = new Map<Impl, Side>(
    order.map((impl) => [
      impl,
      {
        impl,
        hello: undefined,
        server: undefined,
        generator: undefined,
        error: undefined,
        warmedUp: false,
        serverCpuSeconds: 0,
        cpuSources: new Set<string>(),
        generatorCpuSeconds: 0,
        slices: 0,
        undrainedSlices: 0,
        results: undefined,
        rounds: 0,
      },
    ]),
  );
  try {
    // Both sides start and connect at once: nothing is measured yet, and it halves the set-up time.
    await Promise.all(
      [...sides.values()].map(async (side) => {
        try {
          await setUp(context, plan, side);
        } catch (error) {
          side.error = errorMessage(error);
          await teardown(side);
        }
      }),
    );
    const sequence = sliceSequence(order, slicesPerSide);
    for (const [index, impl] of sequence.entries()) {
      const side = sides.get(impl);
      if (side === undefined || side.error !== undefined) continue;
      const last = !sequence.slice(index + 1).includes(impl);
      context.progress.line(plan.workload, impl, `slice ${side.slices + 1}/${slicesPerSide}: measuring ${sliceSeconds.toFixed(2)} s`);
      try {
        await measureSlice(context, plan, side, sliceSeconds, last);
      } catch (error) {
        side.error = errorMessage(error);
        await teardown(side);
      }
    }
  } finally {
    for (const side of sides.values()) await teardown(side);
  }
  const outcome = (impl: Impl): SideOutcome => {
    const side = sides.get(impl);
    if (side === undefined) return { ok: false, error: 'not run' };
    if (side.error !== undefined) return { ok: false, error: side.error };
    if (side.results === undefined) return { ok: false, error: 'no results' };
    return { ok: true, measurement: summarize(side, side.results) };
  };
  return { parley: outcome('parley'), ws: outcome('ws') };
}

function summarize(side: Side, results: readonly WorkerResult[]): WindowMeasurement {
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
  const sources = [...side.cpuSources];
  const sliceRates: number[] = [];
  for (const result of results) {
    result.windows.forEach((window, i) => {
      sliceRates[i] = (sliceRates[i] ?? 0) + (window.seconds > 0 ? window.verified / window.seconds : 0);
    });
  }
  return {
    module: side.hello?.module ?? '',
    serverPid: side.hello?.pid ?? 0,
    bufferutil: side.hello?.bufferutil ?? false,
    broadcastStrategy: side.hello?.broadcast ?? '',
    windowSeconds: results.length > 0 ? seconds / results.length : 0,
    verifiedPerSecond: perSecond,
    sliceRates,
    medianSliceRate: median(sliceRates),
    verified,
    sent,
    bytes,
    failures,
    failureSamples: samples.slice(0, 5),
    serverCpuSeconds: side.serverCpuSeconds,
    serverCpuSource: sources.length === 1 ? (sources[0] ?? 'none') : sources.join('+'),
    generatorCpuSeconds: side.generatorCpuSeconds,
    slices: side.slices,
    undrainedSlices: side.undrainedSlices,
    rounds: side.rounds,
    latenciesMs,
  };
}
