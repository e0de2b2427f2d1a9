/**
 * WebSocketServer: the three modes of `ws` 8 (port, attached server, noServer), path routing,
 * close()/shutdown(), client tracking, the 'headers' and 'wsClientError' events,
 * verifyClient, handleProtocols, and Parley's origins/authenticate/handshakeTimeout.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import * as http from 'node:http';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HandshakeError, WebSocket, WebSocketServer, type VerifyClientInfo } from '../../src/index.js';
import {
  FIXED_ACCEPT,
  OP,
  closeCodeOf,
  closeServer,
  defer,
  failClient,
  httpGet,
  openClient,
  quietFor,
  rawClient,
  startHttp,
  startServer,
  until,
  upgradeRequest,
  waitFor,
  withTimeout,
} from './helpers.js';

type VerifyCallback = (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void;

/** Echoes every message back with its type. */
function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
}

/** Sends `text` and resolves with the reply. */
async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  const reply = waitFor<[Buffer, boolean]>(ws, 'message');
  ws.send(text);
  const [data, isBinary] = await reply;
  assert.equal(isBinary, false);
  return data.toString('utf8');
}

void describe('WebSocketServer modes', () => {
  void test('port mode: listens on 127.0.0.1:0, calls the listening callback, accepts and echoes', async (t) => {
    let called = false;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => { called = true; });
    defer(t, () => closeServer(wss));
    await waitFor(wss, 'listening');
    assert.equal(called, true);
    const address = wss.address();
    assert.ok(address !== null && typeof address === 'object');
    assert.equal(address.address, '127.0.0.1');
    assert.ok(address.port > 0);
    echo(wss);
    const ws = await openClient(t, `ws://127.0.0.1:${address.port}`);
    assert.equal(await roundTrip(ws, 'hello port mode'), 'hello port mode');
  });

  void test('port mode: a plain HTTP request gets 426 Upgrade Required', async (t) => {
    const { port } = await startServer(t);
    const res = await httpGet(port, '/');
    assert.equal(res.status, 426);
    assert.equal(res.body, 'Upgrade Required');
  });

  void test('attached to an existing http server: the app still answers HTTP, upgrades become connections', async (t) => {
    const { server, port } = await startHttp(t, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`app saw ${req.url ?? ''}`);
    });
    const wss = new WebSocketServer({ server });
    defer(t, () => closeServer(wss));
    echo(wss);
    assert.deepEqual(wss.address(), server.address());
    const ws = await openClient(t, `ws://127.0.0.1:${port}/chat`);
    assert.equal(await roundTrip(ws, 'attached'), 'attached');
    const res = await httpGet(port, '/index.html');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'app saw /index.html');
    assert.equal(wss.clients?.size, 1);
  });

  void test('noServer: the application routes its own upgrade event to handleUpgrade', async (t) => {
    const wss = new WebSocketServer({ noServer: true });
    defer(t, () => closeServer(wss));
    echo(wss);
    const { server, port } = await startHttp(t);
    const seen: string[] = [];
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      seen.push(req.url ?? '');
      if (req.url === '/live') wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      else socket.destroy();
    });
    assert.throws(() => wss.address(), /noServer/);
    const ws = await openClient(t, `ws://127.0.0.1:${port}/live`);
    assert.equal(await roundTrip(ws, 'no server'), 'no server');
    const refused = await failClient(t, `ws://127.0.0.1:${port}/elsewhere`);
    assert.equal(refused.opened, false);
    assert.deepEqual(seen, ['/live', '/elsewhere']);
  });

  void test('noServer: handleUpgrade twice with the same socket throws', async (t) => {
    const wss = new WebSocketServer({ noServer: true });
    defer(t, () => closeServer(wss));
    const { server, port } = await startHttp(t);
    let second: unknown;
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, () => {});
      try {
        wss.handleUpgrade(req, socket, head, () => {});
      } catch (error) {
        second = error;
      }
    });
    await openClient(t, `ws://127.0.0.1:${port}`);
    assert.ok(second instanceof Error);
    assert.match(second.message, /more than once/);
  });

  void test('path: only that path is upgraded (query ignored); other paths get 400', async (t) => {
    const { port } = await startServer(t, { path: '/ws' });
    assert.equal((await upgradeRequest(port, '/ws')).status, 101);
    assert.equal((await upgradeRequest(port, '/ws?room=1')).status, 101);
    assert.equal((await upgradeRequest(port, '/other')).status, 400);
    assert.equal((await upgradeRequest(port, '/ws/')).status, 400);
  });
});

void describe('perMessageDeflate', () => {
  void test('perMessageDeflate: false (the default) declines an offer: no extension in the 101, none on the connection', async (t) => {
    const { wss, port, url } = await startServer(t, { perMessageDeflate: false });
    const res = await upgradeRequest(port, '/', { 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-extensions'], undefined);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const ws = await openClient(t, url);
    assert.equal(ws.extensions, '');
    assert.equal((await connected)[0].extensions, '');
  });

  void test('perMessageDeflate: true is either refused with a TypeError (no deflate support) or really negotiated', async (t) => {
    let server: WebSocketServer;
    try {
      server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
    } catch (error) {
      // The version without RFC 7692 support refuses the option outright.
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /perMessageDeflate/);
      return;
    }
    defer(t, () => closeServer(server));
    await waitFor(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const res = await upgradeRequest(port, '/', { 'Sec-WebSocket-Extensions': 'permessage-deflate' });
    assert.equal(res.status, 101);
    assert.match(res.headers['sec-websocket-extensions'] ?? '', /^permessage-deflate/);
  });
});

void describe('WebSocketServer close() and shutdown()', () => {
  void test('close() in port mode emits close, calls back, and frees the port', async (t) => {
    const { wss, port } = await startServer(t);
    let called = false;
    const closed = waitFor(wss, 'close');
    wss.close(() => { called = true; });
    await closed;
    assert.equal(called, true);
    const socket = net.connect(port, '127.0.0.1');
    const [error] = await waitFor<[NodeJS.ErrnoException]>(socket, 'error');
    assert.equal(error.code, 'ECONNREFUSED');
  });

  void test('close() does not close open clients (ws 8); close is emitted once the last one leaves', async (t) => {
    const { server, port } = await startHttp(t, (_req, res) => res.end('app'));
    const wss = new WebSocketServer({ server });
    defer(t, () => closeServer(wss));
    echo(wss);
    const ws = await openClient(t, `ws://127.0.0.1:${port}`);
    let closeEmitted = false;
    wss.on('close', () => { closeEmitted = true; });
    wss.close();
    assert.equal(await quietFor(wss, 'close', 100), true);
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.equal(await roundTrip(ws, 'still here'), 'still here');
    // No new upgrades are accepted after close().
    const late = await failClient(t, `ws://127.0.0.1:${port}`);
    assert.equal(late.opened, false);
    const done = waitFor(wss, 'close');
    ws.close();
    await done;
    assert.equal(closeEmitted, true);
  });

  void test('close() in port mode with an open client: the client stays open; close follows it', async (t) => {
    const { wss, url } = await startServer(t);
    echo(wss);
    const ws = await openClient(t, url);
    wss.close();
    assert.equal(await quietFor(wss, 'close', 100), true);
    assert.equal(await roundTrip(ws, 'port mode'), 'port mode');
    const done = waitFor(wss, 'close');
    ws.close();
    await done;
  });

  void test('shutdown() sends 1001 with its reason to every client and resolves', async (t) => {
    const { wss, url } = await startServer(t);
    const a = await openClient(t, url);
    const b = await openClient(t, url);
    await until(() => wss.clients?.size === 2);
    const aClosed = waitFor<[number, Buffer]>(a, 'close');
    const bClosed = waitFor<[number, Buffer]>(b, 'close');
    const wssClosed = waitFor(wss, 'close');
    await withTimeout(wss.shutdown(), 3000, 'shutdown()');
    const [[codeA, reasonA], [codeB]] = await Promise.all([aClosed, bClosed, wssClosed]);
    assert.equal(codeA, 1001);
    assert.equal(codeB, 1001);
    assert.equal(reasonA.toString(), 'server shutting down');
  });

  void test('shutdown() on an attached server resolves after every connection has closed', async (t) => {
    const { server, port } = await startHttp(t);
    const wss = new WebSocketServer({ server });
    defer(t, () => closeServer(wss));
    const serverClosed: number[] = [];
    wss.on('connection', (ws) => ws.on('close', (code) => serverClosed.push(code)));
    await openClient(t, `ws://127.0.0.1:${port}`);
    await openClient(t, `ws://127.0.0.1:${port}`);
    await until(() => wss.clients?.size === 2);
    await withTimeout(wss.shutdown(), 3000, 'shutdown()');
    assert.deepEqual(serverClosed, [1001, 1001]);
    assert.equal(wss.clients?.size, 0);
  });

  void test('shutdown() in port mode resolves only after the connections emitted close (as in attached mode)', async (t) => {
    const { wss, url } = await startServer(t);
    const serverClosed: number[] = [];
    wss.on('connection', (ws) => ws.on('close', (code) => serverClosed.push(code)));
    await openClient(t, url);
    await until(() => wss.clients?.size === 1);
    await withTimeout(wss.shutdown(), 3000, 'shutdown()');
    assert.deepEqual(serverClosed, [1001]);
    assert.equal(wss.clients?.size, 0);
  });

  void test('shutdown({code: 1012, reason}) uses them', async (t) => {
    const { wss, url } = await startServer(t);
    const ws = await openClient(t, url);
    const closed = waitFor<[number, Buffer]>(ws, 'close');
    await withTimeout(wss.shutdown({ code: 1012, reason: 'restarting' }), 3000, 'shutdown()');
    const [code, reason] = await closed;
    assert.equal(code, 1012);
    assert.equal(reason.toString(), 'restarting');
  });

  void test('shutdown({timeout}) terminates a peer that never answers the close frame', async (t) => {
    const { wss, port, conns } = await startServer(t);
    const peer = await rawClient(t, port);
    await until(() => conns.size === 1);
    const started = performance.now();
    await withTimeout(wss.shutdown({ timeout: 200 }), 3000, 'shutdown()');
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 150, `resolved after ${elapsed} ms, before the timeout`);
    await withTimeout(peer.closed, 2000, 'the raw peer to be cut off');
    const close = peer.frames.find((f) => f.opcode === OP.CLOSE);
    assert.ok(close !== undefined, 'the peer was sent a close frame');
    assert.equal(closeCodeOf(close), 1001);
  });
});

void describe('WebSocketServer client tracking and events', () => {
  void test('clientTracking true (default): clients holds open connections and drops closed ones', async (t) => {
    const { wss, url } = await startServer(t);
    const [[serverWs]] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url)]);
    assert.ok(wss.clients instanceof Set);
    assert.equal(wss.clients.has(serverWs), true);
    serverWs.close();
    await waitFor(serverWs, 'close');
    assert.equal(wss.clients.size, 0);
  });

  void test('a closed connection has left clients before its own close listeners run, even with them all removed', async (t) => {
    const { wss, url } = await startServer(t);
    await Promise.all([openClient(t, url), openClient(t, url)]);
    const clients = wss.clients;
    await until(() => clients.size === 2);
    const conns = [...clients];
    assert.equal(conns.length, 2);
    const [x, y] = conns as [WebSocket, WebSocket];
    let seen: boolean | undefined;
    x.on('close', () => { seen = clients.has(x); });
    // Tracking does not depend on a listener the application could remove.
    y.removeAllListeners('close');
    x.close();
    y.close();
    await until(() => clients.size === 0);
    assert.equal(seen, false);
  });

  void test('clientTracking false: no clients set, connections still work', async (t) => {
    const { wss, url } = await startServer(t, { clientTracking: false });
    echo(wss);
    assert.equal(wss.clients, undefined);
    const ws = await openClient(t, url);
    assert.equal(await roundTrip(ws, 'untracked'), 'untracked');
  });

  void test("'headers' can add a response header line that the client sees on 'upgrade'", async (t) => {
    const { wss, url } = await startServer(t);
    let requestUrl: string | undefined;
    wss.on('headers', (headers, req) => {
      headers.push('X-Parley-Test: added');
      requestUrl = req.url;
    });
    const ws = new WebSocket(`${url}/hdr?q=1`);
    defer(t, () => ws.terminate());
    const upgraded = waitFor<[http.IncomingMessage]>(ws, 'upgrade');
    const opened = waitFor(ws, 'open');
    const [[res]] = await Promise.all([upgraded, opened]);
    assert.equal(res.headers['x-parley-test'], 'added');
    assert.equal(res.statusCode, 101);
    assert.equal(requestUrl, '/hdr?q=1');
  });

  void test("'wsClientError' receives a bad handshake with the socket and request", async (t) => {
    const { wss, port, conns } = await startServer(t);
    const got: Array<{ error: Error; url: string | undefined }> = [];
    wss.on('wsClientError', (error, socket, req) => {
      got.push({ error, url: req.url });
      socket.end('HTTP/1.1 418 Teapot\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const res = await upgradeRequest(port, '/bad', { 'Sec-WebSocket-Key': 'not-a-key' });
    assert.equal(res.status, 418);
    assert.equal(got.length, 1);
    const [first] = got;
    assert.ok(first?.error instanceof HandshakeError);
    assert.equal(first.error.status, 400);
    assert.equal(first.url, '/bad');
    assert.equal(conns.size, 0);
  });

  void test('without a wsClientError listener a bad handshake is refused: 400 bad key, 400 bad version (as ws)', async (t) => {
    const { port } = await startServer(t);
    assert.equal((await upgradeRequest(port, '/', { 'Sec-WebSocket-Key': 'short' })).status, 400);
    const version = await upgradeRequest(port, '/', { 'Sec-WebSocket-Version': '12' });
    assert.equal(version.status, 400);
    assert.equal(version.headers['sec-websocket-version'], '13, 8');
  });

  void test('Sec-WebSocket-Version: 8 (hybi-08) is accepted, as ws accepts it', async (t) => {
    const { port } = await startServer(t);
    assert.equal((await upgradeRequest(port, '/', { 'Sec-WebSocket-Version': '8' })).status, 101);
  });

  void test('the 101 carries the RFC 6455 accept value for the key', async (t) => {
    const { port } = await startServer(t);
    const res = await upgradeRequest(port);
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-accept'], FIXED_ACCEPT);
  });

  void test("a 'connection' listener that throws closes that connection with 1011, not the server", async (t) => {
    const { wss, url } = await startServer(t);
    const errors: Error[] = [];
    wss.on('error', (e) => errors.push(e));
    let first = true;
    wss.on('connection', (ws) => {
      if (first) {
        first = false;
        throw new Error('app bug in connection');
      }
      ws.on('message', (d, b) => ws.send(d, { binary: b }));
    });
    const bad = new WebSocket(url);
    defer(t, () => bad.terminate());
    const [code] = await waitFor<[number]>(bad, 'close');
    assert.equal(code, 1011);
    assert.equal(errors[0]?.message, 'app bug in connection');
    const good = await openClient(t, url);
    assert.equal(await roundTrip(good, 'fine'), 'fine');
  });
});

void describe('verifyClient and handleProtocols', () => {
  void test('verifyClient (sync): false → 401, true → connection; info has origin, secure, req', async (t) => {
    const infos: VerifyClientInfo[] = [];
    const { port } = await startServer(t, {
      verifyClient: (info: VerifyClientInfo): boolean => {
        infos.push(info);
        return info.req.headers['x-let-me-in'] === 'yes';
      },
    });
    assert.equal((await upgradeRequest(port)).status, 401);
    assert.equal((await upgradeRequest(port, '/', { 'X-Let-Me-In': 'yes', Origin: 'https://app.example' })).status, 101);
    assert.equal(infos.length, 2);
    assert.equal(infos[1]?.origin, 'https://app.example');
    assert.equal(infos[1]?.secure, false);
    assert.equal(infos[0]?.origin, undefined);
  });

  void test('verifyClient (async callback): (false, 403, "nope") → 403 nope; (true) → connection', async (t) => {
    const { port } = await startServer(t, {
      verifyClient: (info: VerifyClientInfo, cb: VerifyCallback): void => {
        setTimeout(() => {
          if (info.req.url === '/ok') cb(true);
          else if (info.req.url === '/hdr') cb(false, 401, 'who?', { 'WWW-Authenticate': 'Bearer' });
          else cb(false, 403, 'nope');
        }, 10);
      },
    });
    const refused = await upgradeRequest(port, '/no');
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'nope');
    const withHeader = await upgradeRequest(port, '/hdr');
    assert.equal(withHeader.status, 401);
    assert.equal(withHeader.headers['www-authenticate'], 'Bearer');
    assert.equal((await upgradeRequest(port, '/ok')).status, 101);
  });

  void test('handleProtocols chooses one of the offered subprotocols', async (t) => {
    const offered: string[][] = [];
    const { wss, url } = await startServer(t, {
      handleProtocols: (protocols, req) => {
        offered.push([...protocols]);
        assert.equal(typeof req.headers['sec-websocket-key'], 'string');
        return protocols.has('chat.v2') ? 'chat.v2' : false;
      },
    });
    const [[serverWs], ws] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, url, ['chat.v1', 'chat.v2'])]);
    assert.equal(ws.protocol, 'chat.v2');
    assert.equal(serverWs.protocol, 'chat.v2');
    assert.deepEqual(offered[0], ['chat.v1', 'chat.v2']);
  });

  void test('handleProtocols returning false selects none: no Sec-WebSocket-Protocol in the 101', async (t) => {
    const { port, url } = await startServer(t, { handleProtocols: () => false });
    const res = await upgradeRequest(port, '/', { 'Sec-WebSocket-Protocol': 'mqtt' });
    assert.equal(res.status, 101);
    assert.equal(res.headers['sec-websocket-protocol'], undefined);
    // As ws: a client that offered subprotocols fails when the server selects none.
    const failed = await failClient(t, url, 'mqtt');
    assert.equal(failed.error.message, 'Server sent no subprotocol');
  });

  void test('without handleProtocols the first offered subprotocol is selected', async (t) => {
    const { url } = await startServer(t);
    const ws = await openClient(t, url, ['first', 'second']);
    assert.equal(ws.protocol, 'first');
  });
});

void describe('origins allow-list', () => {
  void test('an allowed origin connects; another gets 403 before any upgrade', async (t) => {
    const { url, port, conns } = await startServer(t, { origins: ['https://good.example'] });
    const ws = await openClient(t, url, undefined, { origin: 'https://good.example' });
    assert.equal(ws.readyState, WebSocket.OPEN);
    const res = await upgradeRequest(port, '/', { Origin: 'https://evil.example' });
    assert.equal(res.status, 403);
    const failed = await failClient(t, url, undefined, { origin: 'https://evil.example' });
    assert.equal(failed.opened, false);
    assert.match(failed.error.message, /403/);
    assert.equal(conns.size, 1);
  });

  void test('predicate form: called with the origin and request', async (t) => {
    const calls: Array<string | undefined> = [];
    const { port } = await startServer(t, {
      origins: (origin, req) => {
        calls.push(origin);
        assert.ok(req instanceof http.IncomingMessage);
        return origin !== undefined && origin.endsWith('.good.example');
      },
    });
    assert.equal((await upgradeRequest(port, '/', { Origin: 'https://a.good.example' })).status, 101);
    assert.equal((await upgradeRequest(port, '/', { Origin: 'https://good.example.evil' })).status, 403);
    assert.equal((await upgradeRequest(port)).status, 403);
    assert.deepEqual(calls, ['https://a.good.example', 'https://good.example.evil', undefined]);
  });

  void test('array form: a request without Origin (a non-browser client) passes, as documented', async (t) => {
    const { port } = await startServer(t, { origins: ['https://good.example'] });
    assert.equal((await upgradeRequest(port)).status, 101);
  });
});

void describe('authenticate and handshakeTimeout', () => {
  void test('authenticate: its async result becomes ws.data; false → 401; {status: 429} → 429; other throws → 401', async (t) => {
    const { wss, url, port } = await startServer(t, {
      authenticate: async (req) => {
        await sleep(5);
        switch (req.url) {
          case '/user': return { user: 'x', roles: ['a'] };
          case '/deny': return false;
          case '/slow-down':
            // eslint-disable-next-line @typescript-eslint/only-throw-error -- a plain object with a status is what the hook supports
            throw { status: 429 };
          case '/bad-status': throw Object.assign(new Error('odd'), { status: 200 });
          default: throw new Error('no');
        }
      },
    });
    const [[serverWs]] = await Promise.all([waitFor<[WebSocket]>(wss, 'connection'), openClient(t, `${url}/user`)]);
    assert.deepEqual(serverWs.data, { user: 'x', roles: ['a'] });
    assert.equal((await upgradeRequest(port, '/deny')).status, 401);
    assert.equal((await upgradeRequest(port, '/slow-down')).status, 429);
    assert.equal((await upgradeRequest(port, '/bad-status')).status, 401);
    assert.equal((await upgradeRequest(port, '/other')).status, 401);
  });

  void test('authenticate runs after verifyClient, and not when verifyClient refuses', async (t) => {
    const order: string[] = [];
    const { port } = await startServer(t, {
      verifyClient: (info: VerifyClientInfo): boolean => { order.push(`verify ${info.req.url ?? ''}`); return info.req.url === '/ok'; },
      authenticate: (req) => { order.push(`auth ${req.url ?? ''}`); return true; },
    });
    assert.equal((await upgradeRequest(port, '/no')).status, 401);
    assert.equal((await upgradeRequest(port, '/ok')).status, 101);
    assert.deepEqual(order, ['verify /no', 'verify /ok', 'auth /ok']);
  });

  void test('handshakeTimeout: an authenticate that never resolves → 408 and the socket is closed', async (t) => {
    const { port, conns } = await startServer(t, { handshakeTimeout: 200, authenticate: () => new Promise<never>(() => {}) });
    const socket = net.connect(port, '127.0.0.1');
    defer(t, () => socket.destroy());
    socket.on('error', () => {});
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { received += chunk; });
    const closed = waitFor(socket, 'close', 3000);
    await waitFor(socket, 'connect');
    const started = performance.now();
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await closed;
    const elapsed = performance.now() - started;
    assert.match(received, /^HTTP\/1\.1 408 /);
    assert.ok(elapsed >= 150 && elapsed < 2000, `closed after ${elapsed} ms`);
    assert.equal(conns.size, 0);
  });
});

/**
 * What programs written for ws rely on in the server, found by running ws's own public-API tests
 * against Parley (docs/api.md, "Differences from ws").
 */
void describe('WebSocketServer as ws has it', () => {
  void test("no options at all → ws's TypeError", () => {
    assert.throws(() => new (WebSocketServer as unknown as new () => unknown)(), /^TypeError: One and only one of the "port", "server", or "noServer" options must be specified$/);
  });

  void test('_server is the HTTP server (null in noServer mode); _state goes 0 → 2 (as ws numbers it)', async (t) => {
    const { wss } = await startServer(t);
    assert.deepEqual(wss._server?.address(), wss.address());
    assert.equal(wss._state, 0);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.equal(wss._state, 2);
    const none = new WebSocketServer({ noServer: true });
    assert.equal(none._server, null);
    none.close();
  });

  void test("close(cb) on a closed server: 'close' again, and cb gets 'The server is not running'", async () => {
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const again = waitFor(wss, 'close');
    const error = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    assert.equal(error?.message, 'The server is not running');
    await again;
  });

  void test("extensions names what was agreed, 'permessage-deflate', on both sides (as ws)", async (t) => {
    const { wss, url } = await startServer(t, { perMessageDeflate: true });
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const ws = await openClient(t, url);
    assert.equal(ws.extensions, 'permessage-deflate');
    assert.equal((await connected)[0].extensions, 'permessage-deflate');
  });
});
