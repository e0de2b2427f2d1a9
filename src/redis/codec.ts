/**
 * How messages and presence changes travel through Redis. One entry format serves the channel
 * and the history list, so a node that fills a gap from history decodes exactly what it would
 * have received live.
 *
 * A message entry is `m\n<epoch>\n<offset>\n<time>\n<body>`: the publish script writes the
 * first four fields (they are decided inside Redis), the publishing node writes the body:
 * `<publish id>\n<kind><binary flag><key length>\n<key><data>`, with the data as raw bytes (no
 * base64, no JSON of JSON). A presence entry is `p\n<join|leave>\n<member JSON>`. A gap entry,
 * `g\n<new epoch>\n<node>`, says a node replaced the topic's epoch because it delivered messages
 * locally that the cluster never had (it travels on the channel only, never in history).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import type { PresenceMember } from '../wire/envelope.js';
import { TopicMessage } from '../pubsub/message.js';

const NL = 0x0a;

/** A message entry, decoded. */
export interface MessageEntry {
  readonly kind: 'm';
  readonly epoch: string;
  readonly offset: number;
  readonly time: number;
  /** The publishing node's id for this publish (`<node>:<counter>`), so it can use its own object. */
  readonly publishId: string;
  /** Builds the message (only when a node needs it: its own publishes reuse the original). */
  readonly message: () => TopicMessage;
}

/** A presence entry, decoded. */
export interface PresenceEntry {
  readonly kind: 'p';
  readonly event: 'join' | 'leave';
  readonly member: PresenceMember;
}

/** A gap entry, decoded: the topic now has `epoch`, started by `node` to announce a gap. */
export interface GapEntry {
  readonly kind: 'g';
  readonly epoch: string;
  readonly node: string;
}

/** Anything a topic's channel carries. */
export type Entry = MessageEntry | PresenceEntry | GapEntry;

/**
 * The node's part of a message entry.
 * @param message - the message as published (epoch and offset are not set yet)
 * @param publishId - unique per publish in the cluster
 */
export function encodeBody(message: TopicMessage, publishId: string): Buffer {
  const record = message.toRecord();
  const binary = record.binary === undefined ? '-' : record.binary ? '1' : '0';
  const key = record.key === undefined ? undefined : Buffer.from(record.key, 'utf8');
  let kind: string;
  let data: Uint8Array | string;
  if (record.bytes !== undefined) {
    kind = 'b';
    data = record.bytes;
  } else if (message.string !== undefined) {
    kind = 't';
    data = message.string;
  } else {
    kind = 'j';
    data = record.json ?? 'null';
  }
  const head = `${publishId}\n${kind}${binary}${key === undefined ? '' : key.length}\n`;
  const parts: Uint8Array[] = [Buffer.from(head, 'latin1')];
  if (key !== undefined) parts.push(key);
  parts.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  return Buffer.concat(parts);
}

/** A presence entry for a member that joined or left. */
export function encodePresence(event: 'join' | 'leave', member: PresenceMember): string {
  return `p\n${event}\n${JSON.stringify({ user: member.user, conn: member.conn, info: member.info })}`;
}

function field(buf: Buffer, start: number): [string, number] {
  const end = buf.indexOf(NL, start);
  if (end === -1) throw new TypeError('truncated entry');
  return [buf.toString('latin1', start, end), end + 1];
}

/**
 * Decodes an entry from the channel or from history.
 * @param topic - the topic it belongs to (not repeated in the entry)
 * @throws TypeError for bytes that are not an entry (another program writing to our channel)
 */
export function decodeEntry(topic: string, buf: Buffer): Entry {
  if (buf.length >= 2 && buf[0] === 0x70 && buf[1] === NL) {
    const [event, at] = field(buf, 2);
    if (event !== 'join' && event !== 'leave') throw new TypeError('bad presence event');
    const parsed = JSON.parse(buf.toString('utf8', at)) as { user?: unknown; conn?: unknown; info?: unknown };
    if (typeof parsed.user !== 'string' || typeof parsed.conn !== 'string') throw new TypeError('bad presence member');
    return { kind: 'p', event, member: { user: parsed.user, conn: parsed.conn, info: parsed.info } };
  }
  if (buf.length >= 2 && buf[0] === 0x67 && buf[1] === NL) {
    const [epoch, at] = field(buf, 2);
    if (epoch.length === 0) throw new TypeError('bad gap epoch');
    return { kind: 'g', epoch, node: buf.toString('latin1', at) };
  }
  if (buf.length < 2 || buf[0] !== 0x6d || buf[1] !== NL) throw new TypeError('not a Parley entry');
  const [epoch, a1] = field(buf, 2);
  const [offsetText, a2] = field(buf, a1);
  const [timeText, a3] = field(buf, a2);
  const [publishId, a4] = field(buf, a3);
  const [flags, at] = field(buf, a4);
  const offset = Number(offsetText);
  const time = Number(timeText);
  if (!Number.isSafeInteger(offset) || offset < 1 || !Number.isFinite(time) || flags.length < 2) throw new TypeError('bad message header');
  const kind = flags[0];
  const binaryFlag = flags[1];
  const keyLength = flags.length > 2 ? Number(flags.slice(2)) : -1;
  if (!Number.isSafeInteger(keyLength) || at + Math.max(keyLength, 0) > buf.length) throw new TypeError('bad key length');
  const key = keyLength >= 0 ? buf.toString('utf8', at, at + keyLength) : undefined;
  const dataStart = at + Math.max(keyLength, 0);
  const binary = binaryFlag === '1' ? true : binaryFlag === '0' ? false : undefined;
  if (kind !== 'b' && kind !== 't' && kind !== 'j') throw new TypeError('bad message kind');
  const message = (): TopicMessage => {
    const options = { key, binary };
    let m: TopicMessage;
    if (kind === 'b') m = new TopicMessage(topic, buf.subarray(dataStart), options);
    else if (kind === 't') m = new TopicMessage(topic, buf.toString('utf8', dataStart), options);
    else m = TopicMessage.fromRecord({ topic, epoch, offset, time, key, binary, json: buf.toString('utf8', dataStart) });
    m.epoch = epoch;
    m.offset = offset;
    m.time = time;
    return m;
  };
  return { kind: 'm', epoch, offset, time, publishId, message };
}
