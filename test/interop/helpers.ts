/**
 * Shared helpers of the interop tests: servers on 127.0.0.1:0 that close themselves after the
 * test, waiting for events with a deadline, and hashing.
 */
import { createHash } from 'node:crypto';
import { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { WebSocketServer as WsServer, type ServerOptions as WsServerOptions } from 'ws';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';

/** How long any single event may take before a test fails. */
export const TIMEOUT = 5000;

/** SHA-256 of some bytes, in hex. */
export function sha256(data: Uint8Array | ArrayBuffer): string {
  return createHash('sha256').update(data instanceof ArrayBuffer ? new Uint8Array(data) : data).digest('hex');
}

/** A message payload as a Buffer, whatever `binaryType` produced it (Blobs excepted). */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new TypeError(`not message data: ${Object.prototype.toString.call(data)}`);
}

/** Marks a promise as handled so a deadline that fires after a failed test is not an unhandled rejection. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/**
 * The arguments of the next `event` on `emitter`. Unlike `events.once` this does not listen for
 * 'error' (a listener there changes what Parley reports). Call it before the action that causes
 * the event.
 */
export function waitEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = TIMEOUT): Promise<T> {
  return handled(new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms).unref(); // a deadline alone does not keep the process alive after a failed test
    emitter.once(event, listener);
  }));
}

/** The first `count` emissions of `event`, each as its argument list. */
export function collectEvents<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, count: number, ms = TIMEOUT): Promise<T[]> {
  return handled(new Promise<T[]>((resolve, reject) => {
    const seen: T[] = [];
    const listener = (...args: unknown[]): void => {
      seen.push(args as T);
      if (seen.length === count) {
        clearTimeout(timer);
        emitter.removeListener(event, listener);
        resolve(seen);
      }
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms with ${seen.length} of ${count} '${event}' events`));
    }, ms).unref(); // a deadline alone does not keep the process alive after a failed test
    emitter.on(event, listener);
  }));
}

/** A DOM-style event target (the Parley client's WHATWG side, undici's WebSocket). */
export interface DomTarget {
  // `never`: any target accepts a listener for some event type, whatever it types events as.
  addEventListener(type: string, listener: never, options?: { once?: boolean }): void;
  removeEventListener(type: string, listener: never): void;
}

/** The next `type` event dispatched on a DOM-style target. */
export function waitDomEvent<E>(target: DomTarget, type: string, ms = TIMEOUT): Promise<E> {
  return handled(new Promise<E>((resolve, reject) => {
    const listener = (event: E): void => {
      clearTimeout(timer);
      resolve(event);
    };
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener as never);
      reject(new Error(`timed out after ${ms} ms waiting for DOM event '${type}'`));
    }, ms).unref(); // a deadline alone does not keep the process alive after a failed test
    target.addEventListener(type, listener as never, { once: true });
  }));
}

/** The first `count` `type` events dispatched on a DOM-style target. */
export function collectDomEvents<E>(target: DomTarget, type: string, count: number, ms = TIMEOUT): Promise<E[]> {
  return handled(new Promise<E[]>((resolve, reject) => {
    const seen: E[] = [];
    const listener = (event: E): void => {
      seen.push(event);
      if (seen.length < count) return;
      clearTimeout(timer);
      target.removeEventListener(type, listener as never);
      resolve(seen);
    };
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener as never);
      reject(new Error(`timed out after ${ms} ms with ${seen.length} of ${count} DOM '${type}' events`));
    }, ms).unref(); // a deadline alone does not keep the process alive after a failed test
    target.addEventListener(type, listener as never);
  }));
}

/** A client of either library, as far as cleaning up goes. */
interface Terminable {
  readonly readyState: number;
  terminate(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Terminates the sockets once the test ends. A socket still CONNECTING reports the abort as an
 * 'error' (which `ws` would throw without a listener), so one is added first.
 */
export function terminateAfter(t: TestContext, ...sockets: Terminable[]): void {
  t.after(() => {
    for (const s of sockets) {
      if (s.readyState === 3) continue;
      s.on('error', () => undefined);
      s.terminate();
    }
  });
}

/** A listening server, its port and its `ws://` URL. */
export interface Started<S> {
  server: S;
  port: number;
  url: string;
}

type ListenOptions<O> = Omit<O, 'port' | 'host' | 'server' | 'noServer'>;

/** Something that answers each message with the same message. */
interface Echoing {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  send(data: Buffer, options: { binary: boolean }): unknown;
}

function echo(socket: Echoing): void {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
}

/**
 * A Parley server on 127.0.0.1:0; its connections are terminated and the server closed after the
 * test. With `echo`, every connection echoes each message (text stays text).
 */
export async function startParley(t: TestContext, options: ListenOptions<ServerOptions> = {}, withEcho = false): Promise<Started<WebSocketServer>> {
  const server = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  t.after(() => new Promise<void>((resolve) => {
    for (const ws of server.clients ?? []) ws.terminate();
    server.close(() => resolve());
  }));
  if (withEcho) server.on('connection', (ws) => echo(ws));
  await waitEvent(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `ws://127.0.0.1:${port}` };
}

/** The same with the `ws` package's server. */
export async function startWs(t: TestContext, options: ListenOptions<WsServerOptions> = {}, withEcho = false): Promise<Started<WsServer>> {
  const server = new WsServer({ ...options, port: 0, host: '127.0.0.1' });
  t.after(() => new Promise<void>((resolve) => {
    for (const ws of server.clients) ws.terminate();
    server.close(() => resolve());
  }));
  if (withEcho) server.on('connection', (ws) => echo(ws));
  await waitEvent(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, port, url: `ws://127.0.0.1:${port}` };
}

/** Payload sizes that cover each frame-length encoding boundary (RFC 6455 §5.2). */
export const BOUNDARY_SIZES = [0, 1, 125, 126, 127, 65_535, 65_536, 70_000] as const;

/** A text of `n` characters mixing 1-, 2-, 3- and 4-byte UTF-8 sequences. */
export function multiByteText(n: number): string {
  const alphabet = ['a', 'é', 'Ω', '€', '日', '本', '🎉', '𝄞', 'z'];
  let out = '';
  for (let i = 0; i < n; i++) out += alphabet[i % alphabet.length]!;
  return out;
}
