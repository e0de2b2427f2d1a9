/**
 * The one refused handshake: a complete HTTP/1.1 error response with `Connection: close` and any
 * extra headers, then the socket is closed; a socket that can no longer be written is destroyed.
 * (Over HTTP/2 the refusal is a stream response: test/server/tls-server.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { refuseUpgrade } from '../../src/node/refuse-upgrade.js';
import { rawServer, waitFor } from './helpers.js';

/** Connects, sends `request`, and resolves with everything read until the server closes. */
async function exchange(port: number, request: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  socket.write(request);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => { text += chunk; });
  await waitFor(socket, 'close');
  return text;
}

void test('refuseUpgrade answers with the status, its text, the extra headers and closes the socket', async (t) => {
  const { port } = await rawServer(t, (socket) => socket.once('data', () => refuseUpgrade(socket, 429, undefined, { 'Retry-After': '3' })));
  const text = await exchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  const [head, body] = text.split('\r\n\r\n');
  const lines = head!.split('\r\n');
  assert.equal(lines[0], 'HTTP/1.1 429 Too Many Requests');
  assert.ok(lines.includes('Connection: close'));
  assert.ok(lines.includes('Retry-After: 3'));
  assert.equal(body, 'Too Many Requests');
});

void test('refuseUpgrade sends a given message as the body, and destroys a socket it cannot write to', async (t) => {
  const { port } = await rawServer(t, (socket) => socket.once('data', () => refuseUpgrade(socket, 403, 'Origin not allowed')));
  const text = await exchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.ok(text.endsWith('\r\n\r\nOrigin not allowed'));

  let ended: net.Socket | undefined;
  const { port: port2 } = await rawServer(t, (socket) => {
    ended = socket;
    socket.end();
    refuseUpgrade(socket, 400);
  });
  await exchange(port2, '');
  assert.equal(ended?.destroyed, true);
});
