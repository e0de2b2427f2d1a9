/**
 * The real-time benchmark (issue 5, "Measure"), both implementations in one run, each server in a
 * child process of its own, the load from raw sockets (bench/load):
 *
 * 1. Broadcast deliveries/s: N clients, each sends one message per round, the server relays every
 *    message to all N (N² deliveries a round, each verified byte for byte). Parley relays with
 *    `wss.publish` (topics: framed once, the same bytes for every subscriber); `ws` loops over its
 *    clients as its README shows. Runs alternate between the two; the median run is reported,
 *    with the server's CPU time per delivery.
 * 2. p99 delivery latency of fast clients while one client never reads: a publisher sends
 *    timestamped messages at a fixed rate both servers sustain, the server relays them to every
 *    client. The same run without the slow client is the baseline.
 *
 *     node dist/bench/realtime.js [--clients 100] [--seconds 3] [--runs 3] [--workers 1] [--json FILE]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { trackChild } from './child-processes.js';
import { describeMachine } from './machine.js';
import { LoadGenerator } from './load/generator.js';
import type { BroadcastJob } from './load/messages.js';
import { procCpuSeconds } from './servers/proc-cpu.js';
import type { FromServer, RealtimeStats } from './realtime/ipc.js';
import { LatencyProbe } from './realtime/latency-probe.js';
import { percentile } from './workloads/statistics.js';
import { splitEvenly } from './workloads/split.js';
import { positiveOption } from './cli-options.js';

type Impl = 'parley' | 'ws';
const IMPLS: readonly Impl[] = ['parley', 'ws'];
const HOST = '127.0.0.1';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1' },
    'latency-seconds': { type: 'string', default: '5' },
    'fast-clients': { type: 'string', default: '50' },
    rate: { type: 'string', default: '500' },
    'payload': { type: 'string', default: '2048' },
    json: { type: 'string' },
  },
  strict: true,
});
const num = positiveOption;
const CLIENTS = num('clients', values.clients);
const SECONDS = num('seconds', values.seconds);
const RUNS = num('runs', values.runs);
const WORKERS = num('workers', values.workers);
const LATENCY_SECONDS = num('latency-seconds', values['latency-seconds']);
const FAST = num('fast-clients', values['fast-clients']);
const RATE = num('rate', values.rate);
const PAYLOAD = num('payload', values.payload);

/** A server child. */
class ServerChild {
  #nextId = 1;
  readonly #pending = new Map<number, (stats: RealtimeStats) => void>();
  private constructor(readonly child: ChildProcess, readonly port: number) {
    child.on('message', (raw: unknown) => {
      const message = raw as FromServer;
      this.#pending.get(message.id)?.(message.stats);
      this.#pending.delete(message.id);
    });
  }

  static start(impl: Impl): Promise<ServerChild> {
    const child = fork(new URL('./realtime/server.js', import.meta.url), ['--impl', impl, '--host', HOST], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    trackChild(child);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${impl} server not ready`)), 15_000);
      child.once('exit', (code) => reject(new Error(`${impl} server exited (${String(code)})`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^ready (\d+)$/.exec(line);
        if (m === null) return;
        clearTimeout(timer);
        resolve(new ServerChild(child, Number(m[1])));
      });
    });
  }

  stats(): Promise<RealtimeStats> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no stats')), 30_000);
      this.#pending.set(id, (s) => { clearTimeout(timer); resolve(s); });
      this.child.send({ type: 'stats', id });
    });
  }

  cpu(): number {
    return procCpuSeconds(this.child.pid!) ?? Number.NaN;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
  }
}

interface ThroughputRun {
  impl: Impl;
  deliveriesPerSecond: number;
  cpuMicrosPerDelivery: number;
  failures: number;
}

async function throughputRun(impl: Impl): Promise<ThroughputRun> {
  const server = await ServerChild.start(impl);
  try {
    let first = 0;
    const jobs = splitEvenly(CLIENTS, WORKERS).map((share): BroadcastJob => {
      const job: BroadcastJob = { kind: 'broadcast', host: HOST, port: server.port, firstClient: first, clients: share, totalClients: CLIENTS, payloadSize: 32 };
      first += share;
      return job;
    });
    const generator = await LoadGenerator.launch(jobs, 30_000);
    try {
      generator.start();
      await sleep(1000); // warm-up: JIT, socket buffers
      const cpu0 = server.cpu();
      generator.mark();
      await sleep(SECONDS * 1000);
      generator.pause();
      const cpu1 = server.cpu();
      await generator.drain(10_000);
      const results = await generator.report();
      const verified = results.reduce((n, r) => n + r.verified, 0);
      const seconds = results.reduce((n, r) => n + r.seconds, 0) / results.length;
      return {
        impl,
        deliveriesPerSecond: verified / seconds,
        cpuMicrosPerDelivery: ((cpu1 - cpu0) * 1e6) / verified,
        failures: results.reduce((n, r) => n + r.failures, 0),
      };
    } finally {
      await generator.close();
    }
  } finally {
    await server.kill();
  }
}

interface LatencyRun {
  impl: Impl;
  slowClients: number;
  p50: number;
  p99: number;
  p999: number;
  samples: number;
  deliveredShare: number;
  slowQueuedBytes: number;
  rssMiB: number;
  droppedForSlow: number | undefined;
}

async function latencyRun(impl: Impl, slowClients: number): Promise<LatencyRun> {
  const server = await ServerChild.start(impl);
  const probe = await LatencyProbe.open({ host: HOST, port: server.port, fastClients: FAST, slowClients, rate: RATE, payloadSize: PAYLOAD });
  try {
    probe.start(RATE, PAYLOAD);
    // Long enough for the slow client's kernel buffers to fill and the server to start holding.
    await sleep(3000);
    probe.measure(true);
    await sleep(LATENCY_SECONDS * 1000);
    probe.measure(false);
    probe.stop();
    const stats = await server.stats();
    await sleep(500);
    const sorted = probe.samples();
    const { sent, deliveredToFast } = probe.counts();
    return {
      impl,
      slowClients,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      samples: sorted.length,
      deliveredShare: deliveredToFast / (sent * FAST),
      slowQueuedBytes: stats.maxBuffered,
      rssMiB: stats.rss / 2 ** 20,
      droppedForSlow: stats.topic?.dropped,
    };
  } finally {
    probe.close();
    await server.kill();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const machine = describeMachine();
process.stdout.write(`real-time bench: ${machine.cpus} CPU (${machine.cpuModel}), ${machine.node}, load ${machine.loadAverageAtStart.toFixed(2)}\n`);
process.stdout.write(`broadcast: ${CLIENTS} clients, 32 B messages, ${RUNS} alternating runs of ${SECONDS} s, ${WORKERS} generator worker(s)\n`);
const runs: ThroughputRun[] = [];
for (let r = 0; r < RUNS; r++) {
  for (const impl of r % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
    const run = await throughputRun(impl);
    runs.push(run);
    process.stdout.write(`  ${impl.padEnd(6)} run ${r + 1}: ${fmt(run.deliveriesPerSecond)} deliveries/s, ${fmt(run.cpuMicrosPerDelivery, 2)} µs server CPU per delivery${run.failures > 0 ? `, ${run.failures} FAILURES` : ''}\n`);
  }
}
const throughput = Object.fromEntries(IMPLS.map((impl) => {
  const mine = runs.filter((r) => r.impl === impl);
  return [impl, { deliveriesPerSecond: median(mine.map((r) => r.deliveriesPerSecond)), cpuMicrosPerDelivery: median(mine.map((r) => r.cpuMicrosPerDelivery)), failures: mine.reduce((n, r) => n + r.failures, 0) }];
})) as Record<Impl, { deliveriesPerSecond: number; cpuMicrosPerDelivery: number; failures: number }>;

process.stdout.write(`latency: ${FAST} fast clients (+ 1 that never reads, or none), ${RATE} msg/s of ${PAYLOAD} B, ${RUNS} alternating runs of ${LATENCY_SECONDS} s measured after 3 s\n`);
const latencyRuns: LatencyRun[] = [];
for (let r = 0; r < RUNS; r++) {
  for (const slowClients of [1, 0]) {
    for (const impl of r % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
      const run = await latencyRun(impl, slowClients);
      latencyRuns.push(run);
      process.stdout.write(`  ${impl.padEnd(6)} ${slowClients === 1 ? 'slow client' : 'no slow    '} run ${r + 1}: p50 ${run.p50.toFixed(2)} ms, p99 ${run.p99.toFixed(2)} ms, p99.9 ${run.p999.toFixed(2)} ms (${fmt(run.samples)} samples, ${(run.deliveredShare * 100).toFixed(1)}% delivered); most queued for one client ${fmt(run.slowQueuedBytes / 2 ** 20, 1)} MiB, server RSS ${fmt(run.rssMiB)} MiB${run.droppedForSlow !== undefined ? `, ${fmt(run.droppedForSlow)} dropped` : ''}\n`);
    }
  }
}
/** Median of each figure over the runs of one implementation and one setting. */
const latencyOf = (impl: Impl, slowClients: number): LatencyRun => {
  const mine = latencyRuns.filter((r) => r.impl === impl && r.slowClients === slowClients);
  const m = (f: (r: LatencyRun) => number): number => median(mine.map(f));
  return {
    impl,
    slowClients,
    p50: m((r) => r.p50),
    p99: m((r) => r.p99),
    p999: m((r) => r.p999),
    samples: m((r) => r.samples),
    deliveredShare: Math.min(...mine.map((r) => r.deliveredShare)),
    slowQueuedBytes: m((r) => r.slowQueuedBytes),
    rssMiB: m((r) => r.rssMiB),
    droppedForSlow: mine[0]?.droppedForSlow === undefined ? undefined : m((r) => r.droppedForSlow ?? 0),
  };
};
const latency = [latencyOf('parley', 1), latencyOf('ws', 1), latencyOf('parley', 0), latencyOf('ws', 0)];

process.stdout.write(`\nmedians; load average at start ${machine.loadAverageAtStart.toFixed(2)} on ${machine.cpus} CPUs\n`);
const p = throughput.parley;
const w = throughput.ws;
process.stdout.write('\n| | Parley `publish` | ws (loop over clients) | Parley / ws |\n|---|---|---|---|\n');
process.stdout.write(`| broadcast deliveries/s (${CLIENTS} clients) | ${fmt(p.deliveriesPerSecond)} | ${fmt(w.deliveriesPerSecond)} | ${(p.deliveriesPerSecond / w.deliveriesPerSecond).toFixed(2)}× |\n`);
process.stdout.write(`| server CPU per delivery (µs) | ${fmt(p.cpuMicrosPerDelivery, 2)} | ${fmt(w.cpuMicrosPerDelivery, 2)} | ${(p.cpuMicrosPerDelivery / w.cpuMicrosPerDelivery).toFixed(2)}× |\n`);
const [lp, lw, bp, bw] = [latency[0]!, latency[1]!, latency[2]!, latency[3]!];
process.stdout.write(`| fast clients' p50 / p99 latency, one client slow (ms) | ${lp.p50.toFixed(2)} / ${lp.p99.toFixed(2)} | ${lw.p50.toFixed(2)} / ${lw.p99.toFixed(2)} | ${(lp.p99 / lw.p99).toFixed(2)}× (p99) |\n`);
process.stdout.write(`| same, no slow client (ms) | ${bp.p50.toFixed(2)} / ${bp.p99.toFixed(2)} | ${bw.p50.toFixed(2)} / ${bw.p99.toFixed(2)} | ${(bp.p99 / bw.p99).toFixed(2)}× (p99) |\n`);
process.stdout.write(`| bytes queued for the slow client after ${3 + LATENCY_SECONDS} s (MiB) | ${fmt(lp.slowQueuedBytes / 2 ** 20, 1)} | ${fmt(lw.slowQueuedBytes / 2 ** 20, 1)} | |\n`);
process.stdout.write(`| delivered to fast clients (worst run) | ${(Math.min(lp.deliveredShare, bp.deliveredShare) * 100).toFixed(1)}% | ${(Math.min(lw.deliveredShare, bw.deliveredShare) * 100).toFixed(1)}% | |\n`);

if (values.json !== undefined) {
  writeFileSync(values.json, `${JSON.stringify({ machine, settings: { CLIENTS, SECONDS, RUNS, WORKERS, FAST, RATE, PAYLOAD, LATENCY_SECONDS }, runs, throughput, latencyRuns, latency }, null, 2)}\n`);
}
if (runs.some((r) => r.failures > 0)) process.exitCode = 1;
