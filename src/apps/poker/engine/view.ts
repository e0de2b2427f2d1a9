/**
 * What each audience may see of a table. The public view goes to every player and spectator and
 * never holds a hole card: only whether a seat has cards, and at showdown the hands that were
 * shown. The private view is one player's own cards.
 * @packageDocumentation
 */
import { cardName, type Card } from './cards.js';
import { buildPots } from './pots.js';
import type { PokerTable, TableEvent } from './table.js';
import type { PrivateView, PublicEvent, PublicHand, PublicSeat, PublicTable } from '../wire.js';

export type { PrivateView, PublicEvent, PublicHand, PublicSeat, PublicTable, ShownHand } from '../wire.js';

const names = (cards: readonly Card[]): string[] => cards.map(cardName);

/** The public state of `table`: safe for anyone. */
export function publicView(table: PokerTable): PublicTable {
  const c = table.config;
  const hand = table.hand;
  const seats = table.seats.map((s, seat): PublicSeat | null => {
    if (s === null) return null;
    const p = hand?.players.find((x) => x.seat === seat && x.user === s.user);
    const live = p !== undefined && hand !== null && !hand.complete;
    return {
      seat, name: s.name, user: s.user, stack: s.stack, sittingOut: s.sittingOut,
      inHand: live, folded: live && p.folded, allIn: live && p.allIn, committed: live ? p.committed : 0,
      hasCards: live && !p.folded,
    };
  });
  let publicHand: PublicHand | null = null;
  if (hand !== null) {
    const gathered = buildPots(hand.players.map((p) => ({ seat: p.seat, amount: p.total - p.committed, folded: p.folded })));
    publicHand = {
      number: hand.number, street: hand.street, board: names(hand.board), button: hand.button,
      smallBlindSeat: hand.smallBlindSeat, bigBlindSeat: hand.bigBlindSeat,
      pot: hand.complete ? 0 : hand.players.reduce((sum, p) => sum + p.total, 0),
      pots: hand.complete ? [] : gathered.filter((p) => p.amount > 0),
      currentBet: hand.currentBet, toAct: hand.toAct, deadline: hand.deadline,
      legal: hand.toAct === null ? null : table.legalActions(hand.toAct), complete: hand.complete,
      result: hand.result === null ? null : {
        wonByFold: hand.result.wonByFold,
        shown: hand.result.shown.map((s) => ({ seat: s.seat, name: s.name, cards: names(s.cards), best: names(s.best), description: s.description })),
        pots: hand.result.pots.map((p) => ({ amount: p.amount, winners: p.winners.map((w) => ({ ...w })) })),
      },
    };
  }
  return {
    id: c.id, name: c.name, seatCount: c.seats, smallBlind: c.smallBlind, bigBlind: c.bigBlind,
    minBuyIn: c.minBuyIn, maxBuyIn: c.maxBuyIn, turnMs: c.turnMs, seats, hand: publicHand,
  };
}

/** `user`'s private view of `table`. */
export function privateView(table: PokerTable, user: string): PrivateView {
  const cards = table.holeCards(user);
  return { table: table.config.id, hand: cards.length > 0 ? (table.hand?.number ?? null) : null, cards: names(cards) };
}

/** Events with cards as names, for announcing. A `showdown` event carries only shown hands. */
export function publicEvents(events: readonly TableEvent[]): PublicEvent[] {
  return events.map((e) => {
    if (e.type === 'street') return { ...e, board: names(e.board) };
    if (e.type === 'showdown') return { type: 'showdown', shown: e.shown.map((s) => ({ seat: s.seat, name: s.name, cards: names(s.cards), description: s.description })) };
    return { ...e };
  });
}
