/**
 * A Parley WebSocketServer for the bad-input tests, in port mode on 127.0.0.1 (or attached to an
 * HTTP server the test configures), that records what the application saw and echoes every
 * message. A "bystander" client stays connected from the start, so each test can check that the
 * hostile peer did not disturb the process or the other connections.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Buffer } from 'node:buffer';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData, type ServerOptions } from '../../src/index.js';
import { RawPeer, RawServer } from './raw-peer.js';

/** Messages with this prefix are the harness's own health traffic, not the hostile peer's. */
const HEALTH = 'health:';

/** Text of a received message, whatever its binaryType form. */
export function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Options of {@link startServer}. */
export interface HarnessOptions {
  /** Attach to an own `http.Server` with this `maxHeaderSize` instead of port mode. */
  attachMaxHeaderSize?: number;
  /** Options of the bystander and health-check clients (e.g. an allowed `origin`). */
  client?: ClientOptions;
  /** Extra per-connection setup, run after the harness's own listeners. */
  onConnection?: (ws: WebSocket) => void;
  /** Skip the bystander (tests that count connections). */
  noBystander?: boolean;
}

/** A running server and what its application saw. */
export class Harness {
  readonly wss: WebSocketServer;
  readonly port: number;
  /** Text of every message the application's 'message' handler saw, health traffic excepted. */
  readonly messages: string[] = [];
  /** Errors reported on server-side connections. */
  readonly errors: Error[] = [];
  /** Server-side connections, in order. */
  readonly connections: WebSocket[] = [];
  /** Close codes reported by server-side connections' 'close' events. */
  readonly closeCodes: number[] = [];
  readonly #peers: RawPeer[] = [];
  readonly #clients: WebSocket[] = [];
  readonly #http: http.Server | undefined;
  readonly #clientOptions: ClientOptions;
  #bystander: WebSocket | undefined;
  #healthChecks = 0;

  private constructor(wss: WebSocketServer, port: number, server: http.Server | undefined, clientOptions: ClientOptions) {
    this.wss = wss;
    this.port = port;
    this.#http = server;
    this.#clientOptions = clientOptions;
  }

  /** `ws://` URL of the server. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /** A raw hostile connection, destroyed when the harness closes. */
  async peer(): Promise<RawPeer> {
    const p = await RawPeer.connect(this.port);
    this.#peers.push(p);
    return p;
  }

  /** The next server-side connection (call before the handshake that creates it). */
  async nextConnection(timeoutMs = 2000): Promise<WebSocket> {
    const [ws] = (await once(this.wss, 'connection', { signal: AbortSignal.timeout(timeoutMs) })) as [WebSocket];
    return ws;
  }

  /** A Parley client connected to this server, closed with the harness. */
  async client(): Promise<WebSocket> {
    const ws = new WebSocket(this.url, this.#clientOptions);
    this.#clients.push(ws);
    ws.on('error', () => undefined);
    await once(ws, 'open', { signal: AbortSignal.timeout(2000) });
    return ws;
  }

  /** Sends `text` on `ws` and waits for the echo. */
  static async roundTrip(ws: WebSocket, text: string): Promise<void> {
    const echo = once(ws, 'message', { signal: AbortSignal.timeout(2000) });
    ws.send(text);
    const [data] = (await echo) as [RawData];
    assert.equal(textOf(data), text);
  }

  /**
   * The server carries on: the bystander connected before the hostile peer still gets echoes,
   * and a fresh client can connect and exchange a message.
   */
  async checkHealthy(): Promise<void> {
    const n = ++this.#healthChecks;
    if (this.#bystander !== undefined) {
      assert.equal(this.#bystander.readyState, WebSocket.OPEN, 'the bystander connection was dropped');
      await Harness.roundTrip(this.#bystander, `${HEALTH}bystander-${n}`);
    }
    const fresh = await this.client();
    await Harness.roundTrip(fresh, `${HEALTH}fresh-${n}`);
    const closed = once(fresh, 'close', { signal: AbortSignal.timeout(2000) });
    fresh.close(1000);
    await closed;
  }

  /** Tears everything down; never hangs. */
  async close(): Promise<void> {
    for (const p of this.#peers) p.destroy();
    for (const c of this.#clients) c.terminate();
    this.#bystander?.terminate();
    for (const ws of this.wss.clients ?? []) ws.terminate();
    const closed = new Promise<void>((r) => this.wss.close(() => r()));
    if (this.#http !== undefined) {
      this.#http.closeAllConnections();
      await new Promise<void>((r) => this.#http!.close(() => r()));
    }
    await Promise.race([closed, sleep(3000)]);
  }

  /** Starts a server (port mode unless `attachMaxHeaderSize`) and connects the bystander. */
  static async start(options: Partial<ServerOptions> = {}, harness: HarnessOptions = {}): Promise<Harness> {
    let wss: WebSocketServer;
    let server: http.Server | undefined;
    if (harness.attachMaxHeaderSize !== undefined) {
      server = http.createServer({ maxHeaderSize: harness.attachMaxHeaderSize });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      wss = new WebSocketServer({ ...options, server });
    } else {
      wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
      await once(wss, 'listening');
    }
    const port = (wss.address() as AddressInfo).port;
    const h = new Harness(wss, port, server, harness.client ?? {});
    wss.on('connection', (ws) => {
      h.connections.push(ws);
      ws.on('error', (e) => h.errors.push(e));
      ws.on('close', (code) => h.closeCodes.push(code));
      ws.on('message', (data, isBinary) => {
        const text = textOf(data);
        if (!text.startsWith(HEALTH)) h.messages.push(text);
        if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
      });
      harness.onConnection?.(ws);
    });
    if (harness.noBystander !== true) {
      h.#bystander = await h.client();
      h.connections.length = 0;
    }
    return h;
  }
}

/** Runs `fn` with a fresh harness and always tears it down. */
export async function withServer(
  options: Partial<ServerOptions>,
  fn: (h: Harness) => Promise<void>,
  harness: HarnessOptions = {},
): Promise<void> {
  const h = await Harness.start(options, harness);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/**
 * Reads the server's close frame, checks its code (one of `codes`) and that the server then
 * closes TCP. `echoed` lists the data frames the server sent first (echoes of delivered messages).
 */
export async function expectClose(peer: RawPeer, codes: number | readonly number[], what: string): Promise<{ code: number | undefined; echoed: string[] }> {
  const allowed = typeof codes === 'number' ? [codes] : codes;
  const c = await peer.readClose(2000);
  assert.ok(c.code !== undefined && allowed.includes(c.code), `${what}: expected close ${allowed.join('/')}, got ${String(c.code)}`);
  assert.equal(c.frame.masked, false, `${what}: server frames are never masked`);
  await peer.waitClosed(2000);
  return { code: c.code, echoed: c.before.filter((f) => f.opcode === 1 || f.opcode === 2).map((f) => f.payload.toString('utf8')) };
}

/**
 * Server role: a raw peer completes a valid handshake, sends `bytes`, and must get a close frame
 * with one of `codes` followed by the end of the connection. Nothing it sent may have been echoed.
 */
export async function hostile(h: Harness, bytes: Uint8Array, codes: number | readonly number[], what: string): Promise<RawPeer> {
  const peer = await h.peer();
  await peer.handshake();
  await peer.write(bytes);
  const { echoed } = await expectClose(peer, codes, what);
  assert.deepEqual(echoed, [], `${what}: the application saw and echoed a message`);
  return peer;
}

/** What a Parley client did when a hostile server sent it something. */
export interface ClientOutcome {
  /** Code of the close frame the client sent back. */
  sentCode: number | undefined;
  /** Whether that close frame was masked (client frames must be). */
  sentMasked: boolean;
  /** The client's 'close' event code. */
  closeEventCode: number;
  messages: string[];
  errors: Error[];
}

/**
 * Client role: a raw server answers the handshake correctly, then sends `bytes` to a Parley
 * client, reads the close frame the client sends back and closes TCP.
 */
export async function clientMeets(bytes: Uint8Array, options: ClientOptions = {}): Promise<ClientOutcome> {
  const rs = await RawServer.listen();
  const client = new WebSocket(`ws://127.0.0.1:${rs.port}/`, options);
  try {
    const messages: string[] = [];
    const errors: Error[] = [];
    client.on('message', (d) => messages.push(textOf(d)));
    client.on('error', (e) => errors.push(e));
    const opened = once(client, 'open', { signal: AbortSignal.timeout(2000) });
    // Not events.once: it rejects on the 'error' event the client is expected to emit.
    const closed = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no 'close' event from the client")), 4000);
      client.once('close', (code) => { clearTimeout(timer); resolve(code); });
    });
    const peer = await rs.nextPeer();
    await peer.acceptHandshake();
    await opened;
    await peer.write(bytes);
    const c = await peer.readClose(2000);
    assert.deepEqual(c.before.filter((f) => f.opcode < 8), [], 'the client sent data frames');
    await peer.waitClosed(2000);
    peer.socket.end();
    const closeEventCode = await closed;
    return { sentCode: c.code, sentMasked: c.frame.masked, closeEventCode, messages, errors };
  } finally {
    client.terminate();
    await rs.close();
  }
}
