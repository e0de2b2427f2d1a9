/**
 * The auction's rules, with no I/O: what a valid lot is, whether a bid may be placed at a given
 * server time, what it does to the lot (price, leader, anti-sniping extension), how a lot ends,
 * and what of a lot the public may see. The server applies these and nothing else decides.
 *
 * Money is in integer cents throughout, so no rounding ever decides a bid.
 * @packageDocumentation
 */
import type { LotStatus, LotView } from './wire.js';

export type { LotStatus, LotView, PublicBid } from './wire.js';

/** Largest amount, in cents, anywhere in the auction (10 million currency units). */
export const MAX_AMOUNT = 1_000_000_000;

/** The illustrations bundled with the app (`images/<name>.svg`), usable instead of an image URL. */
export const ILLUSTRATIONS = ['camera', 'teapot', 'bicycle', 'painting'] as const;

/** Stable reasons a bid or a lot is refused; sent to the client as the error code. */
export const AuctionError = {
  /** The request is malformed (missing fields, wrong types, amount not a whole number of cents). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** The connection has no signed-in user. */
  NOT_SIGNED_IN: 'NOT_SIGNED_IN',
  /** No lot has that id. */
  NO_SUCH_LOT: 'NO_SUCH_LOT',
  /** The lot has ended (or its end time has passed on the server's clock). */
  LOT_CLOSED: 'LOT_CLOSED',
  /** The amount is below the starting price or below the current price plus the increment. */
  BID_TOO_LOW: 'BID_TOO_LOW',
  /** The amount is above {@link MAX_AMOUNT}. */
  BID_TOO_HIGH: 'BID_TOO_HIGH',
  /** The bidder already holds the highest bid. */
  ALREADY_LEADING: 'ALREADY_LEADING',
  /** Sellers may not bid on their own lots. */
  OWN_LOT: 'OWN_LOT',
  /** The idempotency key was already used for a different bid. */
  KEY_REUSED: 'KEY_REUSED',
  /** A lot to be created breaks a rule; the message names the field. */
  BAD_LOT: 'BAD_LOT',
  /** Too many lots from one seller, or sessions from one address, in a short time; the message says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
} as const;

/** One of {@link AuctionError}'s codes. */
export type AuctionErrorCode = (typeof AuctionError)[keyof typeof AuctionError];

/** A refusal: a stable code and a message for people. Neither carries private data. */
export interface Refusal {
  ok: false;
  code: AuctionErrorCode;
  message: string;
}

/** What a seller chooses for a new lot. */
export interface LotSpec {
  title: string;
  description: string;
  /** An http(s) URL, or `illustration:<name>` for a bundled one. */
  image: string;
  /** Cents. The first bid must be at least this. */
  startingPrice: number;
  /** Cents. Every later bid must beat the current price by at least this. */
  increment: number;
  /** Cents; 0 for none. Below it at the end, the lot goes unsold. Known only to the seller. */
  reserve: number;
  /** Server time (ms since the epoch) at which bidding closes, unless extended. */
  endsAt: number;
}

/** An accepted bid. */
export interface Bid {
  /** Position in the global order of accepted bids (from the store). */
  id: number;
  lot: number;
  user: string;
  name: string;
  /** Cents. */
  amount: number;
  /** Server time it was accepted. */
  at: number;
  /** The client's idempotency key. */
  key: string;
}

/** A lot with everything the server knows about it. */
export interface Lot extends LotSpec {
  id: number;
  seller: string;
  sellerName: string;
  createdAt: number;
  status: LotStatus;
  /** Accepted bids, oldest first; the last one leads. */
  bids: Bid[];
}

/** How many bids a {@link LotView} lists. */
export const RECENT_BIDS = 20;

/** Anti-sniping: a bid with less than `windowMs` left pushes the end to `extendMs` after it. */
export interface AntiSnipe {
  windowMs: number;
  extendMs: number;
}

/** The default anti-sniping rule: a bid in the last 30 s leaves 30 s to answer it. */
export const DEFAULT_ANTI_SNIPE: AntiSnipe = { windowMs: 30_000, extendMs: 30_000 };

/** Limits on new lots. */
export interface LotLimits {
  /** Shortest time from creation to the end, ms. */
  minDurationMs: number;
  /** Longest time from creation to the end, ms. */
  maxDurationMs: number;
}

/** Default lot limits: from 10 seconds to 30 days. */
export const DEFAULT_LOT_LIMITS: LotLimits = { minDurationMs: 10_000, maxDurationMs: 30 * 24 * 3600_000 };

/** A bid's outcome: the lot's new end time and whether anti-sniping moved it. */
export interface BidAccepted {
  ok: true;
  endsAt: number;
  extended: boolean;
}

function refuse(code: AuctionErrorCode, message: string): Refusal {
  return { ok: false, code, message };
}

/** Formats cents for messages (`$12.50`): the same money the page shows. */
export function formatAmount(cents: number): string {
  const whole = Math.floor(cents / 100);
  const rest = cents % 100;
  return `$${whole.toLocaleString('en-US')}.${rest.toString().padStart(2, '0')}`;
}

/** The highest bid, if any. */
export function leadingBid(lot: Lot): Bid | undefined {
  return lot.bids.at(-1);
}

/** The current price: the highest bid, or the starting price before any bid. */
export function currentPrice(lot: Lot): number {
  return leadingBid(lot)?.amount ?? lot.startingPrice;
}

/** The smallest amount the next bid may have. */
export function minimumBid(lot: Lot): number {
  const top = leadingBid(lot);
  return top === undefined ? lot.startingPrice : top.amount + lot.increment;
}

/** Whether the lot takes bids at `now` (open, and its end time not reached). */
export function isOpen(lot: Lot, now: number): boolean {
  return lot.status === 'open' && now < lot.endsAt;
}

/**
 * Checks a bid of `amount` cents by `user` on `lot` at server time `now`. Returns the lot's end
 * time after the bid, or why it is refused. The lot is not changed.
 */
export function checkBid(lot: Lot, user: string, amount: unknown, now: number, antiSnipe: AntiSnipe = DEFAULT_ANTI_SNIPE): BidAccepted | Refusal {
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
    return refuse(AuctionError.BAD_REQUEST, 'the amount must be a positive whole number of cents');
  }
  if (!isOpen(lot, now)) return refuse(AuctionError.LOT_CLOSED, 'bidding on this lot has ended');
  if (user === lot.seller) return refuse(AuctionError.OWN_LOT, 'you cannot bid on your own lot');
  if (leadingBid(lot)?.user === user) return refuse(AuctionError.ALREADY_LEADING, 'you already hold the highest bid');
  if (amount > MAX_AMOUNT) return refuse(AuctionError.BID_TOO_HIGH, `bids may not exceed ${formatAmount(MAX_AMOUNT)}`);
  const minimum = minimumBid(lot);
  if (amount < minimum) return refuse(AuctionError.BID_TOO_LOW, `the minimum bid is ${formatAmount(minimum)}`);
  const extendTo = now + antiSnipe.extendMs;
  const extended = lot.endsAt - now < antiSnipe.windowMs && extendTo > lot.endsAt;
  return { ok: true, endsAt: extended ? extendTo : lot.endsAt, extended };
}

/** Applies an accepted bid (from {@link checkBid}) to `lot` in place. */
export function applyBid(lot: Lot, bid: Bid, endsAt: number): void {
  lot.bids.push(bid);
  lot.endsAt = endsAt;
}

/** Whether `lot` is open but its end time has come: it must be closed now. */
export function isDue(lot: Lot, now: number): boolean {
  return lot.status === 'open' && now >= lot.endsAt;
}

/** How an ended lot turns out: sold to the leader when there is a bid at or above the reserve. */
export function outcome(lot: Lot): 'sold' | 'unsold' {
  const top = leadingBid(lot);
  return top !== undefined && top.amount >= lot.reserve ? 'sold' : 'unsold';
}

/** The lot as everyone may see it: no reserve amount, no idempotency keys. */
export function publicView(lot: Lot): LotView {
  const top = leadingBid(lot);
  return {
    id: lot.id,
    title: lot.title,
    description: lot.description,
    image: lot.image,
    seller: lot.seller,
    sellerName: lot.sellerName,
    startingPrice: lot.startingPrice,
    increment: lot.increment,
    createdAt: lot.createdAt,
    endsAt: lot.endsAt,
    status: lot.status,
    price: currentPrice(lot),
    minimumBid: minimumBid(lot),
    leader: top === undefined ? null : { user: top.user, name: top.name },
    bidCount: lot.bids.length,
    hasReserve: lot.reserve > 0,
    reserveMet: top !== undefined && top.amount >= lot.reserve,
    rev: lot.bids.length + (lot.status === 'open' ? 0 : 1),
    recentBids: lot.bids.slice(-RECENT_BIDS).reverse().map((b) => ({ id: b.id, user: b.user, name: b.name, amount: b.amount, at: b.at })),
  };
}

/** Whether `text` has control characters (other than tab and newline, allowed in descriptions). */
function hasControl(text: string, allowNewlines: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (allowNewlines && (c === 9 || c === 10 || c === 13)) continue;
    if (c < 32 || c === 127) return true;
  }
  return false;
}

/** Checks a display name: 1–32 characters after trimming, no control characters. */
export function checkName(name: unknown): { ok: true; name: string } | Refusal {
  if (typeof name !== 'string') return refuse(AuctionError.BAD_REQUEST, 'a name is required');
  const trimmed = name.trim().replace(/\s+/g, ' ');
  if (trimmed.length < 1 || trimmed.length > 32 || hasControl(trimmed, false)) {
    return refuse(AuctionError.BAD_REQUEST, 'a name has 1 to 32 characters');
  }
  return { ok: true, name: trimmed };
}

/** Checks an image reference: a bundled illustration or an absolute http(s) URL of at most 500 characters. */
export function checkImage(image: unknown): string | undefined {
  if (typeof image !== 'string') return undefined;
  if (image.startsWith('illustration:')) {
    const name = image.slice('illustration:'.length);
    return (ILLUSTRATIONS as readonly string[]).includes(name) ? image : undefined;
  }
  if (image.length > 500) return undefined;
  let url: URL;
  try {
    url = new URL(image);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username !== '' || url.password !== '') return undefined;
  return url.href;
}

function isCents(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= MAX_AMOUNT;
}

/**
 * Checks what a seller sent for a new lot at server time `now`. Returns the cleaned lot
 * (trimmed text, normalised URL) or why it is refused, naming the field.
 */
export function checkLotSpec(input: unknown, now: number, limits: LotLimits = DEFAULT_LOT_LIMITS): { ok: true; spec: LotSpec } | Refusal {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return refuse(AuctionError.BAD_REQUEST, 'a lot is an object');
  const o = input as Record<string, unknown>;
  const bad = (message: string): Refusal => refuse(AuctionError.BAD_LOT, message);
  const title = typeof o.title === 'string' ? o.title.trim() : '';
  if (title.length < 3 || title.length > 80 || hasControl(title, false)) return bad('title: 3 to 80 characters');
  const description = typeof o.description === 'string' ? o.description.trim() : '';
  if (description.length > 2000 || hasControl(description, true)) return bad('description: at most 2,000 characters');
  const image = checkImage(o.image);
  if (image === undefined) return bad('image: an http(s) URL or one of the illustrations');
  if (!isCents(o.startingPrice, 1)) return bad(`startingPrice: whole cents from 1 to ${MAX_AMOUNT}`);
  if (!isCents(o.increment, 1)) return bad(`increment: whole cents from 1 to ${MAX_AMOUNT}`);
  const reserve = o.reserve ?? 0;
  if (!isCents(reserve, 0)) return bad(`reserve: whole cents from 0 to ${MAX_AMOUNT}`);
  if (typeof o.endsAt !== 'number' || !Number.isSafeInteger(o.endsAt)) return bad('endsAt: a time in ms since the epoch');
  if (o.endsAt < now + limits.minDurationMs) return bad(`endsAt: at least ${Math.ceil(limits.minDurationMs / 1000)} s from now`);
  if (o.endsAt > now + limits.maxDurationMs) return bad(`endsAt: at most ${Math.floor(limits.maxDurationMs / 86_400_000)} days from now`);
  return {
    ok: true,
    spec: { title, description, image, startingPrice: o.startingPrice, increment: o.increment, reserve, endsAt: o.endsAt },
  };
}
