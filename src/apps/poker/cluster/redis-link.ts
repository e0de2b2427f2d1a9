/**
 * The poker app's own two Redis connections on several servers: one for commands and one in
 * subscribe mode (a connection that subscribes can send nothing else). The `redis` package is an
 * optional peer dependency that only `parley/redis` and this file load, and this file only when
 * the host runs on Redis (`cluster.adapter` redis): a single server never needs it installed.
 * @packageDocumentation
 */

/** What the app uses of Redis. */
export interface RedisLink {
  /** Runs one command (`['GET', key]`); rejects at once while Redis is unreachable. */
  command(args: string[]): Promise<unknown>;
  /** Listens on `channel` (text messages). */
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  /** Stops listening on `channel`. */
  unsubscribe(channel: string): Promise<void>;
  /** Closes both connections. */
  close(): void;
}

/** The node-redis v5 client as used here (described by shape: the package is loaded at run time). */
interface Client {
  connect(): Promise<unknown>;
  duplicate(overrides?: object): Client;
  sendCommand(args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<void>;
  unsubscribe(channel: string): Promise<void>;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  destroy(): void;
}

/**
 * Connects to `url`. Commands fail fast while Redis is unreachable (no offline queue): a lease
 * renewal that cannot reach Redis must fail, so that this server stops acting as the owner
 * before another one takes over.
 * @param onError - connection errors (the client reconnects by itself)
 */
export async function connectRedis(url: string, onError: (error: unknown) => void): Promise<RedisLink> {
  let mod: { createClient: (options: object) => Client };
  try {
    // Loaded here only: apps never depend on the client at import time (eslint.config.js).
    mod = await import('redis');
  } catch (error) {
    throw new Error('poker on several servers needs the redis package (npm install redis)', { cause: error });
  }
  const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** retries, 2000);
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
    command: (args) => cmd.sendCommand(args),
    subscribe: (channel, listener) => sub.subscribe(channel, listener),
    unsubscribe: (channel) => sub.unsubscribe(channel),
    close() {
      cmd.destroy();
      sub.destroy();
    },
  };
}
