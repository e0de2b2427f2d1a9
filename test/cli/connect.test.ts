/**
 * `parley connect`: --echo sends every message back with its type and exits when the server
 * closes; interactive mode sends stdin lines and prints what arrives; flags and bad arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type * as http from 'node:http';
import type { WebSocket } from '../../src/index.js';
import { startServer, until, waitFor } from '../node/helpers.js';
import { finish, runCli, spawnCli, watch } from './helpers.js';

void describe('parley connect --echo', () => {
  void test('echoes a text and a binary message with their types, then exits 0 when the server closes', async (t) => {
    const { wss, url } = await startServer(t);
    const got: Array<[string, boolean]> = [];
    let closeCode = 0;
    wss.on('connection', (ws) => {
      ws.on('message', (data, isBinary) => got.push([(data as Buffer).toString('hex'), isBinary]));
      ws.on('close', (code) => { closeCode = code; });
      ws.send('hello from the server');
      ws.send(Buffer.from([0xde, 0xad, 0x00, 0xff]));
      ws.close(1000, 'done');
    });
    const r = await runCli(t, ['connect', '--echo', `${url}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    await until(() => closeCode !== 0);
    assert.deepEqual(got, [
      [Buffer.from('hello from the server').toString('hex'), false],
      ['dead00ff', true],
    ]);
    assert.equal(closeCode, 1000);
    assert.equal(r.stdout, '');
    // Stdout carries nothing; stderr tells the operator what happened.
    assert.match(r.stderr, /^connected to ws:\/\/127\.0\.0\.1:\d+\/echo\nclosed 1000 done\n$/);
  });

  void test('exits non-zero when it cannot connect at all', async (t) => {
    const { wss, port } = await startServer(t);
    const closed = waitFor(wss, 'close');
    wss.close();
    await closed;
    const r = await runCli(t, ['connect', '--echo', `ws://127.0.0.1:${port}`]);
    assert.notEqual(r.code, 0);
  });
});

void describe('parley connect (interactive)', () => {
  void test('stdin lines are sent as text; received messages are printed with "< " and "<b "', async (t) => {
    const { wss, url } = await startServer(t);
    const lines: string[] = [];
    let serverClose = 0;
    wss.on('connection', (ws) => {
      ws.send('welcome');
      ws.send(Buffer.from([1, 2, 0xab]));
      ws.on('message', (data) => {
        const text = (data as Buffer).toString();
        lines.push(text);
        ws.send(`got:${text}`);
      });
      ws.on('close', (code) => { serverClose = code; });
    });
    const child = spawnCli(t, ['connect', `${url}/chat`]);
    const out = watch(child.stdout);
    const exited = finish(child);
    await out.waitFor(/connected to /);
    child.stdin.write('one\ntwo\n');
    await until(() => lines.length === 2, 5000, 'both lines at the server');
    await out.waitFor(/< got:two\n/);
    child.stdin.end();
    const r = await exited;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(lines, ['one', 'two']);
    assert.equal(serverClose, 1000);
    const printed = out.text().split('\n');
    assert.equal(printed[0], `connected to ${url}/chat`);
    for (const expected of ['< welcome', '<b 0102ab', '< got:one', '< got:two', 'closed 1000']) {
      assert.ok(printed.includes(expected), `missing ${JSON.stringify(expected)} in ${JSON.stringify(out.text())}`);
    }
    assert.ok(printed.indexOf('< got:one') < printed.indexOf('< got:two'));
  });

  void test('--header, --protocol and --origin reach the server; the chosen protocol is printed', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket, http.IncomingMessage]>(wss, 'connection', 5000);
    const child = spawnCli(t, ['connect', url, '--header', 'X-One: 1', '--header', 'X-Two:  two ', '--protocol', 'chat', '--protocol', 'superchat', '--origin', 'https://cli.example']);
    const out = watch(child.stdout);
    const exited = finish(child);
    const [ws, req] = await connected;
    assert.equal(req.headers['x-one'], '1');
    assert.equal(req.headers['x-two'], 'two');
    assert.equal(req.headers['sec-websocket-protocol'], 'chat,superchat');
    assert.equal(req.headers.origin, 'https://cli.example');
    await out.waitFor(/connected to .* \(protocol chat\)\n/);
    ws.close(4000, 'bye');
    const r = await exited;
    assert.equal(r.code, 0);
    assert.match(out.text(), /closed 4000 bye\n$/);
  });

  void test('a refused connection prints the error and exits 1', async (t) => {
    const { url } = await startServer(t, { verifyClient: () => false });
    const r = await runCli(t, ['connect', url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: .*401/m);
    assert.match(r.stdout, /closed 1006/);
  });
});

void describe('parley connect arguments', () => {
  void test('--help prints the usage and exits 0', async (t) => {
    const r = await runCli(t, ['connect', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: parley connect URL/);
    assert.match(r.stdout, /--echo/);
  });

  void test('an unknown flag exits 2 naming it; a missing URL or a bad --header exits 2', async (t) => {
    // Each process only parses its arguments and exits: all at once.
    const [unknown, missing, two, header] = await Promise.all([
      runCli(t, ['connect', '--nope', 'ws://127.0.0.1:1']),
      runCli(t, ['connect']),
      runCli(t, ['connect', 'ws://a', 'ws://b']),
      runCli(t, ['connect', '--header', 'no-colon', 'ws://127.0.0.1:1']),
    ]);
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, "parley connect: unknown option '--nope'\nRun 'parley connect --help' for its options.\n");
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /exactly one URL/);
    assert.equal(two.code, 2);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /--header must look like 'Name: value', got 'no-colon'/);
  });

  void test('an invalid URL is reported with exit 1', async (t) => {
    const r = await runCli(t, ['connect', 'ftp://127.0.0.1/']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^parley connect: .*protocol/);
  });
});
