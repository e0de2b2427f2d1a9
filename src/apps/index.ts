/**
 * The applications `parley serve` hosts by default, by name. Each is built only on Parley's
 * public API; see {@link AppFactory}.
 * @packageDocumentation
 */
import type { AppFactory } from '../server/app.js';
import { createAuctionApp } from './auction/index.js';
import { createPokerApp } from './poker/index.js';

/** Every bundled application, by name (also its default path prefix). */
export const BUNDLED_APPS: ReadonlyMap<string, AppFactory> = new Map<string, AppFactory>([
  ['auction', createAuctionApp],
  ['poker', createPokerApp],
]);
