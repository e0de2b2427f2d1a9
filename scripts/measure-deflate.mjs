#!/usr/bin/env node
// Measures permessage-deflate's cost on the server, Parley against ws with the same settings, in
// one run: server RSS per connection (idle after the handshake, and after one compressed message
// each way, with and without context takeover) and compressed echo throughput.
// Usage: npm run build && node scripts/measure-deflate.mjs [connections=1000] [seconds=3]
// The server runs in a child process (with --expose-gc); the clients are `ws` clients in this one.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

const N = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 3);
const MESSAGE = JSON.stringify({ type: 'state', players: Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, x: i * 3, y: i * 7, hp: 100 - i })) });

if (process.argv[2] === '--server') {
  const [, , , lib, mode] = process.argv;
  const perMessageDeflate = mode === 'no-context'
    ? { serverNoContextTakeover: true, clientNoContextTakeover: true }
    : {};
  const { WebSocketServer } = lib === 'parley' ? await import('../dist/src/index.js') : await import('ws');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  wss.on('listening', () => process.send({ port: wss.address().port }));
  process.on('message', async () => {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.send({ rss: process.memoryUsage().rss });
  });
} else {
  const self = fileURLToPath(import.meta.url);
  const ask = (child) => new Promise((r) => { child.once('message', (m) => r(m.rss)); child.send('rss'); });
  const rows = [];
  for (const mode of ['context', 'no-context']) {
    for (const lib of ['parley', 'ws']) {
      const child = fork(self, ['--server', lib, mode], { execArgv: ['--expose-gc'] });
      const { port } = await new Promise((r) => child.once('message', r));
      const base = await ask(child);
      const clientOptions = { perMessageDeflate: mode === 'no-context' ? { clientNoContextTakeover: true, serverNoContextTakeover: true } : {} };
      const clients = [];
      for (let i = 0; i < N; i += 100) {
        const batch = Array.from({ length: Math.min(100, N - i) }, () => new WebSocket(`ws://127.0.0.1:${port}`, clientOptions));
        await Promise.all(batch.map((ws) => new Promise((r) => ws.once('open', r))));
        clients.push(...batch);
      }
      const idle = await ask(child);
      await Promise.all(clients.map((ws) => new Promise((r) => { ws.once('message', r); ws.send(MESSAGE); })));
      const active = await ask(child);
      // Throughput: 50 connections each echo the message back to back for SECONDS.
      let count = 0;
      const end = performance.now() + SECONDS * 1000;
      await Promise.all(clients.slice(0, 50).map((ws) => new Promise((resolve) => {
        ws.on('message', () => {
          count++;
          if (performance.now() < end) ws.send(MESSAGE);
          else resolve();
        });
        ws.send(MESSAGE);
      })));
      rows.push({ mode, lib, idleKiB: (idle - base) / N / 1024, activeKiB: (active - base) / N / 1024, perSec: count / SECONDS });
      for (const ws of clients) ws.terminate();
      child.kill();
    }
  }
  console.log(`permessage-deflate, ${N} connections, ${MESSAGE.length}-byte JSON message, Node ${process.version}`);
  console.log('settings        server  idle KiB/conn  after 1 msg KiB/conn  echo msg/s (50 conns)');
  for (const r of rows) {
    console.log(`${r.mode.padEnd(15)} ${r.lib.padEnd(7)} ${r.idleKiB.toFixed(1).padStart(13)}  ${r.activeKiB.toFixed(1).padStart(20)}  ${Math.round(r.perSec).toString().padStart(20)}`);
  }
}
