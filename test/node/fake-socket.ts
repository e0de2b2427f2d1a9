/**
 * Connections on in-memory sockets that record every write call, for the tests of the send
 * pipeline (write batching, the frame cache): what a connection hands its socket, and how many
 * times, without the kernel in between.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { Duplex } from 'node:stream';
import { WebSocket } from '../../src/index.js';
import { kAttach } from '../../src/node/internal.js';
import { resolveSettings, type ConnectionOptions } from '../../src/node/settings.js';
import { decodeFrames, type DecodedFrame } from '../support/frames.js';

/** A server-side connection on an in-memory socket that records every write call. */
export interface FakeConnection {
  ws: WebSocket;
  socket: Duplex;
  /**
   * Copies of the chunks at the time of each write call, one entry per call (a writev counts
   * once): what a real socket would have handed the kernel.
   */
  writes: Buffer[][];
  /** The chunk objects themselves, entry for entry, to see which bytes objects were shared. */
  chunks: Buffer[][];
}

/**
 * Opens a server-side connection on a fake socket.
 * @param highWaterMark - the socket's writable high-water mark
 */
export function fakeConnection(options: ConnectionOptions = {}, highWaterMark = 16 * 1024): FakeConnection {
  const writes: Buffer[][] = [];
  const chunks: Buffer[][] = [];
  const record = (list: Buffer[]): void => {
    chunks.push(list);
    writes.push(list.map((chunk) => Buffer.from(chunk)));
  };
  const socket = new Duplex({
    writableHighWaterMark: highWaterMark,
    read() {},
    write(chunk: Buffer, _encoding, cb) {
      record([chunk]);
      cb();
    },
    writev(list, cb) {
      record(list.map((c) => c.chunk as Buffer));
      cb();
    },
  });
  const ws = new WebSocket(null);
  ws.on('error', () => {});
  ws[kAttach](socket, Buffer.alloc(0), resolveSettings(options));
  return { ws, socket, writes, chunks };
}

/** Waits for the end-of-turn flush (it runs in setImmediate) and the write callbacks after it. */
export async function nextTurn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** The frames of everything written, in order. */
export function framesOf(writes: Buffer[][]): DecodedFrame[] {
  const { frames, rest } = decodeFrames(Buffer.concat(writes.flat()));
  assert.equal(rest.length, 0, 'no partial frame');
  return frames;
}

