/**
 * Presence end to end: two tabs of one user make one member; `join` is sent for the first tab
 * only and `leave` for the last, to every parley.v1 subscriber and on the server's 'presence'
 * event.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PresenceMember } from '../../src/index.js';
import { V1Client, startRealtime, until } from './helpers.js';

void describe('presence across tabs', () => {
  void test('first-join and last-leave with two tabs of one user', async (t) => {
    const { wss, url } = await startRealtime(t, {
      authenticate: (req) => ({ user: new URL(req.url ?? '/', 'http://x').searchParams.get('user') }),
    });
    const events: Array<[string, string, string]> = [];
    wss.on('presence', (topic: string, event: string, member: PresenceMember) => events.push([topic, event, member.user]));

    const bob = await V1Client.open(t, `${url}/?user=bob`);
    await bob.subscribe('table:7', { presence: { seat: 1 } });
    const tab1 = await V1Client.open(t, `${url}/?user=alice`);
    assert.equal(tab1.hello.user, 'alice');
    await tab1.subscribe('table:7', { presence: { seat: 2 } });
    await bob.waitFor((e) => e.t === 'pres' && (e.member as PresenceMember).user === 'alice');
    const tab2 = await V1Client.open(t, `${url}/?user=alice`);
    await tab2.subscribe('table:7', { presence: { seat: 2 } });

    const members = await tab2.call({ t: 'presence', topic: 'table:7' });
    assert.deepEqual(
      (members.members as PresenceMember[]).map((m) => [m.user, m.info]).sort(),
      [['alice', { seat: 2 }], ['bob', { seat: 1 }]],
      'one member per user, whatever the tabs',
    );
    assert.equal((await wss.presence('table:7')).length, 2);

    tab1.ws.close();
    await tab1.closed;
    await sleep(50);
    assert.deepEqual(bob.ofType('pres').map((e) => [e.event, (e.member as PresenceMember).user]), [['join', 'bob'], ['join', 'alice']], 'closing one tab is not a leave');

    tab2.ws.terminate();
    const leave = await bob.waitFor((e) => e.t === 'pres' && e.event === 'leave');
    assert.deepEqual(leave, { t: 'pres', topic: 'table:7', event: 'leave', member: { user: 'alice', conn: tab2.hello.conn, info: { seat: 2 } } });
    await until(() => events.length === 3);
    assert.deepEqual(events, [['table:7', 'join', 'bob'], ['table:7', 'join', 'alice'], ['table:7', 'leave', 'alice']]);
    assert.deepEqual((await wss.presence('table:7')).map((m) => m.user), ['bob']);
  });

  void test('a subscription without presence watches without being a member; unsub leaves', async (t) => {
    const { wss, url } = await startRealtime(t, { realtime: { userOf: (ws) => `user-${String((ws.data as { n?: number } | undefined)?.n ?? 'x')}` } });
    const watcher = await V1Client.open(t, url);
    await watcher.subscribe('lobby');
    assert.deepEqual(await wss.presence('lobby'), []);
    const member = await V1Client.open(t, url);
    await member.subscribe('lobby', { presence: null });
    await watcher.waitFor((e) => e.t === 'pres' && e.event === 'join');
    assert.equal((await wss.presence('lobby'))[0]!.user, 'user-x');
    await member.call({ t: 'unsub', topic: 'lobby' });
    await watcher.waitFor((e) => e.t === 'pres' && e.event === 'leave');
  });
});
