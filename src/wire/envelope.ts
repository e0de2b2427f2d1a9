/**
 * The `parley.v1` wire codec (docs/realtime-protocol.md): encoding, and validation in both
 * directions: {@link parseClientEnvelope} for what the server reads, {@link parseServerEnvelope}
 * for what the browser client reads. The one module the server's session and the browser client
 * share; it imports nothing and uses no Node built-ins, so it runs in browsers unchanged.
 * @packageDocumentation
 */

import { ParleyError } from '../protocol/errors.js';

/** The subprotocol name that turns the real-time protocol on. */
export const REALTIME_SUBPROTOCOL = 'parley.v1';

/** Stable error codes of the real-time protocol. */
export const RealtimeErrorCode = {
  BAD_ENVELOPE: 'BAD_ENVELOPE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  TOO_LARGE: 'TOO_LARGE',
  TOO_DEEP: 'TOO_DEEP',
  BAD_TOPIC: 'BAD_TOPIC',
  FORBIDDEN: 'FORBIDDEN',
  NOT_SUBSCRIBED: 'NOT_SUBSCRIBED',
  UNKNOWN_METHOD: 'UNKNOWN_METHOD',
  LIMIT: 'LIMIT',
  RATE_LIMITED: 'RATE_LIMITED',
  TIMEOUT: 'TIMEOUT',
  INTERNAL: 'INTERNAL',
} as const;

/** One of {@link RealtimeErrorCode}. */
export type RealtimeErrorCode = (typeof RealtimeErrorCode)[keyof typeof RealtimeErrorCode];

/** Limits applied when decoding (server defaults in the protocol doc). */
export interface EnvelopeLimits {
  /** Largest JSON part in bytes. Default 65,536. */
  maxBytes?: number;
  /** Deepest JSON nesting. Default 32. */
  maxDepth?: number;
}

/** A request id: a short string or a safe integer. */
export type EnvelopeId = string | number;

/** Position in a topic's history. */
export interface StreamPosition {
  epoch: string;
  offset: number;
}

/** Envelopes a client sends. */
export type ClientEnvelope =
  | { t: 'sub'; id: EnvelopeId; topic: string; since?: StreamPosition; presence?: unknown }
  | { t: 'unsub'; id: EnvelopeId; topic: string }
  | { t: 'pub'; id?: EnvelopeId; topic: string; data: unknown; key?: string }
  | { t: 'req'; id: EnvelopeId; method: string; data?: unknown }
  | { t: 'presence'; id: EnvelopeId; topic: string };

/** A presence member as the protocol shows it. */
export interface PresenceMember {
  user: string;
  conn: string;
  info?: unknown;
}

/** Envelopes the server sends. */
export type ServerEnvelope =
  | { t: 'hello'; v: 1; time: number; conn: string; user?: string }
  | { t: 'subok'; id: EnvelopeId; topic: string; epoch: string; offset: number; recovered?: boolean; snapshot?: unknown }
  | { t: 'msg'; topic: string; epoch: string; offset: number; data: unknown; key?: string; conflated?: true }
  | { t: 'ok'; id: EnvelopeId; offset?: number; members?: PresenceMember[] }
  | { t: 'res'; id: EnvelopeId; data: unknown }
  | { t: 'err'; id?: EnvelopeId; code: string; message: string }
  | { t: 'pres'; topic: string; event: 'join' | 'leave'; member: PresenceMember }
  | { t: 'gap'; topic: string };

/**
 * A decoding failure: a {@link ParleyError} whose code is the real-time protocol code to answer it
 * with, and the request id when it could be read.
 */
export class EnvelopeError extends ParleyError {
  /** Stable code, one of {@link RealtimeErrorCode}. */
  declare readonly code: RealtimeErrorCode;
  /** The request id, when it could be read before the failure. */
  readonly id: EnvelopeId | undefined;
  /** @param code - protocol error code @param message - for people @param id - request id if known */
  constructor(code: RealtimeErrorCode, message: string, id?: EnvelopeId) {
    super(code, message);
    this.id = id;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const TOPIC_CHAR = /^[A-Za-z0-9:_\-./@#]{1,200}$/;

/** Whether `topic` is a valid topic name (1–200 characters of `A–Z a–z 0–9 : _ - . / @ #`). */
export function isValidTopic(topic: unknown): topic is string {
  return typeof topic === 'string' && TOPIC_CHAR.test(topic);
}

/** Whether `id` is a valid request id. */
export function isValidId(id: unknown): id is EnvelopeId {
  return (typeof id === 'string' && id.length >= 1 && id.length <= 64) || (typeof id === 'number' && Number.isSafeInteger(id));
}

/**
 * Nesting depth of JSON text, counted in one linear pass without parsing (strings skipped), so
 * a deeply nested document is refused before `JSON.parse` recurses into it.
 * @returns the depth, or `limit + 1` as soon as it passes `limit`
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return limit + 1;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/** Encodes an envelope as a text frame payload (a string), or as binary bytes when `data` is bytes. */
export function encodeEnvelope(envelope: ServerEnvelope | ClientEnvelope): string | Uint8Array {
  const data = (envelope as { data?: unknown }).data;
  if (data instanceof Uint8Array) {
    const { data: _omit, ...rest } = envelope as { data: Uint8Array };
    const head = encoder.encode(JSON.stringify({ ...rest, bin: true }));
    const out = new Uint8Array(4 + head.length + data.length);
    new DataView(out.buffer).setUint32(0, head.length);
    out.set(head, 4);
    out.set(data, 4 + head.length);
    return out;
  }
  return JSON.stringify(envelope);
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts as the 3 bytes of U+FFFD). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Decodes one frame payload into a JSON object with a string `t`, enforcing size and depth.
 * Binary frames get their payload as `data` (a `Uint8Array` view).
 * @throws EnvelopeError with `TOO_LARGE`, `TOO_DEEP` or `BAD_ENVELOPE`
 */
export function decodeFrame(payload: string | Uint8Array, limits: EnvelopeLimits = {}): Record<string, unknown> & { t: string } {
  const maxBytes = limits.maxBytes ?? 65_536;
  const maxDepth = limits.maxDepth ?? 32;
  let text: string;
  let binary: Uint8Array | undefined;
  if (typeof payload === 'string') {
    // The limit is in bytes of UTF-8; a string's length counts UTF-16 units, up to 3 bytes each.
    if (payload.length > maxBytes || (payload.length * 3 > maxBytes && utf8Length(payload) > maxBytes)) {
      throw new EnvelopeError('TOO_LARGE', `envelope over ${maxBytes} bytes`);
    }
    text = payload;
  } else {
    if (payload.length < 4) throw new EnvelopeError('BAD_ENVELOPE', 'binary envelope shorter than its length prefix');
    const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0);
    if (n > maxBytes) throw new EnvelopeError('TOO_LARGE', `envelope over ${maxBytes} bytes`);
    if (4 + n > payload.length) throw new EnvelopeError('BAD_ENVELOPE', 'binary envelope length past the end of the frame');
    try {
      text = decoder.decode(payload.subarray(4, 4 + n));
    } catch {
      throw new EnvelopeError('BAD_ENVELOPE', 'envelope is not UTF-8');
    }
    binary = payload.subarray(4 + n);
  }
  if (jsonDepth(text, maxDepth) > maxDepth) throw new EnvelopeError('TOO_DEEP', `JSON nested deeper than ${maxDepth}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EnvelopeError('BAD_ENVELOPE', 'envelope is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EnvelopeError('BAD_ENVELOPE', 'envelope must be a JSON object');
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.t !== 'string') throw new EnvelopeError('BAD_ENVELOPE', 'envelope has no string "t"');
  if (binary !== undefined) {
    if (obj.bin !== true) throw new EnvelopeError('BAD_ENVELOPE', 'binary envelope without "bin": true');
    obj.data = binary;
  }
  return obj as Record<string, unknown> & { t: string };
}

/**
 * Checks a decoded object against the client envelope shapes (server side).
 * @throws EnvelopeError naming the first problem, with the id when it is valid
 */
export function parseClientEnvelope(obj: Record<string, unknown> & { t: string }): ClientEnvelope {
  const id = isValidId(obj.id) ? obj.id : undefined;
  const fail = (code: RealtimeErrorCode, message: string): never => {
    throw new EnvelopeError(code, message, id);
  };
  const needId = (): EnvelopeId => (id === undefined ? fail('BAD_ENVELOPE', '"id" must be a string of 1-64 characters or a safe integer') : id);
  const needTopic = (): string => (isValidTopic(obj.topic) ? obj.topic : fail('BAD_TOPIC', 'invalid topic name'));
  switch (obj.t) {
    case 'sub': {
      const env: ClientEnvelope = { t: 'sub', id: needId(), topic: needTopic() };
      if (obj.since !== undefined) {
        const s: unknown = obj.since;
        const epoch = typeof s === 'object' && s !== null ? (s as { epoch?: unknown }).epoch : undefined;
        const offset = typeof s === 'object' && s !== null ? (s as { offset?: unknown }).offset : undefined;
        if (typeof epoch !== 'string' || epoch.length > 64 || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
          return fail('BAD_ENVELOPE', '"since" must be { epoch: string, offset: non-negative integer }');
        }
        env.since = { epoch, offset };
      }
      if (obj.presence !== undefined) env.presence = obj.presence;
      return env;
    }
    case 'unsub':
      return { t: 'unsub', id: needId(), topic: needTopic() };
    case 'pub': {
      if (obj.id !== undefined) needId();
      if (obj.data === undefined) fail('BAD_ENVELOPE', '"data" is required');
      const env: ClientEnvelope = { t: 'pub', topic: needTopic(), data: obj.data };
      if (id !== undefined) env.id = id;
      if (obj.key !== undefined) {
        if (typeof obj.key !== 'string' || obj.key.length > 200) fail('BAD_ENVELOPE', '"key" must be a string of at most 200 characters');
        env.key = obj.key as string;
      }
      return env;
    }
    case 'req': {
      const rid = needId();
      if (typeof obj.method !== 'string' || obj.method.length === 0 || obj.method.length > 100) fail('BAD_ENVELOPE', '"method" must be a string of 1-100 characters');
      return { t: 'req', id: rid, method: obj.method as string, data: obj.data };
    }
    case 'presence':
      return { t: 'presence', id: needId(), topic: needTopic() };
    default:
      return fail('UNKNOWN_TYPE', `unknown envelope type "${obj.t.slice(0, 32)}"`);
  }
}

/** Whether `value` is an offset: a non-negative safe integer. */
function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Whether `value` is a presence member: string `user` and `conn`, any `info`. */
function isMember(value: unknown): value is PresenceMember {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as { user?: unknown; conn?: unknown };
  return typeof m.user === 'string' && typeof m.conn === 'string';
}

function member(value: PresenceMember): PresenceMember {
  return value.info === undefined ? { user: value.user, conn: value.conn } : { user: value.user, conn: value.conn, info: value.info };
}

/**
 * Checks a decoded object against the server envelope shapes (client side). Unknown fields are
 * dropped. An envelope type this version does not know gives `undefined`: a newer server may send
 * it, and the protocol asks a client to ignore it.
 * @throws EnvelopeError with `BAD_ENVELOPE` (or `BAD_TOPIC`) naming the first problem
 */
export function parseServerEnvelope(obj: Record<string, unknown> & { t: string }): ServerEnvelope | undefined {
  const fail = (message: string, code: RealtimeErrorCode = 'BAD_ENVELOPE'): never => {
    throw new EnvelopeError(code, `"${obj.t.slice(0, 32)}" envelope: ${message}`, isValidId(obj.id) ? obj.id : undefined);
  };
  const needId = (): EnvelopeId => (isValidId(obj.id) ? obj.id : fail('"id" must be a string of 1-64 characters or a safe integer'));
  const needTopic = (): string => (isValidTopic(obj.topic) ? obj.topic : fail('invalid topic name', 'BAD_TOPIC'));
  const needEpoch = (): string => (typeof obj.epoch === 'string' ? obj.epoch : fail('"epoch" must be a string'));
  const needOffset = (): number => (isOffset(obj.offset) ? obj.offset : fail('"offset" must be a non-negative integer'));
  switch (obj.t) {
    case 'hello': {
      if (obj.v !== 1) fail('"v" must be 1');
      if (typeof obj.time !== 'number' || !Number.isFinite(obj.time)) fail('"time" must be a number');
      if (typeof obj.conn !== 'string') fail('"conn" must be a string');
      if (obj.user !== undefined && typeof obj.user !== 'string') fail('"user" must be a string');
      const env: ServerEnvelope = { t: 'hello', v: 1, time: obj.time as number, conn: obj.conn as string };
      if (obj.user !== undefined) env.user = obj.user as string;
      return env;
    }
    case 'subok': {
      const env: ServerEnvelope = { t: 'subok', id: needId(), topic: needTopic(), epoch: needEpoch(), offset: needOffset() };
      if (obj.recovered !== undefined) env.recovered = typeof obj.recovered === 'boolean' ? obj.recovered : fail('"recovered" must be a boolean');
      if (obj.snapshot !== undefined) env.snapshot = obj.snapshot;
      return env;
    }
    case 'msg': {
      const env: ServerEnvelope = { t: 'msg', topic: needTopic(), epoch: needEpoch(), offset: needOffset(), data: obj.data };
      if (obj.key !== undefined) env.key = typeof obj.key === 'string' ? obj.key : fail('"key" must be a string');
      if (obj.conflated !== undefined) env.conflated = obj.conflated === true ? true : fail('"conflated" must be true');
      return env;
    }
    case 'ok': {
      const env: ServerEnvelope = { t: 'ok', id: needId() };
      if (obj.offset !== undefined) env.offset = needOffset();
      if (obj.members !== undefined) {
        if (!Array.isArray(obj.members) || !obj.members.every(isMember)) fail('"members" must be a list of { user, conn, info }');
        env.members = (obj.members as PresenceMember[]).map(member);
      }
      return env;
    }
    case 'res':
      return { t: 'res', id: needId(), data: obj.data };
    case 'err': {
      if (typeof obj.code !== 'string' || obj.code.length === 0) fail('"code" must be a string');
      if (typeof obj.message !== 'string') fail('"message" must be a string');
      const env: ServerEnvelope = { t: 'err', code: obj.code as string, message: obj.message as string };
      if (obj.id !== undefined) env.id = needId();
      return env;
    }
    case 'pres': {
      const topic = needTopic();
      if (obj.event !== 'join' && obj.event !== 'leave') fail('"event" must be "join" or "leave"');
      if (!isMember(obj.member)) fail('"member" must be { user, conn, info }');
      return { t: 'pres', topic, event: obj.event as 'join' | 'leave', member: member(obj.member as PresenceMember) };
    }
    case 'gap':
      return { t: 'gap', topic: needTopic() };
    default:
      return undefined;
  }
}
