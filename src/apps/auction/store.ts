/**
 * The auction's durable state in one SQLite file: sessions, lots and every accepted bid.
 *
 * SQLite runs as WebAssembly (`node-sqlite3-wasm`), so the same install works on every Node
 * version, and its API is synchronous: a bid is checked, written and committed in one turn of
 * the event loop, which is what makes bids atomic and totally ordered without locks.
 *
 * Durability: write-ahead log with `synchronous=FULL`, so every commit syncs the log to disk
 * before it returns, and a bid is on disk before the server acknowledges it (one sync per commit
 * instead of the rollback journal's several: about 4 ms instead of 17 on the test machine).
 * The WebAssembly build has no shared memory for the log's index, so the file is opened in
 * exclusive locking mode (SQLite then keeps the index in the process): one server owns the file,
 * which is what the app wants anyway.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import sqlite from 'node-sqlite3-wasm';
import type { Bid, Lot, LotSpec, LotStatus } from './rules.js';
import { hashToken, str, toBid, toLot, type Row } from './rows.js';

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

/** Database files open in this process (their lock directories are live, whatever the owner file says). */
const OPEN = new Set<string>();

/** Whether process `pid` is running (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the lock a crashed server left behind. The WebAssembly build locks a database by
 * creating the directory `<file>.lock`, and a process that dies holding it leaves it there, so
 * the next start would find the database locked forever. `<file>.owner` names the process that
 * holds the lock: when it is gone (or is this very process, as after a container restart with
 * the same pid), the lock is stale.
 * @throws Error when another live process holds the database
 */
function clearStaleLock(file: string): void {
  if (OPEN.has(file)) throw new Error(`${file} is already open in this process`);
  const lock = `${file}.lock`;
  if (!existsSync(lock)) return;
  let owner: number | undefined;
  try {
    owner = Number.parseInt(readFileSync(`${file}.owner`, 'utf8'), 10);
  } catch {
    owner = undefined;
  }
  if (owner !== undefined && Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
    throw new Error(`${file} is in use by process ${owner}`);
  }
  rmSync(lock, { recursive: true, force: true });
}

/** SQLite-backed storage of the auction. One instance owns the file; close it when done. */
export class AuctionStore {
  readonly #db: InstanceType<typeof Database>;

  readonly #file: string;

  /**
   * Opens (or creates) the database at `file`, taking it over from a crashed server if needed.
   * @throws Error when another running process has it open
   */
  constructor(file: string) {
    this.#file = file;
    clearStaleLock(file);
    this.#db = new Database(file);
    try {
      // Exclusive mode first: before the first access in WAL mode, so shared memory is never used.
      this.#db.exec('PRAGMA locking_mode = EXCLUSIVE');
      const mode = this.#db.get('PRAGMA journal_mode = WAL') as Row | null;
      if (mode?.journal_mode !== 'wal') throw new Error('SQLite refused write-ahead logging');
      this.#db.exec('PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;');
      this.#db.exec(SCHEMA);
      writeFileSync(`${file}.owner`, String(process.pid));
      OPEN.add(file);
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
      const lot = toLot(row, []);
      lots.set(lot.id, lot);
    }
    for (const row of this.#db.all('SELECT * FROM bids ORDER BY id') as Row[]) {
      const bid = toBid(row, 'user');
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
    return row === null ? undefined : toBid(row, 'user');
  }

  /** Records how a lot ended. */
  setStatus(lot: number, status: LotStatus): void {
    this.#db.run('UPDATE lots SET status = ? WHERE id = ?', [status, lot]);
  }

  /** Closes the database file. */
  close(): void {
    if (!this.#db.isOpen) return;
    this.#db.close();
    rmSync(`${this.#file}.owner`, { force: true });
    OPEN.delete(this.#file);
  }
}
