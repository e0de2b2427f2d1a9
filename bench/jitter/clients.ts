/**
 * One process of jitter-benchmark clients (forked by bench/jitter/main.ts): real `ParleyClient`s
 * subscribed to one topic. Each client's TCP socket is cut (destroyed, no close frame) about
 * every `cutEveryMs`, and the client is kept offline `offlineMs` (its reconnect delay is exactly
 * that). Records, per delivery, publish-to-delivery latency, and for each message published
 * while the client was offline, the catch-up time: from the moment it may reconnect (cut +
 * offline) to the delivery.
 * @packageDocumentation
 */
import { WebSocket } from '../../src/index.js';
import { ParleyClient } from '../../src/client/index.js';
import type { WebSocketLike } from '../../src/client/index.js';
import { Histogram } from './histogram.js';

interface Setup {
  urls: string[];
  first: number;
  count: number;
  topic: string;
  cutEveryMs: number;
  offlineMs: number;
}

interface ClientState {
  client: ParleyClient;
  socket: WebSocket | undefined;
  seen: Uint8Array;
  /** Offline windows: [cut, may reconnect at]. */
  windows: Array<[number, number]>;
  timer: NodeJS.Timeout | undefined;
  resets: number;
}

const now = (): number => performance.timeOrigin + performance.now();
const latency = new Histogram();
const catchup = new Histogram();
let duplicates = 0;
let delivered = 0;
let cuts = 0;
const clients: ClientState[] = [];
let setup: Setup;
let messages = 0;
let cutting = false;

function open(state: ClientState, url: string): void {
  // A WebSocket class that remembers the client's current socket, so the benchmark can cut it.
  class Tracked extends WebSocket {
    constructor(u: string, protocols: string | string[]) {
      super(u, protocols);
      state.socket = this;
    }
  }
  state.client = new ParleyClient(url, {
    WebSocket: Tracked as unknown as new (url: string, protocols: string | string[]) => WebSocketLike,
    reconnect: { initialDelay: setup.offlineMs, maxDelay: setup.offlineMs, factor: 1, jitter: 0 },
  });
}

function scheduleCut(state: ClientState, first: boolean): void {
  // About every cutEveryMs (±10 %); the first at a random phase, so cuts are spread evenly.
  const delay = first ? Math.random() * setup.cutEveryMs : setup.cutEveryMs * (0.9 + 0.2 * Math.random());
  state.timer = setTimeout(() => {
    if (!cutting) return;
    const at = now();
    state.windows.push([at, at + setup.offlineMs]);
    cuts++;
    state.socket?.terminate();
    scheduleCut(state, false);
  }, delay);
}

process.on('message', (m: { t: string; setup?: Setup; messages?: number }) => {
  if (m.t === 'setup') {
    setup = m.setup!;
    void start();
  } else if (m.t === 'cut') {
    cutting = true;
    for (const c of clients) scheduleCut(c, true);
  } else if (m.t === 'finish') {
    cutting = false;
    messages = m.messages!;
    for (const c of clients) clearTimeout(c.timer);
    void finish();
  }
});

async function start(): Promise<void> {
  for (let i = 0; i < setup.count; i++) {
    const state: ClientState = { client: undefined as unknown as ParleyClient, socket: undefined, seen: new Uint8Array(4096), windows: [], timer: undefined, resets: 0 };
    open(state, setup.urls[(setup.first + i) % setup.urls.length]!);
    clients.push(state);
  }
  await Promise.all(clients.map(async (state) => {
    const sub = state.client.subscribe(setup.topic, (data) => {
      const at = now();
      const { i, t } = data as { i: number; t: number };
      if (state.seen[i] === 1) {
        duplicates++;
        return;
      }
      state.seen[i] = 1;
      delivered++;
      latency.add(at - t);
      // Published while this client was offline (or reconnecting): how long after it could reconnect.
      for (let w = state.windows.length - 1; w >= 0; w--) {
        const [cut, back] = state.windows[w]!;
        if (t >= cut && t < back) {
          catchup.add(at - back);
          break;
        }
        if (t >= back) break;
      }
    });
    sub.on('reset', () => { state.resets++; });
    await sub.ready();
  }));
  process.send!({ t: 'ready' });
}

async function finish(): Promise<void> {
  const complete = (): boolean => clients.every((c) => {
    for (let i = 1; i <= messages; i++) if (c.seen[i] !== 1) return false;
    return true;
  });
  // Wait for the last offline windows to end and their catch-up to arrive.
  const deadline = performance.now() + setup.offlineMs + 10_000;
  while (!complete() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  let lost = 0;
  for (const c of clients) for (let i = 1; i <= messages; i++) if (c.seen[i] !== 1) lost++;
  const cpu = process.cpuUsage();
  process.send!({ t: 'result', delivered, duplicates, lost, cuts, resets: clients.reduce((s, c) => s + c.resets, 0), latency: latency.toJSON(), catchup: catchup.toJSON(), cpuMs: (cpu.user + cpu.system) / 1000 });
  for (const c of clients) c.client.close();
  setTimeout(() => process.exit(0), 200).unref();
}
