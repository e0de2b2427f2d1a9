/**
 * Helpers of the poker server and browser tests: the app on an ephemeral port, a clock that
 * moves only when told, and a raw `parley.v1` peer that keeps every frame it receives (so a test
 * can search all of them for cards that must not be there).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryAdapter, WebSocket } from '../../../src/index.js';
import { createAppServer } from '../../../src/server/app-host.js';
import type { ParleyApp } from '../../../src/server/app.js';
import { createPoker, type PokerOptions } from '../../../src/apps/poker/index.js';
import type { Clock, TableMessage } from '../../../src/apps/poker/room.js';

/** A clock that moves only when the test calls {@link FakeClock.advance}. */
export class FakeClock implements Clock {
  time = 1_000_000;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #ids = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#ids;
    this.#timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }
  /** Moves time forward, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = end;
  }
  get pending(): number {
    return this.#timers.length;
  }
}

/** A running poker server. */
export interface Running {
  app: ParleyApp;
  server: http.Server;
  base: string;
  ws: string;
  stop: () => Promise<void>;
}

/** Starts the poker app alone on 127.0.0.1 with an ephemeral port. */
export async function startPoker(options: PokerOptions = {}, webRoot?: string): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'poker-'));
  const app = createPoker({
    basePath: '/poker', dataDir, adapter: new InMemoryAdapter(), webRoot: webRoot ?? join(dataDir, 'web'),
    log: () => undefined,
  }, options);
  const server = createAppServer(new Map([['/poker', app]]));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    app, server, base: `http://127.0.0.1:${port}/poker`, ws: `ws://127.0.0.1:${port}/poker/ws`,
    stop: async () => {
      await app.close(1001);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a session over HTTP. */
export async function signIn(base: string, name: string): Promise<{ token: string; user: string; name: string }> {
  const res = await fetch(`${base}/api/session`, { method: 'POST', body: JSON.stringify({ name }), headers: { 'Content-Type': 'application/json' } });
  assert.equal(res.status, 201);
  return (await res.json()) as { token: string; user: string; name: string };
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An envelope as received. */
export type Envelope = Record<string, unknown> & { t: string };

/** A `parley.v1` connection that records every frame. */
export class Peer {
  readonly frames: string[] = [];
  readonly ws: WebSocket;
  // Request ids are per user on the server (a retried id is answered once): each peer has its own prefix.
  readonly #prefix = Math.random().toString(36).slice(2, 10);
  #id = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.frames.push(data.toString()));
  }

  /** Connects (with `token`, or as a guest) and waits for `hello`. */
  static async open(url: string, token?: string): Promise<Peer> {
    const ws = new WebSocket(token === undefined ? url : `${url}?token=${token}`, 'parley.v1');
    const peer = new Peer(ws);
    await once(ws, 'open');
    await until(() => peer.envelopes().some((e) => e.t === 'hello'), 'hello');
    return peer;
  }

  envelopes(): Envelope[] {
    return this.frames.map((f) => JSON.parse(f) as Envelope);
  }

  /** Sends `req` and resolves with the `res` or `err` envelope. */
  async request(method: string, data?: unknown): Promise<Envelope> {
    const id = `${this.#prefix}-${++this.#id}`;
    this.ws.send(JSON.stringify({ t: 'req', id, method, data }));
    return this.#reply(id);
  }

  /** Sends `sub` and resolves with `subok` or `err`. */
  async subscribe(topic: string): Promise<Envelope> {
    const id = `${this.#prefix}-${++this.#id}`;
    this.ws.send(JSON.stringify({ t: 'sub', id, topic }));
    return this.#reply(id);
  }

  async #reply(id: string): Promise<Envelope> {
    let found: Envelope | undefined;
    await until(() => (found = this.envelopes().find((e) => e.id === id && e.t !== 'msg')) !== undefined, `reply ${id}`);
    return found as Envelope;
  }

  /** The newest table message seen (subok snapshot or msg). */
  table(id: string): TableMessage | undefined {
    let best: TableMessage | undefined;
    for (const e of this.envelopes()) {
      if (e.topic !== `poker:table:${id}`) continue;
      const m = (e.t === 'subok' ? e.snapshot : e.t === 'msg' ? e.data : undefined) as TableMessage | undefined;
      if (m !== undefined && (best === undefined || m.version > best.version)) best = m;
    }
    return best;
  }

  /** The newest private view seen on `topic`. */
  hole(topic: string): { table: string; hand: number | null; cards: string[] } | undefined {
    let last: { table: string; hand: number | null; cards: string[] } | undefined;
    for (const e of this.envelopes()) {
      if (e.topic !== topic) continue;
      const v = (e.t === 'subok' ? e.snapshot : e.t === 'msg' ? e.data : undefined) as typeof last;
      if (v !== undefined) last = v;
    }
    return last;
  }

  close(): void {
    this.ws.terminate();
  }
}
