/**
 * The benchmark orchestrator: `npm run bench` (or `node dist/bench/main.js --help`).
 *
 * Runs every workload against Parley and ws in the same run — each server a child process of its
 * own, the same raw-socket load generator in worker threads for both — then prints the figures
 * table (figure | parley | ws | ratio) and a CPU table on stdout, writes the same as JSON to
 * bench-results/latest.json and a ratio bar chart to bench-results/ratios.svg. Progress goes to
 * stderr. Exit status: 0 all measured and verified, 1 a failure or missing figure, 2 bad usage.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllChildren } from './child-processes.js';
import { USAGE, UsageError, parseOptions, type BenchOptions } from './cli-options.js';
import { errorMessage } from './error-message.js';
import { describeMachine } from './machine.js';
import { Progress } from './progress.js';
import { buildJsonReport } from './report/json-report.js';
import { ratioChart } from './report/ratio-chart.js';
import { summarize } from './report/summary.js';
import { runWarnings } from './report/warnings.js';
import { cpuTable, figuresTable } from './report/table.js';
import { runWorkloads } from './run-workloads.js';
import { loadServerClass } from './servers/ws-api.js';
import { selectWorkloads } from './workloads/registry.js';
import type { Impl } from './workloads/types.js';

/** Exit statuses, as documented in the usage text. */
const Exit = { ok: 0, failed: 1, usage: 2 } as const;

/** dist/bench/main.js → the package root, whatever the working directory. */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

async function checkModulesLoad(modules: Readonly<Record<Impl, string>>): Promise<void> {
  for (const [impl, specifier] of Object.entries(modules)) {
    try {
      await loadServerClass(specifier);
    } catch (error) {
      const hint = specifier === 'parley' ? " (is Parley's Node layer built? for a harness check use --parley-module ws)" : '';
      throw new UsageError(`the ${impl} slot cannot load '${specifier}': ${errorMessage(error)}${hint}`);
    }
  }
}

async function run(options: BenchOptions): Promise<number> {
  let workloads;
  try {
    workloads = selectWorkloads(options.only, options.quick);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  const modules: Record<Impl, string> = { parley: options.parleyModule, ws: 'ws' };
  await checkModulesLoad(modules);
  const progress = new Progress();
  const machine = describeMachine();
  const date = new Date();
  const harnessCheck = modules.parley === modules.ws;
  const notes = [
    `The generator (${options.workers} worker thread${options.workers === 1 ? '' : 's'} in the orchestrator process) and each ` +
      `server share this machine's ${machine.availableParallelism} cores; see the CPU table for who used what.`,
    'Only verified replies count: echoes byte for byte, broadcast deliveries per sender and round, handshakes by status and accept value.',
    'Absolute figures move with machine load; compare ratios from one run.',
    ...(harnessCheck ? [`Harness check: both slots import '${modules.ws}', so every ratio should be close to 1.`] : []),
    ...(modules.parley === 'floor'
      ? ["Floor run: the 'parley' slot is bench/servers/floor.ts, framing with no checks on Node's http and net.Socket; its ratios bound any library on Node's public socket API."]
      : []),
    ...(modules.parley === 'floor-raw'
      ? ["Floor run: the 'parley' slot is bench/servers/floor-raw.ts, framing with no checks on libuv handles through Node internals (no net.Socket, no http.Server)."]
      : []),
    ...(machine.loadAverageAtStart > machine.availableParallelism * 0.5
      ? [`Load average was ${machine.loadAverageAtStart.toFixed(2)} at the start: other work was running.`]
      : []),
  ];
  progress.note(
    `bench: ${workloads.length} workloads × 2 servers; parley slot = '${modules.parley}', ws slot = 'ws'; ` +
      `${options.durationSeconds} s per side in ${options.slices} alternating slices after ${options.warmupSeconds} s warm-up; ` +
      `${machine.availableParallelism} cores, node ${machine.node}`,
  );
  if (harnessCheck) progress.note('harness check: both slots run the same module');

  const results = await runWorkloads(workloads, {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    slices: options.slices,
    quick: options.quick,
    workers: options.workers,
    idleConnections: options.idleConnections,
    openFileLimit: machine.openFileLimit,
    modules,
    host: '127.0.0.1',
    progress,
  });
  const summary = summarize(results);
  notes.push(...runWarnings(results, options.workers));
  const report = buildJsonReport({
    options,
    modules,
    machine,
    loadAverageAtEnd: os.loadavg()[0] ?? 0,
    date,
    wallSeconds: progress.elapsedSeconds,
    notes,
    results,
    summary,
  });

  const outDir = path.resolve(options.outDir ?? path.join(PACKAGE_ROOT, 'bench-results'));
  await mkdir(outDir, { recursive: true });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const slot = (impl: Impl): string => (harnessCheck ? `${impl} (=${modules[impl]})` : impl);
  await writeFile(path.join(outDir, 'latest.json'), json);
  await writeFile(
    path.join(outDir, 'ratios.svg'),
    ratioChart(
      summary.rows,
      `${harnessCheck ? 'Harness check, ws vs ws' : 'Parley vs ws'} — ${date.toISOString().slice(0, 10)}, ` +
        `${machine.availableParallelism} cores, node ${machine.node}`,
    ),
  );

  if (options.jsonOnly) {
    process.stdout.write(json);
  } else {
    const lines = [
      figuresTable(summary, { parley: slot('parley'), ws: slot('ws') }),
      '',
      cpuTable(results),
      '',
      ...notes.map((note) => `- ${note}`),
      '',
      `results: ${path.join(outDir, 'latest.json')}, ${path.join(outDir, 'ratios.svg')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const error of summary.errors) progress.note(`error: ${error}`);
  if (summary.verificationFailures > 0) progress.note(`FAILED: ${summary.verificationFailures} replies failed verification`);
  if (summary.missing.length > 0) progress.note(`FAILED: missing figures: ${summary.missing.join(', ')}`);
  progress.note(`bench ${summary.ok ? 'passed' : 'FAILED'} in ${progress.elapsedSeconds.toFixed(1)} s`);
  return summary.ok ? Exit.ok : Exit.failed;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`bench: ${errorMessage(error)}\n\n${USAGE}\n`);
    return Exit.usage;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return Exit.ok;
  }
  try {
    return await run(options);
  } catch (error) {
    process.stderr.write(`bench: ${errorMessage(error)}\n`);
    return error instanceof UsageError ? Exit.usage : Exit.failed;
  }
}

// process.exit also ends the generator threads; the exit hook kills any server still running.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${errorMessage(error)}\n`);
    killAllChildren();
    process.exit(Exit.failed);
  },
);
