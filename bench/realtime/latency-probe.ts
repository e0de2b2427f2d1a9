/**
 * Delivery latency for fast clients while one client is slow. One publisher connection sends
 * timestamped messages at a fixed rate (open loop); the server relays each to every client; the
 * fast clients time every delivery from the publisher's write to their parse. One more client
 * never reads, so the server must hold (or drop) what it cannot send it. All connections are raw
 * sockets with the load generator's own handshake and frame parser (bench/load), so nothing of
 * the library under test runs on this side.
 */
import type { Socket } from 'node:net';
import { openConnection, makeTarget } from '../load/connection.js';
import { Opcode, buildMaskedFrame } from '../load/frame-builder.js';
import type { FrameSink } from '../load/frame-parser.js';

/** What to run. */
export interface LatencyPlan {
  readonly host: string;
  readonly port: number;
  /** Clients that read everything and are timed. */
  readonly fastClients: number;
  /** Clients that never read. */
  readonly slowClients: number;
  /** Messages per second from the publisher. */
  readonly rate: number;
  /** Payload bytes per message (at least 12). */
  readonly payloadSize: number;
}

/** A sink that reads the timestamp at the front of each message. */
class TimingSink implements FrameSink {
  readonly #head = Buffer.alloc(8);
  #have = 0;
  measuring = false;
  readonly samples: number[] = [];
  received = 0;

  onMessageStart(): void {
    this.#have = 0;
  }

  onPayload(chunk: Buffer): void {
    if (this.#have >= 8) return;
    const n = Math.min(8 - this.#have, chunk.length);
    chunk.copy(this.#head, this.#have, 0, n);
    this.#have += n;
  }

  onMessageEnd(): void {
    this.received++;
    if (this.measuring && this.#have === 8) this.samples.push(performance.now() - this.#head.readDoubleBE(0));
  }

  onControl(): void {}

  onProtocolError(reason: string): void {
    throw new Error(`framing error from the server: ${reason}`);
  }
}

const ignore: FrameSink = { onMessageStart() {}, onPayload() {}, onMessageEnd() {}, onControl() {}, onProtocolError() {} };

/** A running probe. */
export class LatencyProbe {
  readonly #sockets: Socket[] = [];
  readonly #sinks: TimingSink[] = [];
  #publisher: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;

  /** Opens every connection; the slow ones stop reading at once. */
  static async open(plan: LatencyPlan): Promise<LatencyProbe> {
    const probe = new LatencyProbe();
    const target = makeTarget(plan.host, plan.port);
    for (let i = 0; i < plan.slowClients; i++) {
      const { socket } = await openConnection(target, () => ignore, 10_000);
      socket.pause();
      probe.#sockets.push(socket);
    }
    for (let i = 0; i < plan.fastClients; i++) {
      const sink = new TimingSink();
      const { socket } = await openConnection(target, () => sink, 10_000);
      probe.#sinks.push(sink);
      probe.#sockets.push(socket);
    }
    const { socket } = await openConnection(target, () => ignore, 10_000);
    probe.#sockets.push(socket);
    probe.#publisher = socket;
    return probe;
  }

  /** Starts publishing at `rate` per second, catching up on timer lateness (open loop). */
  start(rate: number, payloadSize: number): void {
    const payload = Buffer.alloc(payloadSize, 0x61);
    const started = performance.now();
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (this.#sent < due) {
        payload.writeDoubleBE(performance.now(), 0);
        payload.writeUInt32BE(this.#sent++, 8);
        this.#publisher!.write(buildMaskedFrame(Opcode.binary, payload));
      }
    }, 1);
  }

  /** Opens or closes the measured window. */
  measure(on: boolean): void {
    for (const sink of this.#sinks) sink.measuring = on;
  }

  /** Stops publishing. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  /** Messages sent, and delivered to the fast clients. */
  counts(): { sent: number; deliveredToFast: number } {
    return { sent: this.#sent, deliveredToFast: this.#sinks.reduce((n, s) => n + s.received, 0) };
  }

  /** Every latency sample of the window, sorted, in ms. */
  samples(): Float64Array {
    const all = new Float64Array(this.#sinks.reduce((n, s) => n + s.samples.length, 0));
    let i = 0;
    for (const sink of this.#sinks) for (const v of sink.samples) all[i++] = v;
    return all.sort();
  }

  /** Destroys every connection. */
  close(): void {
    this.stop();
    for (const socket of this.#sockets) socket.destroy();
  }
}
