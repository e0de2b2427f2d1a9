/**
 * Interop with a real browser: headless Chromium (Debian's `chromium`, driven through
 * `playwright-core`; no browser is ever downloaded) loads a page from a tiny HTTP server on
 * 127.0.0.1 and talks to a Parley server with permessage-deflate on. Chromium offers
 * permessage-deflate on every connection, so this is the negotiation and both directions of
 * compression as browsers do them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { WebSocketServer, type RawData, type WebSocket } from '../../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the page reports for each message it received. */
interface Seen {
  type: 'text' | 'binary';
  length: number;
  sha256: string;
}

interface PageResult {
  extensions: string;
  received: Seen[];
  closeCode: number;
  error?: string;
}

/** The messages the server pushes first, then the page's echoed sends (same construction on both sides). */
const PAGE = `<!doctype html><meta charset="utf-8"><title>parley deflate</title><script>
async function sha256(bytes) {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}
window.__result = new Promise((resolve) => {
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/ws');
  ws.binaryType = 'arraybuffer';
  const state = JSON.stringify(Array.from({ length: 800 }, (_, i) => ({ id: i, name: 'player ' + i, x: i * 3, y: i * 7 })));
  const sends = [state, 'héllo wörld ✓ 🎉 日本語', new Uint8Array(60000).map((_, i) => i % 13), new Uint8Array(0), '', state + state];
  const received = [];
  const pending = [];
  const expected = 2 + sends.length;
  ws.onopen = () => { for (const s of sends) ws.send(s); };
  ws.onmessage = (e) => {
    const text = typeof e.data === 'string';
    const bytes = text ? new TextEncoder().encode(e.data) : new Uint8Array(e.data);
    pending.push(sha256(bytes).then((h) => { received.push({ type: text ? 'text' : 'binary', length: bytes.length, sha256: h }); }));
    if (pending.length === expected) Promise.all(pending).then(() => ws.close(1000, 'done'));
  };
  ws.onerror = () => resolve({ extensions: ws.extensions, received, closeCode: -1, error: 'error event' });
  ws.onclose = (e) => Promise.all(pending).then(() => resolve({ extensions: ws.extensions, received, closeCode: e.code }));
});
</script>`;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function asBuffer(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

void test('headless Chromium ↔ Parley server with permessage-deflate: text and binary, both directions', { timeout: 90_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    const message = `${CHROMIUM} is missing: install the Debian package \`chromium\` (apt-get install -y chromium)`;
    if (process.env.CI === 'true') assert.fail(message);
    t.skip(message);
    return;
  }
  const { chromium } = await import('playwright-core');

  const httpServer = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(PAGE) });
    res.end(PAGE);
  });
  const wss = new WebSocketServer({ server: httpServer, path: '/ws', perMessageDeflate: { threshold: 0 } });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  const port = (httpServer.address() as AddressInfo).port;

  // Server pushes first: a large compressible text and a compressible binary message.
  const pushText = JSON.stringify({ type: 'welcome', rooms: Array.from({ length: 300 }, (_, i) => `room-${i}`) });
  const pushBinary = Buffer.alloc(40_000, 'parley');
  const serverSide: { ws?: WebSocket; extensions?: string; received: Array<[Buffer, boolean]>; bytesRead?: number; bytesWritten?: number } = { received: [] };
  wss.on('connection', (ws, req) => {
    serverSide.ws = ws;
    serverSide.extensions = ws.extensions;
    ws.on('message', (data, isBinary) => {
      const bytes = asBuffer(data);
      serverSide.received.push([bytes, isBinary]);
      ws.send(bytes, { binary: isBinary });
    });
    ws.on('close', () => {
      serverSide.bytesRead = req.socket.bytesRead;
      serverSide.bytesWritten = req.socket.bytesWritten;
    });
    ws.send(pushText);
    ws.send(pushBinary);
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 60_000 });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const result = await page.evaluate<PageResult>('window.__result');

    assert.equal(result.error, undefined, 'no error in the page');
    assert.ok(serverSide.extensions?.includes('permessage-deflate'), `server-side ws.extensions: ${serverSide.extensions}`);
    assert.ok(result.extensions.includes('permessage-deflate'), `browser-side extensions: ${result.extensions}`);
    assert.equal(result.closeCode, 1000);

    // What the browser sent arrived intact at the server...
    const state = JSON.stringify(Array.from({ length: 800 }, (_, i) => ({ id: i, name: `player ${i}`, x: i * 3, y: i * 7 })));
    const sent: Array<[Buffer, boolean]> = [
      [Buffer.from(state), false],
      [Buffer.from('héllo wörld ✓ 🎉 日本語'), false],
      [Buffer.from(Uint8Array.from({ length: 60_000 }, (_, i) => i % 13)), true],
      [Buffer.alloc(0), true],
      [Buffer.alloc(0), false],
      [Buffer.from(state + state), false],
    ];
    assert.deepEqual(serverSide.received.map(([b, bin]) => [sha256(b), bin]), sent.map(([b, bin]) => [sha256(b), bin]));
    // ...and what the server pushed and echoed arrived intact in the browser, in order.
    const expected: Seen[] = [[Buffer.from(pushText), false] as [Buffer, boolean], [pushBinary, true] as [Buffer, boolean], ...sent]
      .map(([b, bin]) => ({ type: bin ? 'binary' : 'text', length: b.length, sha256: sha256(b) }));
    assert.deepEqual(result.received, expected);

    // Compression really happened in both directions.
    await new Promise((r) => setTimeout(r, 100));
    const total = sent.reduce((n, [b]) => n + b.length, 0);
    assert.ok(serverSide.bytesRead !== undefined && serverSide.bytesRead < total / 4, `browser → server: ${serverSide.bytesRead} bytes on the wire for ${total}`);
    assert.ok(serverSide.bytesWritten !== undefined && serverSide.bytesWritten < (total + pushText.length + pushBinary.length) / 4, `server → browser: ${serverSide.bytesWritten} bytes`);
  } finally {
    await browser.close();
    for (const ws of wss.clients ?? []) ws.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
    httpServer.closeAllConnections();
    await new Promise<void>((r) => httpServer.close(() => r()));
  }
});
