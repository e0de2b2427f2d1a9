/**
 * The auction's durable state in one SQLite file: sessions, lots and every accepted bid.
 *
 * SQLite runs as WebAssembly (`node-sqlite3-wasm`), so the same install works on every Node
 * version, and its API is synchronous: a bid is checked, written and committed in one turn of
 * the event loop, which is what makes bids atomic and totally ordered without locks. The default
 * `synchronous=FULL` rollback journal means a committed bid has reached the disk before the
 * server acknowledges it.
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto';
import sqlite from 'node-sqlite3-wasm';
import type { Bid, Lot, LotSpec, LotStatus } from './rules.js';

const { Database } = sqlite;

/** A signed-in visitor: the token is the only credential, and the store keeps only its hash. */
export interface Session {
  token: string;
  user: string;
  name: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  seller TEXT NOT NULL,
  seller_name TEXT NOT NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  image TEXT NOT NULL,
  starting_price INTEGER NOT NULL,
  increment INTEGER NOT NULL,
  reserve INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'open'
);
CREATE TABLE IF NOT EXISTS bids (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  lot INTEGER NOT NULL REFERENCES lots(id),
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  amount INTEGER NOT NULL,
  at INTEGER NOT NULL,
  key TEXT NOT NULL,
  UNIQUE (user, key)
);
CREATE INDEX IF NOT EXISTS bids_by_lot ON bids (lot, id);
`;

type Row = Record<string, unknown>;

function num(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  throw new TypeError(`column ${column} is not a number`);
}

function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column} is not text`);
  return value;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function toBid(row: Row): Bid {
  return { id: num(row, 'id'), lot: num(row, 'lot'), user: str(row, 'user'), name: str(row, 'name'), amount: num(row, 'amount'), at: num(row, 'at'), key: str(row, 'key') };
}

/** SQLite-backed storage of the auction. One instance owns the file; close it when done. */
export class AuctionStore {
  readonly #db: InstanceType<typeof Database>;

  /** Opens (or creates) the database at `file`. */
  constructor(file: string) {
    this.#db = new Database(file);
    try {
      this.#db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;');
      this.#db.exec(SCHEMA);
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Creates a session for a new visitor called `name`: a fresh user id and a secret token. */
  createSession(name: string, now: number): Session {
    const token = randomBytes(24).toString('base64url');
    const user = `u${randomBytes(9).toString('base64url')}`;
    this.#db.run('INSERT INTO sessions (token_hash, user, name, created_at) VALUES (?, ?, ?, ?)', [hashToken(token), user, name, now]);
    return { token, user, name };
  }

  /** The session a token belongs to, or `undefined` for a token never issued. */
  session(token: string): Omit<Session, 'token'> | undefined {
    const row = this.#db.get('SELECT user, name FROM sessions WHERE token_hash = ?', [hashToken(token)]) as Row | null;
    return row === null ? undefined : { user: str(row, 'user'), name: str(row, 'name') };
  }

  /** Stores a new open lot and returns it with its id. */
  createLot(spec: LotSpec, seller: { user: string; name: string }, now: number): Lot {
    const result = this.#db.run(
      `INSERT INTO lots (seller, seller_name, title, description, image, starting_price, increment, reserve, created_at, ends_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [seller.user, seller.name, spec.title, spec.description, spec.image, spec.startingPrice, spec.increment, spec.reserve, now, spec.endsAt],
    );
    return { ...spec, id: Number(result.lastInsertRowid), seller: seller.user, sellerName: seller.name, createdAt: now, status: 'open', bids: [] };
  }

  /** Every lot with all its bids, oldest lot first: the state a restarted server resumes from. */
  loadLots(): Lot[] {
    const lots = new Map<number, Lot>();
    for (const row of this.#db.all('SELECT * FROM lots ORDER BY id') as Row[]) {
      const id = num(row, 'id');
      lots.set(id, {
        id,
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
        status: str(row, 'status') as LotStatus,
        bids: [],
      });
    }
    for (const row of this.#db.all('SELECT * FROM bids ORDER BY id') as Row[]) {
      const bid = toBid(row);
      lots.get(bid.lot)?.bids.push(bid);
    }
    return [...lots.values()];
  }

  /**
   * Records an accepted bid and the lot's end time after it, in one transaction: when this
   * returns, both are on disk; when it throws, neither is.
   */
  recordBid(bid: Omit<Bid, 'id'>, endsAt: number): Bid {
    const db = this.#db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = db.run('INSERT INTO bids (lot, user, name, amount, at, key) VALUES (?, ?, ?, ?, ?, ?)', [bid.lot, bid.user, bid.name, bid.amount, bid.at, bid.key]);
      db.run('UPDATE lots SET ends_at = ? WHERE id = ?', [endsAt, bid.lot]);
      db.exec('COMMIT');
      return { ...bid, id: Number(result.lastInsertRowid) };
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  /** The bid `user` placed with idempotency key `key`, if any. */
  bidByKey(user: string, key: string): Bid | undefined {
    const row = this.#db.get('SELECT * FROM bids WHERE user = ? AND key = ?', [user, key]) as Row | null;
    return row === null ? undefined : toBid(row);
  }

  /** Records how a lot ended. */
  setStatus(lot: number, status: LotStatus): void {
    this.#db.run('UPDATE lots SET status = ? WHERE id = ?', [status, lot]);
  }

  /** Closes the database file. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
