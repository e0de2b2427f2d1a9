/**
 * The app host on its own: routing by prefix (longest match, no partial segment), the index page
 * (every app, escaped), 404 for requests and upgrades no app takes, 500 when an app throws.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { ParleyApp } from '../../src/server/app.js';
import { appFor, createAppServer, indexPage } from '../../src/server/app-host.js';

/** An app that answers `<name>` on every request below its prefix, or throws when asked to. */
function fakeApp(name: string, title = name, description = `the ${name} app`): ParleyApp {
  return {
    name,
    title,
    description,
    handleRequest(req, res) {
      if (req.url?.endsWith('/throw')) throw new Error('app failure');
      if (req.url?.endsWith('/none')) return false;
      res.end(name);
      return true;
    },
    handleUpgrade(_req, socket) {
      socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
      return true;
    },
    close: () => Promise.resolve(),
  };
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function upgradeStatus(port: number, path: string): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return chunk.toString('latin1').split('\r\n', 1)[0] ?? '';
}

void test('appFor: the app whose prefix is the path or a whole leading segment of it', () => {
  const apps = new Map([['/poker', fakeApp('poker')], ['/auction', fakeApp('auction')]]);
  assert.equal(appFor(apps, '/poker')?.name, 'poker');
  assert.equal(appFor(apps, '/poker/tables/1?x=/auction')?.name, 'poker');
  assert.equal(appFor(apps, '/auction/ws?token=a')?.name, 'auction');
  assert.equal(appFor(apps, '/pokerface'), undefined, 'not a partial segment');
  assert.equal(appFor(apps, '/'), undefined);
  assert.equal(appFor(apps, undefined), undefined);
});

void test('indexPage: a card per app with its link, title and description, all escaped', () => {
  const html = indexPage(new Map([['/a', fakeApp('a', 'Bids & <Lots>', 'say "hi"')], ['/b', fakeApp('b')]]));
  assert.match(html, /<a href="\/a\/">Bids &#38; &#60;Lots&#62;<\/a>/);
  assert.match(html, /say &#34;hi&#34;/);
  assert.match(html, /<a href="\/b\/">b<\/a>/);
  assert.doesNotMatch(html, /<Lots>/);
  assert.match(indexPage(new Map()), /No applications are mounted/);
  // No inline style or script: the page must run under a strict Content-Security-Policy.
  assert.doesNotMatch(html, /<style|<script|style=/);
  assert.match(html, /<link rel="icon" href="\/favicon.svg"/);
});

void test('createAppServer: an HTML 404 page for a person, the site icon and stylesheet', async (t) => {
  const server = createAppServer(new Map([['/poker', fakeApp('poker')]]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { server.closeAllConnections(); server.close(); });
  const { port } = server.address() as AddressInfo;
  const missing = await fetch(`http://127.0.0.1:${port}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.match(await missing.text(), /<h1>Page not found<\/h1>[\s\S]*<a href="\/">/);
  const posted = await fetch(`http://127.0.0.1:${port}/nowhere`, { method: 'POST' });
  assert.equal(posted.status, 404);
  assert.equal(await posted.text(), 'not found\n');
  for (const path of ['/favicon.svg', '/favicon.ico']) {
    const icon = await fetch(`http://127.0.0.1:${port}${path}`);
    assert.equal(icon.status, 200, path);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.match(await icon.text(), /^<svg /);
  }
  const css = await fetch(`http://127.0.0.1:${port}/parley.css`);
  assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  // An app's own paths stay the app's: /poker/favicon.ico is not the host's.
  assert.equal((await fetch(`http://127.0.0.1:${port}/poker/favicon.ico`)).status, 200);
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/poker/favicon.ico`)).text(), 'poker');
});

void test('createAppServer: routes requests and upgrades by prefix; 404 elsewhere; 500 when an app throws', async (t) => {
  const server = createAppServer(new Map([['/poker', fakeApp('poker')], ['/auction', fakeApp('auction')]]));
  const errors: unknown[] = [];
  server.on('appError', (e) => errors.push(e));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => { server.closeAllConnections(); server.close(); });
  const { port } = server.address() as AddressInfo;
  assert.deepEqual(await get(port, '/poker/x'), { status: 200, body: 'poker' });
  assert.deepEqual(await get(port, '/auction/'), { status: 200, body: 'auction' });
  const index = await get(port, '/');
  assert.equal(index.status, 200);
  assert.match(index.body, /href="\/poker\/"/);
  assert.equal((await get(port, '/nowhere')).status, 404);
  assert.equal((await get(port, '/poker/none')).status, 404, 'an app may decline a path');
  assert.equal((await get(port, '/poker/throw')).status, 500);
  assert.equal(errors.length, 1);
  assert.equal(await upgradeStatus(port, '/auction/ws'), 'HTTP/1.1 418 Teapot');
  assert.equal(await upgradeStatus(port, '/elsewhere'), 'HTTP/1.1 404 Not Found');
});
