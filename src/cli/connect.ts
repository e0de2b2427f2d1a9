/**
 * `parley connect URL`: an interactive client in the manner of `wscat`. Lines typed are sent as
 * text; messages received are printed. With `--echo` it sends every message back with its type
 * and exits when the connection closes (the Autobahn client-suite testee).
 * @packageDocumentation
 */
import { createInterface } from 'node:readline';
import { WebSocket } from '../node/index.js';
import { UsageError, parse, parseBytes } from './args.js';

/** Help text of `parley connect`. */
export const CONNECT_HELP = `Usage: parley connect URL [options]

Connects to a WebSocket server. Lines read from standard input are sent as text messages;
received messages are printed ('<' text, '<b' binary as hex). Ctrl-D closes the connection.

Options:
  --echo                send every received message back with its type; exit on close
                        ('connected to …' and 'closed CODE' go to stderr)
  --header 'Name: v'    add a request header (repeatable)
  --protocol P          offer a subprotocol (repeatable)
  --origin O            send an Origin header
  --max-payload BYTES   largest message accepted (default 104857600)
  --deflate             offer permessage-deflate (RFC 7692) with the default options
  -h, --help            show this help
`;

/** Runs the client; resolves with the exit code once the connection closes. */
export async function runConnect(argv: string[], out: NodeJS.WritableStream = process.stdout, input: NodeJS.ReadableStream = process.stdin): Promise<number> {
  const { values, positionals } = parse(argv, {
    echo: { type: 'boolean' },
    header: { type: 'string', multiple: true },
    protocol: { type: 'string', multiple: true },
    origin: { type: 'string' },
    'max-payload': { type: 'string' },
    deflate: { type: 'boolean' },
  }, true);
  if (values.help === true) {
    out.write(CONNECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('connect needs exactly one URL');
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new UsageError(`--header must look like 'Name: value', got '${h}'`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const maxPayload = parseBytes('--max-payload', values['max-payload']);
  const ws = new WebSocket(positionals[0]!, values.protocol ?? [], { headers, origin: values.origin, maxPayload, perMessageDeflate: values.deflate === true });
  const echo = values.echo === true;
  return await new Promise<number>((resolve) => {
    let failed = false;
    let opened = false;
    ws.on('error', (error: Error) => {
      failed = true;
      process.stderr.write(`error: ${error.message}\n`);
    });
    ws.on('open', () => {
      opened = true;
      if (echo) {
        // Stdout stays free for nothing but the protocol; the operator still learns what happened.
        process.stderr.write(`connected to ${ws.url}${ws.protocol === '' ? '' : ` (protocol ${ws.protocol})`}\n`);
        return;
      }
      out.write(`connected to ${ws.url}${ws.protocol === '' ? '' : ` (protocol ${ws.protocol})`}\n`);
      const rl = createInterface({ input });
      rl.on('line', (line) => ws.send(line));
      rl.on('close', () => ws.close(1000));
      ws.once('close', () => rl.close());
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (echo) ws.send(data, { binary: isBinary });
      else out.write(isBinary ? `<b ${data.toString('hex')}\n` : `< ${data.toString('utf8')}\n`);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      const closed = `closed ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}\n`;
      if (echo) process.stderr.write(closed);
      else out.write(closed);
      // Scripts must see a failure: never connected, or an error on the way (either mode).
      resolve(failed || !opened ? 1 : 0);
    });
  });
}
