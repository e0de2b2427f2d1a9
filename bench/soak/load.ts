/**
 * A soak load process: keeps `connections` Parley clients open against the soak server with
 * churn (each lives a random lifetime, drains, closes with 1000 and is replaced), echoes and
 * publishes with sequence numbers checked for loss, order and corruption, a share of clients with
 * permessage-deflate (their echoes are large enough to be compressed both ways), and a few slow
 * readers that stop reading and must be closed by the server's byte cap. Reports cumulative
 * counters to the orchestrator every second.
 */
import { Buffer } from 'node:buffer';
import { WebSocket } from '../../src/node/index.js';
import { LATENCY_BUCKETS, type LoadConfig, type LoadStats, type LoadStop } from './protocol.js';

/**
 * Time a closing client waits for its outstanding echoes and publishes before counting them lost:
 * long, so that a busy machine (slow, not lossy) is not reported as loss.
 */
const DRAIN_MS = 120_000;
/** How long a slow reader stays paused, and how long after that it must have been closed. */
const SLOW_PAUSE_MS = 8_000;
const SLOW_DEADLINE_MS = 40_000;

let cfg: LoadConfig | undefined;
let stopping = false;
let seedState = 1;
function random(): number {
  // xorshift32: reproducible per process seed.
  seedState ^= seedState << 13;
  seedState ^= seedState >>> 17;
  seedState ^= seedState << 5;
  return (seedState >>> 0) / 0x100000000;
}

const s: LoadStats = {
  type: 'load', index: 0, open: 0, openCompressed: 0, connects: 0, connectFailures: 0, closes: 0,
  echoesSent: 0, echoesReceived: 0, echoLost: 0, publishesSent: 0, publishesDelivered: 0, publishLost: 0,
  broadcastsReceived: 0, broadcastGaps: 0, orderErrors: 0, corrupt: 0, unexpectedCloses: 0, clientErrors: 0,
  slowStarted: 0, slowCapped: 0, slowNotCapped: 0, latency: LATENCY_BUCKETS.map(() => 0), lastProblem: '', problems: {}, done: false,
};

function problem(text: string): void {
  s.lastProblem = `${new Date().toISOString()} ${text}`;
  const kind = text.replace(/[0-9]+(\.[0-9]+)?/g, 'N').slice(0, 120);
  const entry = s.problems[kind];
  if (entry === undefined) s.problems[kind] = { count: 1, example: s.lastProblem };
  else entry.count++;
}

function record(ms: number): void {
  let i = 0;
  while (ms > LATENCY_BUCKETS[i]!) i++;
  s.latency[i]!++;
}

let nextId = 0;
const clients = new Set<Client>();
const slowReaders = new Set<SlowReader>();

/** One ordinary connection. */
class Client {
  readonly id: string;
  readonly compressed: boolean;
  readonly binary: boolean;
  readonly ws: WebSocket;
  #open = false;
  #closing = false;
  #echoSeq = 0;
  /** Echoes sent and not yet back, in order. */
  readonly #pending: Array<{ seq: number; payload: string }> = [];
  #pubSeq = 0;
  readonly #pendingPubs = new Set<number>();
  #lastG: number | undefined;
  #echoTimer: NodeJS.Timeout | undefined;
  #lifeTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  #abandoned = false;
  /** Echo sequence numbers given up on at the drain deadline (already counted as lost). */
  #gaveUpBelow = 0;

  constructor(url: string, compressed: boolean) {
    this.id = `${cfg!.index}.${nextId++}`;
    this.compressed = compressed;
    this.binary = random() < 0.2;
    this.ws = new WebSocket(url, { perMessageDeflate: compressed ? { threshold: 1024 } : false, handshakeTimeout: 20_000, maxPayload: 2 * 1024 * 1024 });
    this.ws.on('open', () => this.#onOpen());
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    this.ws.on('error', (error: Error) => {
      if (this.#abandoned) return; // terminated while connecting because the run stops
      s.clientErrors++;
      problem(`client ${this.id} error: ${error.message}`);
    });
    this.ws.on('close', (code: number) => this.#onClose(code));
  }

  #onOpen(): void {
    this.#open = true;
    s.connects++;
    s.open++;
    if (this.compressed) {
      if (this.ws.extensions === '') problem(`client ${this.id} offered permessage-deflate but the server declined`);
      else s.openCompressed++;
    }
    const life = cfg!.lifetimeMinMs + random() * (cfg!.lifetimeMaxMs - cfg!.lifetimeMinMs);
    this.#lifeTimer = setTimeout(() => this.finish(), life);
    this.#scheduleEcho();
  }

  #scheduleEcho(): void {
    const delay = cfg!.echoIntervalMs * (0.5 + random());
    this.#echoTimer = setTimeout(() => {
      if (this.#closing || this.ws.readyState !== WebSocket.OPEN) return;
      this.#sendEcho();
      this.#scheduleEcho();
    }, delay);
  }

  #sendEcho(): void {
    const seq = ++this.#echoSeq;
    // Compressing clients send 2–8 KB of repetitive text (compressed both ways); the rest 16–512 B.
    const size = this.compressed ? 2048 + Math.floor(random() * 6144) : 16 + Math.floor(random() * 496);
    const unit = `{"seq":${seq},"from":"${this.id}"}`;
    const payload = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
    this.#pending.push({ seq, payload });
    const text = `E ${this.id} ${seq} ${payload}`;
    this.ws.send(this.binary ? Buffer.from(text) : text);
    s.echoesSent++;
  }

  /** Sends one publish (called by the process-wide publish timer). */
  publish(): void {
    if (this.#closing || !this.#open) return;
    const seq = ++this.#pubSeq;
    this.#pendingPubs.add(seq);
    this.ws.send(`P ${this.id} ${seq} ${Date.now()}`);
    s.publishesSent++;
  }

  get canPublish(): boolean {
    return this.#open && !this.#closing;
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    const text = data.toString();
    const kind = text.charCodeAt(0);
    if (kind === 0x45 /* E */) {
      const a = text.indexOf(' ', 2);
      const b = text.indexOf(' ', a + 1);
      const seq = Number(text.slice(a + 1, b));
      const head = this.#pending[0];
      if (isBinary !== this.binary) {
        s.corrupt++;
        problem(`client ${this.id}: echo ${seq} came back as ${isBinary ? 'binary' : 'text'}`);
      }
      if (seq <= this.#gaveUpBelow && (head === undefined || seq < head.seq)) {
        problem(`client ${this.id}: echo ${seq} arrived after the drain deadline`);
      } else if (head === undefined || head.seq !== seq) {
        s.orderErrors++;
        problem(`client ${this.id}: echo ${seq} arrived, expected ${head?.seq ?? 'none'}`);
        const at = this.#pending.findIndex((p) => p.seq === seq);
        if (at >= 0) this.#pending.splice(at, 1);
      } else {
        this.#pending.shift();
        if (text.slice(b + 1) !== head.payload || text.slice(2, a) !== this.id) {
          s.corrupt++;
          problem(`client ${this.id}: echo ${seq} payload differs (${text.length - b - 1} bytes back, ${head.payload.length} sent)`);
        }
      }
      s.echoesReceived++;
    } else if (kind === 0x42 /* B */) {
      s.broadcastsReceived++;
      const [, gText, conn, seqText, at] = text.split(' ', 5);
      const gNum = Number(gText);
      if (this.#lastG !== undefined && gNum !== this.#lastG + 1) {
        if (gNum > this.#lastG + 1) {
          s.broadcastGaps += gNum - this.#lastG - 1;
          problem(`client ${this.id}: broadcast ${gNum} after ${this.#lastG} (gap)`);
        } else {
          s.orderErrors++;
          problem(`client ${this.id}: broadcast ${gNum} after ${this.#lastG} (order)`);
        }
      }
      this.#lastG = gNum;
      record(Date.now() - Number(at));
      if (conn === this.id) {
        const seq = Number(seqText);
        if (this.#pendingPubs.delete(seq)) s.publishesDelivered++;
        else {
          s.orderErrors++;
          problem(`client ${this.id}: own publish ${seq} delivered twice or unexpectedly`);
        }
      }
    } else {
      s.corrupt++;
      problem(`client ${this.id}: unexpected message ${JSON.stringify(text.slice(0, 40))}`);
    }
    if (this.#closing) this.#maybeClose();
  }

  /** End of life: stop sending, wait for what is outstanding, close with 1000. */
  finish(): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#echoTimer);
    clearTimeout(this.#lifeTimer);
    if (!this.#open) {
      // Still connecting (only when the run stops): not a failure.
      this.#abandoned = true;
      this.ws.terminate();
      return;
    }
    this.#drainTimer = setTimeout(() => {
      if (this.#pending.length > 0 || this.#pendingPubs.size > 0) {
        s.echoLost += this.#pending.length;
        s.publishLost += this.#pendingPubs.size;
        problem(`client ${this.id}: ${this.#pending.length} echoes and ${this.#pendingPubs.size} publishes not back after ${DRAIN_MS} ms`);
        this.#gaveUpBelow = this.#echoSeq;
        this.#pending.length = 0;
        this.#pendingPubs.clear();
      }
      this.ws.close(1000);
    }, DRAIN_MS);
    this.#maybeClose();
  }

  #maybeClose(): void {
    if (this.#pending.length === 0 && this.#pendingPubs.size === 0 && this.ws.readyState === WebSocket.OPEN) {
      clearTimeout(this.#drainTimer);
      this.ws.close(1000);
    }
  }

  #onClose(code: number): void {
    clearTimeout(this.#echoTimer);
    clearTimeout(this.#lifeTimer);
    clearTimeout(this.#drainTimer);
    clients.delete(this);
    if (this.#open) {
      s.open--;
      if (this.compressed && this.ws.extensions !== '') s.openCompressed--;
      s.closes++;
    } else if (!this.#abandoned) {
      s.connectFailures++;
      problem(`client ${this.id}: could not connect (close ${code})`);
    }
    if (this.#open && (!this.#closing || code !== 1000)) {
      s.unexpectedCloses++;
      s.echoLost += this.#pending.length;
      s.publishLost += this.#pendingPubs.size;
      problem(`client ${this.id}: closed with ${code} ${this.#closing ? 'while draining' : 'unasked'}; ${this.#pending.length} echoes, ${this.#pendingPubs.size} publishes outstanding`);
    }
    this.#pending.length = 0;
    this.#pendingPubs.clear();
    if (!stopping) setTimeout(topUp, 10 + random() * 200);
  }
}

/** A connection that asks for a flood, stops reading, and must be closed by the server's cap. */
class SlowReader {
  readonly ws: WebSocket;
  #resumedAt = 0;
  #deadline: NodeJS.Timeout | undefined;
  #done = false;

  constructor(url: string) {
    s.slowStarted++;
    this.ws = new WebSocket(url, { handshakeTimeout: 20_000 });
    this.ws.on('error', () => undefined); // expected: the server cuts it off
    this.ws.on('open', () => {
      this.ws.send('FLOOD');
      this.ws.pause();
      setTimeout(() => {
        this.#resumedAt = Date.now();
        this.ws.resume();
        this.#deadline = setTimeout(() => this.#finish(false, -1), SLOW_DEADLINE_MS);
      }, SLOW_PAUSE_MS);
    });
    this.ws.on('close', (code: number) => this.#finish(this.#resumedAt > 0 || code === 1008 || code === 1006, code));
  }

  #finish(capped: boolean, code: number): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#deadline);
    slowReaders.delete(this);
    if (capped) s.slowCapped++;
    else {
      s.slowNotCapped++;
      problem(`slow reader not closed by the server within ${SLOW_DEADLINE_MS} ms of resuming (close ${code})`);
      this.ws.terminate();
    }
    if (!stopping) setTimeout(topUp, 1000);
  }
}

/** Opens connections until the population is back to its target (a few per call, to pace churn). */
function topUp(): void {
  if (stopping || cfg === undefined) return;
  let budget = 50;
  while (clients.size < cfg.connections && budget-- > 0) clients.add(new Client(cfg.url, random() < cfg.compressedShare));
  while (slowReaders.size < cfg.slowReaders) slowReaders.add(new SlowReader(cfg.url));
  if (clients.size < cfg.connections) setTimeout(topUp, 20);
}

let publishTimer: NodeJS.Timeout | undefined;
function startPublishing(): void {
  const rate = cfg!.publishRate;
  if (rate <= 0) return;
  publishTimer = setInterval(() => {
    // Pick a random publishing-capable client.
    const list = [...clients];
    for (let tries = 0; tries < 10 && list.length > 0; tries++) {
      const c = list[Math.floor(random() * list.length)]!;
      if (c.canPublish) {
        c.publish();
        return;
      }
    }
  }, 1000 / rate);
}

function report(): void {
  process.send!({ ...s });
  s.latency = LATENCY_BUCKETS.map(() => 0);
}

process.on('message', (msg: LoadConfig | LoadStop) => {
  if (msg.type === 'config') {
    cfg = msg;
    s.index = msg.index;
    seedState = msg.seed | 1;
    setInterval(report, 1000);
    topUp();
    startPublishing();
  } else if (msg.type === 'stop') {
    stopping = true;
    clearInterval(publishTimer);
    for (const c of [...clients]) c.finish();
    for (const r of [...slowReaders]) r.ws.terminate();
    const check = setInterval(() => {
      if (clients.size === 0) {
        clearInterval(check);
        s.done = true;
        report();
      }
    }, 200);
  }
});
process.on('disconnect', () => process.exit(0));
