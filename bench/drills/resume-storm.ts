/**
 * Reconnect storm (issue 17, "Reconnect storms cost little"): N `parley.v1` clients resume the
 * same topic at once, each with `since`, on one node of the Redis adapter; reported: Redis
 * commands per resume (INFO commandstats on a private redis-server, before and after the storm;
 * the commands inside scripts included), and how long the storm took.
 *
 *     npm run drill:resume-storm -- [--clients 1000] [--history 100]
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { RedisAdapter } from '../../src/redis/index.js';
import { DrillRedis, waitFor } from './cluster.js';

/** What {@link resumeStorm} measured. */
export interface ResumeStormReport {
  clients: number;
  /** Redis commands during the storm, by command. */
  commands: Record<string, number>;
  /** All of them, divided by the number of resumes. */
  commandsPerResume: number;
  /** Script calls (EVALSHA and EVAL) per resume. */
  scriptsPerResume: number;
  /** Every client recovered exactly the messages it missed. */
  allRecovered: boolean;
  ms: number;
}

async function commandStats(url: string): Promise<Map<string, number>> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  const text = await client.sendCommand<string>(['INFO', 'commandstats']);
  client.destroy();
  const stats = new Map<string, number>();
  for (const m of String(text).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) stats.set(m[1]!, Number(m[2]));
  return stats;
}

/** Runs one storm: `clients` clients resume from offsets spread over the last `history` messages. */
export async function resumeStorm(clients: number, history: number): Promise<ResumeStormReport> {
  const redis = await DrillRedis.start();
  const url = `redis://127.0.0.1:${redis.port}`;
  const adapter = new RedisAdapter({ url, keyPrefix: `storm:${randomBytes(4).toString('hex')}:` });
  const sockets: WebSocket[] = [];
  let wss: WebSocketServer | undefined;
  try {
    await adapter.connect();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0, realtime: { adapter } });
    await new Promise((resolve) => wss!.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    // One subscriber keeps the topic watched (as the other clients of a real node do).
    const keeper = new WebSocket(`ws://127.0.0.1:${port}`, ['parley.v1']);
    sockets.push(keeper);
    await new Promise((resolve) => keeper.once('open', resolve));
    keeper.send(JSON.stringify({ t: 'sub', id: 1, topic: 'storm' }));
    while (wss.subscriberCount('storm') === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 1; i <= history; i++) wss.publish('storm', i);
    let position = await wss.position('storm');
    while (position.offset < history) position = await wss.position('storm');

    const got = new Array<number>(clients).fill(0);
    const recovered = new Array<boolean>(clients).fill(false);
    const froms: number[] = [];
    await Promise.all(Array.from({ length: clients }, (_, i) => new Promise<void>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, ['parley.v1']);
      sockets.push(ws);
      froms.push(history - 1 - (i % Math.max(1, history - 1)));
      ws.on('message', (data) => {
        const env = JSON.parse((data as Buffer).toString()) as { t: string; recovered?: boolean };
        if (env.t === 'hello') resolve();
        else if (env.t === 'subok') recovered[i] = env.recovered === true;
        else if (env.t === 'msg') got[i]!++;
      });
      ws.once('error', reject);
    })));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = await commandStats(url);
    const start = performance.now();
    sockets.slice(1).forEach((ws, i) => ws.send(JSON.stringify({ t: 'sub', id: 1, topic: 'storm', since: { epoch: position.epoch, offset: froms[i] } })));
    await waitFor(() => got.every((n, i) => n >= history - froms[i]!), 60_000, 'every client to recover');
    const ms = performance.now() - start;
    const after = await commandStats(url);
    const commands: Record<string, number> = {};
    let total = 0;
    for (const [name, calls] of after) {
      const d = calls - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
      if (d > 0) {
        commands[name] = d;
        total += d;
      }
    }
    const scripts = (commands.evalsha ?? 0) + (commands.eval ?? 0);
    return { clients, commands, commandsPerResume: total / clients, scriptsPerResume: scripts / clients, allRecovered: recovered.every(Boolean) && got.every((n, i) => n === history - froms[i]!), ms };
  } finally {
    for (const ws of sockets) ws.terminate();
    wss?.close();
    await adapter.close();
    redis.stop();
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'));
if (isMain) {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '1000' }, history: { type: 'string', default: '100' } } });
  const report = await resumeStorm(Number(values.clients), Number(values.history));
  console.log(JSON.stringify(report, null, 1));
}
