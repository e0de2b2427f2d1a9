/**
 * The soak server: a plain Parley `WebSocketServer` (Node layer) with echo, broadcast through
 * `wss.broadcast`, permessage-deflate accepted for clients that offer it, and a byte cap on queued
 * output (`maxBufferedAmount`, policy `close`); other settings are the library defaults. Run by bench/soak/main.ts as a child process; it
 * answers `stats` requests over IPC with its memory, open file descriptors and counters.
 */
import { readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Buffer } from 'node:buffer';
import { WebSocketServer, type WebSocket } from '../../src/node/index.js';
import { deflateStats } from '../../src/node/zlib-pool.js';
import type { ServerReady, ServerStats } from './protocol.js';

const cap = Number(process.env.SOAK_BUFFER_CAP ?? 1024 * 1024);
const FLOOD_CHUNK = Buffer.alloc(64 * 1024, 0x5a);

const wss = new WebSocketServer({
  port: 0,
  host: '127.0.0.1',
  backlog: 4096,
  perMessageDeflate: { threshold: 1024 },
  maxPayload: 1024 * 1024,
  maxBufferedAmount: cap,
  bufferOverflow: 'close',
});

const closes: Record<string, number> = {};
const errors: Record<string, number> = {};
let accepted = 0;
let echoes = 0;
let publishes = 0;
let deliveries = 0;
let floods = 0;
let g = 0;
const PAD = 'x'.repeat(160);

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

wss.on('connection', (ws: WebSocket) => {
  accepted++;
  let flood: NodeJS.Timeout | undefined;
  ws.on('error', (error: Error & { code?: string }) => bump(errors, error.code ?? error.name));
  ws.on('close', (code: number) => {
    bump(closes, String(code));
    if (flood !== undefined) clearInterval(flood);
  });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const kind = data[0];
    if (kind === 0x45 /* E */) {
      echoes++;
      ws.send(data, { binary: isBinary });
    } else if (kind === 0x50 /* P */) {
      publishes++;
      const [, conn, seq, at] = data.toString('latin1').split(' ');
      g++;
      // Every 16th broadcast is large, so compressing connections queue behind it sometimes.
      const pad = g % 16 === 0 ? PAD.repeat(12) : PAD;
      deliveries += wss.broadcast(`B ${g} ${conn} ${seq} ${at} ${pad}`);
    } else if (data.length === 5 && data.toString('latin1') === 'FLOOD') {
      floods++;
      flood = setInterval(() => {
        if (ws.readyState !== 1 /* OPEN */) {
          clearInterval(flood);
          return;
        }
        ws.send(FLOOD_CHUNK);
      }, 20);
    }
  });
});

function stats(): ServerStats {
  const m = process.memoryUsage();
  let compressed = 0;
  for (const ws of wss.clients ?? []) if (ws.extensions !== '') compressed++;
  return {
    type: 'stats',
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    fds: readdirSync('/proc/self/fd').length,
    clients: wss.clients?.size ?? 0,
    accepted,
    closes: { ...closes },
    errors: { ...errors },
    echoes,
    publishes,
    deliveries,
    floods,
    compressedConnections: compressed,
    deflate: deflateStats(),
  };
}

process.on('message', (msg: { type?: string }) => {
  if (msg.type === 'stats') process.send!(stats());
  else if (msg.type === 'exit') {
    void wss.shutdown({ timeout: 2_000 }).finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

wss.on('listening', () => {
  const ready: ServerReady = { type: 'ready', port: (wss.address() as AddressInfo).port, pid: process.pid };
  process.send!(ready);
});
