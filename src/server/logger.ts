/**
 * Structured logs with `pino`: one JSON object per line, a `reqId` on every HTTP request's lines
 * and a `conn` on every connection's. Secrets never reach a log line: the `token` query parameter
 * of a WebSocket URL is replaced before the URL is logged, and credential headers are redacted.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { pino, type DestinationStream, type Logger } from 'pino';
import { splitTarget } from '../node/request-path.js';
import type { ServerConfig } from './config.js';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a logged object. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-parley-signature"]',
  'headers.authorization',
  'headers.cookie',
  'token',
];

/**
 * Creates the server's logger.
 * @param level - the minimum level
 * @param destination - where lines go (default stdout)
 */
export function createLogger(level: ServerConfig['log']['level'], destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination ?? pino.destination({ dest: 1, sync: false }));
}

/** A URL with secrets removed (`?token=…` becomes `?token=[redacted]`); safe to log. */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return '/';
  const { path, query } = splitTarget(url);
  if (query === undefined) return url;
  const params = new URLSearchParams(query);
  let changed = false;
  for (const name of ['token', 'key', 'access_token']) {
    if (params.has(name)) {
      params.set(name, '[redacted]');
      changed = true;
    }
  }
  return changed ? `${path}?${params.toString().replaceAll('%5Bredacted%5D', '[redacted]')}` : url;
}

/**
 * The request's id: the caller's `X-Request-Id` when it is short and plain (so a backend's id
 * follows its call into our logs), else a new random one.
 */
export function requestId(req: http.IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(given)) return given;
  // A random per-process prefix and a counter: unique across processes, and no system call per request.
  return ID_PREFIX + (++idCounter % 0x100000000).toString(16).padStart(8, '0');
}

const ID_PREFIX = randomBytes(4).toString('hex');
let idCounter = 0;
