/**
 * Which bundled apps `parley serve --workers N` (N > 1) runs. Workers on one machine are nodes
 * like any other, so an app runs on them exactly when it runs on several nodes: the auction when
 * it keeps its state in PostgreSQL (`auction.databaseUrl`; without it, an SQLite file locked to
 * one process), poker when the server runs on Redis (`cluster.adapter` redis: its tables are
 * leased and its sessions kept there; without it, each process would deal its own tables). An app
 * left out by default is named with the setting that would bring it in; one asked for without
 * its backing is a configuration error that names the same setting.
 *
 * Poker also keeps its tables on one Redis node (AppContext.redis is a single URL): on a Redis
 * Cluster (`cluster.redisClusterNodes`) it would share its tables through `cluster.redisUrl`, some
 * other Redis or none, so there it is left out (or refused, when asked for) in one process as well.
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

/** Why a bundled app cannot run on this server's Redis at all, whatever the number of workers. */
function unsupportedBacking(name: string, config: ServerConfig): string | undefined {
  if (name === 'poker' && config.cluster.adapter === 'redis' && config.cluster.redisClusterNodes.length > 0) {
    return 'poker keeps its shared tables on one Redis node, not on a Redis Cluster (cluster.redisClusterNodes; --redis-cluster-nodes or PARLEY_REDIS_CLUSTER_NODES)';
  }
  return undefined;
}

/** An app left out, and why: the setting that would bring it in. */
export interface LeftOutApp {
  readonly name: string;
  /** The backing several workers need (`auction.databaseUrl …`), or why the app cannot run on this Redis at all. */
  readonly needs: string;
  /** `workers`: several processes need `needs`; `redis`: the app does not run on this Redis (`needs` says why). */
  readonly because: 'workers' | 'redis';
}

/**
 * Filters `loaded.config.apps` for `workers` processes: keeps the apps whose multi-node backing
 * is configured (with more than one) and that run on this Redis, and returns the others (only
 * when `apps` is the default).
 * @throws ConfigError when `apps` was given (file, environment, flag) and names an app without its backing
 */
export function appsForWorkers(loaded: LoadedConfig, workers: number): { apps: string[]; leftOut: LeftOutApp[] } {
  const { config, sources } = loaded;
  const leftOut: LeftOutApp[] = [];
  const apps: string[] = [];
  for (const name of config.apps) {
    const unsupported = unsupportedBacking(name, config);
    const needs = workers > 1 ? missingBacking(name, config) : undefined;
    if (unsupported !== undefined) leftOut.push({ name, needs: unsupported, because: 'redis' });
    else if (needs !== undefined) leftOut.push({ name, needs, because: 'workers' });
    else apps.push(name);
  }
  if (leftOut.length > 0 && sources.apps !== undefined && sources.apps !== 'default') {
    const problems = leftOut.map(({ name, needs, because }) => because === 'redis'
      ? `apps: ${name} (from ${sources.apps}) does not run on a Redis Cluster: ${needs}; leave ${name} out of apps, or run the server on one Redis node (cluster.redisUrl, from ${sources['cluster.redisUrl'] ?? 'default'}) without cluster.redisClusterNodes (from ${sources['cluster.redisClusterNodes'] ?? 'default'})`
      : `apps: ${name} (from ${sources.apps}) runs in several processes only with ${needs}: with workers ${String(config.workers)} (from ${sources.workers ?? 'default'}) set that, or leave ${name} out of apps, or set workers to 1`);
    throw new ConfigError(problems);
  }
  return { apps, leftOut };
}

/** The banner line for an app left out (`  apps       auction left out: several workers need …`). */
export function leftOutLine(app: LeftOutApp): string {
  return app.because === 'redis' ? `  apps       ${app.name} left out: ${app.needs}` : `  apps       ${app.name} left out: several workers need ${app.needs}`;
}
