import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicMessage } from '../../src/pubsub/message.js';
import { defaultFrameEncoder } from '../../src/protocol/prepared-frame.js';
import { decodeFrame, encodeEnvelope } from '../../src/wire/envelope.js';

const utf8 = new TextDecoder();
const text = (bytes: Uint8Array): string => utf8.decode(bytes);

function stamped(data: unknown, options?: ConstructorParameters<typeof TopicMessage>[2]): TopicMessage {
  const m = new TopicMessage('room:1', data, options);
  m.epoch = 'EP';
  m.offset = 42;
  m.time = 1000;
  return m;
}

void describe('TopicMessage frames', () => {
  void test('the spliced msg envelope is the object encodeEnvelope would write', () => {
    for (const data of [{ a: [1, 2, { b: 'c' }] }, 'text "quoted" é', 0, null, [], true]) {
      for (const key of [undefined, 'k"ey']) {
        const m = stamped(data, { key });
        const spliced = JSON.parse(text(m.envelopeFrame().payload)) as unknown;
        const reference = JSON.parse(encodeEnvelope({ t: 'msg', topic: 'room:1', epoch: 'EP', offset: 42, data, ...(key !== undefined ? { key } : {}) }) as string) as unknown;
        assert.deepEqual(spliced, reference);
      }
    }
  });

  void test('frames are encoded once and cached; the conflated variant is separate', () => {
    const m = stamped({ x: 1 });
    assert.equal(m.envelopeFrame(), m.envelopeFrame());
    assert.equal(m.rawFrame(), m.rawFrame());
    const conflated = m.envelopeFrame(true);
    assert.notEqual(conflated, m.envelopeFrame());
    assert.equal(decodeFrame(text(conflated.payload)).conflated, true);
    assert.equal(decodeFrame(text(m.envelopeFrame().payload)).conflated, undefined);
  });

  void test('bytes: binary raw frame and binary envelope; ArrayBuffer and typed arrays are bytes', () => {
    const m = stamped(new Uint16Array([0x0102]).buffer);
    assert.equal(m.rawFrame().binary, true);
    assert.equal(m.envelopeFrame().binary, true);
    const env = decodeFrame(m.envelopeFrame().payload);
    assert.equal(env.offset, 42);
    assert.equal((env.data as Uint8Array).length, 2);
    assert.equal(stamped(new Float32Array(2)).bytes?.length, 8);
    assert.equal(stamped(Buffer.from('ab'), { binary: false }).rawFrame().binary, false);
  });

  void test('frames come from the encoder passed in, once: the first call\'s encoder makes it', () => {
    const m = stamped('hi');
    const made: string[] = [];
    const encoder = {
      prepare: (data: string | Uint8Array, binary: boolean) => {
        made.push(typeof data === 'string' ? data : text(data));
        return defaultFrameEncoder.prepare(data, binary);
      },
    };
    const raw = m.rawFrame(encoder);
    assert.equal(m.rawFrame(encoder), raw);
    assert.equal(m.rawFrame(), raw, 'cached whatever the encoder of a later call');
    m.envelopeFrame(false, encoder);
    m.envelopeFrame(true, encoder);
    assert.equal(made.length, 3, 'one encoding per frame kind, none again');
    assert.equal(made[0], 'hi', 'plain subscribers get the string itself');
    assert.deepEqual(JSON.parse(made[1]!), { t: 'msg', topic: 'room:1', epoch: 'EP', offset: 42, data: 'hi' });
    assert.deepEqual(JSON.parse(made[2]!), { t: 'msg', topic: 'room:1', epoch: 'EP', offset: 42, conflated: true, data: 'hi' });
  });

  void test('records round-trip (what a cluster adapter ships)', () => {
    for (const data of ['a string', { json: [1] }, Buffer.from([5, 6])]) {
      const m = stamped(data, { key: 'k', binary: true });
      const back = TopicMessage.fromRecord(m.toRecord());
      assert.deepEqual([back.epoch, back.offset, back.time, back.key], ['EP', 42, 1000, 'k']);
      assert.deepEqual(back.data, m.data);
      assert.deepEqual(back.rawFrame().frame, m.rawFrame().frame);
      assert.deepEqual(back.envelopeFrame().frame, m.envelopeFrame().frame);
    }
  });
});
