/**
 * A table: the felt with seats around it (the viewer's own seat at the bottom), community cards
 * and the pot in the middle, bets in front of players, the acting player highlighted with their
 * clock, and below it the viewer's controls. Public state comes from the table topic; the
 * viewer's own cards from their private topic.
 */
import { ParleyError, type ParleyClient, type Subscription } from '../../../client/index.js';
import { ActionBar } from './action-bar.js';
import { announce, describeEvent } from './announce.js';
import { faceDown, faceUp, speakCards } from './cards.js';
import { chips, h, replace } from './dom.js';
import type { PrivateView, PublicSeat, PublicTable, Session, TableMessage } from './types.js';

/** Where seat `i` of `n` sits on the oval (percent), with `mine` at the bottom centre. */
function position(i: number, n: number, mine: number, radius: [number, number]): { left: number; top: number } {
  const angle = Math.PI / 2 + (2 * Math.PI * (i - mine)) / n;
  return { left: 50 + radius[0] * Math.cos(angle), top: 50 + radius[1] * Math.sin(angle) };
}

/** A table page, live while shown. */
export class TablePage {
  readonly #root: HTMLElement;
  readonly #client: ParleyClient;
  readonly #session: Session | null;
  readonly #id: string;
  readonly #subs: Subscription[] = [];
  readonly #felt: HTMLElement;
  readonly #board: HTMLElement;
  readonly #pot: HTMLElement;
  readonly #outcome: HTMLElement;
  readonly #seats: HTMLElement;
  readonly #controls: HTMLElement;
  readonly #alert: HTMLElement;
  readonly #log: HTMLOListElement;
  readonly #title: HTMLElement;
  readonly #stakes: HTMLElement;
  readonly #bar: ActionBar;
  readonly #timer: ReturnType<typeof setInterval>;
  #message: TableMessage | null = null;
  #hole: PrivateView | null = null;
  #sitSeat: number | null = null;
  #controlsKey = '';
  #wasMyTurn = false;
  /** The turn (hand and deadline) already warned about running out of time. */
  #warned = '';
  /** Users with this table open (presence); those without a seat are spectators. */
  readonly #present = new Set<string>();
  readonly #watching: HTMLElement;
  /** Players who ran out of chips in hand `hand`: shown at their seat until the next hand is dealt. */
  readonly #busted = new Map<number, { name: string; hand: number }>();
  /** This viewer ran out of chips here (cleared when they sit down again). */
  #iBusted = false;
  /** The viewer's seat in the last state, to know whose seat a `leave` event empties. */
  #lastMine = -1;

  constructor(root: HTMLElement, client: ParleyClient, session: Session | null, id: string, navigate: (path: string) => void) {
    this.#root = root;
    this.#client = client;
    this.#session = session;
    this.#id = id;
    this.#title = h('h1', {}, 'Table');
    this.#stakes = h('p', { class: 'stakes' });
    this.#watching = h('p', { class: 'watching' });
    this.#board = h('div', { class: 'board', role: 'list', 'aria-label': 'Community cards' });
    this.#pot = h('div', { class: 'pot', 'aria-live': 'off' });
    this.#outcome = h('div', { class: 'outcome' });
    this.#seats = h('div', { class: 'seats' });
    this.#felt = h('div', { class: 'felt', role: 'region', 'aria-label': 'Poker table' },
      h('div', { class: 'center' }, this.#board, this.#pot, this.#outcome), this.#seats);
    this.#controls = h('div', { class: 'controls', role: 'region', 'aria-label': 'Your controls' });
    this.#alert = h('p', { class: 'alert', role: 'alert' });
    this.#log = h('ol', { class: 'log-list' });
    this.#bar = new ActionBar((action, amount) => this.#act(action, amount));
    replace(root, h('section', { class: 'table-page' },
      h('div', { class: 'table-head' },
        h('a', { href: './', class: 'back', onclick: (e: Event) => { e.preventDefault(); navigate(''); } }, '\u2190 All tables'),
        this.#title, this.#stakes, this.#watching),
      h('div', { class: 'felt-wrap' }, this.#felt),
      this.#alert,
      this.#controls,
      h('details', { class: 'log', open: true }, h('summary', {}, 'Table log'), this.#log)));

    const onTable = (data: unknown): void => this.#apply(data as TableMessage);
    // Presence with no info: only counts are shown, never anything a client claims about itself.
    const topic = `poker:table:${id}`;
    const table = client.subscribe(topic, onTable, { presence: {} });
    table.on('subscribed', ({ snapshot }) => {
      if (snapshot !== undefined) onTable(snapshot);
      client.presence(topic).then((members) => {
        this.#present.clear();
        for (const m of members) this.#present.add(m.user);
        this.#renderWatching();
      }, () => undefined);
    });
    table.on('presence', (event, member) => {
      if (event === 'join') this.#present.add(member.user);
      else this.#present.delete(member.user);
      this.#renderWatching();
    });
    table.on('reset', (snapshot) => onTable(snapshot));
    table.on('error', () => {
      // The auction's "Lot not found" is the model: a page that says so, not an empty felt.
      clearInterval(this.#timer);
      document.title = 'Table not found \u00b7 Parley Poker';
      replace(root, h('section', { class: 'notfound' },
        h('h1', {}, 'Table not found'),
        h('p', {}, 'There is no table here. ', h('a', { href: './', onclick: (e: Event) => { e.preventDefault(); navigate(''); } }, 'See all tables'), '.')));
    });
    this.#subs.push(table);
    if (session !== null) {
      const onHole = (data: unknown): void => {
        this.#hole = data as PrivateView;
        this.#render();
      };
      const hole = client.subscribe(`poker:hole:${id}:${session.user}`, onHole);
      hole.on('subscribed', ({ snapshot }) => snapshot !== undefined && onHole(snapshot));
      hole.on('reset', (snapshot) => onHole(snapshot));
      this.#subs.push(hole);
    }
    this.#timer = setInterval(() => this.#tick(), 250);
  }

  destroy(): void {
    clearInterval(this.#timer);
    for (const s of this.#subs) s.unsubscribe();
    this.#bar.destroy();
    this.#root.replaceChildren();
  }

  #apply(message: TableMessage): void {
    if (this.#message !== null && message.version < this.#message.version) return;
    const fresh = this.#message === null || message.version > this.#message.version;
    this.#message = message;
    if (fresh) {
      const handNumber = message.state.hand?.number ?? 0;
      for (const event of message.events) {
        if (event.type === 'leave' && event.reason === 'busted') {
          this.#busted.set(event.seat, { name: event.name, hand: handNumber });
          if (event.seat === this.#lastMine) this.#iBusted = true;
        }
        if (event.type === 'sit' && this.#mySeat(message.state) === event.seat) this.#iBusted = false;
        const text = describeEvent(event);
        if (text === null) continue;
        announce(text);
        this.#log.prepend(h('li', {}, text));
      }
      while (this.#log.childElementCount > 60) this.#log.lastElementChild?.remove();
    }
    this.#render();
  }

  #renderWatching(): void {
    const seated = new Set((this.#message?.state.seats ?? []).map((s) => s?.user));
    const watching = [...this.#present].filter((u) => !seated.has(u)).length;
    this.#watching.textContent = watching === 0 ? '' : `${watching} watching`;
  }

  #mySeat(state: PublicTable): number {
    return this.#session === null ? -1 : state.seats.findIndex((s) => s?.user === this.#session?.user);
  }

  #render(): void {
    const message = this.#message;
    if (message === null) return;
    const { state } = message;
    const hand = state.hand;
    this.#title.textContent = state.name;
    document.title = `${state.name} \u00b7 Parley Poker`;
    this.#stakes.textContent = `No-limit Hold\u2019em \u00b7 blinds ${chips(state.smallBlind)}/${chips(state.bigBlind)} \u00b7 buy-in ${chips(state.minBuyIn)}\u2013${chips(state.maxBuyIn)}`;

    const mainWinner = hand?.result?.pots[0]?.winners[0]?.seat;
    const winning = hand?.result?.shown.find((x) => x.seat === mainWinner)?.best ?? [];
    replace(this.#board, ...(hand?.board ?? []).map((c) => h('span', { role: 'listitem' }, faceUp(c, { highlight: winning.includes(c) }))),
      ...Array.from({ length: 5 - (hand?.board.length ?? 0) }, () => h('span', { class: 'slot', 'aria-hidden': 'true' })));
    if (hand !== null && !hand.complete) {
      const side = hand.pots.length > 1 ? ` (main ${chips(hand.pots[0]?.amount ?? 0)}, side ${hand.pots.slice(1).map((p) => chips(p.amount)).join(', ')})` : '';
      replace(this.#pot, h('span', { class: 'chip-stack', 'aria-hidden': 'true' }), `Pot ${chips(hand.pot)}${side}`);
    } else {
      replace(this.#pot);
    }
    if (hand?.complete === true && hand.result !== null) {
      const lines = hand.result.pots.flatMap((pot, i) => pot.winners.map((w) => {
        const shown = hand.result?.shown.find((s) => s.seat === w.seat);
        return `${w.name} wins ${chips(w.amount)}${i > 0 ? ' (side pot)' : ''}${shown !== undefined ? ` with ${shown.description}` : ''}`;
      }));
      replace(this.#outcome, ...lines.map((l) => h('p', {}, l)));
    } else if (hand === null && state.seats.filter((s) => s !== null).length < 2) {
      replace(this.#outcome, h('p', { class: 'muted' }, 'Waiting for players\u2026'));
    } else {
      replace(this.#outcome);
    }

    const mine = this.#mySeat(state);
    if (mine >= 0) this.#lastMine = mine;
    // A busted player's seat stays on the felt, marked, while the hand that broke them is shown.
    for (const [seat, gone] of this.#busted) {
      if (hand === null || !hand.complete || hand.number !== gone.hand || state.seats[seat] !== null) this.#busted.delete(seat);
    }
    const wide = this.#felt.clientWidth >= 560;
    const radius: [number, number] = wide ? [47, 47] : [46, 47];
    replace(this.#seats,
      ...state.seats.map((seat, i) => this.#betView(state, seat, i, mine, radius)),
      ...state.seats.map((seat, i) => this.#seatView(state, seat, i, mine, radius)));
    this.#renderControls(state, mine);
    this.#renderWatching();
    this.#tick();
  }

  #seatView(state: PublicTable, seat: PublicSeat | null, i: number, mine: number, radius: [number, number]): HTMLElement {
    const hand = state.hand;
    const pos = position(i, state.seatCount, Math.max(0, mine), radius);
    const style = `left:${pos.left.toFixed(2)}%;top:${pos.top.toFixed(2)}%`;
    const gone = seat === null ? this.#busted.get(i) : undefined;
    if (seat === null && gone !== undefined) {
      const shownGone = hand?.result?.shown.find((s) => s.seat === i && s.name === gone.name);
      return h('div', { class: 'seat busted', style, role: 'group', 'aria-label': `Seat ${i + 1}: ${gone.name}, out of chips${shownGone === undefined ? '' : `, showed ${speakCards(shownGone.cards)}`}` },
        h('div', { class: 'seat-cards', 'aria-hidden': 'true' }, ...(shownGone?.cards ?? []).map((c) => faceUp(c))),
        h('div', { class: 'plate', 'aria-hidden': 'true' },
          h('span', { class: 'name' }, gone.name),
          h('span', { class: 'stack' }, '0'),
          h('span', { class: 'status' }, 'Out of chips')));
    }
    if (seat === null) {
      const canSit = this.#session !== null && mine < 0;
      return h('div', { class: 'seat empty', style },
        canSit
          ? h('button', { type: 'button', class: 'sit', 'aria-label': `Take seat ${i + 1}`, onclick: () => this.#openSit(i) }, 'Sit here')
          : h('span', { class: 'open' }, `Seat ${i + 1}`));
    }
    const acting = hand !== null && !hand.complete && hand.toAct === i;
    const shown = hand?.complete === true ? hand.result?.shown.find((s) => s.seat === i && s.name === seat.name) : undefined;
    const winner = hand?.complete === true && hand.result?.pots.some((p) => p.winners.some((w) => w.seat === i)) === true;
    let cards: HTMLElement[] = [];
    let cardText = '';
    if (i === mine && this.#hole !== null && this.#hole.hand === hand?.number && this.#hole.cards.length > 0 && (seat.hasCards || shown !== undefined)) {
      cards = this.#hole.cards.map((c) => faceUp(c, { highlight: winner && shown?.best.includes(c) === true }));
      cardText = `, your cards ${speakCards(this.#hole.cards)}`;
    } else if (shown !== undefined) {
      cards = shown.cards.map((c) => faceUp(c, { highlight: winner && shown.best.includes(c) }));
      cardText = `, shows ${speakCards(shown.cards)}`;
    } else if (seat.hasCards) {
      cards = [faceDown(), faceDown()];
      cardText = ', holding cards';
    }
    const status = seat.sittingOut ? 'Sitting out' : seat.folded ? 'Folded' : seat.allIn ? 'All-in' : shown !== undefined ? shown.description : '';
    const badges = [
      hand?.button === i ? h('span', { class: 'badge dealer', title: 'Dealer button' }, 'D') : null,
      hand !== null && !hand.complete && hand.smallBlindSeat === i && hand.button !== i ? h('span', { class: 'badge blind', title: 'Small blind' }, 'SB') : null,
      hand !== null && !hand.complete && hand.bigBlindSeat === i ? h('span', { class: 'badge blind', title: 'Big blind' }, 'BB') : null,
    ];
    const label = `Seat ${i + 1}: ${seat.name}${i === mine ? ' (you)' : ''}, ${chips(seat.stack)} chips${status === '' ? '' : `, ${status}`}${seat.committed > 0 ? `, bet ${chips(seat.committed)}` : ''}${cardText}${acting ? ', to act' : ''}${winner ? ', winner' : ''}`;
    const classes = ['seat', acting ? 'acting' : '', seat.folded ? 'folded' : '', seat.sittingOut ? 'out' : '', i === mine ? 'me' : '', winner ? 'winner' : ''].filter(Boolean).join(' ');
    return h('div', { class: classes, style, role: 'group', 'aria-label': label, 'data-seat': i },
      h('div', { class: 'seat-cards', 'aria-hidden': 'true' }, ...cards),
      h('div', { class: 'plate', 'aria-hidden': 'true' },
        h('span', { class: 'name' }, seat.name),
        h('span', { class: 'stack' }, chips(seat.stack)),
        status === '' ? null : h('span', { class: 'status' }, status),
        ...badges),
      acting ? h('div', { class: 'clock', 'aria-hidden': 'true' }, h('span', { class: 'clock-fill' })) : null);
  }

  /** The chips a player has in front of them this round, between their seat and the middle. */
  #betView(state: PublicTable, seat: PublicSeat | null, i: number, mine: number, radius: [number, number]): HTMLElement | null {
    if (seat === null || seat.committed <= 0) return null;
    const p = position(i, state.seatCount, Math.max(0, mine), [radius[0] * 0.6, radius[1] * 0.52]);
    return h('div', { class: 'bet', style: `left:${p.left.toFixed(2)}%;top:${p.top.toFixed(2)}%`, 'aria-hidden': 'true' }, h('span', { class: 'chip' }), chips(seat.committed));
  }

  #renderControls(state: PublicTable, mine: number): void {
    const hand = state.hand;
    const me = mine >= 0 ? state.seats[mine] : null;
    const myTurn = me !== null && me !== undefined && hand !== null && !hand.complete && hand.toAct === mine && hand.legal !== null;
    const key = JSON.stringify([this.#session?.user, mine, me?.sittingOut, this.#sitSeat, this.#iBusted, hand?.number, hand?.complete, hand?.toAct, myTurn ? hand.legal : null, hand?.pot]);
    if (key === this.#controlsKey) return;
    this.#controlsKey = key;
    if (this.#session === null) {
      replace(this.#controls, h('p', { class: 'muted' }, 'You are watching. Choose a name at the top of the page to take a seat.'));
      this.#bar.detach();
      return;
    }
    if (me === null || me === undefined) {
      this.#bar.detach();
      if (this.#sitSeat === null) {
        const full = state.seats.every((x) => x !== null);
        const next = full ? 'Every seat is taken: you are watching.' : 'Choose an open seat to join the game.';
        replace(this.#controls, this.#iBusted
          ? h('p', { class: 'busted-note', role: 'status' }, h('strong', {}, 'You are out of chips.'), ` ${full ? 'Every seat is taken: you are watching.' : 'Choose an open seat to buy in again.'}`)
          : h('p', { class: 'muted' }, next));
        return;
      }
      const seat = this.#sitSeat;
      const input = h('input', { id: 'buy-in', type: 'number', min: state.minBuyIn, max: state.maxBuyIn, step: 1, value: state.maxBuyIn, required: true, inputmode: 'numeric' });
      const form = h('form', { class: 'sit-form', onsubmit: (e: Event) => {
        e.preventDefault();
        void this.#request('sit', { table: this.#id, seat, buyIn: Number(input.value) }).then((ok) => {
          if (ok) this.#sitSeat = null;
        });
      } },
      h('label', { for: 'buy-in' }, `Buy-in for seat ${seat + 1} (${chips(state.minBuyIn)}\u2013${chips(state.maxBuyIn)})`),
      input,
      h('button', { type: 'submit', class: 'primary' }, 'Sit down'),
      h('button', { type: 'button', onclick: () => { this.#sitSeat = null; this.#render(); } }, 'Cancel'));
      replace(this.#controls, form);
      input.focus();
      return;
    }
    const seatButtons = h('div', { class: 'seat-controls' },
      h('button', { type: 'button', onclick: () => void this.#request('sitOut', { table: this.#id, out: !me.sittingOut }) }, me.sittingOut ? 'I\u2019m back' : 'Sit out next hands'),
      h('button', { type: 'button', onclick: () => void this.#request('leave', { table: this.#id }) }, 'Leave table'));
    if (myTurn) {
      replace(this.#controls, this.#bar.render(hand.legal as NonNullable<typeof hand.legal>, hand.currentBet, hand.pot, me.committed, state.bigBlind), seatButtons);
      if (!this.#wasMyTurn) {
        announce(`Your turn. ${hand.legal?.canCheck === true ? 'You can check.' : `${chips(hand.legal?.callAmount ?? 0)} to call.`}`);
        this.#bar.focus();
      }
      this.#wasMyTurn = true;
      return;
    }
    this.#wasMyTurn = false;
    this.#bar.detach();
    const waiting = hand === null || hand.complete
      ? (me.sittingOut ? 'You are sitting out.' : 'Waiting for the next hand\u2026')
      : hand.toAct !== null ? `Waiting for ${state.seats[hand.toAct]?.name ?? 'the next player'}\u2026` : 'Dealing\u2026';
    replace(this.#controls, h('p', { class: 'waiting' }, waiting), seatButtons);
  }

  #openSit(seat: number): void {
    this.#sitSeat = seat;
    this.#controlsKey = '';
    this.#render();
  }

  /** Updates the acting player's clock bar from the server's clock. */
  #tick(): void {
    const hand = this.#message?.state.hand;
    const fill = this.#seats.querySelector<HTMLElement>('.clock-fill');
    if (fill === null || hand?.deadline === null || hand?.deadline === undefined) return;
    const left = Math.max(0, hand.deadline - this.#client.serverNow());
    const share = left / (this.#message?.state.turnMs ?? 1);
    fill.style.width = `${(share * 100).toFixed(1)}%`;
    fill.classList.toggle('low', share < 0.25);
    const turn = `${hand.number}:${hand.deadline}`;
    const state = this.#message?.state;
    if (left <= 10_000 && state !== undefined && hand.toAct === this.#mySeat(state) && this.#warned !== turn) {
      this.#warned = turn;
      announce('10 seconds left to act.');
    }
  }

  #act(action: string, amount?: number): void {
    const hand = this.#message?.state.hand;
    void this.#request('act', { table: this.#id, action, amount, hand: hand?.number });
  }

  /** Sends a request; shows the server's reason when refused. Resolves true on success. */
  async #request(method: string, data: Record<string, unknown>): Promise<boolean> {
    this.#alert.textContent = '';
    try {
      await this.#client.request(method, data);
      return true;
    } catch (error) {
      this.#alert.textContent = error instanceof ParleyError ? error.message : 'Something went wrong.';
      return false;
    }
  }
}
