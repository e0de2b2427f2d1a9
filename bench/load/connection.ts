/**
 * Opens one WebSocket connection on a raw TCP socket: the generator's own handshake, then every
 * received byte goes to its own frame parser. No WebSocket library is involved.
 */
import { connect, type Socket } from 'node:net';
import { FrameParser, type FrameSink } from './frame-parser.js';
import { buildUpgradeRequest, parseUpgradeResponse } from './handshake.js';

/** Where to connect, with the upgrade request built once for it. */
export interface Target {
  /** Server host (an IP address, to keep DNS out of the figures). */
  readonly host: string;
  /** Server port. */
  readonly port: number;
  /** The upgrade request bytes, from {@link buildUpgradeRequest}. */
  readonly request: Buffer;
}

/**
 * Builds a {@link Target}.
 * @param host - server host
 * @param port - server port
 * @returns the target with its pre-built request
 */
export function makeTarget(host: string, port: number): Target {
  return { host, port, request: buildUpgradeRequest(host, port) };
}

/** An open connection: the socket and the parser its bytes feed. */
export interface OpenConnection {
  /** The TCP socket, Nagle off. Its 'error' events are already handled; listen to 'close'. */
  readonly socket: Socket;
  /** The parser fed with every byte after the handshake. */
  readonly parser: FrameParser;
}

/**
 * Connects, sends the upgrade request and checks the answer (status 101 and accept value).
 * @param target - where to connect
 * @param sinkFor - makes the frame sink for this socket; it is fed once the connection is open
 * @param timeoutMs - how long the TCP connect and handshake may take together
 * @returns the open connection; rejects with the reason when the handshake fails
 */
export function openConnection(
  target: Target,
  sinkFor: (socket: Socket) => FrameSink,
  timeoutMs: number,
): Promise<OpenConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port, noDelay: true });
    const sink = sinkFor(socket);
    let head: Buffer = Buffer.alloc(0);
    let settled = false;
    const timer = setTimeout(() => fail(new Error(`handshake timed out after ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const onHeadData = (chunk: Buffer): void => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const parsed = parseUpgradeResponse(head);
      if (parsed.state === 'incomplete') return;
      if (parsed.state === 'failed') {
        fail(new Error(`handshake failed: ${parsed.reason}`));
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.off('data', onHeadData);
      socket.off('close', onEarlyClose);
      const parser = new FrameParser(sink);
      socket.on('data', (data: Buffer) => parser.push(data));
      resolve({ socket, parser });
      if (parsed.rest.length > 0) parser.push(parsed.rest);
    };
    const onEarlyClose = (): void => fail(new Error('connection closed during the handshake'));
    // After the handshake 'error' is always followed by 'close', which the owner listens to.
    socket.on('error', (error: Error) => fail(error));
    socket.on('close', onEarlyClose);
    socket.on('data', onHeadData);
    socket.write(target.request);
  });
}
