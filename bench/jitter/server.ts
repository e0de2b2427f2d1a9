/**
 * A server for the jitter benchmark: a real-time WebSocketServer on 127.0.0.1 (port 0), with
 * the in-memory adapter, or the Redis adapter when REDIS_URL and KEY_PREFIX are set. Prints
 * `{ "port" }` once it listens; answers the IPC message `stats` with its RSS and CPU time.
 * @packageDocumentation
 */
import { WebSocketServer } from '../../src/index.js';
import { RedisAdapter } from '../../src/redis/index.js';

let adapter: RedisAdapter | undefined;
if (process.env.REDIS_URL !== undefined) {
  adapter = new RedisAdapter({ url: process.env.REDIS_URL, keyPrefix: process.env.KEY_PREFIX ?? 'jitter:' });
  await adapter.connect();
}
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, realtime: adapter === undefined ? {} : { adapter } });
const cpu0 = process.cpuUsage();
wss.on('listening', () => {
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.send!({ port: address.port });
});
process.on('message', (m: { t: string }) => {
  if (m.t !== 'stats') return;
  const cpu = process.cpuUsage(cpu0);
  process.send!({ rss: process.memoryUsage().rss, cpuMs: (cpu.user + cpu.system) / 1000 });
});
process.on('disconnect', () => process.exit(0));
