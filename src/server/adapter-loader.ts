/**
 * Adapter loading for `parley serve`: the cluster adapter the configuration names (in-memory, or
 * Redis loaded by a computed specifier so that builds without src/redis still compile), or one
 * the embedder gives, and what the rest of the server reads from it (health, counters); and each
 * hosted app's adapter of its own (in-memory, or on Redis under a key prefix of the app's own).
 * @packageDocumentation
 */
import type { Logger } from 'pino';
import { InMemoryAdapter, type ClusterAdapter } from '../index.js';
import type { ServerConfig } from './config.js';
import type { AdapterCounters } from './metrics.js';

/** A cluster adapter as loaded at start; `isHealthy`, `connect` and `counters` when it has them (Redis). */
export interface LoadedAdapter extends ClusterAdapter {
  connect?(): Promise<void>;
  isHealthy?(): boolean;
  readonly counters?: Readonly<AdapterCounters>;
}

/** The server's adapter and who owns it. */
export interface ServerAdapter {
  readonly adapter: LoadedAdapter;
  /** What `/readyz` and the admin page call it: the configured kind, or `shared` when given. */
  readonly kind: string;
  /** Whether the server made it (then it closes it at shutdown) or was given it. */
  readonly owned: boolean;
  /** The adapter's health; undefined when it cannot tell (the in-memory adapter). */
  readonly healthy: () => boolean | undefined;
  /** Closes the adapter if the server owns it. */
  readonly close: () => Promise<void>;
}

/** Options the server gives the Redis adapter (a subset of RedisAdapterOptions). */
interface RedisAdapterSettings {
  url: string;
  cluster?: { rootNodes: readonly string[] };
  keyPrefix: string;
  whenUnreachable: 'local' | 'refuse';
  logger: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

/** Loads the Redis adapter by a computed specifier, so builds without src/redis still compile. */
async function loadRedisAdapter(cluster: ServerConfig['cluster'], log: Logger): Promise<LoadedAdapter> {
  const specifier = ['..', 'redis', 'index.js'].join('/');
  let mod: { RedisAdapter?: new (options: RedisAdapterSettings) => LoadedAdapter };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (error) {
    throw new Error('cluster.adapter is "redis" but this build has no Redis adapter (src/redis)', { cause: error });
  }
  if (typeof mod.RedisAdapter !== 'function') throw new Error('the Redis adapter module exports no RedisAdapter class');
  // Outages, recoveries, gaps and dead-node sweeps go to the server's log (operators must see them).
  const rlog = log.child({ component: 'redis' });
  const logger: RedisAdapterSettings['logger'] = (level, message, fields) => rlog[level](fields ?? {}, message);
  const nodes = cluster.redisClusterNodes;
  const adapter = new mod.RedisAdapter({ url: cluster.redisUrl, ...(nodes.length > 0 ? { cluster: { rootNodes: nodes } } : {}), keyPrefix: cluster.keyPrefix, whenUnreachable: cluster.whenUnreachable, logger });
  await adapter.connect?.();
  return adapter;
}

/**
 * The server's cluster adapter: `given` when there is one (shared between servers in tests,
 * never closed here), else the one `cluster.adapter` names, connected.
 * @throws Error when the Redis adapter is missing from the build or cannot connect
 */
export async function loadAdapter(cluster: ServerConfig['cluster'], log: Logger, given?: ClusterAdapter): Promise<ServerAdapter> {
  const owned = given === undefined;
  const adapter: LoadedAdapter = given ?? (cluster.adapter === 'redis' ? await loadRedisAdapter(cluster, log) : new InMemoryAdapter());
  return {
    adapter,
    kind: owned ? cluster.adapter : 'shared',
    owned,
    healthy: () => (typeof adapter.isHealthy === 'function' ? adapter.isHealthy() : undefined),
    close: async () => {
      if (owned) await adapter.close();
    },
  };
}

/** A hosted app's own adapter, and on a Redis cluster where the app may keep state it shares. */
export interface AppAdapter {
  /** For the app's real-time servers: its topics are out of reach of /ws and the HTTP API. */
  readonly adapter: LoadedAdapter;
  /** `AppContext.redis`: the cluster's Redis (its nodes on a Redis Cluster) and the app's own key prefix; absent on one server. */
  readonly redis?: { readonly url: string; readonly keyPrefix: string; readonly clusterNodes?: readonly string[] };
}

/**
 * App `name`'s own adapter. With `cluster.adapter` memory an in-memory one (the app lives in this
 * process). With redis a Redis adapter under `<keyPrefix>apps:<name>:topics:`, so the app's topics
 * reach its clients on every server yet never meet `/ws`'s (whose keys are not under `apps:`),
 * and `redis` hands the app the prefix `<keyPrefix>apps:<name>:` for its shared state (and, on a
 * Redis Cluster, the cluster's root nodes: `cluster.redisUrl` is then not where the state is).
 * @throws Error when the Redis adapter is missing from the build or cannot connect
 */
export async function loadAppAdapter(cluster: ServerConfig['cluster'], name: string, log: Logger): Promise<AppAdapter> {
  if (cluster.adapter !== 'redis') return { adapter: new InMemoryAdapter() };
  const keyPrefix = `${cluster.keyPrefix}apps:${name}:`;
  const adapter = await loadRedisAdapter({ ...cluster, keyPrefix: `${keyPrefix}topics:` }, log.child({ app: name }));
  const nodes = cluster.redisClusterNodes;
  return { adapter, redis: { url: cluster.redisUrl, keyPrefix, ...(nodes.length > 0 ? { clusterNodes: nodes } : {}) } };
}
