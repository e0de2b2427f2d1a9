/**
 * `npm run soak -- --minutes N [--connections N]`: a Parley server process under thousands of
 * connections with churn, echoes, publishes broadcast with `wss.broadcast`, compressed traffic and
 * slow readers, for N minutes. Every minute: the server's RSS, heap and open file descriptors,
 * errors, deliveries and loss; every ~15 s a progress line. At the end: RSS drift between minute 1
 * and the end (target < 5 %), loss (must be 0), a verdict, exit 1 when it fails.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { LATENCY_BUCKETS, percentile, type LoadConfig, type LoadStats, type ServerReady, type ServerStats } from './protocol.js';

const USAGE = `usage: npm run soak -- [options]   (or: node dist/bench/soak/main.js [options])

  --minutes N            measured duration (default 30)
  --warmup N             minutes of load before the measured period, to let the connections,
                         zlib state and the V8 heap ramp up (default 2; 0 measures from the start)
  --connections N        ordinary connections kept open, with churn (default 2000)
  --compressed SHARE     share of connections that negotiate permessage-deflate (default 0.25)
  --slow N               slow readers open at any time (default 4)
  --publish-rate N       publishes per second, each broadcast to every connection (default 2)
  --echo-interval MS     mean ms between echoes per connection (default 5000)
  --lifetime MIN-MAX     connection lifetime in seconds (default 10-60)
  --load-procs N         load generator processes (default 2)
  --buffer-cap BYTES     server maxBufferedAmount (policy close) (default 1048576)
  --json FILE            also write the samples and the verdict as JSON
  --help`;

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function openFileLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s+/)[3];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

function sum(map: Record<string, number>, skip: (k: string) => boolean = () => false): number {
  let n = 0;
  for (const [k, v] of Object.entries(map)) if (!skip(k)) n += v;
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '2000' },
      compressed: { type: 'string', default: '0.25' },
      slow: { type: 'string', default: '4' },
      'publish-rate': { type: 'string', default: '2' },
      'echo-interval': { type: 'string', default: '5000' },
      lifetime: { type: 'string', default: '10-60' },
      'load-procs': { type: 'string', default: '2' },
      'buffer-cap': { type: 'string', default: String(MiB) },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const minutes = Number(values.minutes);
  const warmup = Number(values.warmup);
  const connections = Number(values.connections);
  const compressedShare = Number(values.compressed);
  const slow = Number(values.slow);
  const publishRate = Number(values['publish-rate']);
  const echoInterval = Number(values['echo-interval']);
  const [lifeMin, lifeMax] = values.lifetime.split('-').map(Number) as [number, number];
  const procs = Number(values['load-procs']);
  const bufferCap = Number(values['buffer-cap']);
  if (!(minutes > 0) || !(warmup >= 0) || !(connections > 0) || !(procs >= 1) || !(lifeMax >= lifeMin) || !(lifeMin > 0)) throw new RangeError('bad arguments');

  // Each process holds its connections' sockets plus some: check the descriptor limit first.
  const limit = openFileLimit();
  const perLoad = Math.ceil(connections / procs) + slow + 200;
  const server = connections + slow + 200;
  if (Math.max(perLoad, server) > limit) {
    throw new RangeError(`ulimit -n is ${limit}; the server needs about ${server} descriptors: raise it (ulimit -n ${server * 2}) or lower --connections`);
  }

  const t0 = performance.now();
  const warmupSec = warmup * 60;
  /** Seconds into the measured period (negative during the warm-up). */
  const elapsed = (): number => (performance.now() - t0) / 1000 - warmupSec;
  const stamp = (): string => {
    const sec = elapsed();
    const a = Math.abs(sec);
    return `[${sec < 0 ? 'warm-up -' : ''}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(Math.floor(a % 60)).padStart(2, '0')}]`;
  };
  console.log(`soak: ${minutes} min after a ${warmup} min warm-up, ${fmt(connections)} connections (${(compressedShare * 100).toFixed(0)} % compressed, lifetime ${lifeMin}-${lifeMax} s), ${slow} slow readers, ${publishRate} publishes/s broadcast to all, echo every ~${echoInterval} ms per connection, buffer cap ${fmt(bufferCap)} B (close), ${procs} load processes; ulimit -n ${limit}`);

  // ---- processes ----
  const serverProc = fork(join(here, 'server.js'), [], { env: { ...process.env, SOAK_BUFFER_CAP: String(bufferCap) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let serverExited: string | undefined;
  serverProc.on('exit', (code, signal) => {
    serverExited = `server exited (code ${code}, signal ${signal})`;
  });
  const ready = await new Promise<ServerReady>((resolve, reject) => {
    serverProc.once('message', (m: ServerReady) => resolve(m));
    serverProc.once('exit', () => reject(new Error('the soak server exited before listening')));
  });
  const url = `ws://127.0.0.1:${ready.port}/`;

  const loads: ChildProcess[] = [];
  const loadStats = new Map<number, LoadStats>();
  const latency = LATENCY_BUCKETS.map(() => 0);
  let minuteLatency = LATENCY_BUCKETS.map(() => 0);
  let loadExited: string | undefined;
  for (let i = 0; i < procs; i++) {
    const p = fork(join(here, 'load.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    p.on('message', (m: LoadStats) => {
      loadStats.set(m.index, m);
      m.latency.forEach((n, k) => {
        latency[k]! += n;
        minuteLatency[k]! += n;
      });
    });
    p.on('exit', (code, signal) => {
      if (code !== 0 && code !== null) loadExited = `load process ${i} exited (code ${code}, signal ${signal})`;
    });
    const share = Math.floor(connections / procs) + (i < connections % procs ? 1 : 0);
    const config: LoadConfig = {
      type: 'config', index: i, url, connections: share, compressedShare,
      slowReaders: Math.floor(slow / procs) + (i < slow % procs ? 1 : 0),
      publishRate: publishRate / procs, echoIntervalMs: echoInterval,
      lifetimeMinMs: lifeMin * 1000, lifetimeMaxMs: lifeMax * 1000, seed: (Date.now() + i * 7919) | 0,
    };
    p.send(config);
    loads.push(p);
  }

  const serverStats = (): Promise<ServerStats> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the soak server did not answer a stats request within 10 s')), 10_000);
    serverProc.once('message', (m: ServerStats) => {
      clearTimeout(timer);
      resolve(m);
    });
    serverProc.send({ type: 'stats' });
  });
  const total = (): LoadStats => {
    const t = { connects: 0, connectFailures: 0, closes: 0, open: 0, openCompressed: 0, echoesSent: 0, echoesReceived: 0, echoLost: 0, publishesSent: 0, publishesDelivered: 0, publishLost: 0, broadcastsReceived: 0, broadcastGaps: 0, orderErrors: 0, corrupt: 0, unexpectedCloses: 0, clientErrors: 0, slowStarted: 0, slowCapped: 0, slowNotCapped: 0 } as Record<string, number>;
    let last = '';
    const problems: LoadStats['problems'] = {};
    for (const l of loadStats.values()) {
      for (const k of Object.keys(t)) t[k]! += (l as unknown as Record<string, number>)[k]!;
      if (l.lastProblem > last) last = l.lastProblem;
      for (const [kind, p] of Object.entries(l.problems)) {
        const e = problems[kind];
        if (e === undefined) problems[kind] = { ...p };
        else e.count += p.count;
      }
    }
    return { ...(t as unknown as LoadStats), lastProblem: last, problems };
  };
  const loss = (t: LoadStats): number => t.echoLost + t.publishLost + t.broadcastGaps;

  // ---- sampling ----
  interface Sample { t: number; rss: number; heap: number; fds: number; clients: number }
  const samples: Sample[] = [];
  const minuteLines: string[] = [];
  let lastStats: ServerStats | undefined;
  let lastMinute = 0;
  let lastProgress = -Infinity;
  let prevMinute = { deliveries: 0, echoes: 0, connects: 0 };
  const endAt = minutes * 60;
  let failure: string | undefined;

  while (elapsed() < endAt) {
    await new Promise((r) => setTimeout(r, 1000));
    if (serverExited !== undefined) {
      failure = serverExited;
      break;
    }
    if (loadExited !== undefined) {
      failure = loadExited;
      break;
    }
    let st: ServerStats;
    try {
      st = await serverStats();
    } catch (error) {
      failure = String(error);
      break;
    }
    lastStats = st;
    samples.push({ t: elapsed(), rss: st.rss, heap: st.heapUsed, fds: st.fds, clients: st.clients });
    const t = total();
    const minute = Math.floor(elapsed() / 60);
    if (elapsed() > 0 && minute > lastMinute) {
      lastMinute = minute;
      const line = `${stamp()} minute ${minute}/${minutes}: server rss ${(st.rss / MiB).toFixed(1)} MiB, heap ${(st.heapUsed / MiB).toFixed(1)} MiB, fds ${st.fds}, clients ${st.clients} (${st.compressedConnections} compressed), zlib streams ${st.deflate.streams} | ` +
        `connects +${fmt(t.connects - prevMinute.connects)}, echoes +${fmt(t.echoesReceived - prevMinute.echoes)}, deliveries +${fmt(st.deliveries - prevMinute.deliveries)} | ` +
        `loss ${loss(t)} (echo ${t.echoLost}, broadcast gaps ${t.broadcastGaps}, publish ${t.publishLost}), order ${t.orderErrors}, corrupt ${t.corrupt}, unexpected closes ${t.unexpectedCloses}, client errors ${t.clientErrors}, server errors ${JSON.stringify(st.errors)} | ` +
        `slow readers capped ${t.slowCapped}, not capped ${t.slowNotCapped} | broadcast latency p50 ≤${percentile(minuteLatency, 0.5)} ms, p99 ≤${percentile(minuteLatency, 0.99)} ms`;
      console.log(line);
      minuteLines.push(line);
      prevMinute = { deliveries: st.deliveries, echoes: t.echoesReceived, connects: t.connects };
      minuteLatency = LATENCY_BUCKETS.map(() => 0);
    } else if (elapsed() - lastProgress >= 15) {
      lastProgress = elapsed();
      console.log(`${stamp()} ${elapsed() < 0 ? 'warm-up' : `${((elapsed() / endAt) * 100).toFixed(0)} %`}: ${st.clients} clients, rss ${(st.rss / MiB).toFixed(1)} MiB, fds ${st.fds}, echoes ${fmt(t.echoesReceived)}, deliveries ${fmt(st.deliveries)}, loss ${loss(t)}${t.lastProblem !== '' ? ` | last problem: ${t.lastProblem}` : ''}`);
    }
  }

  // ---- drain and stop ----
  console.log(`${stamp()} stopping: load processes drain and close every connection…`);
  for (const p of loads) p.send({ type: 'stop' });
  const drainDeadline = performance.now() + 180_000;
  while (performance.now() < drainDeadline && [...loadStats.values()].some((l) => !l.done) && serverExited === undefined) {
    await new Promise((r) => setTimeout(r, 500));
  }
  const drained = [...loadStats.values()].every((l) => l.done) && loadStats.size === procs;
  await new Promise((r) => setTimeout(r, 35_000)); // the server's closeTimeout (30 s) for the slow readers' connections, and the last closes
  let after: ServerStats | undefined;
  try {
    if (serverExited === undefined) after = await serverStats();
  } catch {
    after = undefined;
  }
  const t = total();

  // ---- verdict ----
  // Minute 1 = the mean of the samples taken during its last 20 s; the end = the last 20 s of load.
  const window = (from: number, to: number): Sample[] => samples.filter((x) => x.t >= from && x.t < to);
  const mean = (xs: Sample[], f: (x: Sample) => number): number => (xs.length === 0 ? NaN : xs.reduce((a, x) => a + f(x), 0) / xs.length);
  const first = window(40, 60);
  const lastT = samples.length > 0 ? samples[samples.length - 1]!.t : 0;
  const last = window(lastT - 20, lastT + 1);
  const rss1 = mean(first, (x) => x.rss);
  const rssEnd = mean(last, (x) => x.rss);
  const drift = ((rssEnd - rss1) / rss1) * 100;
  const heap1 = mean(first, (x) => x.heap);
  const heapEnd = mean(last, (x) => x.heap);
  const fds1 = mean(first, (x) => x.fds);
  const fdsEnd = mean(last, (x) => x.fds);
  const peakRss = Math.max(...samples.filter((x) => x.t >= 0).map((x) => x.rss));
  // For reading the drift: the same comparison from minute 3 (after the ramp-up of connections,
  // zlib state and the V8 heap), and the least-squares slope of RSS over the second half.
  const third = window(160, 180);
  const rss3 = mean(third, (x) => x.rss);
  const drift3 = ((rssEnd - rss3) / rss3) * 100;
  const half = samples.filter((x) => x.t >= lastT / 2);
  const slope = (() => {
    if (half.length < 2) return NaN;
    const mt = mean(half, (x) => x.t);
    const mr = mean(half, (x) => x.rss);
    let num = 0;
    let den = 0;
    for (const x of half) {
      num += (x.t - mt) * (x.rss - mr);
      den += (x.t - mt) ** 2;
    }
    return ((num / den) * 60) / MiB; // MiB per minute
  })();
  const serverErrors = sum(lastStats?.errors ?? {}, (k) => k === 'ERR_WS_BUFFER_OVERFLOW');
  const overflows = lastStats?.errors.ERR_WS_BUFFER_OVERFLOW ?? 0;
  const fdsAfter = after?.fds;
  const clientsAfter = after?.clients;

  const checks: Array<[string, boolean]> = [
    [`ran the full ${minutes} min`, failure === undefined],
    ['zero loss (echo, broadcast, publish)', loss(t) === 0],
    ['zero order errors and corrupt messages', t.orderErrors === 0 && t.corrupt === 0],
    ['no unexpected closes or errors (clients and server, overflow of slow readers aside)', t.unexpectedCloses === 0 && t.clientErrors === 0 && serverErrors === 0 && t.connectFailures === 0],
    ['every slow reader was capped and closed', t.slowNotCapped === 0 && t.slowCapped > 0],
    [`RSS drift < 5 % (minute 1 → end)`, Number.isFinite(drift) && drift < 5],
    ['all connections drained and closed at the end', drained && (clientsAfter === undefined || clientsAfter === 0)],
  ];
  const pass = checks.every(([, ok]) => ok);
  const lines = [
    `soak verdict: ${pass ? 'PASS' : 'FAIL'}${failure !== undefined ? ` (${failure})` : ''}`,
    `  load: ${fmt(connections)} connections with churn (${fmt(t.connects)} connects, lifetime ${lifeMin}-${lifeMax} s, ${(compressedShare * 100).toFixed(0)} % permessage-deflate), ${slow} slow readers at a time, ${publishRate} publishes/s to all, ${minutes} min measured after a ${warmup} min warm-up (loss and errors counted over both)`,
    `  traffic: ${fmt(t.echoesReceived)} echoes, ${fmt(t.publishesDelivered)} publishes, ${fmt(lastStats?.deliveries ?? 0)} broadcast deliveries (${fmt(t.broadcastsReceived)} received)`,
    `  loss: ${loss(t)} (echo ${t.echoLost}, broadcast gaps ${t.broadcastGaps}, publish ${t.publishLost}); order errors ${t.orderErrors}; corrupt ${t.corrupt}; unexpected closes ${t.unexpectedCloses}; connect failures ${t.connectFailures}; client errors ${t.clientErrors}; server errors ${serverErrors}`,
    `  slow readers: ${t.slowCapped} capped and closed by the ${fmt(bufferCap)} B cap (server overflow errors ${overflows}), ${t.slowNotCapped} not closed`,
    `  server RSS: minute 1 ${(rss1 / MiB).toFixed(1)} MiB → end ${(rssEnd / MiB).toFixed(1)} MiB, drift ${drift >= 0 ? '+' : ''}${drift.toFixed(2)} % (target < 5 %), peak ${(peakRss / MiB).toFixed(1)} MiB; heap ${(heap1 / MiB).toFixed(1)} → ${(heapEnd / MiB).toFixed(1)} MiB; fds ${fds1.toFixed(0)} → ${fdsEnd.toFixed(0)}${fdsAfter !== undefined ? `, ${fdsAfter} after all closed (clients ${clientsAfter})` : ''}`,
    `  RSS after the ramp-up: minute 3 ${(rss3 / MiB).toFixed(1)} MiB → end, drift ${drift3 >= 0 ? '+' : ''}${drift3.toFixed(2)} %; slope over the second half ${slope >= 0 ? '+' : ''}${slope.toFixed(3)} MiB/min`,
    `  broadcast latency: p50 ≤${percentile(latency, 0.5)} ms, p99 ≤${percentile(latency, 0.99)} ms, p99.9 ≤${percentile(latency, 0.999)} ms`,
    ...checks.map(([name, ok]) => `  ${ok ? 'ok  ' : 'FAIL'} ${name}`),
  ];
  for (const [kind, p] of Object.entries(t.problems).sort((a, b) => b[1].count - a[1].count).slice(0, 8)) {
    lines.push(`  problem ×${p.count}: ${kind} (first: ${p.example})`);
  }
  console.log(`\n${lines.join('\n')}`);
  if (values.json !== undefined) {
    writeFileSync(values.json, JSON.stringify({ pass, lines, minuteLines, samples, totals: t, server: lastStats, after }, null, 2));
  }

  for (const p of loads) p.kill();
  serverProc.send({ type: 'exit' });
  setTimeout(() => serverProc.kill(), 3_000).unref();
  return pass ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 4_000).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exit(2);
  },
);
