/**
 * `parley serve`: the standalone server. Settings come from the embedded defaults, a JSON file
 * (`--config` or `PARLEY_CONFIG`), `PARLEY_*` environment variables and flags, in that order of
 * precedence; `--print-config` shows the result. SIGTERM/SIGINT drain and exit within
 * `shutdown.timeoutMs`.
 * @packageDocumentation
 */
import { BUNDLED_APPS } from '../apps/index.js';
import { ConfigError, SETTINGS, loadConfig, readConfigFile, redactConfig, type LoadedConfig } from '../server/config.js';
import { startServer, type ServerHandle } from '../server/serve.js';
import { startSupervisor } from '../server/workers/supervisor.js';
import { isWorkerProcess, runWorker } from '../server/workers/worker.js';
import { joinNegativeValues, usageErrorFrom } from './args.js';
import { appsForWorkers, leftOutLine, type LeftOutApp } from './worker-apps.js';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

/** Help text of `parley serve`, with every setting's flag. */
export const SERVE_HELP = `Usage: parley serve [--config FILE] [--print-config] [options]

Runs the Parley server: real-time WebSocket endpoint at /ws, HTTP API at /api, metrics at
/metrics, health at /healthz and /readyz, admin page at /admin, and the hosted apps.
Settings: defaults < config file < PARLEY_* environment < flags. See docs/operations.md.

Options:
${'  --config FILE'.padEnd(40)} JSON config file [PARLEY_CONFIG]
${'  --print-config'.padEnd(40)} print the effective configuration (secrets redacted) and exit
${SETTINGS.map((s) => `  --${s.flag}${s.kind === 'boolean' ? '[=BOOL]' : ' VALUE'}`.padEnd(40) + ` ${s.doc} [${s.env}]`).join('\n')}
${'  -h, --help'.padEnd(40)} show this help
`;

/** Whether something already listens on `port` at `host` (a bind attempt that is undone at once). */
async function portTaken(port: number, host: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once('error', (error: Error & { code?: string }) => resolve(error.code === 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** Parses flags into raw setting values by flag name. */
function parseFlags(argv: string[]): { flags: Record<string, string | boolean>; config?: string; print: boolean; help: boolean } {
  const options: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' }, 'print-config': { type: 'boolean' }, help: { type: 'boolean' } };
  for (const s of SETTINGS) options[s.flag] = { type: 'string' };
  // Boolean settings may be given bare (`--trust-proxy`): turn that into `=true` before parsing.
  const booleans = new Set(SETTINGS.filter((s) => s.kind === 'boolean' || s.kind === 'auto-boolean' || s.kind === 'hops').map((s) => `--${s.flag}`));
  const args = argv.map((a, i) => (booleans.has(a) && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) ? `${a}=true` : a));
  const strings = new Set(Object.entries(options).filter(([, o]) => o.type === 'string').map(([name]) => name));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: joinNegativeValues(args, strings).map((a) => (a === '-h' ? '--help' : a)), options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw usageErrorFrom(error, Object.keys(options));
  }
  const flags: Record<string, string | boolean> = {};
  for (const s of SETTINGS) {
    const v = values[s.flag];
    if (v !== undefined) flags[s.flag] = v;
  }
  return { flags, config: values.config as string | undefined, print: values['print-config'] === true, help: values.help === true };
}

/**
 * Loads the configuration from argv and the environment; with several workers, `apps` keeps only
 * the apps that can run on several nodes as configured (`leftOut` names the others).
 * @throws ConfigError, UsageError
 */
export function configFrom(argv: string[], env: NodeJS.ProcessEnv): LoadedConfig & { leftOut: LeftOutApp[]; print: boolean; help: boolean } {
  const parsed = parseFlags(argv);
  const path = parsed.config ?? env.PARLEY_CONFIG;
  const file = path !== undefined && path !== '' ? readConfigFile(path) : undefined;
  const loaded = loadConfig({ file, env, flags: parsed.flags, defaults: { apps: [...BUNDLED_APPS.keys()] } });
  // Several workers are several nodes: each bundled app runs when its multi-node backing is set.
  const { apps, leftOut } = appsForWorkers(loaded, workerCount(loaded.config));
  loaded.config.apps = apps;
  return { ...loaded, leftOut, print: parsed.print, help: parsed.help };
}

/** The number of server processes `workers` asks for (`auto`: one per core the process may use). */
export function workerCount(config: { workers: number | 'auto' }): number {
  return config.workers === 'auto' ? availableParallelism() : config.workers;
}

/**
 * Runs `parley serve`. Resolves with the handle once listening (undefined for --help and
 * --print-config); configuration errors are written to stderr and set exit status 2.
 */
export async function runServe(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<ServerHandle | undefined> {
  let loaded;
  try {
    loaded = configFrom(argv, process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      err.write(`parley serve: ${error.message}\n`);
      process.exitCode = 2;
      return undefined;
    }
    throw error;
  }
  if (loaded.help) {
    out.write(SERVE_HELP);
    return undefined;
  }
  if (loaded.print) {
    out.write(JSON.stringify(redactConfig(loaded.config), null, 2) + '\n');
    for (const [path, source] of Object.entries(loaded.sources)) if (source !== 'default') err.write(`# ${path}: ${source}\n`);
    return undefined;
  }
  if (isWorkerProcess()) return await runWorker(loaded.config, { apps: BUNDLED_APPS });
  const { port, host, dataDir } = loaded.config;
  const wayOut = `start this one elsewhere with --port N (or PARLEY_PORT=N; 0 picks a free port)`;
  // The port first: a second server in the same folder would otherwise stop at the data
  // directory's lock, which says nothing of the port it also needs.
  if (port !== 0 && await portTaken(port, host)) {
    err.write(`parley serve: port ${port} on ${host} is already in use (another parley serve?); ${wayOut}\n`);
    process.exitCode = 1;
    return undefined;
  }
  const workers = workerCount(loaded.config);
  if (workers > 1) {
    await superviseWorkers(loaded.config, workers, out, err, loaded.leftOut);
    return undefined;
  }
  let handle: ServerHandle;
  try {
    // The server imports no app: the command line hands it the bundled ones.
    handle = await startServer(loaded.config, { apps: BUNDLED_APPS });
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === 'EADDRINUSE') {
      err.write(`parley serve: port ${port} on ${host} is already in use; ${wayOut}\n`);
    } else if (/ is in use by process \d+/.test(e.message)) {
      err.write(`parley serve: ${e.message}: another server uses the data directory ${dataDir}; stop it, or give this one its own with --data-dir DIR (or PARLEY_DATA_DIR)\n`);
    } else throw error;
    process.exitCode = 1;
    return undefined;
  }
  const { url, wsUrl } = handle.address;
  const lines = [`parley server listening on ${url}`, `  WebSocket  ${wsUrl}`];
  for (const prefix of handle.apps.keys()) lines.push(`  app        ${url}${prefix}/`);
  if (loaded.config.admin.enabled) lines.push(`  admin      ${url}/admin`);
  if (loaded.config.metrics.enabled) lines.push(`  metrics    ${url}/metrics`);
  lines.push(`  health     ${url}/healthz  ${url}/readyz`);
  out.write(lines.join('\n') + '\n');

  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      // A second signal: the operator wants out now.
      process.exit(1);
    }
    handle.logger.info({ signal }, 'signal received');
    // The drain has its own deadline; this one guards against anything that hangs after it.
    const guard = setTimeout(() => process.exit(1), loaded.config.shutdown.timeoutMs + 5000);
    guard.unref();
    void handle.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return handle;
}

/**
 * `parley serve --workers N` in the primary: starts the workers, prints where they listen, and
 * turns signals into a reload (SIGHUP) or a drain (SIGTERM, SIGINT). A worker that fails to start
 * has written its own error to stderr; the primary adds which worker, and exits with status 1.
 */
async function superviseWorkers(config: LoadedConfig['config'], count: number, out: NodeJS.WritableStream, err: NodeJS.WritableStream, leftOut: readonly LeftOutApp[]): Promise<void> {
  let supervisor;
  try {
    supervisor = await startSupervisor(config, count);
  } catch (error) {
    err.write(`parley serve: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const { url, wsUrl } = supervisor.address;
  const lines = [`parley server listening on ${url}`, `  WebSocket  ${wsUrl}`, `  workers    ${count} (${supervisor.sharing}; bus: ${config.cluster.adapter === 'redis' ? 'Redis' : 'the primary process'}; SIGHUP reloads them one at a time)`];
  for (const name of config.apps) lines.push(`  app        ${url}/${name}/`);
  lines.push(...leftOut.map(leftOutLine));
  if (config.admin.enabled) lines.push(`  admin      ${url}/admin`);
  if (config.metrics.enabled) lines.push(`  metrics    ${url}/metrics`);
  lines.push(`  health     ${url}/healthz  ${url}/readyz`);
  out.write(lines.join('\n') + '\n');
  let signals = 0;
  const stop = (signal: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(1);
    supervisor.logger.info({ signal }, 'signal received');
    void supervisor.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('SIGHUP', () => {
    supervisor.logger.info({ signal: 'SIGHUP' }, 'signal received');
    void supervisor.reload();
  });
}
