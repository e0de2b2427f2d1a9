/**
 * User ids in topic names: any `sub` a token may carry (Auth0's `auth0|123`, e-mail addresses with
 * `+`, spaces, non-ASCII letters, very long ones) maps to a valid, private `user:` topic; the
 * server stays up and delivers to the user through the HTTP API.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidTopic } from '../../src/wire/envelope.js';
import { MAX_ENCODED, userOfTopic, userTopic } from '../../src/server/user-topic.js';
import { post, secretKeys, serve, v1 } from './helpers.js';

const ODD_SUBS = ['auth0|123', 'alice+x@example.com', 'a b', 'jöe', 'google-oauth2|1234567890', 'a/b#c', '名前', '😀'.repeat(64), 'é'.repeat(128), '%23', 'x'.repeat(128)];

void test('userTopic: plain ids unchanged, others encoded reversibly into a valid topic, very long ones hashed', () => {
  assert.equal(userTopic('alice'), 'user:alice');
  assert.equal(userTopic('a.b-c_d@e:f'), 'user:a.b-c_d@e:f');
  assert.equal(userTopic('auth0|123'), 'user:auth0#7C123');
  assert.equal(userTopic('a b'), 'user:a#20b');
  assert.equal(userTopic('jöe'), 'user:j#C3#B6e');
  const topics = new Set<string>();
  for (const sub of ODD_SUBS) {
    const topic = userTopic(sub);
    assert.ok(isValidTopic(topic), `${JSON.stringify(sub)} -> ${topic} is not a valid topic`);
    topics.add(topic);
    const back = userOfTopic(topic);
    if (topic.startsWith('user:##')) assert.equal(back, undefined);
    else assert.equal(back, sub);
  }
  assert.equal(topics.size, ODD_SUBS.length, 'two ids share a topic');
  // Where the escaped form would pass the topic limit, the hash stands in.
  assert.match(userTopic('é'.repeat(128)), /^user:##[A-Za-z0-9_-]{43}$/);
  assert.ok(userTopic('é'.repeat(Math.floor(MAX_ENCODED / 6))).includes('#C3#A9'));
  // "#" is always escaped, so a plain id cannot look like an encoded one.
  assert.notEqual(userTopic('a#20b'), userTopic('a b'));
  assert.throws(() => userTopic(''), TypeError);
  assert.equal(userOfTopic('news'), undefined);
  assert.equal(userOfTopic('user:bad#zz'), undefined);
});

void test('a token whose sub is outside the topic alphabet connects, hears its user topic, and the server stays up', async (t) => {
  const keys = secretKeys();
  const api = 'user-topic-api-key-0123456789';
  const s = await serve(t, { auth: keys.auth, api: { keys: [api] } });
  for (const sub of ['auth0|123', 'alice+x@example.com', 'a b', 'jöe', 'é'.repeat(128)]) {
    const token = await keys.sign({ sub }, { expiresIn: '5m' });
    const c = await v1(t, `${s.wsUrl}?token=${encodeURIComponent(token)}`);
    assert.equal((await c.next()).user, sub);
    // The HTTP API takes the id percent-encoded and reaches exactly this user's connections.
    const r = await post(s.port, `/api/users/${encodeURIComponent(sub)}/publish`, { data: { hi: sub } }, api);
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as { topic: string }).topic, userTopic(sub));
    assert.equal((r.json as { delivered: number }).delivered, 1);
    const msg = await c.nextOf('msg');
    assert.deepEqual(msg.data, { hi: sub });
    assert.equal(msg.topic, userTopic(sub));
    // Resuming the own user topic is allowed; another user's is not.
    c.send({ t: 'sub', id: 'own', topic: userTopic(sub) });
    assert.equal((await c.nextOf('subok')).id, 'own');
    c.send({ t: 'sub', id: 'other', topic: userTopic('someone else') });
    assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  }
  assert.equal(s.handle.ready, true);
});
