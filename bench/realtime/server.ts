/**
 * The real-time benchmark server, one child process per implementation:
 *
 *     node dist/bench/realtime/server.js --impl parley|ws [--host H]
 *
 * Every message a client sends is relayed to every connected client. Parley subscribes each
 * connection to one topic and relays with `wss.publish` (framed once, the same bytes for all,
 * slow-consumer policy `drop` at the default 1 MiB cap); `ws` loops over `wss.clients` and sends
 * to each (framing again per client, queueing without bound), as its README does. It prints
 * `ready PORT` once listening and answers IPC `stats` requests.
 */
import { parseArgs } from 'node:util';
import type { RealtimeStats, ToServer } from './ipc.js';

const { values } = parseArgs({ options: { impl: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } }, strict: true });
const impl = values.impl;
if (impl !== 'parley' && impl !== 'ws') throw new Error('--impl must be parley or ws');

process.on('disconnect', () => process.exit(0));

/** The part of either server this script uses. */
interface Conn {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: unknown, options: { binary: boolean }): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}
interface Server {
  readonly clients: Set<Conn>;
  on(event: 'connection', listener: (ws: Conn) => void): unknown;
  on(event: 'listening', listener: () => void): unknown;
  address(): { port: number } | string | null;
}

const TOPIC = 'bench';
const options = { host: values.host, port: 0, perMessageDeflate: false, clientTracking: true, maxPayload: 64 * 1024 * 1024 };

let server: Server;
let relay: (data: Buffer, isBinary: boolean) => void;
let topicStats: () => { dropped: number; delivered: number } | undefined = () => undefined;

if (impl === 'parley') {
  const { WebSocketServer } = await import('../../src/index.js');
  const wss = new WebSocketServer(options);
  wss.on('connection', (ws) => ws.subscribe(TOPIC));
  relay = (data, isBinary) => { wss.publish(TOPIC, data, { binary: isBinary }); };
  topicStats = () => {
    const s = wss.topicStats(TOPIC);
    return { dropped: s.dropped, delivered: s.delivered };
  };
  server = wss;
} else {
  const ws = await import('ws');
  const wss = new ws.WebSocketServer(options);
  relay = (data, isBinary) => {
    for (const client of wss.clients) if (client.readyState === 1) client.send(data, { binary: isBinary });
  };
  server = wss;
}

server.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', relay);
});

function stats(): RealtimeStats {
  const { user, system } = process.cpuUsage();
  let maxBuffered = 0;
  for (const ws of server.clients) maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  return { cpuSeconds: (user + system) / 1e6, rss: process.memoryUsage().rss, clients: server.clients.size, maxBuffered, topic: topicStats() };
}

process.on('message', (raw: unknown) => {
  const message = raw as ToServer;
  if (message.type === 'stats') process.send?.({ type: 'stats', id: message.id, stats: stats() });
});

server.on('listening', () => {
  const address = server.address();
  process.stdout.write(`ready ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
});
