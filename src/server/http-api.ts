/**
 * The HTTP API for backend services that hold no WebSocket: publish to a topic or to a user, read
 * presence and history, disconnect a user. Requests carry an API key (`Authorization: Bearer`)
 * or an HMAC signature with a timestamp (see hmac.ts). Every answer is JSON; every refusal has a
 * stable `error` code.
 * @packageDocumentation
 */
import type * as http from 'node:http';
import type { Logger } from 'pino';
import { splitTarget } from '../node/request-path.js';
import type { HistoryLimits, PublishResult, StreamPosition, TopicMessage, WebSocketServer } from '../index.js';
import type { ServerConfig } from './config.js';
import { HmacVerifier, SIGNATURE_HEADER, TIMESTAMP_HEADER, matchesKey, type HmacFailure } from './hmac.js';
import type { ServerMetrics } from './metrics.js';
import { userTopic } from './user-topic.js';

/** What the API works on. */
export interface ApiContext {
  wss: WebSocketServer;
  config: ServerConfig['api'];
  history: HistoryLimits;
  metrics: ServerMetrics | undefined;
  /** Closes every connection of `user` here; returns how many. */
  disconnectUser(user: string, code: number, reason: string): number;
}

/** A refusal with an HTTP status and a stable code. */
class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Topics of the servers themselves. */
const RESERVED_PREFIX = 'parley:';
const TOPIC = /^[A-Za-z0-9:_\-./@#]{1,200}$/;

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** Reads the body, up to `max` bytes. */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  // The rest of an oversized body is not read: the connection cannot be reused after the answer.
  const tooLarge = (): ApiError => new ApiError(413, 'too_large', `the body may have at most ${max} bytes`, { Connection: 'close' });
  if (Number.isFinite(declared) && declared > max) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function jsonBody(req: http.IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'unsupported_media_type', 'send Content-Type: application/json');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new ApiError(400, 'bad_json', 'the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, 'bad_body', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

function decode(segment: string, what: 'topic' | 'user'): string {
  let text: string;
  try {
    text = decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `bad_${what}`, `the ${what} is not valid percent-encoding`);
  }
  // A user id is any string of 1-128 characters (a token's `sub`); it is encoded into its topic.
  if (what === 'topic' ? !TOPIC.test(text) : text.length === 0 || text.length > 128) {
    throw new ApiError(400, `bad_${what}`, what === 'topic' ? 'topic names are 1-200 characters of A-Z a-z 0-9 : _ - . / @ #' : 'user ids are 1-128 characters');
  }
  // `parley:` topics carry the servers' own commands (control.ts): a forged one would reach every
  // server of the cluster. No external path may publish on them or read them.
  if (what === 'topic' && text.startsWith(RESERVED_PREFIX)) throw new ApiError(403, 'reserved_topic', `topics starting with "${RESERVED_PREFIX}" are reserved for the servers`);
  return text;
}

function publishOptions(body: Record<string, unknown>): { data: unknown; key: string | undefined } {
  if (!Object.hasOwn(body, 'data')) throw new ApiError(400, 'bad_body', 'the body needs "data" (any JSON value)');
  const key = body.key;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw new ApiError(400, 'bad_body', '"key" must be a string of 1-200 characters');
  return { data: body.data, key };
}

/** Creates the `/api/*` handler. */
export function createApi(context: ApiContext): {
  enabled: boolean;
  handle(req: http.IncomingMessage, res: http.ServerResponse, log: Logger): Promise<string>;
} {
  const { config, wss } = context;
  const hmac = new HmacVerifier(config.hmacSecrets, config.timestampToleranceSec, { maxSeen: config.maxSignedRequests });
  const enabled = config.keys.length > 0 || hmac.enabled;

  const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? undefined : v);
  const refuseSigned = (failure: HmacFailure): never => {
    if (failure === 'replay_cache_full') {
      throw new ApiError(503, failure, 'too many signed requests within the timestamp tolerance; try again shortly (operators: raise api.maxSignedRequests or lower api.timestampToleranceSec)', { 'Retry-After': '1' });
    }
    throw new ApiError(401, failure, failure === 'replayed' ? 'this signed request was already used' : failure === 'stale_timestamp' ? 'the timestamp is too far from the server\'s clock' : 'the request signature is not valid');
  };

  /**
   * What can be checked before the body is read: a bearer key completely (compared exactly: a
   * key with spaces added is another key), a signed request's headers and timestamp. A caller
   * without credentials gets its 401 without the server reading a byte of its body.
   */
  const authenticateHeaders = (req: http.IncomingMessage): 'key' | 'hmac' => {
    const header = req.headers.authorization;
    if (typeof header === 'string' && header.startsWith('Bearer ') && config.keys.length > 0) {
      if (matchesKey(header.slice(7), config.keys)) return 'key';
      throw new ApiError(401, 'unauthorized', 'unknown API key');
    }
    if (hmac.enabled && (req.headers[SIGNATURE_HEADER] !== undefined || req.headers[TIMESTAMP_HEADER] !== undefined)) {
      const failure = hmac.precheck(one(req.headers[TIMESTAMP_HEADER]), one(req.headers[SIGNATURE_HEADER]));
      if (failure !== undefined) refuseSigned(failure);
      return 'hmac';
    }
    throw new ApiError(401, 'unauthorized', 'send Authorization: Bearer <API key> or an HMAC-signed request', { 'WWW-Authenticate': 'Bearer' });
  };

  /** The signature over the body, once it is read. */
  const verifySigned = (req: http.IncomingMessage, body: Buffer): void => {
    const failure = hmac.verify(one(req.headers[TIMESTAMP_HEADER]), one(req.headers[SIGNATURE_HEADER]), req.method ?? 'GET', req.url ?? '/', body);
    if (failure !== undefined) refuseSigned(failure);
  };

  /**
   * Publishes and waits for the adapter, so the answer carries the message's real offset (with
   * Redis it is assigned there) and a publish the adapter refused is not reported as done.
   * Invalid data still throws TypeError at once (answered 400).
   */
  const publish = async (topic: string, data: unknown, key: string | undefined): Promise<PublishResult> => {
    const pending = wss.pubsub.publish(topic, data, key === undefined ? {} : { key });
    try {
      return await pending;
    } catch (error) {
      if (error instanceof TypeError) throw error;
      throw new ApiError(503, 'adapter_unavailable', 'the cluster adapter did not take the message, so it was not published; try again', { 'Retry-After': '5' });
    }
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse, path: string, query: URLSearchParams, body: Buffer): Promise<string> => {
    const method = req.method ?? 'GET';
    const parts = path.split('/');
    // ['', 'api', 'topics' | 'users', ...id, action]
    const kind = parts[2];
    const action = parts.at(-1) ?? '';
    const id = parts.slice(3, -1).join('/');
    const want = (expected: string): void => {
      if (method !== expected) throw new ApiError(405, 'method_not_allowed', `use ${expected}`, { Allow: expected });
    };
    if (kind === 'topics' && id !== '' && action === 'publish') {
      want('POST');
      const topic = decode(id, 'topic');
      const { data, key } = publishOptions(jsonBody(req, body));
      const result = await publish(topic, data, key);
      context.metrics?.apiPublishes.inc({ target: 'topic' });
      send(res, 200, { topic, ...result });
      return 'publish_topic';
    }
    if (kind === 'users' && id !== '' && action === 'publish') {
      want('POST');
      const user = decode(id, 'user');
      const { data, key } = publishOptions(jsonBody(req, body));
      const topic = userTopic(user);
      const result = await publish(topic, data, key);
      context.metrics?.apiPublishes.inc({ target: 'user' });
      send(res, 200, { user, topic, ...result });
      return 'publish_user';
    }
    if (kind === 'users' && id !== '' && action === 'disconnect') {
      want('POST');
      const user = decode(id, 'user');
      const options = body.length === 0 ? {} : jsonBody(req, body);
      const code = options.code ?? 1008;
      const reason = options.reason ?? 'disconnected by the server';
      if (typeof code !== 'number' || !(code === 1000 || code === 1008 || (code >= 4000 && code <= 4999))) throw new ApiError(400, 'bad_body', '"code" must be 1000, 1008 or 4000-4999');
      if (typeof reason !== 'string' || Buffer.byteLength(reason) > 123) throw new ApiError(400, 'bad_body', '"reason" must be a string of at most 123 bytes');
      const disconnected = context.disconnectUser(user, code, reason);
      send(res, 200, { user, disconnected });
      return 'disconnect_user';
    }
    if (kind === 'topics' && id !== '' && action === 'presence') {
      want('GET');
      const topic = decode(id, 'topic');
      const members = await wss.presence(topic);
      send(res, 200, { topic, members });
      return 'presence';
    }
    if (kind === 'topics' && id !== '' && action === 'history') {
      want('GET');
      const topic = decode(id, 'topic');
      const limitText = query.get('limit') ?? '100';
      const limit = Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new ApiError(400, 'bad_query', '"limit" must be an integer from 1 to 1000');
      send(res, 200, await readHistory(wss, topic, limit, query, context.history));
      return 'history';
    }
    throw new ApiError(404, 'not_found', 'no such API route');
  };

  return {
    enabled,
    async handle(req, res, log) {
      const target = splitTarget(req.url);
      const path = target.path;
      const query = new URLSearchParams(target.query ?? '');
      try {
        if (!enabled) throw new ApiError(404, 'api_disabled', 'the HTTP API is off: configure api.keys or api.hmacSecrets');
        const bodiless = req.method === 'GET' || req.method === 'HEAD';
        let how: 'key' | 'hmac';
        try {
          how = authenticateHeaders(req);
        } catch (error) {
          // The body was not read: the connection cannot carry another request after the answer.
          if (error instanceof ApiError && !bodiless) error.headers.Connection = 'close';
          throw error;
        }
        const body = bodiless ? Buffer.alloc(0) : await readBody(req, config.maxBodyBytes);
        if (how === 'hmac') verifySigned(req, body);
        const name = await route(req, res, path, query, body);
        log.info({ route: name, auth: how, status: res.statusCode }, 'api request');
        return name;
      } catch (error) {
        if (error instanceof ApiError) {
          send(res, error.status, { error: error.code, message: error.message }, error.headers);
          log.info({ status: error.status, error: error.code }, 'api request refused');
          return 'refused';
        }
        if (error instanceof TypeError) {
          // The real-time layer throws TypeError for data JSON cannot carry: the caller's mistake.
          send(res, 400, { error: 'bad_body', message: 'the data cannot be published' });
          return 'refused';
        }
        throw error;
      }
    },
  };
}

/**
 * The newest `limit` messages of a topic (or those after `since` in `epoch`). The adapter answers
 * "every message after an offset, or not recoverable"; when the history was trimmed past the
 * start asked for, the oldest kept offset is found by bisection (a few adapter calls).
 */
async function readHistory(wss: WebSocketServer, topic: string, limit: number, query: URLSearchParams, limits: HistoryLimits): Promise<unknown> {
  const adapter = wss.pubsub.adapter;
  const position: StreamPosition = await wss.position(topic);
  const sinceText = query.get('since');
  const epoch = query.get('epoch') ?? position.epoch;
  if (sinceText !== null && !/^\d{1,15}$/.test(sinceText)) throw new ApiError(400, 'bad_query', '"since" must be an offset (a non-negative integer)');
  if (epoch !== position.epoch) return { topic, epoch: position.epoch, offset: position.offset, complete: false, messages: [] };
  let from = sinceText !== null ? Number(sinceText) : Math.max(0, position.offset - limit);
  let recovery = await adapter.since(topic, { epoch, offset: from }, limits);
  const complete = recovery.recovered;
  if (!recovery.recovered && from < position.offset) {
    // Bisect for the oldest offset still kept: `since(o)` succeeds exactly for o >= oldest - 1.
    let low = from;
    let high = position.offset;
    while (low + 1 < high) {
      const mid = Math.floor((low + high) / 2);
      if ((await adapter.since(topic, { epoch, offset: mid }, limits)).recovered) high = mid;
      else low = mid;
    }
    from = high;
    recovery = await adapter.since(topic, { epoch, offset: from }, limits);
  }
  const messages = recovery.recovered ? recovery.messages.slice(0, limit) : [];
  return {
    topic,
    epoch: position.epoch,
    offset: position.offset,
    complete,
    messages: messages.map((m: TopicMessage) => ({ offset: m.offset, time: m.time, data: m.bytes !== undefined ? { base64: Buffer.from(m.bytes).toString('base64') } : m.data, ...(m.key !== undefined ? { key: m.key } : {}) })),
  };
}
