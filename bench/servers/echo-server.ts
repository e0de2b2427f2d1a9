/**
 * The benchmark server, one child process per implementation:
 *
 *     node --expose-gc dist/bench/servers/echo-server.js --impl parley|ws --port N --mode echo|broadcast|broadcast-loop [--module SPEC]
 *
 * Echo mode sends every message back with its type; broadcast mode relays every message to every
 * connected client (broadcast-loop: with ws's README loop on both sides). It prints `pid PID`, then `ready PORT` once listening. It reports
 * `process.cpuUsage()` and `process.memoryUsage()` (after forced GC) on an IPC 'stats' message or,
 * run by hand without IPC, on a `stats` line on stdin (answered with a `stats {json}` line).
 */
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { chooseBroadcast } from './broadcast.js';
import type { ServerStats, ServerToParent, StatsRequest } from './ipc.js';
import { loadServerClass } from './ws-api.js';

/** Generous enough for the 16 MiB workload with any library default. */
const MAX_PAYLOAD = 64 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'echo' },
    module: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
  },
  strict: true,
});

const impl = values.impl;
const mode = values.mode;
if (impl !== 'parley' && impl !== 'ws') throw new Error('--impl must be parley or ws');
if (mode !== 'echo' && mode !== 'broadcast' && mode !== 'broadcast-loop') throw new Error('--mode must be echo, broadcast or broadcast-loop');
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
const specifier = values.module ?? impl;

// The orchestrator going away for any reason must not leave this server behind.
process.on('disconnect', () => process.exit(0));

const send = (message: ServerToParent): void => {
  process.send?.(message);
};

function bufferutilLoads(): boolean {
  try {
    createRequire(import.meta.url)('bufferutil');
    return true;
  } catch {
    return false;
  }
}

let connections = 0;

function collectStats(forceGc: boolean): ServerStats {
  // CPU first, so the forced GC below is not billed to the workload.
  const { user, system } = process.cpuUsage();
  const gc = forceGc ? globalThis.gc : undefined;
  // Two passes: the first may only queue finalizers whose memory the second frees.
  gc?.();
  gc?.();
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  return {
    cpu: { user, system },
    memory: { rss, heapTotal, heapUsed, external, arrayBuffers },
    gcForced: gc !== undefined,
    connections,
  };
}

process.stdout.write(`pid ${process.pid}\n`);

const ServerClass = await loadServerClass(specifier);
const { broadcast, name: broadcastName } = chooseBroadcast(impl, mode === 'broadcast-loop');
const server = new ServerClass({
  host: values.host,
  port,
  perMessageDeflate: false,
  maxPayload: MAX_PAYLOAD,
  clientTracking: true,
});

server.on('error', (error) => {
  process.stderr.write(`${impl} server error: ${error.message}\n`);
  process.exit(1);
});

server.on('connection', (socket) => {
  connections++;
  socket.on('close', () => connections--);
  // A peer resetting its socket is the generator's teardown, not a server failure.
  socket.on('error', () => {});
  if (mode === 'echo') {
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  } else {
    socket.on('message', (data, isBinary) => broadcast(server, data, isBinary));
  }
});

server.on('listening', () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  send({
    type: 'hello',
    pid: process.pid,
    impl,
    module: specifier,
    mode,
    broadcast: broadcastName,
    bufferutil: bufferutilLoads(),
  });
  process.stdout.write(`ready ${actualPort}\n`);
});

if (process.send !== undefined) {
  process.on('message', (raw: unknown) => {
    // Only the orchestrator holds this channel.
    const request = raw as StatsRequest;
    if (request.type === 'stats') send({ type: 'stats', id: request.id, stats: collectStats(request.gc) });
  });
} else {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`stats ${JSON.stringify(collectStats(true))}\n`);
  });
}
