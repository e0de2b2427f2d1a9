import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TopicMessage } from '../../src/pubsub/message.js';
import { decodeFrame, encodeEnvelope } from '../../src/pubsub/envelope.js';

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
        const spliced = JSON.parse(m.envelopeFrame().payload.toString('utf8')) as unknown;
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
    assert.equal(decodeFrame(conflated.payload.toString('utf8')).conflated, true);
    assert.equal(decodeFrame(m.envelopeFrame().payload.toString('utf8')).conflated, undefined);
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
