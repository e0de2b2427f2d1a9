/**
 * One client process of the capacity benchmark: holds many idle `parley.v1` connections from one
 * source address, each subscribed to the broadcast topic, and times every broadcast it receives.
 * Raw sockets with the generator's own handshake and frame parser (bench/load), so the client side
 * costs a few kilobytes per connection and the library under test never checks itself.
 *
 * Driven by its parent over IPC: `{ cmd: 'open', count }` opens connections (bounded concurrency)
 * and reports progress; `{ cmd: 'reset' }` clears the delivery samples; `{ cmd: 'samples' }`
 * answers with the delivery delays seen since the last reset; `{ cmd: 'exit' }` ends the process.
 */
import { connect, type Socket } from 'node:net';
import { FrameParser, type FrameSink } from '../load/frame-parser.js';
import { buildMaskedFrame, Opcode } from '../load/frame-builder.js';
import { CLIENT_KEY, parseUpgradeResponse } from '../load/handshake.js';
import type { ClientCommand, ClientReport } from './ipc.js';

const host = process.env.CAPACITY_HOST ?? '127.0.0.1';
const port = Number(process.env.CAPACITY_PORT);
const localAddress = process.env.CAPACITY_SOURCE ?? '127.0.0.1';
const topic = process.env.CAPACITY_TOPIC ?? 'public:capacity';
const concurrency = Number(process.env.CAPACITY_CONCURRENCY ?? '200');

const request = Buffer.from(
  'GET /ws HTTP/1.1\r\n' +
    `Host: ${host}:${port}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${CLIENT_KEY}\r\n` +
    'Sec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Protocol: parley.v1\r\n' +
    '\r\n',
  'latin1',
);
const subscribe = buildMaskedFrame(Opcode.text, Buffer.from(JSON.stringify({ t: 'sub', id: 1, topic })));

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes. */
const wallClock = (): number => performance.timeOrigin + performance.now();

let open = 0;
let failed = 0;
let closedAfterOpen = 0;
const failures = new Map<string, number>();
let delays: number[] = [];
const sockets = new Set<Socket>();

function send(message: ClientReport): void {
  process.send?.(message);
}

function fail(reason: string): void {
  failed++;
  const key = reason.slice(0, 80);
  failures.set(key, (failures.get(key) ?? 0) + 1);
}

/** One connection: handshake, `hello`, `sub`, `subok`, then broadcasts until the end. */
function openOne(): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    let subscribed = false;
    let head: Buffer | undefined = Buffer.alloc(0);
    const settle = (reason?: string): void => {
      if (settled) return;
      settled = true;
      if (reason === undefined) open++;
      else fail(reason);
      resolve();
    };
    let text: Buffer[] = [];
    const sink: FrameSink = {
      onMessageStart() {
        text = [];
      },
      onPayload(chunk) {
        text.push(Buffer.from(chunk));
      },
      onMessageEnd() {
        const body = Buffer.concat(text).toString('utf8');
        if (!subscribed) {
          if (body.includes('"t":"subok"')) {
            subscribed = true;
            settle();
          } else if (body.includes('"t":"err"')) {
            settle(`err on sub: ${body}`);
          }
          return;
        }
        if (body.includes('"t":"msg"')) {
          const at = /"sentAt":([0-9.]+)/.exec(body);
          if (at?.[1] !== undefined) delays.push(wallClock() - Number(at[1]));
        }
      },
      onControl(opcode, payload) {
        // RFC 6455 §5.5.2: answer the server's heartbeat pings, or it cuts the connection.
        if (opcode === Opcode.ping) socket.write(buildMaskedFrame(Opcode.pong, payload));
      },
      onProtocolError(reason) {
        settle(`protocol error: ${reason}`);
        socket.destroy();
      },
    };
    const parser = new FrameParser(sink);
    const socket = connect({ host, port, localAddress }, () => {
      socket.setNoDelay(true);
      socket.write(request);
    });
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) {
        head = Buffer.concat([head, chunk]);
        // The server answers with parley.v1; the generator's parser only refuses extensions.
        const parsed = parseUpgradeResponse(head);
        if (parsed.state === 'incomplete') return;
        head = undefined;
        if (parsed.state === 'failed') {
          settle(`handshake: ${parsed.reason}`);
          socket.destroy();
          return;
        }
        socket.write(subscribe);
        if (parsed.rest.length > 0) parser.push(parsed.rest);
        return;
      }
      parser.push(chunk);
    });
    socket.on('error', (error) => settle(`socket: ${(error as NodeJS.ErrnoException).code ?? error.message}`));
    socket.on('close', () => {
      sockets.delete(socket);
      if (settled && subscribed) closedAfterOpen++;
      settle('closed before subscribed');
    });
  });
}

async function openMany(count: number): Promise<void> {
  let next = 0;
  const started = performance.now();
  let lastReport = started;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await openOne();
      const now = performance.now();
      if (now - lastReport > 1000) {
        lastReport = now;
        send({ kind: 'progress', open, failed });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  send({ kind: 'opened', open, failed, seconds: (performance.now() - started) / 1000, failures: Object.fromEntries(failures) });
}

process.on('message', (message: ClientCommand) => {
  switch (message.cmd) {
    case 'open':
      void openMany(message.count);
      break;
    case 'reset':
      delays = [];
      send({ kind: 'reset' });
      break;
    case 'samples':
      send({ kind: 'samples', delays, open: sockets.size, closedAfterOpen });
      break;
    case 'exit':
      for (const socket of sockets) socket.destroy();
      process.exit(0);
  }
});
send({ kind: 'ready' });
