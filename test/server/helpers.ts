/**
 * Helpers for the standalone server's tests: a server on 127.0.0.1 port 0 that is shut down when
 * the test ends, tokens signed with generated keys, `parley.v1` connections with an envelope
 * inbox, and plain HTTP calls.
 */
import * as http from 'node:http';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { SignJWT, exportSPKI, generateKeyPair, type JWTPayload } from 'jose';
import { BUNDLED_APPS } from '../../src/apps/index.js';
import { WebSocket } from '../../src/index.js';
import { defaultConfig, type ServerConfig } from '../../src/server/config.js';
import { startServer, type ServerHandle, type StartOptions } from '../../src/server/serve.js';
import { defer, waitFor } from '../node/helpers.js';

export { defer, waitFor, until, upgradeRequest } from '../node/helpers.js';

/** Partial settings per group, as `defaultConfig` takes them. */
export type Overrides = { [K in keyof ServerConfig]?: Partial<ServerConfig[K]> };

/** Log lines a server wrote, parsed. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  /** The raw text, for checks that a secret appears nowhere. */
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const text = chunk.toString('utf8');
    this.text += text;
    for (const line of text.split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    callback();
  }
}

/** A running test server. */
export interface TestServer {
  handle: ServerHandle;
  port: number;
  /** `ws://127.0.0.1:<port>/ws` */
  wsUrl: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  logs: LogCapture;
}

/**
 * Starts `parley serve` in-process on 127.0.0.1:0 with the given settings (silent process
 * metrics, heartbeat off) and shuts it down when the test ends. As the command line does, it
 * hands the server the bundled apps unless `options.apps` says otherwise.
 */
export async function serve(t: TestContext, overrides: Overrides = {}, options: StartOptions = {}): Promise<TestServer> {
  const logs = new LogCapture();
  const config = defaultConfig({
    ...overrides,
    port: 0,
    host: overrides.host ?? '127.0.0.1',
    log: { level: 'info', ...overrides.log },
    metrics: { processMetrics: false, ...overrides.metrics },
    ws: { heartbeatMs: 0, ...overrides.ws },
    shutdown: { timeoutMs: 2000, ...overrides.shutdown },
  });
  const handle = await startServer(config, { logDestination: logs, apps: BUNDLED_APPS, ...options });
  defer(t, () => handle.close({ timeoutMs: 500 }));
  const port = handle.address.port;
  return { handle, port, wsUrl: `ws://127.0.0.1:${port}/ws`, url: `http://127.0.0.1:${port}`, logs };
}

/** Key material for one algorithm, and a signer. */
export interface Keys {
  /** What the server is configured with. */
  auth: Partial<ServerConfig['auth']>;
  sign(claims: JWTPayload, options?: { expiresIn?: string | number; alg?: string }): Promise<string>;
}

/** A fresh RS256 or ES256 key pair: the server gets the PEM public key. */
export async function asymmetricKeys(alg: 'RS256' | 'ES256'): Promise<Keys> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return {
    auth: { jwtPublicKey: await exportSPKI(publicKey) },
    sign: (claims, options = {}) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg }).setIssuedAt();
      if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
      return jwt.sign(privateKey);
    },
  };
}

/** An HS256 secret. */
export function secretKeys(secret = 'a-test-secret-that-is-long-enough-for-hs256'): Keys {
  return {
    auth: { jwtSecret: secret },
    sign: (claims, options = {}) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
      if (options.expiresIn !== undefined) jwt.setExpirationTime(options.expiresIn);
      return jwt.sign(new TextEncoder().encode(secret));
    },
  };
}

/** A `parley.v1` connection with a queue of received envelopes. */
export interface V1Client {
  ws: WebSocket;
  /** The next envelope (rejects after 2 s). */
  next(): Promise<Record<string, unknown>>;
  /** The next envelope of type `t`, skipping others. */
  nextOf(t: string): Promise<Record<string, unknown>>;
  send(envelope: Record<string, unknown>): void;
  closed: Promise<[number, Buffer]>;
}

/** Opens a `parley.v1` connection (terminated when the test ends) and waits for `hello`. */
export async function v1(t: TestContext, url: string, headers: Record<string, string> = {}): Promise<V1Client> {
  const ws = new WebSocket(url, 'parley.v1', { headers });
  defer(t, () => ws.terminate());
  const queue: Array<Record<string, unknown>> = [];
  const waiting: Array<(e: Record<string, unknown>) => void> = [];
  ws.on('message', (data: Buffer) => {
    const envelope = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    const w = waiting.shift();
    if (w !== undefined) w(envelope);
    else queue.push(envelope);
  });
  const closed = waitFor<[number, Buffer]>(ws, 'close', 30_000);
  closed.catch(() => {});
  const next = (): Promise<Record<string, unknown>> => {
    const e = queue.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiting.indexOf(resolve);
        if (i !== -1) waiting.splice(i, 1);
        reject(new Error('no envelope within 2 s'));
      }, 2000);
      waiting.push((envelope) => {
        clearTimeout(timer);
        resolve(envelope);
      });
    });
  };
  const client: V1Client = {
    ws,
    next,
    async nextOf(type) {
      for (;;) {
        const e = await next();
        if (e.t === type) return e;
      }
    },
    send: (envelope) => ws.send(JSON.stringify(envelope)),
    closed,
  };
  await Promise.race([waitFor(ws, 'open', 3000), waitFor<[Error]>(ws, 'error', 3000).then(([e]) => { throw e; })]);
  const hello = await client.next();
  if (hello.t !== 'hello') throw new Error(`expected hello, got ${JSON.stringify(hello)}`);
  queue.unshift(hello);
  return client;
}

/** An HTTP answer. */
export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** Makes an HTTP request to 127.0.0.1:`port`. */
export function request(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: options.headers, agent: false, signal: AbortSignal.timeout(5000) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** POSTs JSON with an API key. */
export function post(port: number, path: string, body: unknown, key: string): Promise<HttpResult> {
  return request(port, 'POST', path, { headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/** The value of one series in Prometheus text (`name{labels} value`), or undefined. */
export function metric(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
