/**
 * Reading the auction's rows, whichever database they come from: the SQLite store (store.ts) and
 * the PostgreSQL one (pg-store.ts) keep the same columns, and both turn a row into a bid or a lot
 * here, so the two cannot read them differently. Each reader checks the column's type: a
 * schema change that the code missed fails loudly on the first read, not as a wrong price later.
 * @packageDocumentation
 */
import { createHash } from 'node:crypto';
import type { Bid, Lot, LotStatus } from './rules.js';

/** A row as either driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** The column of a bid that names its bidder: `user` in SQLite, `user_id` in PostgreSQL (where `user` is a reserved word). */
export type BidUserColumn = 'user' | 'user_id';

const STATUSES: readonly LotStatus[] = ['open', 'sold', 'unsold'];

/**
 * An integer column as a number. SQLite's driver gives a number (or a bigint); node-postgres
 * gives BIGINT as a decimal string, since it may exceed 2^53. Only a safe integer passes: money
 * and times are whole, and a larger one would be read rounded.
 * @throws TypeError naming the column when it holds anything else
 */
export function num(row: Row, column: string): number {
  const value = row[column];
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError(`column ${column} is not a safe integer`);
  return n;
}

/**
 * A text column.
 * @throws TypeError naming the column when it holds anything else
 */
export function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column} is not text`);
  return value;
}

/** What a store keeps of a session token: its SHA-256, so a copy of the database signs no one in. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * A row of the bids table as a {@link Bid}; `userColumn` names the bidder's column.
 * @throws TypeError naming the first column of the wrong type
 */
export function toBid(row: Row, userColumn: BidUserColumn): Bid {
  return { id: num(row, 'id'), lot: num(row, 'lot'), user: str(row, userColumn), name: str(row, 'name'), amount: num(row, 'amount'), at: num(row, 'at'), key: str(row, 'key') };
}

/**
 * A lot's status column.
 * @throws TypeError when it is not one of `open`, `sold`, `unsold`
 */
export function toStatus(row: Row): LotStatus {
  const value = str(row, 'status');
  if (!(STATUSES as readonly string[]).includes(value)) throw new TypeError(`column status holds '${value}', not a lot status`);
  return value as LotStatus;
}

/**
 * A row of the lots table as a {@link Lot} with `bids` (the caller reads those from the bids table).
 * @throws TypeError naming the first column of the wrong type
 */
export function toLot(row: Row, bids: Bid[]): Lot {
  return {
    id: num(row, 'id'),
    seller: str(row, 'seller'),
    sellerName: str(row, 'seller_name'),
    title: str(row, 'title'),
    description: str(row, 'description'),
    image: str(row, 'image'),
    startingPrice: num(row, 'starting_price'),
    increment: num(row, 'increment'),
    reserve: num(row, 'reserve'),
    createdAt: num(row, 'created_at'),
    endsAt: num(row, 'ends_at'),
    status: toStatus(row),
    bids,
  };
}
