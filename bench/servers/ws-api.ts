/**
 * The part of the `ws` 8 server API the benchmark server uses. Parley exposes the same API, so
 * both implementations are loaded through this one structural type and run the same code.
 */
import type { AddressInfo } from 'node:net';

/** What a message event carries in `ws` 8 (binaryType 'nodebuffer'). */
export type WsData = Buffer | ArrayBuffer | Buffer[];

/** `WebSocket.OPEN` in `ws` and the WHATWG API. */
export const OPEN = 1;

/** A server-side connection. */
export interface WsLikeSocket {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends a message, as text or binary. */
  send(data: WsData, options: { binary: boolean }): void;
  on(event: 'message', listener: (data: WsData, isBinary: boolean) => void): this;
  on(event: 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/** A server. */
export interface WsLikeServer {
  /** Open connections (client tracking on). */
  readonly clients: Set<WsLikeSocket>;
  on(event: 'connection', listener: (socket: WsLikeSocket) => void): this;
  on(event: 'listening', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  address(): AddressInfo | string | null;
}

/** Options both servers are given, so neither wins on a default. */
export interface WsLikeServerOptions {
  readonly host: string;
  readonly port: number;
  /** Off for both: compression is not what these workloads measure. */
  readonly perMessageDeflate: false;
  /** Room for the 16 MiB workload whatever each library's default is. */
  readonly maxPayload: number;
  readonly clientTracking: true;
}

/** The server constructor a module exports as `WebSocketServer`. */
export type WsLikeServerClass = new (options: WsLikeServerOptions) => WsLikeServer;

/**
 * Imports a module and takes its `WebSocketServer` export.
 * @param specifier - 'parley', 'ws', 'floor' or 'floor-raw' (`floor.ts`, `floor-raw.ts` beside this file) or any module with the same API
 * @returns the constructor
 */
export async function loadServerClass(specifier: string): Promise<WsLikeServerClass> {
  const floors: Record<string, string> = { floor: './floor.js', 'floor-raw': './floor-raw.js' };
  const module = (await import(floors[specifier] ?? specifier)) as unknown;
  const ctor: unknown = typeof module === 'object' && module !== null ? Reflect.get(module, 'WebSocketServer') : undefined;
  if (typeof ctor !== 'function') throw new Error(`module '${specifier}' exports no WebSocketServer class`);
  // Checked above to be a constructor; its shape is the ws 8 API both libraries promise.
  return ctor as WsLikeServerClass;
}
