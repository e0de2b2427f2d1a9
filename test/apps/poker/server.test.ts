/**
 * The poker app over real WebSocket connections (`parley.v1`, Parley's own client socket):
 * a hand played through to showdown, hole cards that reach nobody but their owner (every frame
 * every other connection receives is searched), illegal actions refused with reasons and no
 * change, a reconnect that finds the same seat and cards, and the server's turn timer.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableConfig } from '../../../src/apps/poker/engine/table.js';
import type { TableMessage } from '../../../src/apps/poker/room.js';
import { FakeClock, Peer, signIn, startPoker, until, type Envelope } from './helpers.js';
import { BUNDLED_APPS } from '../../../src/apps/index.js';
import { InMemoryAdapter, WebSocket } from '../../../src/index.js';

const TABLES: TableConfig[] = [
  { id: 'six', name: 'Six', seats: 6, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 20_000 },
  { id: 'duo', name: 'Duo', seats: 2, smallBlind: 5, bigBlind: 10, minBuyIn: 100, maxBuyIn: 1000, turnMs: 20_000 },
];
const T = { timeout: 30_000 };

interface Player {
  name: string;
  token: string;
  user: string;
  peer: Peer;
  hole: string;
}

/** Signs in `names`, connects each, subscribes the table and their own hole topic, and sits them in seats 0, 1, … */
async function seat(base: string, url: string, table: string, names: string[]): Promise<Player[]> {
  const players: Player[] = [];
  for (const [i, name] of names.entries()) {
    const session = await signIn(base, name);
    const peer = await Peer.open(url, session.token);
    const hole = `poker:hole:${table}:${session.user}`;
    assert.equal((await peer.subscribe(`poker:table:${table}`)).t, 'subok');
    assert.equal((await peer.subscribe(hole)).t, 'subok');
    const sat = await peer.request('sit', { table, seat: i, buyIn: 100 });
    assert.deepEqual([sat.t, sat.data], ['res', { ok: true }]);
    players.push({ ...session, peer, hole });
  }
  return players;
}

const latest = (p: Player, table: string): TableMessage => {
  const m = p.peer.table(table);
  assert.ok(m !== undefined, 'has table state');
  return m;
};

void describe('poker server', () => {
  void test('three players play a hand to showdown; no hole card reaches another connection before it', T, async () => {
    const clock = new FakeClock();
    const run = await startPoker({ tables: TABLES, clock, startDelayMs: 1000, handPauseMs: 5000 });
    try {
      const players = await seat(run.base, run.ws, 'six', ['Alice', 'Bob', 'Carol']);
      const guest = await Peer.open(run.ws);
      const watcher = await Peer.open(run.ws, (await signIn(run.base, 'Watcher')).token);
      for (const p of [guest, watcher]) assert.equal((await p.subscribe('poker:table:six')).t, 'subok');
      const others = [guest, watcher];

      clock.advance(1000); // the deal
      const [alice] = players as [Player, Player, Player];
      await until(() => latest(alice, 'six').state.hand?.number === 1, 'hand 1');
      for (const p of players) await until(() => p.peer.hole(p.hole)?.cards.length === 2, `${p.name}'s cards`);
      const cards = new Map(players.map((p) => [p.user, p.peer.hole(p.hole)?.cards ?? []]));

      // Everyone checks or calls until the hand is over.
      for (let step = 0; step < 30; step++) {
        const { state, version } = latest(alice, 'six');
        if (state.hand?.complete === true) break;
        const legal = state.hand?.legal;
        assert.ok(legal !== null && legal !== undefined);
        const actor = players.find((p) => p.user === state.seats[legal.seat]?.user) as Player;
        const reply = await actor.peer.request('act', { table: 'six', action: legal.canCheck ? 'check' : 'call', hand: state.hand?.number });
        assert.equal(reply.t, 'res', JSON.stringify(reply));
        await until(() => latest(alice, 'six').version > version, 'next state');
      }
      const final = latest(alice, 'six').state;
      assert.equal(final.hand?.complete, true);
      assert.equal(final.hand?.board.length, 5);
      assert.equal(final.hand?.result?.shown.length, 3, 'everyone still in shows at showdown');
      for (const shown of final.hand?.result?.shown ?? []) {
        assert.deepEqual(shown.cards, cards.get(final.seats[shown.seat]?.user ?? ''), 'shown cards are the ones dealt');
      }
      assert.equal(final.seats.reduce((s, x) => s + (x?.stack ?? 0), 0), 300, 'chips conserved');
      await until(() => watcher.table('six')?.state.hand?.complete === true && guest.table('six')?.state.hand?.complete === true, 'spectators see the end');

      // Every frame any connection received before the showdown frame: no card of another player.
      const everyone = [...players.map((p) => ({ peer: p.peer, user: p.user })), ...others.map((peer) => ({ peer, user: '' }))];
      let checked = 0;
      for (const { peer, user } of everyone) {
        const showdown = peer.frames.findIndex((f) => f.includes('"type":"showdown"'));
        assert.ok(showdown > 0, 'saw the showdown');
        for (const frame of peer.frames.slice(0, showdown)) {
          for (const [owner, hole] of cards) {
            if (owner === user) continue;
            for (const card of hole) assert.ok(!frame.includes(`"${card}"`), `a frame to ${user || 'a spectator'} carried ${card} of another player: ${frame.slice(0, 200)}`);
          }
          checked++;
        }
      }
      assert.ok(checked > 30, `checked ${checked} frames`);
      for (const p of [...players.map((x) => x.peer), ...others]) p.close();
    } finally {
      await run.stop();
    }
  });

  void test('illegal actions and requests are refused with a reason; nothing changes and nothing private is said', T, async () => {
    const clock = new FakeClock();
    const run = await startPoker({ tables: TABLES, clock, startDelayMs: 1000 });
    try {
      const players = await seat(run.base, run.ws, 'six', ['Ann', 'Ben', 'Cat']);
      clock.advance(1000);
      const [ann, ben] = players as [Player, Player, Player];
      await until(() => latest(ann, 'six').state.hand?.number === 1, 'hand');
      for (const p of players) await until(() => p.peer.hole(p.hole)?.cards.length === 2, 'cards');
      const before = latest(ann, 'six');
      const toAct = before.state.hand?.toAct as number;
      const actor = players.find((p) => p.user === before.state.seats[toAct]?.user) as Player;
      const idle = players.find((p) => p !== actor) as Player;
      const code = (e: Envelope): unknown => (e.t === 'err' ? e.code : `not refused: ${JSON.stringify(e)}`);

      const refusals: [Player, string, unknown, string][] = [
        [idle, 'act', { table: 'six', action: 'call' }, 'NOT_YOUR_TURN'],
        [actor, 'act', { table: 'six', action: 'check' }, 'CANNOT_CHECK'],
        [actor, 'act', { table: 'six', action: 'raise', amount: 3 }, 'RAISE_TOO_SMALL'],
        [actor, 'act', { table: 'six', action: 'raise', amount: 1_000_000 }, 'INSUFFICIENT_CHIPS'],
        [actor, 'act', { table: 'six', action: 'raise', amount: '10' }, 'BAD_AMOUNT'],
        [actor, 'act', { table: 'six', action: 'bet', amount: 10 }, 'CANNOT_BET'],
        [actor, 'act', { table: 'six', action: 'steal' }, 'UNKNOWN_ACTION'],
        [actor, 'act', { table: 'six', action: 'fold', hand: 99 }, 'STALE_HAND'],
        [actor, 'act', { table: 'nope', action: 'fold' }, 'UNKNOWN_TABLE'],
        [actor, 'act', { action: 'fold' }, 'BAD_REQUEST'],
        [actor, 'act', [1, 2], 'BAD_REQUEST'],
        [actor, 'act', 'fold', 'BAD_REQUEST'],
        [actor, 'act', { table: 'six', action: 'fold', hand: 'x' }, 'BAD_REQUEST'],
        [actor, 'sit', { table: 'six', seat: 4, buyIn: 100 }, 'ALREADY_SEATED'],
        [ben, 'sit', { table: 'duo', seat: 0, buyIn: 5 }, 'BAD_BUY_IN'],
        [ben, 'sit', { table: 'duo', seat: 7, buyIn: 100 }, 'BAD_SEAT'],
        [actor, 'sitOut', { table: 'six' }, 'BAD_REQUEST'],
        [actor, 'shuffle', {}, 'UNKNOWN_METHOD'],
      ];
      for (const [player, method, data, expected] of refusals) {
        const reply = await player.peer.request(method, data);
        assert.equal(code(reply), expected, `${method} ${JSON.stringify(data)}`);
        for (const hole of [...players.map((p) => p.peer.hole(p.hole)?.cards ?? [])].flat()) {
          // A card name is two characters (`Th`), so in prose it is looked for as a word of its own:
          // "There is no such seat" does not name the ten of hearts.
          const asWord = new RegExp(`(^|[^A-Za-z0-9])${hole}($|[^A-Za-z0-9])`);
          assert.ok(!JSON.stringify(reply).includes(`"${hole}"`) && !asWord.test(String(reply.message)), `no card in a refusal: ${String(reply.message)} (${hole})`);
        }
      }
      // A guest may watch but not sit; nobody may subscribe to another player's cards or publish.
      const guest = await Peer.open(run.ws);
      assert.equal(code(await guest.request('sit', { table: 'six', seat: 5, buyIn: 100 })), 'NOT_SIGNED_IN');
      assert.equal(code(await guest.subscribe(`poker:hole:six:${ann.user}`)), 'FORBIDDEN');
      assert.equal(code(await ben.peer.subscribe(`poker:hole:six:${ann.user}`)), 'FORBIDDEN');
      assert.equal(code(await ben.peer.subscribe('poker:table:nope')), 'FORBIDDEN');
      ben.peer.ws.send(JSON.stringify({ t: 'pub', id: 'p1', topic: 'poker:table:six', data: { version: 999 } }));
      await until(() => ben.peer.envelopes().some((e) => e.id === 'p1'), 'pub reply');
      assert.equal(code(ben.peer.envelopes().find((e) => e.id === 'p1') as Envelope), 'FORBIDDEN');

      // Malformed envelopes, oversized and deeply nested data: refused by the protocol layer, no crash.
      const raw = (text: string): void => {
        ben.peer.ws.send(text);
      };
      const errors = (): number => ben.peer.envelopes().filter((e) => e.t === 'err').length;
      const seen = errors();
      raw('{not json');
      raw(JSON.stringify({ t: 'req', id: 'deep', method: 'act', data: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown }));
      raw(JSON.stringify({ t: 'req', id: 'big', method: 'act', data: { table: 'six', action: 'x'.repeat(20_000) } }));
      raw(JSON.stringify({ t: 'nope' }));
      await until(() => errors() >= seen + 4, 'four refusals');
      const codes = ben.peer.envelopes().filter((e) => e.t === 'err').slice(seen).map((e) => e.code);
      assert.deepEqual(codes.sort(), ['BAD_ENVELOPE', 'TOO_DEEP', 'TOO_LARGE', 'UNKNOWN_TYPE']);
      assert.equal((await ben.peer.request('whoami')).t, 'res', 'the connection still works');

      // Nothing was published: the table is exactly as before.
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(latest(ann, 'six').version, before.version);
      assert.deepEqual(latest(ben, 'six').state, before.state);
      // And a legal action still works.
      assert.equal((await actor.peer.request('act', { table: 'six', action: 'fold' })).t, 'res');
      await until(() => latest(ann, 'six').version === before.version + 1, 'the fold');
      for (const p of [...players.map((x) => x.peer), guest]) p.close();
    } finally {
      await run.stop();
    }
  });

  void test('a player who reconnects mid-hand gets the same seat and the same cards, and can act', T, async () => {
    const clock = new FakeClock();
    const run = await startPoker({ tables: TABLES, clock, startDelayMs: 1000 });
    try {
      const players = await seat(run.base, run.ws, 'duo', ['Dee', 'Eve']);
      clock.advance(1000);
      const [dee, eve] = players as [Player, Player];
      await until(() => dee.peer.hole(dee.hole)?.cards.length === 2 && latest(dee, 'duo').state.hand?.number === 1, 'deal');
      const cards = dee.peer.hole(dee.hole)?.cards;
      const seatBefore = latest(dee, 'duo').state.seats.findIndex((s) => s?.user === dee.user);
      dee.peer.close(); // the network drops

      const again = await Peer.open(run.ws, dee.token);
      const hello = again.envelopes().find((e) => e.t === 'hello');
      assert.equal(hello?.user, dee.user, 'the same token is the same user');
      const holeSub = await again.subscribe(dee.hole);
      assert.deepEqual((holeSub.snapshot as { cards: string[] }).cards, cards, 'the same cards');
      const tableSub = await again.subscribe('poker:table:duo');
      const state = (tableSub.snapshot as TableMessage).state;
      assert.equal(state.seats.findIndex((s) => s?.user === dee.user), seatBefore, 'the same seat');
      assert.equal(state.seats[seatBefore]?.hasCards, true);

      // Heads-up the button (seat 0, Dee) acts first: the new connection can act.
      assert.equal(state.hand?.toAct, seatBefore);
      assert.equal((await again.request('act', { table: 'duo', action: 'call' })).t, 'res');
      await until(() => latest(eve, 'duo').state.hand?.toAct !== seatBefore, 'the call');
      again.close();
      eve.peer.close();
    } finally {
      await run.stop();
    }
  });

  void test('the turn timer folds a player facing a bet, checks for one who is not, and deals the next hand after a pause', T, async () => {
    const clock = new FakeClock();
    const run = await startPoker({ tables: TABLES, clock, startDelayMs: 1000, handPauseMs: 3000 });
    try {
      const players = await seat(run.base, run.ws, 'six', ['Fay', 'Gus', 'Hal']);
      const [fay] = players as [Player, Player, Player];
      clock.advance(1000);
      await until(() => latest(fay, 'six').state.hand?.number === 1, 'deal');
      const first = latest(fay, 'six');
      assert.equal(first.state.hand?.deadline, clock.now() + 20_000, 'the deadline is published in server time');
      clock.advance(19_999);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(latest(fay, 'six').version, first.version, 'not before the deadline');
      clock.advance(1);
      await until(() => latest(fay, 'six').version > first.version, 'timeout');
      const timedOut = latest(fay, 'six');
      assert.deepEqual(timedOut.events[0], { type: 'action', seat: first.state.hand?.toAct, name: first.state.seats[first.state.hand?.toAct as number]?.name, action: 'fold', added: 0, to: 0, allIn: false, auto: true });
      // The small blind calls; the big blind's time runs out with nothing to call: a check.
      const sb = players.find((p) => p.user === timedOut.state.seats[timedOut.state.hand?.toAct as number]?.user) as Player;
      assert.equal((await sb.peer.request('act', { table: 'six', action: 'call' })).t, 'res');
      await until(() => latest(fay, 'six').version > timedOut.version, 'call');
      clock.advance(20_000);
      await until(() => latest(fay, 'six').state.hand?.street === 'flop', 'checked to the flop');
      const checked = latest(fay, 'six').events[0] as { action: string; auto: boolean };
      assert.deepEqual([checked.action, checked.auto], ['check', true]);
      // Everyone times out to the end; then a pause, then hand 2.
      for (let i = 0; i < 8 && latest(fay, 'six').state.hand?.complete !== true; i++) {
        const v = latest(fay, 'six').version;
        clock.advance(20_000);
        await until(() => latest(fay, 'six').version > v, 'timeout');
      }
      assert.equal(latest(fay, 'six').state.hand?.complete, true);
      // Two timeouts in a row sat players out: they come back.
      const out = latest(fay, 'six').state.seats.filter((s) => s?.sittingOut === true).map((s) => s?.user);
      assert.ok(out.length >= 2, 'players who timed out twice sit out');
      for (const p of players.filter((x) => out.includes(x.user))) assert.equal((await p.peer.request('sitOut', { table: 'six', out: false })).t, 'res');
      await until(() => latest(fay, 'six').state.seats.every((s) => s === null || !s.sittingOut), 'back in');
      clock.advance(2999);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(latest(fay, 'six').state.hand?.number, 1);
      clock.advance(1);
      await until(() => latest(fay, 'six').state.hand?.number === 2, 'hand 2');
      for (const p of players) p.peer.close();
    } finally {
      await run.stop();
    }
  });

  void test('HTTP: sessions, the lobby, page routes and static files', T, async () => {
    const web = mkdtempSync(join(tmpdir(), 'poker-web-'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><base href="{{base}}/"><title>poker</title>');
    writeFileSync(join(web, 'main.js'), 'export {};');
    const run = await startPoker({ tables: TABLES, clock: new FakeClock() }, web);
    try {
      const post = (body: string): Promise<Response> => fetch(`${run.base}/api/session`, { method: 'POST', body });
      const session = await signIn(run.base, '  Zoë <script>  ');
      assert.equal(session.name, 'Zoë <script>');
      assert.match(session.token, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await (await post(JSON.stringify({ token: session.token }))).json(), session, 'a known token resumes');
      assert.equal((await post(JSON.stringify({ token: 'x'.repeat(43) }))).status, 404);
      assert.equal((await post(JSON.stringify({ name: '' }))).status, 400);
      assert.equal((await post(JSON.stringify({ name: 'a'.repeat(25) }))).status, 400);
      assert.equal((await post('{not json')).status, 400);
      assert.equal((await post(JSON.stringify({ name: 'x'.repeat(5000) }))).status, 400, 'a large body is refused');
      assert.equal((await fetch(`${run.base}/api/session`)).status, 405);
      const lobby = (await (await fetch(`${run.base}/api/tables`)).json()) as { tables: { id: string; seats: number; players: number }[] };
      assert.deepEqual(lobby.tables.map((t) => [t.id, t.seats, t.players]), [['six', 6, 0], ['duo', 2, 0]]);
      for (const path of ['/', '/tables/six', '/index.html']) {
        const res = await fetch(`${run.base}${path}`);
        assert.equal(res.status, 200, path);
        assert.equal(await res.text(), '<!doctype html><base href="/poker/"><title>poker</title>', 'the page knows where it is mounted');
        // A strict policy sent as a header (frame-ancestors is ignored in a <meta> policy): the
        // table cannot be framed by another site (clickjacking) nor run scripts from elsewhere.
        const csp = res.headers.get('content-security-policy') ?? '';
        for (const directive of ["script-src 'self'", "connect-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'"]) {
          assert.ok(csp.split(/;\s*/).includes(directive), `${path}: ${directive} in ${csp}`);
        }
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
      }
      // A WebSocket from another site's page is refused before the upgrade.
      const foreign = new WebSocket(run.ws, 'parley.v1', { origin: 'https://evil.example' });
      const status = await new Promise<number>((resolve) => foreign.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      assert.equal(status, 403);
      assert.equal((await fetch(`${run.base}/main.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal((await fetch(`${run.base}/nothing.js`)).status, 404);
      assert.equal((await fetch(`${run.base}/%2e%2e/%2e%2e/etc/passwd`)).status, 404);
      assert.equal((await fetch(run.base, { redirect: 'manual' })).status, 301);
    } finally {
      await run.stop();
      rmSync(web, { recursive: true, force: true });
    }
  });

  void test('the bundled factory: the default tables, then a clean close', T, async () => {
    const factory = BUNDLED_APPS.get('poker');
    assert.ok(factory !== undefined);
    const dataDir = mkdtempSync(join(tmpdir(), 'poker-bundled-'));
    const app = await factory({ basePath: '/poker', dataDir, adapter: new InMemoryAdapter(), webRoot: dataDir, log: () => undefined });
    try {
      assert.equal(app.name, 'poker');
      const answer = { status: 0, body: '' };
      const res = {
        writeHead(status: number) { answer.status = status; return this; },
        end(body?: string) { answer.body = body ?? ''; },
      };
      const handled = await app.handleRequest({ method: 'GET', url: '/poker/api/tables' } as never, res as never);
      assert.equal(handled, true);
      assert.equal(answer.status, 200);
      const lobby = JSON.parse(answer.body) as { tables: { id: string; seats: number; bigBlind: number }[] };
      assert.deepEqual(lobby.tables.map((t) => [t.id, t.seats, t.bigBlind]), [['main', 6, 2], ['full-ring', 9, 10], ['heads-up', 2, 2]]);
      assert.equal(await app.handleRequest({ method: 'GET', url: '/elsewhere' } as never, res as never), false);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
