/**
 * Which bundled apps `parley serve --workers N` (N > 1) runs. Workers on one machine are nodes
 * like any other, so an app runs on them exactly when it runs on several nodes: the auction when
 * it keeps its state in PostgreSQL (`auction.databaseUrl`; without it, an SQLite file locked to
 * one process), poker when the server runs on Redis (`cluster.adapter` redis: its tables are
 * leased and its sessions kept there; without it, each process would deal its own tables). An app
 * left out by default is named with the setting that would bring it in; one asked for without
 * its backing is a configuration error that names the same setting.
 * @packageDocumentation
 */
import { ConfigError, type LoadedConfig, type ServerConfig } from '../server/config.js';

/** What a bundled app needs to run in several processes, when this configuration lacks it. */
function missingBacking(name: string, config: ServerConfig): string | undefined {
  switch (name) {
    case 'auction':
      return config.auction.databaseUrl === '' ? 'auction.databaseUrl (PostgreSQL; --auction-database-url or PARLEY_AUCTION_DATABASE_URL)' : undefined;
    case 'poker':
      return config.cluster.adapter !== 'redis' ? 'the Redis adapter (cluster.adapter redis with cluster.redisUrl; --cluster-adapter redis --redis-url URL)' : undefined;
    default:
      // Not a bundled app: the server says so at start (unknown app), with the names it has.
      return undefined;
  }
}

/** An app left out of several workers, and the setting that would bring it in. */
export interface LeftOutApp {
  readonly name: string;
  readonly needs: string;
}

/**
 * Filters `loaded.config.apps` for `workers` processes (more than one): keeps the apps whose
 * multi-node backing is configured and returns the others (only when `apps` is the default).
 * @throws ConfigError when `apps` was given (file, environment, flag) and names an app without its backing
 */
export function appsForWorkers(loaded: LoadedConfig, workers: number): { apps: string[]; leftOut: LeftOutApp[] } {
  const { config, sources } = loaded;
  const leftOut: LeftOutApp[] = [];
  const apps: string[] = [];
  for (const name of config.apps) {
    const needs = workers > 1 ? missingBacking(name, config) : undefined;
    if (needs === undefined) apps.push(name);
    else leftOut.push({ name, needs });
  }
  if (leftOut.length > 0 && sources.apps !== undefined && sources.apps !== 'default') {
    const problems = leftOut.map(({ name, needs }) =>
      `apps: ${name} (from ${sources.apps}) runs in several processes only with ${needs}: with workers ${String(config.workers)} (from ${sources.workers ?? 'default'}) set that, or leave ${name} out of apps, or set workers to 1`);
    throw new ConfigError(problems);
  }
  return { apps, leftOut };
}

/** The banner line for an app left out (`  apps       auction left out: several workers need …`). */
export function leftOutLine(app: LeftOutApp): string {
  return `  apps       ${app.name} left out: several workers need ${app.needs}`;
}
