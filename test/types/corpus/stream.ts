// createWebSocketStream: a connection as a Duplex, piped.
import { WebSocket, createWebSocketStream } from 'ws';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export async function echo(url: string): Promise<void> {
  const ws = new WebSocket(url);
  const duplex: Duplex = createWebSocketStream(ws, { encoding: 'utf8', highWaterMark: 1024 });
  duplex.on('error', console.error);
  await pipeline(process.stdin, duplex, process.stdout);
}

export function objects(ws: WebSocket): Duplex {
  const stream = createWebSocketStream(ws, { readableObjectMode: true });
  stream.on('data', (chunk: unknown) => console.log(chunk));
  stream.write('hello');
  stream.end();
  return stream;
}
