/**
 * A published message and the frames it is sent as. Each frame is encoded at most once, the first
 * time a subscriber needs it, and the same bytes then go to every subscriber of that kind: the raw
 * frame to plain WebSockets, the `msg` envelope to `parley.v1` connections (and to recovering ones,
 * since history keeps the message with its frames).
 * @packageDocumentation
 */
import { Buffer } from 'node:buffer';
import { defaultFrameEncoder, type FrameEncoder, type PreparedFrame } from '../protocol/prepared-frame.js';
import { encodeEnvelope } from '../wire/envelope.js';
import type { Subscriber } from './subscriber.js';

/** Options of a publish that shape the message itself. */
export interface MessageOptions {
  /** Conflation key: under the `conflate` policy only the latest message per key is kept for a slow subscriber. */
  key?: string | undefined;
  /**
   * Frame type for plain WebSocket subscribers. Default: binary for bytes, text for strings and
   * JSON values. `parley.v1` subscribers get a binary envelope exactly when the data is bytes.
   */
  binary?: boolean | undefined;
}

/** What a stored message looks like to a cluster adapter that ships it to other nodes. */
export interface MessageRecord {
  topic: string;
  epoch: string;
  offset: number;
  /** Milliseconds since the epoch when it entered history. */
  time: number;
  key?: string | undefined;
  /** Set for binary data. */
  bytes?: Uint8Array | undefined;
  /** Set for JSON data (a string is stored as its JSON text too). */
  json?: string | undefined;
  /** Whether the data was a string (plain subscribers then get that string, not its JSON). */
  text?: boolean | undefined;
  binary?: boolean | undefined;
}

function toBytes(data: unknown): Uint8Array | undefined {
  let view: Uint8Array;
  if (data instanceof Uint8Array) view = data;
  else if (data instanceof ArrayBuffer) return new Uint8Array(data);
  else if (ArrayBuffer.isView(data)) view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  else return undefined;
  // History keeps the message for minutes. A small view of a large buffer (a received message is
  // often a slice of a 64 KiB socket read) would keep the whole buffer alive: keep a copy instead.
  if (view.byteLength * 2 < view.buffer.byteLength) {
    const own = Buffer.allocUnsafeSlow(view.byteLength);
    own.set(view);
    return own;
  }
  return view;
}

/** A message on its way to subscribers, then kept in history. */
export class TopicMessage {
  /** The topic it was published to. */
  readonly topic: string;
  /** The topic's epoch, assigned when the message enters history. */
  epoch = '';
  /** Its offset in the topic, assigned when it enters history (first message: 1). */
  offset = 0;
  /** When it entered history (ms since the epoch). */
  time = 0;
  /** Conflation key. */
  readonly key: string | undefined;
  /** The data when it is bytes. */
  readonly bytes: Uint8Array | undefined;
  /** The data as a string, when it was published as one. */
  readonly string: string | undefined;
  /** JSON data: its text, computed once (and checked at publish time, so frames never fail later). */
  #json: string | undefined;
  readonly #binary: boolean | undefined;
  /**
   * Local only, never shipped to other nodes: a plain subscriber that must not receive it
   * (`ws.publish` skips its sender).
   */
  except: Subscriber | undefined;
  #raw: PreparedFrame | undefined;
  #envelope: PreparedFrame | undefined;
  #conflated: PreparedFrame | undefined;

  /**
   * @param topic - a valid topic name
   * @param data - a string, bytes (Buffer, typed array, ArrayBuffer) or a JSON-serialisable value
   * @param options - conflation key and frame type
   * @throws TypeError when `data` cannot be serialised as JSON
   */
  constructor(topic: string, data: unknown, options: MessageOptions = {}) {
    this.topic = topic;
    this.key = options.key;
    this.#binary = options.binary;
    if (typeof data === 'string') {
      this.string = data;
      return;
    }
    this.bytes = toBytes(data);
    if (this.bytes !== undefined) return;
    const json = JSON.stringify(data) as string | undefined;
    if (json === undefined) throw new TypeError('published data must be a string, bytes or a JSON value');
    this.#json = json;
  }

  /** Rebuilds a message another node published (for cluster adapters). */
  static fromRecord(record: MessageRecord): TopicMessage {
    let message: TopicMessage;
    if (record.bytes !== undefined) {
      message = new TopicMessage(record.topic, record.bytes, { key: record.key, binary: record.binary });
    } else if (record.text === true) {
      message = new TopicMessage(record.topic, JSON.parse(record.json ?? '""') as string, { key: record.key, binary: record.binary });
    } else {
      message = new TopicMessage(record.topic, null, { key: record.key, binary: record.binary });
      message.#json = record.json ?? 'null';
    }
    message.epoch = record.epoch;
    message.offset = record.offset;
    message.time = record.time;
    return message;
  }

  /** The data's JSON text (undefined for bytes). */
  get json(): string | undefined {
    if (this.string !== undefined) return JSON.stringify(this.string);
    return this.#json;
  }

  /** The data as published: a string, bytes, or the parsed JSON value. */
  get data(): unknown {
    if (this.string !== undefined) return this.string;
    if (this.bytes !== undefined) return this.bytes;
    const json = this.json;
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  }

  /** Approximate size in bytes, for history accounting. */
  get size(): number {
    return this.bytes?.length ?? this.string?.length ?? this.json?.length ?? 0;
  }

  /** A record of this message for cluster adapters. */
  toRecord(): MessageRecord {
    return {
      topic: this.topic,
      epoch: this.epoch,
      offset: this.offset,
      time: this.time,
      key: this.key,
      bytes: this.bytes,
      json: this.bytes === undefined ? this.json : undefined,
      text: this.string !== undefined ? true : undefined,
      binary: this.#binary,
    };
  }

  /**
   * The frame plain WebSockets get: the data itself. Encoded once, by the encoder of the first
   * engine that needs it (engines that share messages, as an in-memory cluster's, share an encoder).
   */
  rawFrame<F extends PreparedFrame = PreparedFrame>(encoder: FrameEncoder<F> = defaultFrameEncoder as FrameEncoder<F>): F {
    // Typed by the caller's encoder: the frame cached by an earlier call came from the same one.
    if (this.#raw !== undefined) return this.#raw as F;
    const binary = this.#binary;
    const raw = this.bytes !== undefined ? encoder.prepare(this.bytes, binary ?? true) : encoder.prepare(this.string ?? this.json ?? 'null', binary ?? false);
    this.#raw = raw;
    return raw;
  }

  /**
   * The `msg` envelope `parley.v1` connections get. Encoded once per message (as {@link rawFrame});
   * the variant with `conflated: true` (sent after slow-consumer conflation) is a second encoding,
   * made only if needed.
   */
  envelopeFrame<F extends PreparedFrame = PreparedFrame>(conflated = false, encoder: FrameEncoder<F> = defaultFrameEncoder as FrameEncoder<F>): F {
    if (conflated) return (this.#conflated ??= this.#encodeEnvelope(true, encoder)) as F;
    return (this.#envelope ??= this.#encodeEnvelope(false, encoder)) as F;
  }

  #encodeEnvelope(conflated: boolean, encoder: FrameEncoder): PreparedFrame {
    if (this.bytes !== undefined) {
      const envelope = { t: 'msg' as const, topic: this.topic, epoch: this.epoch, offset: this.offset, data: this.bytes, ...(this.key !== undefined ? { key: this.key } : {}), ...(conflated ? { conflated: true as const } : {}) };
      return encoder.prepare(encodeEnvelope(envelope), true);
    }
    // The data's JSON text is spliced in rather than serialised again with the envelope: it was
    // computed (and validated) once at publish time. Same object as encodeEnvelope would write.
    let text = `{"t":"msg","topic":${JSON.stringify(this.topic)},"epoch":${JSON.stringify(this.epoch)},"offset":${this.offset}`;
    if (this.key !== undefined) text += `,"key":${JSON.stringify(this.key)}`;
    if (conflated) text += ',"conflated":true';
    text += `,"data":${this.json ?? 'null'}}`;
    return encoder.prepare(text, false);
  }
}
