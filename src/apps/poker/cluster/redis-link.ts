/**
 * The poker app's own Redis connections on several servers: on one Redis, one connection for
 * commands and one in subscribe mode (a connection that subscribes can send nothing else); on a
 * Redis Cluster, node-redis's cluster client, which routes each command by its first key and keeps
 * subscriber connections of its own. The `redis` package is an optional peer dependency that only
 * `parley/redis` and this file load, and this file only when the host runs on Redis
 * (`cluster.adapter` redis): a single server never needs it installed.
 * @packageDocumentation
 */

/** What the app uses of Redis. */
export interface RedisLink {
  /**
   * Whether this is a Redis Cluster: the keys one script touches must then share a hash slot
   * (table-cluster.ts hash-tags them), and the cluster routes each command by `key`.
   */
  readonly cluster: boolean;
  /**
   * Runs one command (`['GET', key]`); rejects at once while Redis is unreachable.
   * @param key - the command's first key, which picks the master on a cluster (ignored on one Redis)
   */
  command(args: string[], key?: string): Promise<unknown>;
  /**
   * Publishes `message` on `channel`; resolves with the number of subscribers that got it.
   * @param sharded - on a cluster, a shard channel (`SPUBLISH`: only the master of the channel's
   * slot, whose count is then every subscriber); on one Redis a plain `PUBLISH` either way
   */
  publish(channel: string, message: string, sharded?: boolean): Promise<number>;
  /** Listens on `channel` (text messages); `sharded` as for {@link RedisLink.publish}. */
  subscribe(channel: string, listener: (message: string) => void, sharded?: boolean): Promise<void>;
  /** Stops listening on `channel` (subscribed with the same `sharded`). */
  unsubscribe(channel: string, sharded?: boolean): Promise<void>;
  /** Closes the connections. */
  close(): void;
}

type Listener = (message: string) => void;

/** The node-redis v5 client as used here (described by shape: the package is loaded at run time). */
interface Client {
  connect(): Promise<unknown>;
  duplicate(overrides?: object): Client;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: Listener): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  destroy(): void;
}

/** The node-redis v5 cluster client as used here. */
interface Cluster {
  connect(): Promise<unknown>;
  sendCommand(firstKey: string | undefined, isReadonly: boolean, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: Listener): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  sSubscribe(channel: string, listener: Listener): Promise<void>;
  sUnsubscribe(channel: string): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  destroy(): void;
}

interface RedisModule {
  createClient: (options: object) => Client;
  createCluster: (options: object) => Cluster;
}

/** Where the app's Redis is: one URL, or some nodes of a Redis Cluster (then `url` is not used). */
export interface RedisTarget {
  readonly url: string;
  readonly clusterNodes?: readonly string[];
}

const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000);

/**
 * Connects to `target` (a string is one Redis's URL). Commands fail fast while Redis is
 * unreachable (no offline queue): a lease renewal that cannot reach Redis must fail, so that this
 * server stops acting as the owner before another one takes over.
 * @param onError - connection errors (the client reconnects by itself)
 */
export async function connectRedis(target: string | RedisTarget, onError: (error: unknown) => void): Promise<RedisLink> {
  let mod: RedisModule;
  try {
    // Loaded here only: apps never depend on the client at import time (eslint.config.js).
    mod = await import('redis') as unknown as RedisModule;
  } catch (error) {
    throw new Error('poker on several servers needs the redis package (npm install redis)', { cause: error });
  }
  const { url, clusterNodes = [] } = typeof target === 'string' ? { url: target } : target;
  if (clusterNodes.length > 0) return connectCluster(mod, clusterNodes, onError);
  const cmd = mod.createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 2000 } });
  const sub = cmd.duplicate({ disableOfflineQueue: false });
  cmd.on('error', onError);
  sub.on('error', onError);
  try {
    await Promise.all([cmd.connect(), sub.connect()]);
  } catch (error) {
    cmd.destroy();
    sub.destroy();
    throw error;
  }
  return {
    cluster: false,
    command: (args) => cmd.sendCommand(args),
    // One Redis: a plain channel reaches every subscriber, and works before Redis 7 too.
    publish: async (channel, message) => Number(await cmd.sendCommand(['PUBLISH', channel, message])),
    subscribe: (channel, listener) => sub.subscribe(channel, listener),
    unsubscribe: (channel) => sub.unsubscribe(channel),
    close() {
      cmd.destroy();
      sub.destroy();
    },
  };
}

/** The cluster client: commands by first key; shard channels on their slot's master, plain ones anywhere. */
async function connectCluster(mod: RedisModule, rootNodes: readonly string[], onError: (error: unknown) => void): Promise<RedisLink> {
  const cluster = mod.createCluster({
    rootNodes: rootNodes.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy, connectTimeout: 2000 } },
  });
  cluster.on('error', onError);
  try {
    await cluster.connect();
  } catch (error) {
    cluster.destroy();
    throw error;
  }
  // After destroy() node-redis's cluster client may wait for a connection that never comes, so a
  // command sent after close() (a lease released late) would never settle: refuse it here.
  let closed = false;
  const open = <T>(run: () => Promise<T>): Promise<T> => (closed ? Promise.reject(new Error('the poker Redis link is closed')) : run());
  return {
    cluster: true,
    command: (args, key) => open(() => cluster.sendCommand(key, false, args)),
    // A plain PUBLISH on a cluster counts only the receiving node's subscribers; SPUBLISH goes to
    // the master of the channel's slot, where every SSUBSCRIBE to it is.
    publish: (channel, message, sharded = false) => open(async () => Number(await cluster.sendCommand(channel, false, [sharded ? 'SPUBLISH' : 'PUBLISH', channel, message]))),
    subscribe: (channel, listener, sharded = false) => open(() => (sharded ? cluster.sSubscribe(channel, listener) : cluster.subscribe(channel, listener))),
    unsubscribe: (channel, sharded = false) => open(() => (sharded ? cluster.sUnsubscribe(channel) : cluster.unsubscribe(channel))),
    close() {
      closed = true;
      cluster.destroy();
    },
  };
}
