/**
 * The listening socket: the socket cap from `limits`, a bad request head answered as HTTP names
 * it, and the address once listening.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { defaultConfig } from '../../src/server/config.js';
import { createListener, listen } from '../../src/server/listener.js';
import { defer, waitFor } from './helpers.js';

void test('maxConnections: limits.maxSockets, or maxConnections + 1024 when it is 0', () => {
  assert.equal(createListener(defaultConfig({ limits: { maxConnections: 10, maxSockets: 0 } })).maxConnections, 1034);
  assert.equal(createListener(defaultConfig({ limits: { maxSockets: 77 } })).maxConnections, 77);
});

void test('listen resolves with the address; a malformed request head gets 400 and the socket is closed', async (t) => {
  const server = createListener(defaultConfig());
  const address = await listen(server, 0, '127.0.0.1', false);
  defer(t, () => new Promise<void>((resolve) => server.close(() => resolve())));
  assert.equal(address.host, '127.0.0.1');
  assert.ok(address.port > 0);
  assert.equal(address.url, `http://127.0.0.1:${address.port}`);
  assert.equal(address.wsUrl, `ws://127.0.0.1:${address.port}/ws`);

  const socket = net.connect(address.port, '127.0.0.1');
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  socket.write('NOT HTTP AT ALL\r\n\r\n');
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => { text += chunk; });
  await waitFor(socket, 'close');
  assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/);
});

void test('listen rejects with EADDRINUSE for a taken port', async (t) => {
  const first = createListener(defaultConfig());
  const { port } = await listen(first, 0, '127.0.0.1', false);
  defer(t, () => new Promise<void>((resolve) => first.close(() => resolve())));
  await assert.rejects(listen(createListener(defaultConfig()), port, '127.0.0.1', false), /EADDRINUSE/);
});
