// A client as the ws README writes one: events with typed arguments, send with options and
// callbacks, ping/pong, readyState checks, terminate.
import WebSocket from 'ws';
import type { ClientRequest, IncomingMessage } from 'node:http';

export function connect(url: string): WebSocket {
  const ws = new WebSocket(url, ['chat.v1', 'chat.v2'], { handshakeTimeout: 5000, headers: { Authorization: 'Bearer x' } });

  ws.on('open', function open() {
    this.send('something');
    ws.send(Buffer.from([1, 2, 3]), { binary: true, compress: false });
    ws.send(new Uint8Array(4), (err) => {
      if (err) console.error('send failed', err.message);
    });
    ws.send('fragment', { fin: false });
    ws.send('end', { fin: true, mask: true }, (err?: Error) => void err);
    ws.send(new ArrayBuffer(8));
    ws.send(new DataView(new ArrayBuffer(2)));
    ws.send(42);
    ws.ping();
    ws.ping('hello');
    ws.ping(Buffer.alloc(0), true);
    ws.pong('x', false, () => {});
  });

  ws.on('message', function message(data, isBinary) {
    const text: string = isBinary ? '' : data.toString();
    if (Buffer.isBuffer(data)) console.log(data.byteLength, text);
    else if (Array.isArray(data)) console.log(Buffer.concat(data).length);
    else console.log(data.byteLength);
  });

  ws.on('close', (code: number, reason: Buffer) => {
    console.log('closed', code, reason.toString());
  });
  ws.on('error', (err: Error) => console.error(err.message));
  ws.on('ping', (data: Buffer) => console.log('ping', data.length));
  ws.on('pong', (data) => console.log('pong', data.length));
  ws.on('upgrade', (response: IncomingMessage) => console.log(response.headers['sec-websocket-protocol']));
  ws.on('unexpected-response', (request: ClientRequest, response: IncomingMessage) => {
    console.log(response.statusCode);
    request.destroy();
  });
  ws.on('redirect', (url: string, request: ClientRequest) => console.log(url, request.path));
  ws.once('open', () => console.log(ws.protocol, ws.extensions, ws.url, ws.bufferedAmount));
  ws.off('message', () => {});
  ws.addListener('close', (code) => console.log(code + 1));
  ws.removeListener('error', (err) => console.log(err.stack));
  ws.prependListener('custom-event', (...args: unknown[]) => console.log(args));
  ws.on(Symbol.for('x'), () => {});

  ws.binaryType = 'arraybuffer';
  ws.binaryType = 'fragments';
  ws.binaryType = 'nodebuffer';

  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
  if (ws.readyState === ws.CLOSING || ws.readyState === WebSocket.CLOSED) ws.terminate();
  const states: ReadonlyArray<0 | 1 | 2 | 3> = [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED];
  const state: 0 | 1 | 2 | 3 = ws.readyState;
  console.log(states.includes(state), ws.isPaused);
  ws.pause();
  ws.resume();
  ws.close();
  ws.close(4000);
  ws.close(4001, Buffer.from('reason'));
  return ws;
}

export function heartbeat(ws: WebSocket, ms: number): NodeJS.Timeout {
  let pingTimeout: NodeJS.Timeout | undefined;
  const beat = (): void => {
    clearTimeout(pingTimeout);
    pingTimeout = setTimeout(() => ws.terminate(), ms);
  };
  ws.on('open', beat);
  ws.on('ping', beat);
  ws.on('close', () => clearTimeout(pingTimeout));
  return setInterval(() => ws.ping(), ms);
}

export async function request(url: string, payload: string): Promise<string> {
  const ws = new WebSocket(new URL(url));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(payload);
  return new Promise<string>((resolve) => ws.once('message', (data: WebSocket.RawData) => resolve(data.toString())));
}
