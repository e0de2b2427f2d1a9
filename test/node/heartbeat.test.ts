/**
 * Heartbeat: on the server and on the client, a peer silent for `interval` ms is pinged and one
 * still silent `timeout` ms later is terminated; peers that answer (or send anything) stay.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from '../../src/index.js';
import { heartbeatStart, heartbeatTick, type HeartbeatHost } from '../../src/node/heartbeat.js';
import { ConnectionFlag, kApply, kFlags, kLastReceived, kPingedAt, kState } from '../../src/node/internal.js';
import { INITIAL_STATE, handshakeDone, stateOf } from '../../src/protocol/connection.js';
import {
  OP,
  acceptByHand,
  buildFrame,
  defer,
  openClient,
  quietFor,
  rawClient,
  rawServer,
  startServer,
  until,
  waitFor,
  withTimeout,
  type RawFrame,
} from './helpers.js';

const HEARTBEAT = { interval: 100, timeout: 100 };

/** A connection as the tick sees it, open, recording what the tick did to it. */
function fakeMember(state = stateOf(handshakeDone(INITIAL_STATE))): HeartbeatHost & { pings: number; terminated: boolean; errors: unknown[] } {
  return {
    [kState]: state,
    [kFlags]: 0,
    [kLastReceived]: 0,
    [kPingedAt]: 0,
    pings: 0,
    terminated: false,
    errors: [],
    [kApply](_step, error) { this.errors.push(error); },
    ping() { this.pings++; },
    terminate() { this.terminated = true; },
  };
}

void describe('heartbeat tick of one connection', () => {
  void test('pings after `interval` of silence, once, and terminates `timeout` after an unanswered ping', () => {
    const ws = fakeMember();
    heartbeatStart(ws, 1000);
    assert.equal(heartbeatTick(ws, 1099, 100, 50), false);
    assert.equal(ws.pings, 0);
    assert.equal(heartbeatTick(ws, 1100, 100, 50), false);
    assert.equal(ws.pings, 1);
    assert.equal(heartbeatTick(ws, 1149, 100, 50), false);
    assert.equal(ws.pings, 1, 'one ping while waiting for the answer');
    assert.equal(ws.terminated, false);
    assert.equal(heartbeatTick(ws, 1150, 100, 50), true);
    assert.equal(ws.terminated, true);
    assert.equal((ws.errors[0] as { code?: string }).code, 'ERR_WS_HEARTBEAT_TIMEOUT');
  });

  void test('bytes received since the last tick count as an answer and restart the silence', () => {
    const ws = fakeMember();
    heartbeatStart(ws, 0);
    heartbeatTick(ws, 100, 100, 50);
    assert.equal(ws.pings, 1);
    ws[kFlags] |= ConnectionFlag.RECEIVED;
    assert.equal(heartbeatTick(ws, 160, 100, 50), false);
    assert.equal(ws.terminated, false);
    assert.equal(ws[kFlags] & ConnectionFlag.RECEIVED, 0);
    assert.equal(heartbeatTick(ws, 259, 100, 50), false);
    assert.equal(ws.pings, 1);
    heartbeatTick(ws, 260, 100, 50);
    assert.equal(ws.pings, 2);
  });

  void test('a connection that is not open is left alone', () => {
    const ws = fakeMember(INITIAL_STATE);
    heartbeatStart(ws, 0);
    assert.equal(heartbeatTick(ws, 10_000, 100, 50), false);
    assert.equal(ws.pings, 0);
  });
});

void describe('server heartbeat', () => {
  void test('terminates a raw peer that never answers pings (1006 within 1 s); a Parley client stays connected', async (t) => {
    const { port, url, conns } = await startServer(t, { heartbeat: HEARTBEAT });
    const client = await openClient(t, url);
    let clientPings = 0;
    client.on('ping', () => { clientPings++; });
    await until(() => conns.size === 1);
    const started = performance.now();
    const peer = await rawClient(t, port);
    await until(() => conns.size === 2);
    const deadSide = [...conns][1]!;
    const errors: Error[] = [];
    deadSide.on('error', (e) => errors.push(e));
    const [code] = await waitFor<[number]>(deadSide, 'close', 1500);
    const elapsed = performance.now() - started;
    assert.equal(code, 1006);
    assert.ok(elapsed < 1000, `terminated after ${elapsed} ms`);
    assert.ok(elapsed >= 150, `terminated after only ${elapsed} ms`);
    assert.ok(peer.frames.some((f) => f.opcode === OP.PING), 'the dead peer was pinged first');
    assert.equal((errors[0] as { code?: string } | undefined)?.code, 'ERR_WS_HEARTBEAT_TIMEOUT');
    await withTimeout(peer.closed, 1000, 'the raw socket to close');
    // The live client has been connected for well over 500 ms by now, or will be shortly.
    assert.equal(await quietFor(client, 'close', 600), true);
    // Pinged at least twice (each pong answered), waited for rather than counted in a fixed window:
    // on a loaded machine the timers of one window may fire late.
    await until(() => clientPings >= 2, 5000, 'two pings of the live client');
    assert.equal(client.readyState, WebSocket.OPEN);
  });

  void test('any data counts as life: a raw peer that sends messages but never pongs stays', async (t) => {
    const { port, conns } = await startServer(t, { heartbeat: HEARTBEAT });
    const peer = await rawClient(t, port);
    await until(() => conns.size === 1);
    const server = [...conns][0]!;
    const got: string[] = [];
    server.on('message', (d) => got.push((d as Buffer).toString()));
    const timer = setInterval(() => peer.socket.write(buildFrame(OP.TEXT, 'still here')), 50);
    defer(t, () => clearInterval(timer));
    assert.equal(await quietFor(server, 'close', 600), true);
    clearInterval(timer);
    assert.equal(server.readyState, WebSocket.OPEN);
    assert.ok(got.length >= 5);
  });

  void test('stops pinging a connection once it is closed', async (t) => {
    const { url, conns } = await startServer(t, { heartbeat: HEARTBEAT });
    const client = await openClient(t, url);
    await until(() => conns.size === 1);
    const closed = waitFor<[number]>(client, 'close');
    client.close(1000);
    assert.equal((await closed)[0], 1000);
    const serverSide = [...conns][0]!;
    let pings = 0;
    serverSide.on('ping', () => { pings++; });
    await sleep(250);
    assert.equal(pings, 0);
    assert.equal(serverSide.readyState, WebSocket.CLOSED);
  });
});

void describe('client heartbeat', () => {
  void test('a raw server that stops answering pings is terminated (1006 within 1 s of going silent)', async (t) => {
    let answering = true;
    let seen = 0;
    const pingsSeen: RawFrame[] = [];
    const { port } = await rawServer(t, (socket) => acceptByHand(socket, (frames) => {
      for (; seen < frames.length; seen++) {
        const f = frames[seen]!;
        if (f.opcode !== OP.PING) continue;
        pingsSeen.push(f);
        if (answering) socket.write(buildFrame(OP.PONG, f.payload, false));
      }
    }));
    const ws = await openClient(t, `ws://127.0.0.1:${port}`, undefined, { heartbeat: HEARTBEAT });
    const errors: Error[] = [];
    ws.on('error', (e) => errors.push(e));
    // While the server answers, the client stays.
    assert.equal(await quietFor(ws, 'close', 400), true);
    await until(() => pingsSeen.length >= 2, 5000, 'two pings while answering');
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.ok(pingsSeen.every((f) => f.masked), 'client pings are masked');
    answering = false;
    const started = performance.now();
    const [code] = await waitFor<[number]>(ws, 'close', 1500);
    const elapsed = performance.now() - started;
    assert.equal(code, 1006);
    assert.ok(elapsed < 1000, `terminated ${elapsed} ms after the server went silent`);
    assert.equal((errors[0] as { code?: string } | undefined)?.code, 'ERR_WS_HEARTBEAT_TIMEOUT');
  });

  void test('against a Parley server (auto-pong) the client stays connected for more than 500 ms', async (t) => {
    const { wss, url } = await startServer(t);
    let serverPings = 0;
    wss.on('connection', (ws) => ws.on('ping', () => { serverPings++; }));
    const ws = await openClient(t, url, undefined, { heartbeat: HEARTBEAT });
    assert.equal(await quietFor(ws, 'close', 600), true);
    await until(() => serverPings >= 2, 5000, 'two pings of the server');
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  void test('heartbeat options are checked: interval 0 or a negative timeout → RangeError', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { heartbeat: { interval: 0 } }), RangeError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { heartbeat: { interval: 100, timeout: -1 } }), RangeError);
  });
});
