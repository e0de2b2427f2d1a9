/**
 * The changes a player makes at a table, as data: applied where the table is owned, whichever
 * server the player is connected to (a server that does not own the table forwards the change to
 * the one that does, with the player's identity as that server authenticated it).
 * @packageDocumentation
 */
import type { TableRoom } from '../room.js';

/** One change at a table, by `user`. */
export type TableOp =
  | { kind: 'sit'; user: string; name: string; seat: unknown; buyIn: unknown }
  | { kind: 'leave'; user: string }
  | { kind: 'sitOut'; user: string; out: boolean }
  | { kind: 'act'; user: string; action: unknown; amount: unknown; hand: number | undefined };

/** Applies `op` to `room` (the owner's); settles once the change is stored and published. */
export function applyOp(room: TableRoom, op: TableOp): Promise<void> | void {
  switch (op.kind) {
    case 'sit': return room.sit(op.user, op.name, op.seat, op.buyIn);
    case 'leave': return room.leave(op.user);
    case 'sitOut': return room.sitOut(op.user, op.out);
    case 'act': return room.act(op.user, { type: op.action, amount: op.amount }, op.hand);
  }
}
