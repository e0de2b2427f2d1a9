/**
 * `parley echo`: an echo server. Every message goes back to its sender with its type (text or
 * binary); it is the testee for the Autobahn server suite and the `npm start` default for now.
 * @packageDocumentation
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../node/index.js';
import { parse, parseBytes, parsePort } from './args.js';

/** Help text of `parley echo`. */
export const ECHO_HELP = `Usage: parley echo [--port N] [--host H] [--max-payload BYTES] [--deflate]

Runs a WebSocket echo server: every message is sent back with its type.

Options:
  --port N              port to listen on (default 8080; 0 picks a free port)
  --host H              address to bind (default 127.0.0.1)
  --max-payload BYTES   largest message accepted (default 104857600)
  --deflate             accept permessage-deflate (RFC 7692) with the default options
  -h, --help            show this help
`;

/** Runs the echo server until SIGINT/SIGTERM; resolves once listening with the server. */
export async function runEcho(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<WebSocketServer | undefined> {
  const { values } = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean' },
  }, false);
  if (values.help === true) {
    out.write(ECHO_HELP);
    return undefined;
  }
  const port = parsePort(values.port, 8080);
  const host = values.host ?? '127.0.0.1';
  const maxPayload = parseBytes('--max-payload', values['max-payload']);
  const wss = new WebSocketServer({ port, host, maxPayload, perMessageDeflate: values.deflate === true });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      ws.send(data, { binary: isBinary === true });
    });
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address() as AddressInfo;
  out.write(`parley echo server listening on ws://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}\n`);
  const stop = (): void => {
    void wss.shutdown({ timeout: 2000 }).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return wss;
}
