/**
 * Why the table refused something. Each code is stable (clients and tests match on it) and
 * comes with a fixed message for people; neither ever carries a card or anything private.
 * @packageDocumentation
 */

/** Every reason an action or a seating change can be refused, with its message. */
export const Reasons = {
  UNKNOWN_ACTION: 'Unknown action: use fold, check, call, bet or raise.',
  BAD_AMOUNT: 'The amount must be a whole number of chips.',
  NO_HAND: 'No hand is being played at this table.',
  NOT_SEATED: 'You are not seated at this table.',
  NOT_IN_HAND: 'You were not dealt into this hand.',
  STALE_HAND: 'That action was for a hand that is over.',
  PLAYER_FOLDED: 'You have folded this hand.',
  PLAYER_ALL_IN: 'You are all-in: there is nothing left to decide.',
  NOT_YOUR_TURN: 'It is not your turn.',
  CANNOT_CHECK: 'You cannot check: there is a bet to call.',
  NOTHING_TO_CALL: 'There is nothing to call: check instead.',
  CANNOT_BET: 'There is already a bet: call or raise instead.',
  CANNOT_RAISE: 'There is no bet to raise: bet instead.',
  RAISE_NOT_ALLOWED: 'Raising is not open to you: call or fold.',
  BET_TOO_SMALL: 'A bet must be at least the big blind, unless it puts you all-in.',
  RAISE_TOO_SMALL: 'A raise must be at least the size of the last bet or raise, unless it puts you all-in.',
  INSUFFICIENT_CHIPS: 'You do not have that many chips.',
  BAD_SEAT: 'There is no such seat at this table.',
  SEAT_TAKEN: 'That seat is taken.',
  ALREADY_SEATED: 'You already have a seat at this table.',
  BAD_BUY_IN: 'The buy-in is outside this table\u2019s limits.',
  BAD_NAME: 'A name is 1 to 24 printable characters.',
  HAND_IN_PROGRESS: 'A hand is already being played.',
  NOT_ENOUGH_PLAYERS: 'At least two players with chips are needed to deal.',
  NOT_DUE: 'The acting player still has time.',
} as const;

/** A stable refusal code. */
export type ReasonCode = keyof typeof Reasons;

/** A refusal: the state is unchanged. */
export interface Refusal {
  ok: false;
  reason: ReasonCode;
  message: string;
}

/** A refusal with `reason`'s fixed message. */
export function refuse(reason: ReasonCode): Refusal {
  return { ok: false, reason, message: Reasons[reason] };
}
