/**
 * Outgoing buffers: the `maxBufferedAmount` cap with both overflow policies against a raw peer
 * that completed the handshake and never reads, send()'s boolean and 'drain', and cork().
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { WebSocket, type ServerOptions } from '../../src/index.js';
import { OP, collect, defer, openClient, withTimeout, quietFor, rawClient, startServer, until, waitFor, type RawPeer } from './helpers.js';

const MESSAGE = Buffer.alloc(64 * 1024, 0x61);
/** Header of a 64 KiB unmasked frame (64-bit length form). */
const HEADER = 10;
/** A bound on the send loops, so a cap that never triggers fails the test instead of eating memory. */
const MAX_SENDS = 1000;

/** A server connection whose peer did the handshake and then stopped reading. */
async function nonReadingPeer(t: TestContext, options: Omit<ServerOptions, 'port' | 'server' | 'noServer'>): Promise<{ peer: RawPeer; server: WebSocket }> {
  const { port, conns } = await startServer(t, options);
  const peer = await rawClient(t, port, { read: false });
  await until(() => conns.size === 1);
  const [server] = [...conns];
  assert.ok(server !== undefined);
  return { peer, server };
}

type Outcome = Error | null | undefined;

void describe('maxBufferedAmount', () => {
  void test("'close' policy: a peer that never reads is cut off; queued bytes stay below cap + one message", async (t) => {
    const cap = 1024 * 1024;
    const { peer, server } = await nonReadingPeer(t, { maxBufferedAmount: cap, bufferOverflow: 'close', closeTimeout: 300 });
    const errors: Error[] = [];
    server.on('error', (e) => errors.push(e));
    const closed = waitFor<[number]>(server, 'close', 5000);
    const outcomes: Outcome[] = [];
    let sends = 0;
    let maxBuffered = 0;
    let returnedFalse = false;
    while (server.readyState === WebSocket.OPEN && sends < MAX_SENDS) {
      const i = sends++;
      if (!server.send(MESSAGE, (e) => { outcomes[i] = e; })) returnedFalse = true;
      maxBuffered = Math.max(maxBuffered, server.bufferedAmount);
    }
    assert.notEqual(server.readyState, WebSocket.OPEN, `the policy never triggered in ${sends} sends`);
    assert.equal(returnedFalse, true);
    assert.ok(maxBuffered < cap + MESSAGE.length + HEADER + 64, `bufferedAmount reached ${maxBuffered}`);
    assert.equal((errors[0] as { code?: string } | undefined)?.code, 'ERR_WS_BUFFER_OVERFLOW');
    await until(() => outcomes[sends - 1] !== undefined);
    assert.equal((outcomes[sends - 1] as { code?: string }).code, 'ERR_WS_BUFFER_OVERFLOW');
    // The peer never answers the 1008 close frame, so the close timeout cuts it off.
    const [code] = await closed;
    assert.equal(code, 1006);
    // All the client can see is the end of the stream, once it reads again.
    peer.socket.resume();
    await withTimeout(peer.closed, 5000, 'the end of the stream');
    assert.ok(peer.frames.filter((f) => f.opcode === OP.BINARY).length < sends, 'the refused message never left');
  });

  void test("'refuse' policy: send returns false, the callback gets ERR_WS_BUFFER_OVERFLOW, the connection stays open", async (t) => {
    const cap = 1024 * 1024;
    const { peer, server } = await nonReadingPeer(t, { maxBufferedAmount: cap, bufferOverflow: 'refuse' });
    const errorEvents: Error[] = [];
    server.on('error', (e) => errorEvents.push(e));
    let refusedAt = -1;
    let refused: Promise<Outcome> | undefined;
    let sends = 0;
    while (sends < MAX_SENDS) {
      const before = server.bufferedAmount;
      let resolveOutcome!: (e: Outcome) => void;
      const outcome = new Promise<Outcome>((resolve) => { resolveOutcome = resolve; });
      const ok = server.send(MESSAGE, (e) => resolveOutcome(e));
      sends++;
      if (before >= cap) {
        assert.equal(ok, false);
        assert.equal(server.bufferedAmount, before, 'a refused message is not queued');
        refusedAt = sends - 1;
        refused = outcome;
        break;
      }
    }
    assert.ok(refused !== undefined && refusedAt > 0, `never refused in ${sends} sends`);
    const error = await refused;
    assert.ok(error instanceof Error);
    assert.equal((error as { code?: string }).code, 'ERR_WS_BUFFER_OVERFLOW');
    assert.equal(server.readyState, WebSocket.OPEN);
    assert.deepEqual(errorEvents, []);
    // Once the peer reads, 'drain' comes and sending works again.
    const drained = waitFor(server, 'drain', 5000);
    peer.socket.resume();
    await drained;
    const after = await new Promise<Outcome>((resolve) => server.send('after the drain', resolve));
    assert.equal(after ?? undefined, undefined);
    await until(() => peer.frames.length === refusedAt + 1, 5000, 'every accepted frame');
    assert.equal(peer.frames.at(-1)?.payload.toString(), 'after the drain');
  });

  void test("'drain' follows a send that returned false, only once the peer reads", async (t) => {
    const { peer, server } = await nonReadingPeer(t, {});
    let sends = 0;
    let returnedFalse = false;
    while (server.bufferedAmount < 512 * 1024 && sends < MAX_SENDS) {
      if (!server.send(MESSAGE)) returnedFalse = true;
      sends++;
    }
    assert.equal(returnedFalse, true);
    assert.equal(await quietFor(server, 'drain', 100), true, "no 'drain' while the peer does not read");
    const drained = waitFor(server, 'drain', 5000);
    peer.socket.resume();
    await drained;
    await until(() => peer.frames.length === sends, 5000, 'every frame');
    assert.ok(peer.frames.every((f) => f.opcode === OP.BINARY && f.payload.length === MESSAGE.length));
    assert.equal(server.bufferedAmount, 0);
  });

  void test("'refuse' below the socket's high-water mark: a send that returned false is still followed by 'drain'", async (t) => {
    const { peer, server } = await nonReadingPeer(t, { maxBufferedAmount: 4096, bufferOverflow: 'refuse' });
    const small = Buffer.alloc(1000, 0x62);
    let sends = 0;
    let refused = false;
    while (!refused && sends < 200_000) {
      refused = !server.send(small);
      sends++;
    }
    assert.equal(refused, true);
    assert.ok(server.bufferedAmount < 4096 + small.length + 16, `bufferedAmount ${server.bufferedAmount}`);
    const drained = waitFor(server, 'drain', 2000);
    peer.socket.resume();
    await drained;
  });
});

void describe('cork', () => {
  void test('sends inside cork(fn) arrive in order, in one write, and cork returns what fn returns', async (t) => {
    const { port, conns } = await startServer(t);
    const peer = await rawClient(t, port);
    await until(() => conns.size === 1);
    const [server] = [...conns];
    let chunks = 0;
    peer.socket.on('data', () => { chunks++; });
    const result = server!.cork(() => {
      server!.send('first');
      server!.send(Buffer.from([2]));
      server!.send('third');
      server!.ping('p');
      return 'fn result';
    });
    assert.equal(result, 'fn result');
    await until(() => peer.frames.length === 4);
    assert.deepEqual(peer.frames.map((f) => [f.opcode, f.payload.toString('latin1')]), [
      [OP.TEXT, 'first'],
      [OP.BINARY, '\x02'],
      [OP.TEXT, 'third'],
      [OP.PING, 'p'],
    ]);
    assert.equal(chunks, 1);
  });

  void test('cork on a client: messages arrive in order; before open, fn simply runs', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = new WebSocket(url);
    defer(t, () => client.terminate());
    assert.equal(client.cork(() => 7), 7);
    await waitFor(client, 'open');
    const [server] = await connected;
    const got = collect(server);
    client.cork(() => {
      for (let i = 0; i < 5; i++) client.send(`m${i}`);
    });
    await until(() => got.length === 5);
    assert.deepEqual(got.map(([d]) => (d as Buffer).toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
  });

  void test('a thrown error inside cork still uncorks: later sends go out', async (t) => {
    const { wss, url } = await startServer(t);
    const connected = waitFor<[WebSocket]>(wss, 'connection');
    const client = await openClient(t, url);
    const [server] = await connected;
    const got = collect(server);
    assert.throws(() => client.cork(() => {
      client.send('before the throw');
      throw new Error('inside cork');
    }), /inside cork/);
    client.send('after');
    await until(() => got.length === 2);
    assert.deepEqual(got.map(([d]) => (d as Buffer).toString()), ['before the throw', 'after']);
  });
});
