/**
 * Connection authentication over real handshakes: valid tokens (RS256, ES256, HS256; query
 * parameter and Authorization header), expired ones, wrong signatures, missing tokens, and the
 * per-topic rights a token carries (subscribe and publish checked separately; `user:` topics
 * private to their user).
 */
import { test } from 'node:test';
import { SignJWT } from 'jose';
import assert from 'node:assert/strict';
import { AuthError, TokenAuth, topicMatches } from '../../src/server/token-auth.js';
import { defaultConfig } from '../../src/server/config.js';
import { asymmetricKeys, metric, request, secretKeys, serve, upgradeRequest, v1 } from './helpers.js';

const RIGHTS = { topics: { subscribe: ['chat:*', 'news'], publish: ['chat:lobby'] } };

for (const alg of ['RS256', 'ES256'] as const) {
  void test(`a valid ${alg} token connects as its sub, with the topics it grants`, async (t) => {
    const keys = await asymmetricKeys(alg);
    const s = await serve(t, { auth: keys.auth });
    const token = await keys.sign({ sub: 'alice', ...RIGHTS }, { expiresIn: '5m' });
    const c = await v1(t, `${s.wsUrl}?token=${token}`);
    const hello = await c.next();
    assert.equal(hello.user, 'alice');
    c.send({ t: 'sub', id: 1, topic: 'chat:lobby' });
    assert.equal((await c.nextOf('subok')).topic, 'chat:lobby');
  });
}

void test('an HS256 token is accepted from the Authorization header', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  const token = await keys.sign({ sub: 'bob' }, { expiresIn: 60 * 5 + Math.floor(Date.now() / 1000) });
  const c = await v1(t, s.wsUrl, { Authorization: `Bearer ${token}` });
  assert.equal((await c.next()).user, 'bob');
});

void test('an expired token is refused with 401 and counted as expired', async (t) => {
  const keys = await asymmetricKeys('RS256');
  const s = await serve(t, { auth: keys.auth });
  const token = await keys.sign({ sub: 'alice' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
  const answer = await upgradeRequest(s.port, `/ws?token=${token}`);
  assert.equal(answer.status, 401);
  const text = await s.handle.metrics.render();
  assert.equal(metric(text, 'parley_handshake_failures_total{reason="expired"}'), 1);
});

void test('a token signed with another key is refused with 401 (bad signature)', async (t) => {
  const keys = await asymmetricKeys('RS256');
  const other = await asymmetricKeys('RS256');
  const s = await serve(t, { auth: keys.auth });
  const forged = await other.sign({ sub: 'mallory', topics: { subscribe: ['*'], publish: ['*'] } }, { expiresIn: '5m' });
  assert.equal((await upgradeRequest(s.port, `/ws?token=${forged}`)).status, 401);
  const hs = secretKeys('a-different-secret-that-is-also-long-enough');
  const wrongSecret = await hs.sign({ sub: 'mallory' });
  assert.equal((await upgradeRequest(s.port, `/ws?token=${wrongSecret}`)).status, 401);
  const text = await s.handle.metrics.render();
  // The RS256 forgery fails its signature; the HS256 token is not an allowed algorithm.
  assert.equal(metric(text, 'parley_handshake_failures_total{reason="bad_signature"}'), 1);
  assert.equal(metric(text, 'parley_handshake_failures_total{reason="alg_not_allowed"}'), 1);
});

void test('a garbage token and a token without sub are refused', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  assert.equal((await upgradeRequest(s.port, '/ws?token=not.a.jwt')).status, 401);
  const noSub = await keys.sign({ topics: {} });
  assert.equal((await upgradeRequest(s.port, `/ws?token=${noSub}`)).status, 401);
  const badTopics = await keys.sign({ sub: 'x', topics: { subscribe: 'chat:*' } });
  assert.equal((await upgradeRequest(s.port, `/ws?token=${badTopics}`)).status, 401);
});

void test('a token issued in the future (iat past the clock tolerance) is refused as bad_claims', async (t) => {
  const secret = 'a-test-secret-that-is-long-enough-for-hs256';
  const s = await serve(t, { auth: { jwtSecret: secret, clockToleranceSec: 5 } });
  const now = Math.floor(Date.now() / 1000);
  const at = (iat: number): Promise<string> => new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(iat).setExpirationTime(now + 7200).sign(new TextEncoder().encode(secret));
  assert.equal((await upgradeRequest(s.port, `/ws?token=${await at(now + 3600)}`)).status, 401);
  assert.equal(metric(await s.handle.metrics.render(), 'parley_handshake_failures_total{reason="bad_claims"}'), 1);
  // Within the tolerance (clocks a little apart) it is accepted.
  assert.equal((await upgradeRequest(s.port, `/ws?token=${await at(now + 2)}`)).status, 101);
});

void test('with a key configured, a connection without a token is refused (missing_token)', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  assert.equal((await upgradeRequest(s.port, '/ws')).status, 401);
  assert.equal(metric(await s.handle.metrics.render(), 'parley_handshake_failures_total{reason="missing_token"}'), 1);
});

void test('missing topic rights: sub and pub outside the token\'s patterns are FORBIDDEN, inside are allowed', async (t) => {
  const keys = await asymmetricKeys('ES256');
  const s = await serve(t, { auth: keys.auth });
  const token = await keys.sign({ sub: 'carol', ...RIGHTS }, { expiresIn: '5m' });
  const c = await v1(t, `${s.wsUrl}?token=${token}`);
  await c.next();
  c.send({ t: 'sub', id: 1, topic: 'admin:secrets' });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  c.send({ t: 'sub', id: 2, topic: 'news' });
  assert.equal((await c.nextOf('subok')).id, 2);
  // Subscribe rights do not grant publish rights.
  c.send({ t: 'pub', id: 3, topic: 'news', data: 'hi' });
  assert.deepEqual(await c.nextOf('err'), { t: 'err', id: 3, code: 'FORBIDDEN', message: 'not allowed to publish to this topic' });
  c.send({ t: 'pub', id: 4, topic: 'chat:lobby', data: 'hi' });
  assert.equal((await c.nextOf('ok')).id, 4);
});

void test('a user may subscribe to their own user: topic only, and never publish to one', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  const token = await keys.sign({ sub: 'dave', topics: { subscribe: ['*'], publish: ['*'] } });
  const c = await v1(t, `${s.wsUrl}?token=${token}`);
  await c.next();
  c.send({ t: 'sub', id: 1, topic: 'user:erin' });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  c.send({ t: 'sub', id: 2, topic: 'user:dave' });
  assert.equal((await c.nextOf('subok')).id, 2);
  c.send({ t: 'pub', id: 3, topic: 'user:dave', data: 'spoof' });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  // `*` is everything a client may have: never the servers' reserved `parley:` topics.
  c.send({ t: 'sub', id: 4, topic: 'parley:control' });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  c.send({ t: 'pub', id: 5, topic: 'parley:control', data: { op: 'disconnect', user: 'erin', code: 1011, reason: 'x', from: 'y' } });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
});

void test('without a key, connections are anonymous with only the public rights', async (t) => {
  const s = await serve(t);
  const c = await v1(t, s.wsUrl);
  const hello = await c.next();
  assert.equal(hello.user, undefined); // anonymous: no user (presence and retries are per connection)
  assert.equal(typeof hello.conn, 'string');
  c.send({ t: 'sub', id: 1, topic: 'public:lobby' });
  assert.equal((await c.nextOf('subok')).id, 1);
  c.send({ t: 'sub', id: 2, topic: 'private:room' });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  c.send({ t: 'pub', id: 3, topic: 'public:lobby', data: 1 });
  assert.equal((await c.nextOf('err')).code, 'FORBIDDEN');
  // A token cannot be checked without a key, so presenting one is refused rather than trusted.
  assert.equal((await upgradeRequest(s.port, '/ws?token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.')).status, 401);
});

void test('the token in the URL never reaches a log line', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: keys.auth });
  const token = await keys.sign({ sub: 'frank' });
  const c = await v1(t, `${s.wsUrl}?token=${token}`);
  await c.next();
  await upgradeRequest(s.port, `/ws?token=${token}x`); // refused: logged too
  const opened = s.logs.lines.find((l) => l.msg === 'connection opened');
  assert.equal(opened?.url, '/ws?token=[redacted]');
  assert.equal(opened?.user, 'frank');
  assert.ok(!s.logs.text.includes(token), 'a token appears in the logs');
  assert.equal((await request(s.port, 'GET', '/healthz')).status, 200);
});

void test('topic patterns: exact names, and a trailing * for a prefix', () => {
  assert.equal(topicMatches('chat:*', 'chat:lobby'), true);
  assert.equal(topicMatches('chat:*', 'chatter'), false);
  assert.equal(topicMatches('news', 'news'), true);
  assert.equal(topicMatches('news', 'news:eu'), false);
  assert.equal(topicMatches('*', 'anything'), true);
});

void test('TokenAuth refuses a public key that is not PEM at construction', () => {
  const config = defaultConfig({ auth: { jwtPublicKey: 'not a key' } });
  assert.throws(() => new TokenAuth(config.auth), /not a PEM public key/);
  assert.equal(new AuthError('expired').status, 401);
});

void test('an open connection is closed with 1008 when its token expires', async (t) => {
  const keys = secretKeys();
  const s = await serve(t, { auth: { ...keys.auth, clockToleranceSec: 0 } });
  const exp = Math.floor(Date.now() / 1000) + 2;
  const c = await v1(t, `${s.wsUrl}?token=${await keys.sign({ sub: 'gina' }, { expiresIn: exp })}`);
  const [code, reason] = await c.closed;
  assert.equal(code, 1008);
  assert.equal(String(reason), 'token expired');
  assert.ok(Date.now() >= exp * 1000 - 50, 'closed before the expiry');
});
