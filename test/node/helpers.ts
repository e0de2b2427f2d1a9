/**
 * Helpers for the Node-layer tests: servers on 127.0.0.1 port 0 that are closed after each test,
 * event waits with deadlines, and raw TCP peers that speak just enough HTTP/WebSocket by hand to
 * misbehave (never read, never answer a ping, never answer a close frame).
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { WebSocket, WebSocketServer, type ClientOptions, type ServerOptions } from '../../src/index.js';
import { decodeFrames, encodeFrame, type DecodedFrame } from '../support/frames.js';

/** The key of RFC 6455 §1.3's example, used by every raw client here. */
export const FIXED_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** Its accept value, from the RFC text, not computed by the code under test. */
export const FIXED_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Resolves with the arguments of the next `event` on `emitter`; rejects after `ms`. Unlike
 * `events.once` it adds no 'error' listener, which would change how a Parley WebSocket reports.
 */
export function waitFor<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = 2000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const signal = AbortSignal.timeout(ms);
    const listener = (...args: unknown[]): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(args as T);
    };
    const onAbort = (): void => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    };
    emitter.once(event, listener);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves true when `event` did not fire within `ms` (a short, bounded negative check). */
export async function quietFor(emitter: EventEmitter, event: string, ms: number): Promise<boolean> {
  let fired = false;
  const listener = (): void => { fired = true; };
  emitter.on(event, listener);
  await sleep(ms);
  emitter.removeListener(event, listener);
  return !fired;
}

/** Waits until `predicate()` holds, polling every 10 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms = 2000, what = 'condition'): Promise<void> {
  const signal = AbortSignal.timeout(ms);
  while (!predicate()) {
    if (signal.aborted) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

const cleanups = new WeakMap<TestContext, Array<() => unknown>>();

/**
 * Registers `fn` to run when the test ends. Cleanups run last-registered first, so the peers a
 * test opened go away before the servers they are connected to are closed.
 */
export function defer(t: TestContext, fn: () => unknown): void {
  let list = cleanups.get(t);
  if (list === undefined) {
    const fns: Array<() => unknown> = [];
    list = fns;
    cleanups.set(t, fns);
    t.after(async () => {
      for (const f of fns.reverse()) await f();
    });
  }
  list.push(fn);
}

/** Terminates every open connection and closes the server, bounded in time. */
export async function closeServer(wss: WebSocketServer, conns: Iterable<WebSocket> = []): Promise<void> {
  for (const ws of conns) ws.terminate();
  for (const ws of wss.clients ?? []) ws.terminate();
  const closed = waitFor(wss, 'close', 3000);
  wss.close();
  await closed;
}

/** A server in port mode on 127.0.0.1, closed when the test ends. */
export interface Started {
  wss: WebSocketServer;
  port: number;
  url: string;
  /** Every connection the server emitted (also when clientTracking is off). */
  conns: Set<WebSocket>;
}

/** Starts a WebSocketServer on 127.0.0.1:0 and registers its cleanup on `t`. */
export async function startServer(t: TestContext, options: Omit<ServerOptions, 'port' | 'server' | 'noServer'> = {}): Promise<Started> {
  const wss = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  const conns = new Set<WebSocket>();
  wss.on('connection', (ws) => conns.add(ws));
  defer(t, () => closeServer(wss, conns));
  await waitFor(wss, 'listening');
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { wss, port: address.port, url: `ws://127.0.0.1:${address.port}`, conns };
}

/** A plain http server on 127.0.0.1:0, closed (with its connections) when the test ends. */
export async function startHttp(t: TestContext, handler?: http.RequestListener): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer(handler);
  defer(t, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/** Opens a Parley client, terminated when the test ends; resolves once open. */
export async function openClient(t: TestContext, url: string, protocols?: string | string[], options?: ClientOptions): Promise<WebSocket> {
  const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
  defer(t, () => ws.terminate());
  const opened = waitFor(ws, 'open');
  const failed = waitFor<[Error]>(ws, 'error').then(([e]) => { throw e; });
  await Promise.race([opened, failed]);
  return ws;
}

/** A client that should not open: resolves with the error and close events it produced. */
export async function failClient(t: TestContext, url: string, protocols?: string | string[], options?: ClientOptions): Promise<{ error: Error; code: number; opened: boolean }> {
  const ws = protocols === undefined ? new WebSocket(url, options) : new WebSocket(url, protocols, options);
  defer(t, () => ws.terminate());
  let opened = false;
  ws.on('open', () => { opened = true; });
  const errored = waitFor<[Error]>(ws, 'error', 5000);
  const closed = waitFor<[number, Buffer]>(ws, 'close', 5000);
  const [[error], [code]] = await Promise.all([errored, closed]);
  return { error, code, opened };
}

/** What an HTTP upgrade request to the server got: 101 or an error response. */
export interface UpgradeResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a WebSocket upgrade request with `http.request` (so headers are fully under the test's
 * control) and reports the status; an upgraded socket is destroyed at once.
 */
export function upgradeRequest(port: number, path = '/', headers: Record<string, string> = {}, includeDefaults = true): Promise<UpgradeResult> {
  const all: Record<string, string> = includeDefaults
    ? { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': FIXED_KEY, 'Sec-WebSocket-Version': '13', ...headers }
    : headers;
  return new Promise<UpgradeResult>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: all, agent: false, signal: AbortSignal.timeout(3000) });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A frame read off the wire by a raw peer. */
export type RawFrame = DecodedFrame;

/** Parses complete frames from the front of `buf`; returns them and the unparsed rest. */
export function parseFrames(buf: Buffer): { frames: RawFrame[]; rest: Buffer } {
  return decodeFrames(buf);
}

/** Builds one frame by hand (client frames masked with a fixed key). */
export function buildFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), mask = true, fin = true): Buffer {
  return encodeFrame({ opcode, payload, mask, fin });
}

/** A raw TCP client that did the opening handshake by hand and then reads frames if asked. */
export interface RawPeer {
  socket: net.Socket;
  /** The response head (status line and headers). */
  head: string;
  /** Frames received so far (only while `socket` is flowing). */
  frames: RawFrame[];
  /** Resolves when the socket has closed. */
  closed: Promise<void>;
}

/**
 * Connects with net.connect and completes the opening handshake with {@link FIXED_KEY}.
 * With `read: false` the socket is paused right after the 101 so the peer never reads again.
 */
export async function rawClient(t: TestContext, port: number, opts: { path?: string; read?: boolean } = {}): Promise<RawPeer> {
  const socket = net.connect(port, '127.0.0.1');
  defer(t, () => socket.destroy());
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const peer: RawPeer = { socket, head: '', frames: [], closed };
  let buf: Buffer = Buffer.alloc(0);
  let gotHead = false;
  // One 'data' listener from the start, so no chunk is lost between the head and the frames.
  const headReady = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!gotHead) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        peer.head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        gotHead = true;
        if (opts.read === false) socket.pause();
        resolve();
      }
      const { frames, rest } = parseFrames(buf);
      buf = rest;
      peer.frames.push(...frames);
    });
  });
  await waitFor(socket, 'connect');
  socket.write(
    `GET ${opts.path ?? '/'} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${FIXED_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await withTimeout(headReady, 3000, 'the handshake response');
  return peer;
}

/** Rejects when `promise` has not settled within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e instanceof Error ? e : new Error(String(e))); },
    );
  });
}

/** A raw TCP server; `onConnection` gets each socket. Closed (sockets destroyed) after the test. */
export async function rawServer(t: TestContext, onConnection: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  defer(t, async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  server.listen(0, '127.0.0.1');
  await waitFor(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

/**
 * Answers an opening handshake by hand with a correct 101 (computed here with node:crypto), then
 * hands the socket and the frames it receives to `after`.
 */
export function acceptByHand(socket: net.Socket, after?: (frames: RawFrame[]) => void, extraLines: readonly string[] = [], acceptOverride?: string): void {
  let buf: Buffer = Buffer.alloc(0);
  let upgraded = false;
  const frames: RawFrame[] = [];
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.subarray(0, end).toString('latin1');
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      const extra = extraLines.map((l) => `${l}\r\n`).join('');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptOverride ?? accept}\r\n${extra}\r\n`);
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    const parsed = parseFrames(buf);
    buf = parsed.rest;
    frames.push(...parsed.frames);
    after?.(frames);
  });
}

/** Opcodes, written out for the raw peers. */
export const OP = { TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** The close code in a close frame's payload, or 1005 when it has none. */
export function closeCodeOf(frame: RawFrame): number {
  return frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
}

/** Collects the messages `ws` receives as [data, isBinary] pairs. */
export function collect(ws: WebSocket): Array<[unknown, boolean]> {
  const out: Array<[unknown, boolean]> = [];
  ws.on('message', (data, isBinary) => out.push([data, isBinary]));
  return out;
}

/** A plain GET with no keep-alive: status, headers and body. */
export function httpGet(port: number, path = '/', headers: Record<string, string> = {}): Promise<UpgradeResult> {
  return new Promise<UpgradeResult>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false, signal: AbortSignal.timeout(3000) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
