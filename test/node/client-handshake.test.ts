/**
 * The client side of the opening handshake: URL and option checks, handshakeTimeout, redirects,
 * request headers, checks on the server's 101, ws+unix: and wss:// with a certificate made at
 * test time by the openssl CLI.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { execFileSync, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket, WebSocketServer, type VerifyClientInfo } from '../../src/index.js';
import { acceptByHand, closeServer, defer, failClient, openClient, rawServer, startServer, waitFor } from './helpers.js';

/** A raw server answering every request with a redirect; records the request heads. */
async function redirector(t: TestContext, location: string, status = 302): Promise<{ port: number; heads: string[] }> {
  const heads: string[] = [];
  const { port } = await rawServer(t, (socket) => {
    let buf = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      if (!buf.includes('\r\n\r\n')) return;
      heads.push(buf);
      buf = '';
      socket.end(`HTTP/1.1 ${status} Moved\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
  });
  return { port, heads };
}

void describe('client URL and option checks', () => {
  void test('ftp:, a fragment, an unparsable URL → SyntaxError', () => {
    assert.throws(() => new WebSocket('ftp://127.0.0.1/'), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1/chat#room'), SyntaxError);
    assert.throws(() => new WebSocket('not a url'), SyntaxError);
    assert.throws(() => new WebSocket(new URL('file:///tmp/x')), SyntaxError);
  });

  void test('duplicate or invalid subprotocols → SyntaxError', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['chat', 'chat']), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['has space']), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', 'a,b'), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['']), SyntaxError);
  });

  void test("protocolVersion other than 13 or 8 → RangeError with ws's message", () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { protocolVersion: 1000 }), /^RangeError: Unsupported protocol version: 1000 \(supported versions: 8, 13\)$/);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { protocolVersion: 'x' as unknown as number }), RangeError);
  });

  void test('http: becomes ws: and the URL is normalised', async (t) => {
    const { port } = await startServer(t);
    const ws = await openClient(t, `http://127.0.0.1:${port}/a/../b?q=1`);
    assert.equal(ws.url, `ws://127.0.0.1:${port}/b?q=1`);
  });
});

void describe('client handshake', () => {
  void test('handshakeTimeout against a server that accepts TCP and never answers → error, then close 1006', async (t) => {
    const { port } = await rawServer(t, () => {});
    const started = performance.now();
    const { error, code, opened } = await failClient(t, `ws://127.0.0.1:${port}`, undefined, { handshakeTimeout: 200 });
    const elapsed = performance.now() - started;
    assert.equal(opened, false);
    assert.equal((error as { code?: string }).code, 'ERR_WS_HANDSHAKE_TIMEOUT');
    assert.equal(code, 1006);
    assert.ok(elapsed >= 150 && elapsed < 2000, `timed out after ${elapsed} ms`);
  });

  void test('origin, headers and subprotocols reach the server', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = await openClient(t, `${url}/room`, ['v1', 'v2'], { origin: 'https://app.example', headers: { 'X-Token': 'abc' } });
    const [, req] = await connected;
    assert.equal(req.headers.origin, 'https://app.example');
    assert.equal(req.headers['x-token'], 'abc');
    assert.equal(req.headers['sec-websocket-protocol'], 'v1,v2');
    assert.equal(req.headers['sec-websocket-version'], '13');
    assert.equal(req.url, '/room');
    assert.equal(ws.protocol, 'v1');
  });

  void test("a refused upgrade: 'unexpected-response' when listened for, otherwise an error naming the status", async (t) => {
    const { url } = await startServer(t, { verifyClient: (_info: VerifyClientInfo) => false });
    const failed = await failClient(t, url);
    assert.match(failed.error.message, /401/);
    assert.equal(failed.code, 1006);
    const ws = new WebSocket(url);
    defer(t, () => ws.terminate());
    const [req, res] = await waitFor<[http.ClientRequest, http.IncomingMessage]>(ws, 'unexpected-response');
    assert.equal(res.statusCode, 401);
    assert.ok(req instanceof http.ClientRequest);
    req.destroy();
  });

  void test('followRedirects: a 302 leads to the real endpoint, with a redirect event', async (t) => {
    const { wss, port: wsPort } = await startServer(t, { path: '/real' });
    const target = `ws://127.0.0.1:${wsPort}/real?from=302`;
    const { port } = await redirector(t, target);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/old`, { followRedirects: true });
    defer(t, () => ws.terminate());
    const redirected = waitFor<[string]>(ws, 'redirect');
    const opened = waitFor(ws, 'open');
    const [[url], , [, req]] = await Promise.all([redirected, opened, connected]);
    assert.equal(url, target);
    assert.equal(req.url, '/real?from=302');
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  void test('followRedirects: a relative Location on the same host keeps Authorization', async (t) => {
    const wss = new WebSocketServer({ noServer: true });
    defer(t, () => closeServer(wss));
    const server = http.createServer();
    server.on('upgrade', (req: http.IncomingMessage, socket: import('node:net').Socket, head: Buffer) => {
      if (req.url === '/old') socket.end('HTTP/1.1 301 Moved\r\nLocation: /new\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      else wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    server.listen(0, '127.0.0.1');
    await waitFor(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    await openClient(t, `ws://127.0.0.1:${port}/old`, undefined, { followRedirects: true, headers: { Authorization: 'Bearer same-host' } });
    const [, req] = await connected;
    assert.equal(req.url, '/new');
    assert.equal(req.headers.authorization, 'Bearer same-host');
  });

  void test('followRedirects to another host drops Authorization and Cookie but keeps other headers', async (t) => {
    const addresses = await lookup('localhost', { all: true }).catch(() => []);
    if (!addresses.some((a) => a.address === '127.0.0.1')) {
      t.skip('localhost does not resolve to 127.0.0.1 here');
      return;
    }
    const { wss, port: wsPort } = await startServer(t);
    const { port } = await redirector(t, `ws://localhost:${wsPort}/`);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    await openClient(t, `ws://127.0.0.1:${port}/`, undefined, {
      followRedirects: true,
      headers: { Authorization: 'Bearer secret', Cookie: 'sid=1', 'X-Trace': 't1' },
    });
    const [, req] = await connected;
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers['x-trace'], 't1');
  });

  void test('without followRedirects a 302 is an error; maxRedirects bounds a loop', async (t) => {
    const { port } = await startServer(t);
    const { port: redirPort } = await redirector(t, `ws://127.0.0.1:${port}/`);
    const plain = await failClient(t, `ws://127.0.0.1:${redirPort}/`);
    assert.match(plain.error.message, /302/);
    assert.equal(plain.opened, false);

    const loop = await redirector(t, '/again');
    const looped = await failClient(t, `ws://127.0.0.1:${loop.port}/`, undefined, { followRedirects: true, maxRedirects: 2 });
    assert.match(looped.error.message, /Maximum redirects exceeded/);
    assert.equal(loop.heads.length, 3);
  });

  void test('after a redirect, url is the final URL (as in ws 8)', async (t) => {
    const { port: wsPort } = await startServer(t);
    const { port } = await redirector(t, `ws://127.0.0.1:${wsPort}/final`);
    const ws = await openClient(t, `ws://127.0.0.1:${port}/start`, undefined, { followRedirects: true });
    assert.equal(ws.url, `ws://127.0.0.1:${wsPort}/final`);
  });

  void test('a 101 with a wrong accept, an unoffered subprotocol or an extension is refused', async (t) => {
    // The messages are ws's, word for word: programs match on them.
    const cases: Array<{ lines: string[]; accept?: string; protocols?: string[]; message: string }> = [
      { lines: [], accept: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', message: 'Invalid Sec-WebSocket-Accept header' },
      { lines: ['Sec-WebSocket-Protocol: other'], protocols: ['mine'], message: 'Server sent an invalid subprotocol' },
      { lines: ['Sec-WebSocket-Protocol: surprise'], message: 'Server sent a subprotocol but none was requested' },
      { lines: [], protocols: ['mine'], message: 'Server sent no subprotocol' },
      { lines: ['Sec-WebSocket-Extensions: permessage-deflate'], message: 'Server sent a Sec-WebSocket-Extensions header but no extension was requested' },
      { lines: ['Sec-WebSocket-Extensions: foo'], message: 'Server indicated an extension that was not requested' },
    ];
    for (const c of cases) {
      const { port } = await rawServer(t, (socket) => acceptByHand(socket, undefined, c.lines, c.accept));
      const offer = c.message.includes('no extension was requested') ? { perMessageDeflate: false } : undefined;
      const failed = await failClient(t, `ws://127.0.0.1:${port}`, c.protocols, offer);
      assert.equal(failed.opened, false, c.lines.join());
      assert.equal(failed.error.message, c.message);
      assert.equal(failed.code, 1006);
    }
  });

  void test('ws+unix: connects over a Unix domain socket', { skip: process.platform === 'win32' ? 'no Unix sockets' : false }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-unix-'));
    defer(t, () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ws.sock');
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
    defer(t, () => closeServer(wss));
    server.listen(path);
    await waitFor(server, 'listening');
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = await openClient(t, `ws+unix:${path}:/chat?x=1`);
    const [serverWs, req] = await connected;
    assert.equal(req.url, '/chat?x=1');
    const reply = waitFor<[Buffer]>(serverWs, 'message');
    ws.send('over unix');
    assert.equal((await reply)[0].toString(), 'over unix');
  });
});

/** A self-signed certificate for 127.0.0.1 made with the openssl CLI, or undefined when skipped. */
function makeCertificate(t: TestContext): { key: Buffer; cert: Buffer } | undefined {
  const found = spawnSync('which', ['openssl']).status === 0 || spawnSync('openssl', ['version']).status === 0;
  if (!found) {
    const message = 'the openssl CLI is not installed (Debian package `openssl`)';
    if (process.env.CI === 'true') assert.fail(message);
    t.skip(message);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  defer(t, () => rmSync(dir, { recursive: true, force: true }));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'pipe' });
  return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

/** An https server with a WebSocketServer attached; echoes, records verifyClient's `secure`. */
async function startTls(t: TestContext, key: Buffer, cert: Buffer): Promise<{ url: string; secure: boolean[] }> {
  const server = https.createServer({ key, cert });
  const secure: boolean[] = [];
  const wss = new WebSocketServer({ server, verifyClient: (info: VerifyClientInfo) => { secure.push(info.secure); return true; } });
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  defer(t, () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  defer(t, () => closeServer(wss));
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  return { url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}`, secure };
}

void describe('wss:// over TLS', () => {
  void test('a client given the certificate as `ca` connects and exchanges messages', async (t) => {
    const pair = makeCertificate(t);
    if (pair === undefined) return;
    const { url, secure } = await startTls(t, pair.key, pair.cert);
    const ws = await openClient(t, `${url}/secure`, undefined, { ca: pair.cert });
    const reply = waitFor<[Buffer, boolean]>(ws, 'message');
    ws.send('over tls');
    const [data, isBinary] = await reply;
    assert.equal(data.toString(), 'over tls');
    assert.equal(isBinary, false);
    assert.deepEqual(secure, [true]);
    // https: is accepted as wss:.
    const viaHttps = await openClient(t, url.replace('wss:', 'https:'), undefined, { ca: pair.cert });
    assert.equal(viaHttps.url.startsWith('wss://'), true);
  });

  void test('with default verification a self-signed certificate fails with a certificate error', async (t) => {
    const pair = makeCertificate(t);
    if (pair === undefined) return;
    const { url, secure } = await startTls(t, pair.key, pair.cert);
    const { error, code, opened } = await failClient(t, url);
    assert.equal(opened, false);
    assert.equal(code, 1006);
    assert.match(`${(error as { code?: string }).code ?? ''} ${error.message}`, /SELF_SIGNED|self[- ]signed|CERT/i);
    assert.deepEqual(secure, []);
  });

  void test('rejectUnauthorized: false passes through to TLS', async (t) => {
    const pair = makeCertificate(t);
    if (pair === undefined) return;
    const { url } = await startTls(t, pair.key, pair.cert);
    const ws = await openClient(t, url, undefined, { rejectUnauthorized: false });
    assert.equal(ws.readyState, WebSocket.OPEN);
  });
});

/**
 * What programs written for ws rely on in the client handshake, found by running ws's own
 * public-API tests against Parley (docs/api.md, "Differences from ws").
 */
void describe('client handshake as ws does it', () => {
  void test('ws._req is the request in flight (default ports left out of Host), null once open', async (t) => {
    for (const [url, host] of [['wss://localhost:443', 'localhost'], ['wss://localhost:8443', 'localhost:8443'], ['ws://localhost:80', 'localhost'], ['ws://localhost:88', 'localhost:88']]) {
      const ws = new WebSocket(url!, { lookup: () => undefined });
      ws.on('error', () => undefined);
      assert.equal(ws._req?.getHeader('host'), host, url);
      ws.terminate();
    }
    const { url } = await startServer(t);
    const ws = await openClient(t, url);
    assert.equal(ws._req, null);
    assert.equal(ws._redirects, 0);
  });

  void test('followRedirects to another host (another port is one) drops every credential, as ws; _redirects counts', async (t) => {
    const { wss, port: wsPort } = await startServer(t);
    const { port } = await redirector(t, `ws://baz:qux@127.0.0.1:${wsPort}/`);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = new WebSocket(`ws://foo:bar@127.0.0.1:${port}/`, { followRedirects: true, headers: { Cookie: 'a=b' } });
    defer(t, () => ws.terminate());
    assert.equal(ws._req?.getHeader('authorization'), 'Basic Zm9vOmJhcg==');
    const [, req] = await connected;
    assert.equal(ws._redirects, 1);
    assert.equal(ws.url, `ws://baz:qux@127.0.0.1:${wsPort}/`);
    // Another host and no 'redirect' listener: the credentials, the new URL's own included, and
    // the cookie stay behind.
    assert.equal(req.headers.cookie, undefined);
    assert.equal(req.headers.authorization, undefined);
  });

  void test("with a 'redirect' listener nothing is dropped, and the listener can remove headers from the new request", async (t) => {
    const { wss, port: wsPort } = await startServer(t);
    const { port } = await redirector(t, `ws://127.0.0.1:${wsPort}/`);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { followRedirects: true, headers: { Authorization: 'Basic Zm9vOmJhcg==', Cookie: 'a=b' } });
    defer(t, () => ws.terminate());
    ws.on('redirect', (url: string, request: http.ClientRequest) => {
      assert.equal(url, `ws://127.0.0.1:${wsPort}/`);
      assert.equal(request.getHeader('authorization'), 'Basic Zm9vOmJhcg==');
      assert.equal(ws._req, request);
      request.removeHeader('cookie');
    });
    const [, req] = await connected;
    assert.equal(req.headers.authorization, 'Basic Zm9vOmJhcg==');
    assert.equal(req.headers.cookie, undefined);
  });

  void test("a redirect to an invalid URL fails with ws's SyntaxError after one redirect", async (t) => {
    for (const [location, message] of [['ws://', 'Invalid URL: ws://'], ['bad-scheme://localhost', 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"']] as const) {
      const { port } = await redirector(t, location);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { followRedirects: true });
      defer(t, () => ws.terminate());
      const closed = waitFor<[number]>(ws, 'close');
      const [error] = await waitFor<[Error]>(ws, 'error');
      assert.ok(error instanceof SyntaxError, location);
      assert.equal(error.message, message);
      assert.equal(ws._redirects, 1);
      assert.equal((await closed)[0], 1006);
    }
  });

  void test('createConnection gets the host and port as the URL spells them, and its socket carries the handshake', async (t) => {
    const { port } = await startServer(t);
    const seen: Array<{ host: unknown; port: unknown }> = [];
    const ws = await openClient(t, 'ws://example.invalid:22/', undefined, {
      createConnection: (options: { host?: unknown; port?: unknown }) => {
        seen.push({ host: options.host, port: options.port });
        return net.createConnection({ host: '127.0.0.1', port });
      },
    });
    assert.deepEqual(seen, [{ host: 'example.invalid', port: '22' }]);
    assert.equal(ws.url, 'ws://example.invalid:22/');
  });

  void test('finishRequest is handed the request and the WebSocket, and ends the request itself', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    let handed: unknown;
    const ws = await openClient(t, url, undefined, {
      finishRequest: (request, socket) => {
        handed = socket;
        assert.equal(request, socket._req);
        request.setHeader('Cookie', 'late=1');
        request.end();
      },
    });
    assert.equal(handed, ws);
    assert.equal((await connected)[1].headers.cookie, 'late=1');
  });

  void test('protocolVersion 8 sends Sec-WebSocket-Version: 8 and Sec-WebSocket-Origin, and a Parley server accepts it', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    await openClient(t, url, undefined, { protocolVersion: 8, origin: 'https://example.com' });
    const [, req] = await connected;
    assert.equal(req.headers['sec-websocket-version'], '8');
    assert.equal(req.headers['sec-websocket-origin'], 'https://example.com');
    assert.equal(req.headers.origin, undefined);
  });

  void test('permessage-deflate is offered by default (as ws) and declined by a default server; false offers nothing', async (t) => {
    const { wss, url } = await startServer(t);
    const first = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = await openClient(t, url);
    assert.equal((await first)[1].headers['sec-websocket-extensions'], 'permessage-deflate; client_max_window_bits');
    assert.equal(ws.extensions, '');
    const second = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    await openClient(t, url, undefined, { perMessageDeflate: false });
    assert.equal((await second)[1].headers['sec-websocket-extensions'], undefined);
  });

  void test('generateMask fills the masking keys', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection');
    const ws = await openClient(t, url, undefined, { generateMask: (mask) => mask.fill(7) });
    const [server] = await connected;
    const wire: Buffer[] = [];
    server._socket!.prependListener('data', (chunk: Buffer) => wire.push(chunk));
    const got = waitFor<[Buffer]>(server, 'message');
    ws.send(Buffer.from('abc'));
    assert.equal((await got)[0].toString(), 'abc');
    assert.deepEqual([...Buffer.concat(wire).subarray(2, 6)], [7, 7, 7, 7]);
    assert.throws(() => new WebSocket(url, { generateMask: 1 as never }), TypeError);
  });

  void test('a null or empty subprotocol is refused like an invalid one', () => {
    for (const p of [null, '', ['a', 'a']]) {
      assert.throws(() => new WebSocket('ws://127.0.0.1:1', p as never), /^SyntaxError: An invalid or duplicated subprotocol was specified$/);
    }
  });
});
