/**
 * The poker table page in headless Chromium (Debian's `chromium` via playwright-core): two
 * windows of ONE browser are two players (a session per window, as in the auction); the raise
 * box refuses an amount below the minimum before the server has to; a player who loses
 * everything is told so and their seat stays marked "Out of chips" through the showdown; an
 * unknown table is a "Table not found" page, not an empty felt. Screenshots of the refused
 * amount and of the showdown go to a temporary directory (its path is printed as a diagnostic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../../support/browser.js';
import { startPoker } from './helpers.js';

const WEB_ROOT = resolve('dist/web/poker');
const T = { timeout: 90_000 };

void test('two windows of one browser play as two players; raise box; busting out; an unknown table', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  // A fixed shuffle: the same deal every run (and not a split pot). A long pause after the
  // hand keeps the showdown on the table while the test looks at it.
  const run = await startPoker({
    tables: [{ id: 'hu', name: 'Heads-Up', seats: 2, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 60_000 }],
    startDelayMs: 200, handPauseMs: 60_000, randomInt: () => 0,
  }, WEB_ROOT);
  t.after(() => run.stop());
  const errors: string[] = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ann = await context.newPage();
  ann.on('pageerror', (e) => errors.push(e.message));
  await ann.goto(`${run.base}/`);
  await ann.getByLabel('Your name').fill('Ann');
  await ann.getByRole('button', { name: 'Play' }).click();
  await ann.getByText('Playing as Ann').waitFor();
  // A second window of the same browser starts as Ann, and can become Bob without changing Ann's window.
  const bob = await context.newPage();
  bob.on('pageerror', (e) => errors.push(e.message));
  await bob.goto(`${run.base}/`);
  await bob.getByText('Playing as Ann').waitFor();
  await bob.getByRole('button', { name: 'Change name' }).click();
  await bob.getByLabel('Your name').fill('Bob');
  await bob.getByRole('button', { name: 'Play' }).click();
  await bob.getByText('Playing as Bob').waitFor();
  await ann.reload();
  await ann.getByText('Playing as Ann').waitFor();
  await bob.reload();
  await bob.getByText('Playing as Bob').waitFor();

  for (const [page, seat] of [[ann, 1], [bob, 2]] as const) {
    await page.goto(`${run.base}/tables/hu`);
    await page.getByRole('button', { name: `Take seat ${seat}` }).click();
    await page.getByLabel(/Buy-in for seat/).fill('40');
    await page.getByRole('button', { name: 'Sit down' }).click();
    await page.locator('.seat.me').waitFor();
  }

  // Whoever acts first: an amount below the minimum raise is not offered.
  const acting = async (): Promise<[Page, Page]> => {
    for (;;) {
      if (await ann.locator('.action-bar').count() > 0) return [ann, bob];
      if (await bob.locator('.action-bar').count() > 0) return [bob, ann];
      await ann.waitForTimeout(50);
    }
  };
  const [first, second] = await acting();
  const raise = first.locator('.raise-form button[type=submit]');
  const min = Number(await first.locator('#amount').getAttribute('min'));
  await first.locator('#amount').fill(String(min - 1));
  assert.equal(await raise.isDisabled(), true, 'no raise below the minimum');
  assert.equal((await first.locator('.amount-hint').textContent())?.trim(), `At least ${min}`);
  const shots = mkdtempSync(join(tmpdir(), 'poker-table-shots-'));
  t.diagnostic(`screenshots in ${shots}`);
  await first.screenshot({ path: join(shots, 'raise-below-minimum.png') });
  await first.locator('#amount').blur();
  assert.equal(await first.locator('#amount').inputValue(), String(min), 'leaving the box puts the amount back in range');
  assert.equal(await raise.isDisabled(), false);

  // All-in and a call: one of the two loses everything.
  await first.getByRole('button', { name: 'All-in', exact: true }).click();
  await raise.click();
  await second.locator('.action-bar button.call').waitFor();
  await second.locator('.action-bar button.call').click();
  await ann.locator('.outcome p').first().waitFor({ timeout: 15_000 });
  const [loser, winner] = await ann.locator('.seat.me').count() === 0 ? [ann, bob] : [bob, ann];
  const loserName = loser === ann ? 'Ann' : 'Bob';
  await loser.locator('.busted-note', { hasText: 'You are out of chips.' }).waitFor({ timeout: 5000 });
  for (const page of [winner, loser]) {
    const seat = page.locator('.seat.busted');
    await seat.waitFor({ timeout: 5000 });
    assert.match((await seat.textContent()) ?? '', new RegExp(`${loserName}0Out of chips`));
  }
  assert.ok(await winner.locator('.log-list', { hasText: `${loserName} is out of chips and leaves.` }).count() === 1);
  await loser.screenshot({ path: join(shots, 'busted-player.png'), fullPage: true });
  await winner.screenshot({ path: join(shots, 'busted-seen-by-winner.png'), fullPage: true });

  // An unknown table is a page that says so.
  await winner.goto(`${run.base}/tables/nope`);
  await winner.getByRole('heading', { name: 'Table not found' }).waitFor();
  assert.equal(await winner.locator('.felt').count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
