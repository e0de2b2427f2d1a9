/**
 * The auction's durable state in PostgreSQL, shared by every node of a cluster: sessions, lots,
 * every accepted bid and every close, in tables named `auction_*` in the connection's current
 * schema (choose one with `?options=-c%20search_path%3Dname` in the URL).
 *
 * Every change that others must see is one transaction that also calls `pg_notify`: PostgreSQL
 * delivers a notification only when its transaction commits, and delivers them to each listener
 * in commit order (PostgreSQL manual, NOTIFY), so the nodes' copies of a lot follow the database
 * exactly, with no window in which a bid is committed but announced nowhere. Bids on one lot are
 * serialized by `SELECT ... FOR UPDATE` on the lot's row; each carries its position `seq` in the
 * lot, so a node sees at once when it missed one.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Bid, BidAccepted, Lot, LotSpec, LotStatus, Refusal } from './rules.js';
import { outcome } from './rules.js';
import { hashToken, num, str, toBid, toLot, toStatus, type Row } from './rows.js';
import type { Session } from './store.js';

/**
 * Schema steps in order; each runs once per schema, recorded in `auction_migrations`. Append new
 * steps, never edit old ones. `UNIQUE (lot, amount)` states in the schema what the bid rules
 * already ensure: no two accepted bids on a lot have the same price.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE auction_sessions (
     token_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     created_at BIGINT NOT NULL);
   CREATE TABLE auction_lots (
     id BIGSERIAL PRIMARY KEY,
     seller TEXT NOT NULL,
     seller_name TEXT NOT NULL,
     title TEXT NOT NULL,
     description TEXT NOT NULL,
     image TEXT NOT NULL,
     starting_price BIGINT NOT NULL,
     increment BIGINT NOT NULL,
     reserve BIGINT NOT NULL,
     created_at BIGINT NOT NULL,
     ends_at BIGINT NOT NULL,
     status TEXT NOT NULL DEFAULT 'open',
     bid_count INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE auction_bids (
     id BIGSERIAL PRIMARY KEY,
     lot BIGINT NOT NULL REFERENCES auction_lots (id),
     seq INTEGER NOT NULL,
     user_id TEXT NOT NULL,
     name TEXT NOT NULL,
     amount BIGINT NOT NULL,
     at BIGINT NOT NULL,
     key TEXT NOT NULL,
     node TEXT NOT NULL,
     UNIQUE (user_id, key),
     UNIQUE (lot, seq),
     UNIQUE (lot, amount));
   CREATE TABLE auction_closes (
     lot BIGINT PRIMARY KEY REFERENCES auction_lots (id),
     status TEXT NOT NULL,
     node TEXT NOT NULL,
     at BIGINT NOT NULL);`,
];

/**
 * node-postgres, loaded on first use: a server without `auction.databaseUrl` never loads it
 * (on Node 20 its Cloudflare probe, `typeof Response`, would load undici, which `parley serve`
 * keeps out: test/node/node-http.test.ts).
 */
export async function loadPg(): Promise<typeof pg> {
  return (await import('pg')).default;
}

/** What a node hears on the auction's channel. */
export type AuctionEvent =
  | { t: 'bid'; lot: number; seq: number; endsAt: number; bid: Bid }
  | { t: 'lot'; lot: number }
  | { t: 'end'; lot: number; status: LotStatus };

/** How a bid attempt turned out in the database. */
export type BidOutcome =
  | { kind: 'placed'; bid: Bid; seq: number; endsAt: number }
  | { kind: 'earlier'; bid: Bid }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'no-lot' };

/** PostgreSQL's `unique_violation`. */
const UNIQUE_VIOLATION = '23505';

/** Options of a {@link PgAuctionStore}. */
export interface PgStoreOptions {
  /** This node's name, recorded with each bid and close. Default `<pid>-<random>`. */
  node?: string;
  /** Pooled connections for requests. Default 10. */
  poolSize?: number;
}

/** The auction's tables in PostgreSQL. Open with {@link PgAuctionStore.open}; close when done. */
export class PgAuctionStore {
  /** The connection string, for the node's own listening session. */
  readonly url: string;
  /** This node's name in `auction_bids.node` and `auction_closes.node`. */
  readonly node: string;
  /** The notification channel: one per schema, since channels are per database. */
  readonly channel: string;
  /** The advisory lock whose holder runs every lot's end timer (one per schema, as the channel). */
  readonly timerLock: string;
  readonly #pool: pg.Pool;

  private constructor(url: string, pool: pg.Pool, node: string, schema: string) {
    this.url = url;
    this.#pool = pool;
    this.node = node;
    this.channel = `parley_auction:${schema}`;
    this.timerLock = `parley-auction-timers:${schema}`;
  }

  /**
   * Connects, creates or upgrades the tables (one node at a time, under an advisory lock) and
   * returns the store.
   * @throws Error when the database cannot be reached or the search path names no existing schema
   */
  static async open(url: string, options: PgStoreOptions = {}): Promise<PgAuctionStore> {
    const { Pool } = await loadPg();
    const pool = new Pool({ connectionString: url, max: options.poolSize ?? 10 });
    // An idle pooled connection that the server drops emits here; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const schema = await migrate(pool);
      return new PgAuctionStore(url, pool, options.node ?? `${process.pid}-${randomBytes(3).toString('hex')}`, schema);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  /** Creates a session for a new visitor called `name`. */
  async createSession(name: string, now: number): Promise<Session> {
    const token = randomBytes(24).toString('base64url');
    const user = `u${randomBytes(9).toString('base64url')}`;
    await this.#pool.query('INSERT INTO auction_sessions (token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4)', [hashToken(token), user, name, now]);
    return { token, user, name };
  }

  /** The session a token belongs to, or `undefined` for a token never issued. */
  async session(token: string): Promise<Omit<Session, 'token'> | undefined> {
    const { rows } = await this.#pool.query<Row>('SELECT user_id, name FROM auction_sessions WHERE token_hash = $1', [hashToken(token)]);
    const row = rows[0];
    return row === undefined ? undefined : { user: str(row, 'user_id'), name: str(row, 'name') };
  }

  /** Stores a new open lot and tells every node, in one statement. */
  async createLot(spec: LotSpec, seller: { user: string; name: string }, now: number): Promise<Lot> {
    const { rows } = await this.#pool.query<Row>(
      `WITH lot AS (
         INSERT INTO auction_lots (seller, seller_name, title, description, image, starting_price, increment, reserve, created_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *)
       SELECT lot.*, pg_notify($11, json_build_object('t', 'lot', 'lot', lot.id)::text) FROM lot`,
      [seller.user, seller.name, spec.title, spec.description, spec.image, spec.startingPrice, spec.increment, spec.reserve, now, spec.endsAt, this.channel],
    );
    return toLot(rows[0]!, []);
  }

  /** Every lot with all its bids, oldest first. */
  async loadLots(): Promise<Lot[]> {
    const client = await this.#pool.connect();
    try {
      // One snapshot for both reads, so no bid refers to a lot the first read missed.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const lots = new Map<number, Lot>();
      for (const row of (await client.query<Row>('SELECT * FROM auction_lots ORDER BY id')).rows) lots.set(num(row, 'id'), toLot(row, []));
      for (const row of (await client.query<Row>('SELECT * FROM auction_bids ORDER BY lot, seq')).rows) lots.get(num(row, 'lot'))?.bids.push(toBid(row, 'user_id'));
      await client.query('COMMIT');
      return [...lots.values()];
    } finally {
      client.release();
    }
  }

  /** One lot with all its bids, or `undefined`. */
  async loadLot(id: number): Promise<Lot | undefined> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const row = (await client.query<Row>('SELECT * FROM auction_lots WHERE id = $1', [id])).rows[0];
      const bids = (await client.query<Row>('SELECT * FROM auction_bids WHERE lot = $1 ORDER BY seq', [id])).rows.map((row) => toBid(row, 'user_id'));
      await client.query('COMMIT');
      return row === undefined ? undefined : toLot(row, bids);
    } finally {
      client.release();
    }
  }

  /** The bid `user` placed with idempotency key `key`, if any. */
  async bidByKey(user: string, key: string): Promise<Bid | undefined> {
    const row = (await this.#pool.query<Row>('SELECT * FROM auction_bids WHERE user_id = $1 AND key = $2', [user, key])).rows[0];
    return row === undefined ? undefined : toBid(row, 'user_id');
  }

  /**
   * Places a bid in one transaction: locks the lot's row (bids on one lot wait for each other,
   * on every node), answers a retry of an earlier bid with that bid, asks `decide` about the
   * lot as it is now (with its leading bid), and records the bid, the new end time and the
   * notification. When this resolves with `placed`, the bid is committed.
   */
  async placeBid(bid: Omit<Bid, 'id'>, decide: (lot: Lot) => BidAccepted | Refusal): Promise<BidOutcome> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const lotRow = (await client.query<Row>('SELECT * FROM auction_lots WHERE id = $1 FOR UPDATE', [bid.lot])).rows[0];
      if (lotRow === undefined) {
        await client.query('ROLLBACK');
        return { kind: 'no-lot' };
      }
      // After the lock: a retry racing its original on another node sees it committed here.
      const earlier = (await client.query<Row>('SELECT * FROM auction_bids WHERE user_id = $1 AND key = $2', [bid.user, bid.key])).rows[0];
      if (earlier !== undefined) {
        await client.query('ROLLBACK');
        return { kind: 'earlier', bid: toBid(earlier, 'user_id') };
      }
      const top = (await client.query<Row>('SELECT * FROM auction_bids WHERE lot = $1 ORDER BY seq DESC LIMIT 1', [bid.lot])).rows[0];
      const verdict = decide(toLot(lotRow, top === undefined ? [] : [toBid(top, 'user_id')]));
      if (!verdict.ok) {
        await client.query('ROLLBACK');
        return { kind: 'refused', refusal: verdict };
      }
      const seq = num(lotRow, 'bid_count') + 1;
      const inserted = await client.query<Row>(
        'INSERT INTO auction_bids (lot, seq, user_id, name, amount, at, key, node) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
        [bid.lot, seq, bid.user, bid.name, bid.amount, bid.at, bid.key, this.node],
      );
      const placed: Bid = { ...bid, id: num(inserted.rows[0]!, 'id') };
      await client.query('UPDATE auction_lots SET ends_at = $2, bid_count = $3 WHERE id = $1', [bid.lot, verdict.endsAt, seq]);
      const event: AuctionEvent = { t: 'bid', lot: bid.lot, seq, endsAt: verdict.endsAt, bid: placed };
      await client.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(event)]);
      await client.query('COMMIT');
      return { kind: 'placed', bid: placed, seq, endsAt: verdict.endsAt };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The same key used at the same moment for a bid on another lot (whose lock this one did
      // not wait for): the constraint decided; the caller compares the two.
      if ((error as { code?: unknown }).code === UNIQUE_VIOLATION && (error as { constraint?: unknown }).constraint === 'auction_bids_user_id_key_key') {
        const earlier = await this.bidByKey(bid.user, bid.key);
        if (earlier !== undefined) return { kind: 'earlier', bid: earlier };
      }
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * Ends lot `id` if it is open and its end time has come at `now`: records the outcome and a
   * row in `auction_closes` (at most one per lot: its primary key) and tells every node. Under
   * the lot's row lock, so a bid that extends the lot and the end cannot both win.
   * @returns the lot's status and end time after the attempt
   */
  async closeLot(id: number, now: number): Promise<{ status: LotStatus; endsAt: number } | undefined> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const row = (await client.query<Row>('SELECT * FROM auction_lots WHERE id = $1 FOR UPDATE', [id])).rows[0];
      if (row === undefined || toStatus(row) !== 'open' || num(row, 'ends_at') > now) {
        await client.query('ROLLBACK');
        return row === undefined ? undefined : { status: toStatus(row), endsAt: num(row, 'ends_at') };
      }
      const top = (await client.query<Row>('SELECT * FROM auction_bids WHERE lot = $1 ORDER BY seq DESC LIMIT 1', [id])).rows[0];
      const status = outcome(toLot(row, top === undefined ? [] : [toBid(top, 'user_id')]));
      await client.query('UPDATE auction_lots SET status = $2 WHERE id = $1', [id, status]);
      await client.query('INSERT INTO auction_closes (lot, status, node, at) VALUES ($1, $2, $3, $4)', [id, status, this.node, now]);
      const event: AuctionEvent = { t: 'end', lot: id, status };
      await client.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify(event)]);
      await client.query('COMMIT');
      return { status, endsAt: num(row, 'ends_at') };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Closes the pool. */
  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/**
 * Applies the {@link MIGRATIONS} not yet recorded, in one transaction under an advisory lock, so
 * nodes starting together neither race nor apply a step twice.
 * @returns the schema the tables are in
 */
async function migrate(pool: pg.Pool): Promise<string> {
  const client = await pool.connect();
  try {
    const schema = (await client.query<Row>('SELECT current_schema() AS schema')).rows[0]?.schema;
    if (typeof schema !== 'string') throw new Error('the search path names no existing schema to create the auction\'s tables in');
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`parley-auction-migrate:${schema}`]);
      await client.query('CREATE TABLE IF NOT EXISTS auction_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const done = num((await client.query<Row>('SELECT COALESCE(MAX(version), 0) AS v FROM auction_migrations')).rows[0]!, 'v');
      for (let version = done + 1; version <= MIGRATIONS.length; version++) {
        await client.query(MIGRATIONS[version - 1]!);
        await client.query('INSERT INTO auction_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    return schema;
  } finally {
    client.release();
  }
}
