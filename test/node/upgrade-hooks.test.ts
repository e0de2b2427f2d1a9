/**
 * verifyClient then authenticate, on their own: who is admitted (and with what `data`), who is
 * refused with which status, and that authenticate runs only after verifyClient admitted the
 * client. The deadline (408) is checked over a real socket in websocket-server.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { PassThrough } from 'node:stream';
import { runUpgradeHooks, type UpgradeHooks } from '../../src/node/upgrade-hooks.js';
import { destroyOnError, headerLookup } from '../../src/node/server-handshake.js';
import type { VerifyClientInfo } from '../../src/node/ws-types.js';

type Outcome = { admitted: true; data: unknown; errorListeners: number } | { admitted: false; response: string };

/** Runs the hooks for a request with `headers` over an in-memory socket and resolves with what happened. */
function admission(hooks: UpgradeHooks<http.IncomingMessage>, headers: http.IncomingHttpHeaders = {}, encrypted = false): Promise<Outcome> {
  const socket = new PassThrough();
  socket.on('error', destroyOnError);
  const req = { headers, socket: { encrypted } } as unknown as http.IncomingMessage;
  return new Promise((resolve) => {
    let response = '';
    socket.on('data', (chunk: Buffer) => { response += chunk.toString('latin1'); });
    socket.on('close', () => resolve({ admitted: false, response }));
    runUpgradeHooks(hooks, 60_000, headerLookup(headers), req, socket, (data) => {
      resolve({ admitted: true, data, errorListeners: socket.listenerCount('error') });
      socket.destroy();
    });
  });
}

function status(o: Outcome): number | 'admitted' {
  if (o.admitted) return 'admitted';
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(o.response)?.[1]);
}

void describe('runUpgradeHooks', () => {
  void test('no hooks: admitted with no data, the handshake error listener taken off', async () => {
    const o = await admission({});
    assert.deepEqual(o, { admitted: true, data: undefined, errorListeners: 0 });
  });

  void test('verifyClient (sync): false → 401, true → admitted; info has origin, secure and the request', async () => {
    let info: unknown;
    assert.equal(status(await admission({ verifyClient: () => false })), 401);
    const o = await admission({ verifyClient: (i: VerifyClientInfo) => { info = i; return true; } }, { origin: 'https://a.example' }, true);
    assert.equal(status(o), 'admitted');
    assert.deepEqual({ ...(info as object), req: undefined }, { origin: 'https://a.example', secure: true, req: undefined });
    // hybi-08 clients name their origin Sec-WebSocket-Origin, as ws reads it.
    await admission({ verifyClient: (i: VerifyClientInfo) => { info = i; return true; } }, { 'sec-websocket-version': '8', 'sec-websocket-origin': 'https://old.example', origin: 'https://other.example' });
    assert.equal((info as { origin?: string }).origin, 'https://old.example');
  });

  void test('verifyClient (callback): the status, message and headers it refuses with are sent', async () => {
    const o = await admission({ verifyClient: (_info, cb) => setImmediate(() => cb(false, 403, 'nope', { 'Retry-After': 3, 'X-List': ['a', 'b'] })) });
    assert.equal(status(o), 403);
    assert.ok(!o.admitted);
    assert.match(o.response, /\r\nRetry-After: 3\r\n/);
    assert.match(o.response, /\r\nX-List: a, b\r\n/);
    assert.ok(o.response.endsWith('\r\n\r\nnope'));
    assert.equal(status(await admission({ verifyClient: (_info, cb) => cb(false) })), 401, 'the default code');
    assert.equal(status(await admission({ verifyClient: (_info, cb) => cb(true) })), 'admitted');
  });

  void test("authenticate: its result is the connection's data; false → 401; a thrown status 400–599 is used, any other → 401", async () => {
    assert.deepEqual(await admission({ authenticate: () => Promise.resolve({ user: 'ann' }) }), { admitted: true, data: { user: 'ann' }, errorListeners: 0 });
    assert.equal(status(await admission({ authenticate: () => false })), 401);
    assert.equal(status(await admission({ authenticate: () => { throw Object.assign(new Error('slow down'), { status: 429 }); } })), 429);
    assert.equal(status(await admission({ authenticate: () => Promise.reject(Object.assign(new Error('odd'), { status: 302 })) })), 401);
    assert.equal(status(await admission({ authenticate: () => { throw new Error('no status'); } })), 401);
  });

  void test('authenticate runs after verifyClient admitted the client, and never after a refusal', async () => {
    const order: string[] = [];
    await admission({ verifyClient: () => { order.push('verify'); return true; }, authenticate: () => { order.push('auth'); return 1; } });
    assert.deepEqual(order, ['verify', 'auth']);
    order.length = 0;
    const o = await admission({ verifyClient: () => { order.push('verify'); return false; }, authenticate: () => { order.push('auth'); return 1; } });
    assert.equal(status(o), 401);
    assert.deepEqual(order, ['verify']);
  });
});
