/**
 * `parley/redis`: the Redis cluster adapter. Only this subpath depends on the `redis` package
 * (node-redis v5, an optional peer dependency); the core never imports it.
 * @packageDocumentation
 */
export { RedisAdapter, type RedisAdapterOptions } from './redis-adapter.js';
export type { RedisClientLike } from './connection.js';
export type { RedisAdapterCounters, RedisLogger, HealthListener } from './health.js';
export type { BackoffOptions } from './backoff.js';
