/**
 * The server's shutdown sequence: it runs once (every call gets the same drain), is not ready
 * from its first step, and stops listening at its end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { defaultConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { serverShutdown } from '../../src/server/server-shutdown.js';
import { ServerState } from '../../src/server/server-state.js';
import { request, serve, v1 } from './helpers.js';

void test('close() runs once: a second call gets the same result; the port is closed after it', async (t) => {
  const s = await serve(t, { apps: [] });
  const client = await v1(t, s.wsUrl);
  const first = s.handle.close({ code: 1001, timeoutMs: 1000 });
  const second = s.handle.close({ code: 1012 });
  assert.equal(first, second);
  // From the first step on the state says shutting down (/readyz 503, upgrades refused:
  // shutdown.test.ts watches them during a drain).
  assert.equal(s.handle.ready, false);
  const [code] = await client.closed;
  assert.equal(code, 1001, 'the first call\'s code');
  const result = await first;
  assert.deepEqual(result, { closed: 1, terminated: 0 });
  assert.equal(s.handle.ready, false);
  const refused = await new Promise<boolean>((resolve) => {
    const socket = net.connect(s.port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(true));
  });
  assert.equal(refused, true, 'no longer listening');
});

void test('a worker stops listening at the first step, before the drain; a single server only after it', async (t) => {
  const listeningDuringDrain = async (stopListeningFirst: boolean): Promise<boolean> => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => { if (server.listening) server.close(); });
    let seen: boolean | undefined;
    const close = serverShutdown({
      config: defaultConfig({ shutdown: { timeoutMs: 1000 } }),
      state: new ServerState(() => true),
      log: createLogger('silent'),
      connections: new Set(),
      closeClients: () => {
        seen = server.listening;
        return Promise.resolve();
      },
      stopParts: () => {},
      server,
      stopListeningFirst,
      closeAdapter: () => Promise.resolve(),
    });
    await close();
    assert.equal(server.listening, false, 'stopped at the end either way');
    return seen!;
  };
  assert.equal(await listeningDuringDrain(true), false);
  assert.equal(await listeningDuringDrain(false), true);
});

void test('/healthz of a worker names it and its process', async (t) => {
  const s = await serve(t, { apps: [] }, { worker: { id: 7, reusePort: false } });
  const body = (await request(s.port, 'GET', '/healthz')).json as { status: string; worker: number; pid: number };
  assert.equal(body.status, 'ok');
  assert.equal(body.worker, 7);
  assert.equal(body.pid, process.pid);
  const single = await serve(t, { apps: [] });
  assert.equal('worker' in ((await request(single.port, 'GET', '/healthz')).json as object), false);
});
