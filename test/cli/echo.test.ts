/**
 * `parley echo`: listens (port 0 prints the real port), echoes text and binary with their types,
 * honours --max-payload, shuts down with 1001 on SIGTERM, and rejects bad arguments with exit 2.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocket, type RawData } from '../../src/index.js';
import { openClient, waitFor } from '../node/helpers.js';
import { finish, runCli, startEcho } from './helpers.js';

void describe('parley echo', () => {
  void test('--port 0 prints the port it got; text and binary come back with their types', async (t) => {
    const { port, line } = await startEcho(t);
    assert.ok(port > 0 && port < 65536);
    assert.ok(line.endsWith(` listening on ws://127.0.0.1:${port}\n`), line);
    assert.match(line, /^parley echo server /);
    const ws = await openClient(t, `ws://127.0.0.1:${port}`);
    const replies: Array<[RawData, boolean]> = [];
    ws.on('message', (data, isBinary) => replies.push([data, isBinary]));
    const big = Buffer.alloc(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) % 256;
    ws.send('hello, echo');
    ws.send(Buffer.from([0, 1, 2, 255]));
    ws.send('');
    ws.send(big);
    const signal = AbortSignal.timeout(5000);
    while (replies.length < 4 && !signal.aborted) await waitFor(ws, 'message', 5000);
    assert.equal(replies.length, 4);
    assert.deepEqual(replies.map(([, b]) => b), [false, true, false, true]);
    assert.equal((replies[0]?.[0] as Buffer).toString(), 'hello, echo');
    assert.deepEqual([...(replies[1]?.[0] as Buffer)], [0, 1, 2, 255]);
    assert.equal((replies[2]?.[0] as Buffer).length, 0);
    assert.ok((replies[3]?.[0] as Buffer).equals(big));
  });

  void test('SIGTERM closes clients with 1001 and exits 0', async (t) => {
    const { child, port } = await startEcho(t);
    const ws = await openClient(t, `ws://127.0.0.1:${port}`);
    const closed = waitFor<[number, Buffer]>(ws, 'close', 5000);
    const exited = finish(child);
    child.kill('SIGTERM');
    const [code] = await closed;
    assert.equal(code, 1001);
    const result = await exited;
    assert.equal(result.code, 0);
  });

  void test('--max-payload limits incoming messages (1009 past it)', async (t) => {
    const { port } = await startEcho(t, ['--max-payload', '5']);
    const ws = await openClient(t, `ws://127.0.0.1:${port}`);
    const reply = waitFor<[Buffer]>(ws, 'message');
    ws.send('12345');
    assert.equal((await reply)[0].toString(), '12345');
    const closed = waitFor<[number]>(ws, 'close');
    ws.send('123456');
    assert.equal((await closed)[0], 1009);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  void test('--help prints the usage and exits 0', async (t) => {
    const r = await runCli(t, ['echo', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: parley echo/);
    assert.match(r.stdout, /--port N/);
    assert.equal(r.stderr, '');
  });

  void test('an unknown flag exits 2 with the error, a pointer to --help and no usage text', async (t) => {
    const r = await runCli(t, ['echo', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "parley echo: unknown option '--bogus'\nRun 'parley echo --help' for its options.\n");
    assert.equal(r.stdout, '');
    const typo = await runCli(t, ['echo', '--prot', '1']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^parley echo: unknown option '--prot' \(did you mean --port\?\)\n/);
  });

  void test('--port abc, --port 70000, --port -1 and a stray argument exit 2', async (t) => {
    // One process per argument list, all at once: each only parses its arguments and exits.
    const cases = [['--port', 'abc'], ['--port', '70000'], ['--port=-1'], ['--port', '-1'], ['--port', '1.5'], ['extra']];
    const results = await Promise.all(cases.map((args) => runCli(t, ['echo', ...args])));
    for (const [k, r] of results.entries()) {
      const args = cases[k]!.join(' ');
      assert.equal(r.code, 2, args);
      assert.match(r.stderr, /^parley echo: /, args);
      assert.doesNotMatch(r.stdout, /listening/);
    }
    assert.match(results[0]!.stderr, /--port must be an integer from 0 to 65535, got 'abc'/);
    // A negative number is a value out of range, not a flag: parseArgs alone calls it ambiguous.
    assert.match(results[3]!.stderr, /^parley echo: --port must be an integer from 0 to 65535, got '-1'\n/);
  });

  void test('--max-payload abc is a usage error (exit 2), like --port abc', async (t) => {
    const r = await runCli(t, ['echo', '--port', '0', '--max-payload', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /max-payload/);
  });
});
