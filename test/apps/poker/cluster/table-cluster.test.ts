/**
 * Poker on three real `parley serve` processes sharing the Redis at 127.0.0.1:6379 (a key prefix
 * of each test's own): players connected to different servers play at one table through its
 * owner, and when the owner is killed with SIGKILL mid-hand another server takes the table over
 * from the stored state and the hand goes on, with every chip and no hole card where it should
 * not be.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TableMessage } from '../../../../src/apps/poker/room.js';
import { needRedis } from '../../../redis/support.js';
import { Peer, signIn, until, type Envelope } from '../helpers.js';
import { kill, startCluster } from './support.js';

const TABLE = 'heads-up';
const T = { timeout: 60_000 };

interface Player {
  name: string;
  user: string;
  peer: Peer;
  hole: string;
}

/** Signs `name` in on `signInBase`, connects to `ws`, subscribes the table and their cards, and sits in `seat`. */
async function join(signInBase: string, ws: string, name: string, seat: number): Promise<Player> {
  const session = await signIn(signInBase, name);
  const peer = await Peer.open(ws, session.token);
  const hole = `poker:hole:${TABLE}:${session.user}`;
  assert.equal((await peer.subscribe(`poker:table:${TABLE}`)).t, 'subok');
  assert.equal((await peer.subscribe(hole)).t, 'subok');
  const whoami = await peer.request('whoami');
  assert.deepEqual(whoami.data, { user: session.user, name }, 'a session made on one server is known on another');
  const sat = await peer.request('sit', { table: TABLE, seat, buyIn: 100 });
  assert.deepEqual([sat.t, sat.data], ['res', { ok: true }], JSON.stringify(sat));
  return { name, user: session.user, peer, hole };
}

const latest = (peer: Peer): TableMessage => {
  const m = peer.table(TABLE);
  assert.ok(m !== undefined, 'has table state');
  return m;
};

/** Chips at the table: every stack plus the pot. */
const chips = (m: TableMessage): number => m.state.seats.reduce((s, x) => s + (x?.stack ?? 0), 0) + (m.state.hand?.pot ?? 0);

/** The player whose turn it is in `m`. */
function actor(players: Player[], m: TableMessage): Player {
  const seat = m.state.hand?.legal?.seat;
  assert.ok(seat !== undefined, `someone is to act: ${JSON.stringify(m.state.hand)}`);
  return players.find((p) => p.user === m.state.seats[seat]?.user) as Player;
}

/** Acts, retrying while the table is between owners; resolves with the reply. */
async function act(player: Player, data: Record<string, unknown>, ms = 15_000): Promise<Envelope> {
  const deadline = Date.now() + ms;
  for (;;) {
    const reply = await player.peer.request('act', { table: TABLE, ...data });
    if (reply.t === 'res' || (reply.code !== 'TABLE_MOVED') || Date.now() > deadline) return reply;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** No frame `player` received holds a card of `other`'s. */
function assertPrivate(player: Player, otherCards: string[], before = Infinity): number {
  let checked = 0;
  for (const frame of player.peer.frames.slice(0, before)) {
    for (const card of otherCards) assert.ok(!frame.includes(`"${card}"`), `a frame to ${player.name} carried ${card}: ${frame.slice(0, 200)}`);
    checked++;
  }
  return checked;
}

void describe('poker on three servers', () => {
  void test('players on different servers play a hand to showdown through the table\u2019s owner', T, async (t) => {
    if (!(await needRedis(t))) return;
    const cluster = await startCluster(t, 'poker-play', TABLE);
    const [a, b, c] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    assert.match((await cluster.lease(TABLE)) ?? '', new RegExp(`^${a.child.pid}-[0-9a-f]+/\\d+$`), 'the first server listed owns the table');
    // Ada plays on the owner, Bo on another server (signed in on a third), a spectator watches from the third.
    const ada = await join(a.base, a.ws, 'Ada', 0);
    const bo = await join(c.base, b.ws, 'Bo', 1);
    const watcher = await Peer.open(c.ws);
    assert.equal((await watcher.subscribe(`poker:table:${TABLE}`)).t, 'subok');
    const players = [ada, bo];
    await until(() => latest(ada.peer).state.hand?.number === 1 && latest(bo.peer).state.hand?.number === 1, 'hand 1 dealt', 10_000);
    for (const p of players) await until(() => p.peer.hole(p.hole)?.cards.length === 2, `${p.name}'s cards`);
    const cards = new Map(players.map((p) => [p.user, p.peer.hole(p.hole)?.cards ?? []]));

    for (let step = 0; step < 20; step++) {
      const m = latest(bo.peer);
      if (m.state.hand?.complete === true) break;
      const legal = m.state.hand?.legal;
      assert.ok(legal !== null && legal !== undefined);
      const reply = await act(actor(players, m), { action: legal.canCheck ? 'check' : 'call', hand: m.state.hand?.number });
      assert.equal(reply.t, 'res', JSON.stringify(reply));
      await until(() => latest(bo.peer).version > m.version && latest(ada.peer).version > m.version, 'both servers publish the change');
    }
    const final = latest(bo.peer);
    assert.equal(final.state.hand?.complete, true);
    assert.equal(final.state.hand?.result?.shown.length, 2, 'both show down');
    for (const shown of final.state.hand?.result?.shown ?? []) assert.deepEqual(shown.cards, cards.get(final.state.seats[shown.seat]?.user ?? ''));
    assert.equal(chips(final), 200, 'chips conserved');
    await until(() => watcher.table(TABLE)?.version === final.version, 'the spectator on the third server sees the end');
    // Before the showdown, neither player received the other's cards.
    for (const [p, other] of [[ada, bo], [bo, ada]] as const) {
      const showdown = p.peer.frames.findIndex((f) => f.includes('"type":"showdown"'));
      assert.ok(showdown > 0);
      assertPrivate(p, cards.get(other.user) ?? [], showdown);
    }
    for (const p of [ada.peer, bo.peer, watcher]) p.close();
  });

  void test('the owner killed with SIGKILL mid-hand: another server continues the hand, chips and hole cards intact', T, async (t) => {
    if (!(await needRedis(t))) return;
    const cluster = await startCluster(t, 'poker-kill', TABLE);
    const [a, b, c] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const firstLease = (await cluster.lease(TABLE)) ?? '';
    assert.match(firstLease, new RegExp(`^${a.child.pid}-`), 'the first server listed owns the table');
    // Both players are on servers that survive; every change they make goes through the owner.
    const ada = await join(b.base, b.ws, 'Ada', 0);
    const bo = await join(b.base, c.ws, 'Bo', 1);
    const players = [ada, bo];
    await until(() => latest(ada.peer).state.hand?.number === 1 && latest(bo.peer).state.hand?.number === 1, 'hand 1 dealt', 10_000);
    for (const p of players) await until(() => p.peer.hole(p.hole)?.cards.length === 2, `${p.name}'s cards`);
    const cards = new Map(players.map((p) => [p.user, p.peer.hole(p.hole)?.cards ?? []]));

    // Heads-up the button (small blind) acts first: a call, and the big blind has the option.
    const first = latest(ada.peer);
    assert.equal((await act(actor(players, first), { action: 'call', hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).version > first.version && latest(bo.peer).version > first.version, 'the call published');
    const before = latest(ada.peer);
    assert.equal(chips(before), 200);
    assert.equal(before.state.hand?.pot, 4);

    await kill(a);
    const killedAt = Date.now();
    const bigBlind = actor(players, before);
    const reply = await act(bigBlind, { action: 'check', hand: 1 });
    assert.equal(reply.t, 'res', JSON.stringify(reply));
    const tookMs = Date.now() - killedAt;
    t.diagnostic(`the first action after the kill was answered ${tookMs} ms after it`);
    assert.ok(tookMs < 10_000, `taken over within seconds (${tookMs} ms)`);
    const lease = (await cluster.lease(TABLE)) ?? '';
    assert.match(lease, new RegExp(`^(${b.child.pid}|${c.child.pid})-`), `a surviving server owns the table (${lease})`);
    assert.ok(Number(lease.split('/')[1]) > Number(firstLease.split('/')[1]), 'with a higher fencing token');
    const newOwner = lease.startsWith(`${b.child.pid}-`) ? b : c;
    assert.match(newOwner.output(), /poker table taken over/);

    // The takeover's own state: the same hand, the same chips, the clock kept (never shortened).
    const takeover = [...ada.peer.envelopes()].map((e) => (e.t === 'msg' && e.topic === `poker:table:${TABLE}` ? e.data as TableMessage : undefined))
      .find((m) => m !== undefined && m.version === before.version + 1);
    assert.ok(takeover !== undefined, 'the new owner published the table it took over');
    assert.equal(takeover.state.hand?.number, 1);
    assert.equal(takeover.state.hand?.street, 'preflop');
    assert.equal(chips(takeover), 200, 'no chip created or lost by the takeover');
    assert.ok((takeover.state.hand?.deadline ?? 0) >= (before.state.hand?.deadline ?? Infinity), 'the turn clock resumes with at least the time that was left');

    // The flop: whoever acts bets, the other folds.
    await until(() => latest(ada.peer).state.hand?.street === 'flop' && latest(bo.peer).state.hand?.street === 'flop', 'the flop on both servers');
    const flop = latest(ada.peer);
    assert.equal(flop.state.hand?.number, 1, 'still hand 1');
    assert.equal(chips(flop), 200);
    const bettor = actor(players, flop);
    assert.equal((await act(bettor, { action: 'bet', amount: 4, hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).state.hand?.currentBet === 4, 'the bet');
    const folder = actor(players, latest(ada.peer));
    assert.notEqual(folder, bettor);
    assert.equal((await act(folder, { action: 'fold', hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).state.hand?.complete === true && latest(bo.peer).state.hand?.complete === true, 'the hand ends on both servers');
    const final = latest(bo.peer);
    assert.equal(final.state.hand?.result?.wonByFold, true);
    assert.equal(chips(final), 200, 'chips conserved across the takeover');
    const stacks = new Map(final.state.seats.flatMap((s) => (s === null ? [] : [[s.user, s.stack]])));
    assert.equal(stacks.get(bettor.user), 102, 'the bettor takes the pot of 4 (2 each) and the uncalled bet back');
    assert.equal(stacks.get(folder.user), 98);

    // The cards: the same ones after the takeover, and never in the other player's frames.
    for (const p of players) assert.deepEqual(p.peer.hole(p.hole)?.cards, cards.get(p.user), `${p.name} kept the same cards`);
    const checked = assertPrivate(ada, cards.get(bo.user) ?? []) + assertPrivate(bo, cards.get(ada.user) ?? []);
    assert.ok(checked > 10, `checked ${checked} frames`);
    for (const p of players) p.peer.close();
  });

  void test('an owner paused past its lease (SIGSTOP) and resumed cannot write: its successor\u2019s state stands', T, async (t) => {
    if (!(await needRedis(t))) return;
    const cluster = await startCluster(t, 'poker-fence', TABLE);
    const [a, b, c] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    assert.match((await cluster.lease(TABLE)) ?? '', new RegExp(`^${a.child.pid}-`));
    const ada = await join(b.base, b.ws, 'Ada', 0);
    const bo = await join(c.base, c.ws, 'Bo', 1);
    const players = [ada, bo];
    await until(() => latest(ada.peer).state.hand?.number === 1 && latest(bo.peer).state.hand?.number === 1, 'hand 1 dealt', 10_000);
    const first = latest(ada.peer);
    assert.equal((await act(actor(players, first), { action: 'call', hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).version > first.version, 'the call published');
    const before = latest(ada.peer);

    // The owner freezes with its sockets open: the lease runs out and another server takes over.
    a.child.kill('SIGSTOP');
    t.after(() => a.child.kill('SIGCONT'));
    // (Acting before that would wait for the frozen owner's answer, which never comes: 5 s, then TABLE_MOVED.)
    const frozen = new RegExp(`^${a.child.pid}-`);
    const frozenAt = Date.now();
    for (let lease = ''; lease === '' || frozen.test(lease); lease = (await cluster.lease(TABLE)) ?? '') {
      assert.ok(Date.now() - frozenAt < 10_000, 'a running server owns the table within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The frozen owner still listens on the command channel (its socket is open); the new owner answers.
    const checked = await act(actor(players, before), { action: 'check', hand: 1 });
    assert.equal(checked.t, 'res', JSON.stringify(checked));

    // Thawed, the old owner finds its lease gone and stops; anything it tries to store is refused.
    a.child.kill('SIGCONT');
    await until(() => /poker table lease lost/.test(a.output()), 'the old owner notices', 10_000);
    const flop = latest(ada.peer);
    assert.equal(flop.state.hand?.street, 'flop');
    const bettor = actor(players, flop);
    assert.equal((await act(bettor, { action: 'bet', amount: 2, hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).state.hand?.currentBet === 2, 'the bet');
    assert.equal((await act(actor(players, latest(ada.peer)), { action: 'fold', hand: 1 })).t, 'res');
    await until(() => latest(ada.peer).state.hand?.complete === true && latest(bo.peer).state.hand?.complete === true, 'the hand ends');
    assert.equal(chips(latest(bo.peer)), 200);
    const { createClient } = await import('redis');
    const client = createClient({ url: 'redis://127.0.0.1:6379' });
    await client.connect();
    try {
      const stored = JSON.parse((await client.get(`${cluster.keyPrefix}apps:poker:table:${TABLE}`)) ?? '{}') as { owner?: string; version?: number };
      assert.equal(stored.owner, await cluster.lease(TABLE), 'the stored state is the current owner\u2019s');
      assert.equal(stored.version, latest(ada.peer).version, 'and it is what the players saw last');
    } finally {
      client.destroy();
    }
    // Versions only ever grew on both pages: no older state came back from the old owner.
    for (const p of players) {
      const versions = p.peer.envelopes().filter((e) => e.t === 'msg' && e.topic === `poker:table:${TABLE}`).map((e) => (e.data as TableMessage).version);
      assert.deepEqual(versions, [...versions].sort((x, y) => x - y), `${p.name}'s versions in order`);
      assert.equal(new Set(versions).size, versions.length, `${p.name} saw each version once`);
    }
    for (const p of players) p.peer.close();
  });
});
