/**
 * Memory per idle connection: the server's RSS after forced full GCs, before and after N idle
 * connections are open (10,000 by default, 1,000 with --quick). Figure: RSS growth / N in KiB.
 * Both processes need N + a few file descriptors: `ulimit -n` is checked first.
 */
import { LoadGenerator } from '../load/generator.js';
import { ServerProcess } from '../servers/server-process.js';
import { errorMessage } from '../error-message.js';
import { splitEvenly } from './split.js';
import type { FigureDef, Impl, RunContext, RunOutcome, RunRecord, Workload } from './types.js';

/** Descriptors a process needs beyond its sockets (stdio, IPC, libuv, workers). */
const SPARE_DESCRIPTORS = 64;
const OPEN_CONCURRENCY = 100;
/** Lets the server finish whatever it does after each handshake before memory is read. */
const SETTLE_MS = 500;

const FIGURE: FigureDef = {
  key: 'idle-memory.kib-per-conn',
  label: 'RSS per idle connection (KiB)',
  unit: 'KiB/conn',
  better: 'lower',
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The idle-memory workload: one side after the other (memory is not what a busy neighbour moves). */
export const idleMemoryWorkload: Workload = {
  name: 'idle-memory',
  title: 'server RSS growth per open, idle connection after forced GC',
  figures: [FIGURE],
  async run(context, order) {
    const outcomes: Partial<Record<Impl, RunOutcome>> = {};
    for (const impl of order) {
      try {
        outcomes[impl] = { ok: true, record: await measureIdle(context, impl) };
      } catch (error) {
        outcomes[impl] = { ok: false, error: errorMessage(error) };
      }
    }
    return { parley: outcomes.parley ?? { ok: false, error: 'not run' }, ws: outcomes.ws ?? { ok: false, error: 'not run' } };
  },
};

/**
 * Measures one side: a fresh server, RSS after GC, N connections, RSS after GC again.
 * @param context - connection count, modules, progress
 * @param impl - the side
 * @returns the record
 */
async function measureIdle(context: RunContext, impl: Impl): Promise<RunRecord> {
  const count = context.idleConnections;
  const limit = context.openFileLimit;
  if (limit !== undefined && limit < count + SPARE_DESCRIPTORS) {
    throw new Error(
      `ulimit -n is ${limit}; ${count} idle connections need ${count + SPARE_DESCRIPTORS}: ` +
        `run 'ulimit -n ${count * 2}' first or pass --idle-connections ${Math.max(0, limit - SPARE_DESCRIPTORS)}`,
    );
  }
  const { progress } = context;
  const server = await ServerProcess.start({ impl, mode: 'echo', module: context.modules[impl], host: context.host });
  let generator: LoadGenerator | undefined;
  try {
    const before = await server.stats(true);
    const generatorCpuBefore = process.cpuUsage();
    progress.line('idle-memory', impl, `server pid ${server.pid}; opening ${count} connections`);
    generator = await LoadGenerator.launch(
      splitEvenly(count, context.workers).map((connections) => ({
        kind: 'idle',
        host: context.host,
        port: server.port,
        connections,
        concurrency: Math.max(1, Math.floor(OPEN_CONCURRENCY / context.workers)),
      })),
      180_000,
    );
    await sleep(SETTLE_MS);
    const after = await server.stats(true);
    const generatorCpu = process.cpuUsage(generatorCpuBefore);
    const results = await generator.report();
    const open = results.reduce((n, r) => n + r.verified, 0);
    let failures = results.reduce((n, r) => n + r.failures, 0);
    const samples = results.flatMap((r) => r.failureSamples);
    if (open !== count || after.connections !== count) {
      failures++;
      samples.push(`expected ${count} open connections; generator holds ${open}, server counts ${after.connections}`);
    }
    progress.line('idle-memory', impl, `RSS ${(before.memory.rss / 2 ** 20).toFixed(1)} → ${(after.memory.rss / 2 ** 20).toFixed(1)} MiB`);
    const perConnection = (bytes: number): number => bytes / count / 1024;
    return {
      impl,
      module: server.hello.module,
      serverPid: server.pid,
      bufferutil: server.hello.bufferutil,
      windowSeconds: 0,
      verified: open,
      sent: 0,
      bytes: 0,
      failures,
      failureSamples: samples.slice(0, 5),
      serverCpuSeconds: (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6,
      generatorCpuSeconds: (generatorCpu.user + generatorCpu.system) / 1e6,
      values: { [FIGURE.key]: perConnection(after.memory.rss - before.memory.rss) },
      details: {
        connections: count,
        gcForced: after.gcForced && before.gcForced,
        rssBeforeBytes: before.memory.rss,
        rssAfterBytes: after.memory.rss,
        heapUsedKiBPerConn: perConnection(after.memory.heapUsed - before.memory.heapUsed),
        externalKiBPerConn: perConnection(after.memory.external - before.memory.external),
        note: 'CPU columns cover opening the connections',
      },
    };
  } finally {
    await server.kill();
    await generator?.close();
  }
}
