/**
 * Shared by the permessage-deflate tests (deflate-codec, prepared-compressed, the zlib pieces):
 * a codec for one side of a connection, promise forms of its calls, and an independent inflater
 * that plays a peer without history.
 */
import { Buffer } from 'node:buffer';
import * as zlib from 'node:zlib';
import { PerMessageDeflate } from '../../src/node/deflate-codec.js';
import { resolvePerMessageDeflate, type PerMessageDeflateOptions } from '../../src/node/deflate-options.js';
import type { DeflateParameters } from '../../src/protocol/index.js';

/** The 4 bytes a flushed message ends with (RFC 7692 §7.2.1), written out independently of the source. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function params(p: Partial<DeflateParameters> = {}): DeflateParameters {
  return { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...p };
}

/** A codec for one side of a connection. */
export function codec(isServer: boolean, p: Partial<DeflateParameters> = {}, maxPayload = 0, options: PerMessageDeflateOptions = {}): PerMessageDeflate {
  return new PerMessageDeflate({ params: params(p), settings: resolvePerMessageDeflate(options)! }, isServer, maxPayload);
}

/** `c.compress` as a promise. */
export function compress(c: PerMessageDeflate, data: Buffer | string, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) => c.compress(Buffer.from(data), fin, (e, out) => (e === null ? resolve(out) : reject(e))));
}

/** `c.decompress` as a promise. */
export function decompress(c: PerMessageDeflate, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => c.decompress(data, (e, out) => (e === null ? resolve(out) : reject(e))));
}

/** Inflates one message with an independent zlib call, as a peer without history would. */
export function inflateAlone(payload: Buffer, windowBits = 15): Buffer {
  return zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });
}

/** Game-state-like JSON, which compresses well. */
export function json(i: number): string {
  return JSON.stringify({ type: 'state', tick: i, players: Array.from({ length: 20 }, (_, n) => ({ id: `player-${n}`, x: n * 3, y: n * 7, hp: 100 - n, name: `Name ${n}` })) });
}
