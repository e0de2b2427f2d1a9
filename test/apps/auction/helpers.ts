/**
 * Helpers for the auction's server and browser tests: the app on a real HTTP server (temp data
 * directory, in-memory adapter), signed-in clients over real WebSocket connections, and a
 * watcher that keeps a lot's newest state the way the page does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { InMemoryAdapter, WebSocket } from '../../../src/index.js';
import { ParleyClient, type Subscription } from '../../../src/client/index.js';
import { createAppServer } from '../../../src/server/app-host.js';
import type { AppContext } from '../../../src/server/app.js';
import { createAuction, type AuctionApp, type AuctionAppOptions } from '../../../src/apps/auction/index.js';
import type { LotView } from '../../../src/apps/auction/rules.js';

/** The built pages (`npm run build` puts them there). */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/auction', import.meta.url));

/** A running auction server. */
export interface Running {
  app: AuctionApp;
  server: http.Server;
  port: number;
  /** `http://127.0.0.1:<port>/auction` */
  base: string;
  /** `ws://127.0.0.1:<port>/auction/ws` */
  wsUrl: string;
  dataDir: string;
  /** Closes the app (code 1012, as a restart) and the HTTP server. */
  stop: () => Promise<void>;
}

/** A temp data directory, removed after the test. */
export function tempDataDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'auction-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Starts the auction on `dataDir` (a new temp one by default) and port `port` (0: any), with
 * short-lived lots allowed and no anti-sniping unless `antiSnipe` is given. Stopped after the test unless stopped before.
 */
export async function startAuction(t: TestContext, options: AuctionAppOptions & { dataDir?: string; port?: number; clientAddress?: AppContext['clientAddress'] } = {}): Promise<Running> {
  const dataDir = options.dataDir ?? tempDataDir(t);
  const app = createAuction(
    { basePath: '/auction', dataDir, adapter: new InMemoryAdapter(), webRoot: WEB_ROOT, log: () => {}, ...(options.clientAddress !== undefined ? { clientAddress: options.clientAddress } : {}) },
    { lotLimits: { minDurationMs: 0, maxDurationMs: 86_400_000 }, antiSnipe: { windowMs: 0, extendMs: 0 }, ...options },
  );
  const server = createAppServer(new Map([['/auction', app]]));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await app.close(1012);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.after(stop);
  return { app, server, port, base: `http://127.0.0.1:${port}/auction`, wsUrl: `ws://127.0.0.1:${port}/auction/ws`, dataDir, stop };
}

/** A session from the HTTP API. */
export interface SessionInfo {
  token: string;
  user: string;
  name: string;
}

/** Signs in as `name` through the HTTP API. */
export async function signIn(running: Running, name: string): Promise<SessionInfo> {
  const res = await fetch(`${running.base}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
  if (res.status !== 201) throw new Error(`sign-in failed: ${res.status}`);
  return (await res.json()) as SessionInfo;
}

/** A browser-client connection (Node, Parley's WebSocket), closed after the test. */
export function connect(t: TestContext, running: Running | string, token?: string): ParleyClient {
  const url = typeof running === 'string' ? running : running.wsUrl;
  const client = new ParleyClient(url, { WebSocket, reconnect: { initialDelay: 20, maxDelay: 200 }, ...(token !== undefined ? { token } : {}) });
  t.after(() => client.close());
  return client;
}

/** A signed-in person: their session and their client. */
export async function person(t: TestContext, running: Running, name: string): Promise<SessionInfo & { client: ParleyClient }> {
  const session = await signIn(running, name);
  return { ...session, client: connect(t, running, session.token) };
}

/** Resolves when `check()` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A lot that opens now and ends in `ms`. */
export function lotInput(ms: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { title: 'Pocket watch', description: 'Gold-plated, keeps time.', image: 'illustration:camera', startingPrice: 1000, increment: 100, reserve: 0, endsAt: Date.now() + ms, ...overrides };
}

/** Keeps the newest state of a lot, as the page does: snapshots, resets and messages by `rev`. */
export class LotWatcher {
  /** The newest state seen. */
  state: LotView | undefined;
  /** Every `rev` applied, in order. */
  readonly revs: number[] = [];
  /** How many messages arrived (applied or not). */
  messages = 0;
  /** How many arrived marked conflated. */
  conflated = 0;
  readonly subscription: Subscription;

  constructor(client: ParleyClient, lot: number) {
    this.subscription = client.subscribe(`lot:${lot}`, (data, info) => {
      this.messages++;
      if (info.conflated === true) this.conflated++;
      this.#apply((data as { lot: LotView }).lot);
    });
    const fromSnapshot = (snapshot: unknown): void => {
      const lot = (snapshot as { lot?: LotView } | undefined)?.lot;
      if (lot !== undefined) this.#apply(lot, true);
    };
    this.subscription.on('subscribed', (info) => fromSnapshot(info.snapshot));
    this.subscription.on('reset', (snapshot) => fromSnapshot(snapshot));
  }

  #apply(lot: LotView, force = false): void {
    if (!force && this.state !== undefined && lot.rev < this.state.rev) return;
    this.state = lot;
    this.revs.push(lot.rev);
  }

  /** Resolves once subscribed with a state. */
  async ready(): Promise<this> {
    await this.subscription.ready();
    await until(() => this.state !== undefined, 5000, 'the snapshot');
    return this;
  }
}
