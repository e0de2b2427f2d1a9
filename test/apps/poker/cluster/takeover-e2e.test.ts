/**
 * The takeover in headless Chromium (Debian's `chromium` via playwright-core): two players, each
 * in a browser context of their own on a different server of three, sit at the heads-up table,
 * which a third server owns; mid-hand that owner is killed with SIGKILL. The pages keep working:
 * the hand goes on by clicking, with the same cards, and ends with every chip accounted for.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, takeCspViolations, watchCsp } from '../../../support/browser.js';
import { needRedis } from '../../../redis/support.js';
import { kill, startCluster, type PokerNode } from './support.js';

afterEach(() => assert.deepEqual(takeCspViolations(), [], 'CSP violations'));

const T = { timeout: 90_000 };
const shots = mkdtempSync(join(tmpdir(), 'poker-takeover-shots-'));

/** A player's page on `node`: name chosen, seated at the heads-up table in `seat` (0-based) with 100 chips. */
async function seat(browser: Browser, node: PokerNode, name: string, seat: number, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = watchCsp(await context.newPage());
  page.on('pageerror', (error) => errors.push(`${name}: ${error.message}`));
  await page.goto(`${node.base}/`);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Play' }).click();
  await page.getByText(`Playing as ${name}`).waitFor();
  await page.getByRole('link', { name: 'Heads-Up', exact: true }).click();
  await page.getByRole('button', { name: `Take seat ${seat + 1}` }).click();
  await page.getByLabel(/Buy-in for seat/).fill('100');
  return page;
}

async function cardNames(locator: Locator): Promise<string[]> {
  const names: string[] = [];
  for (const el of await locator.all()) names.push((await el.getAttribute('data-card')) ?? '');
  return names;
}

/** The page whose action bar is up, waiting for one. */
async function actingPage(pages: Page[], ms = 15_000): Promise<Page> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const page of pages) if (await page.locator('.action-bar').count() > 0) return page;
    if (Date.now() > deadline) assert.fail('nobody is to act');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Clicks `button` until `done` appears (default: the page's action bar goes away). A click while
 * no server owns the table is answered "moved" and changes nothing, so clicking again is safe.
 */
async function clickUntilDone(page: Page, button: Locator, done?: Locator, ms = 15_000): Promise<number> {
  const deadline = Date.now() + ms;
  const state = done === undefined ? 'detached' : 'visible';
  const target = done ?? page.locator('.action-bar');
  let clicks = 0;
  for (;;) {
    // A retry finds the button gone when the click before it was answered after the wait below
    // (a loaded machine): that action was taken, and the target says so.
    let clicked = true;
    if (clicks === 0) await button.click();
    else clicked = await button.click({ timeout: 1000 }).then(() => true, () => false);
    if (clicked) clicks++;
    try {
      await target.waitFor({ state, timeout: 1000 });
      return clicks;
    } catch {
      if (Date.now() > deadline) throw new Error(`the action was not taken: ${await page.locator('.alert').textContent()}`);
    }
  }
}

/** Chips a page shows: every seat's stack plus the pot. */
async function chipsShown(page: Page): Promise<number> {
  const digits = (text: string): number => Number(text.replace(/[^0-9]/g, '') || '0');
  const stacks = (await page.locator('.seat .stack').allTextContents()).map(digits);
  return stacks.reduce((a, b) => a + b, 0) + digits(await page.locator('.pot').textContent() ?? '');
}

void test('the table\u2019s owner killed mid-hand: both pages keep playing on the servers left', T, async (t) => {
  if (!(await needRedis(t))) return;
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  try {
    const t0 = Date.now();
    const mark = (what: string): void => t.diagnostic(`${what}: ${Date.now() - t0} ms`);
    const cluster = await startCluster(t, 'poker-e2e', 'heads-up');
    mark('cluster');
    const [a, b, c] = cluster.nodes as [PokerNode, PokerNode, PokerNode];
    assert.match((await cluster.lease('heads-up')) ?? '', new RegExp(`^${a.child.pid}-`), 'the first server listed owns the table');
    const errors: string[] = [];
    const pages = [await seat(browser, b, 'Ada', 0, errors), await seat(browser, c, 'Bo', 1, errors)];
    mark('pages');
    for (const page of pages) await page.getByRole('button', { name: 'Sit down' }).click();
    const hole = new Map<Page, string[]>();
    for (const page of pages) {
      await page.locator('.seat.me [data-card]').nth(1).waitFor({ timeout: 15_000 });
      hole.set(page, await cardNames(page.locator('.seat.me [data-card]')));
    }
    // The button calls; the big blind has the option when the owner dies.
    const button = await actingPage(pages);
    await clickUntilDone(button, button.locator('.action-bar button.call'));
    const bigBlind = await actingPage(pages);
    assert.notEqual(bigBlind, button);
    await pages[0]?.screenshot({ path: join(shots, 'before-kill.png') });

    mark('dealt and called');
    await kill(a);
    // Right after the kill nobody owns the table (the lease has up to 3 s to run): the click is
    // answered "moved", the controls stay, and the page says what to do.
    await bigBlind.locator('.action-bar button.call').click();
    await bigBlind.locator('.alert', { hasText: 'The table moved to another server; try again in a moment.' }).waitFor({ timeout: 5000 });
    assert.equal(await bigBlind.locator('.action-bar').count(), 1, 'the controls stay up');
    await bigBlind.screenshot({ path: join(shots, 'during-takeover.png') });
    // The check deals the flop, after which the big blind acts first again: the flop is the sign it was taken.
    const clicks = await clickUntilDone(bigBlind, bigBlind.locator('.action-bar button.call'), bigBlind.locator('.board [data-card]').nth(2));
    t.diagnostic(`the big blind's check took ${clicks} click(s) across the takeover; screenshots in ${shots}`);
    for (const page of pages) await page.locator('.board [data-card]').nth(2).waitFor({ timeout: 10_000 });
    await pages[1]?.screenshot({ path: join(shots, 'after-takeover.png') });
    for (const page of pages) {
      assert.deepEqual(await cardNames(page.locator('.seat.me [data-card]')), hole.get(page), 'the same cards after the takeover');
      assert.equal(await chipsShown(page), 200, 'every chip accounted for after the takeover');
    }

    // Both pages still work: the flop is bet and folded by clicking.
    const bettor = await actingPage(pages);
    assert.equal(bettor, bigBlind, 'heads-up the big blind acts first after the flop');
    await bettor.getByRole('button', { name: 'Min', exact: true }).click();
    await clickUntilDone(bettor, bettor.locator('.raise-form button[type=submit]'));
    const folder = await actingPage(pages);
    assert.notEqual(folder, bettor);
    await clickUntilDone(folder, folder.getByRole('button', { name: 'Fold', exact: true }));
    mark('taken over');
    for (const page of pages) await page.locator('.outcome p').first().waitFor({ timeout: 10_000 });
    mark('hand over');
    await pages[0]?.screenshot({ path: join(shots, 'after-hand.png') });

    for (const page of pages) {
      assert.equal(await chipsShown(page), 200, 'every chip accounted for on each page');
      const other = hole.get(page === pages[0] ? pages[1] as Page : pages[0] as Page) ?? [];
      const visible = await cardNames(page.locator('[data-card]'));
      for (const card of other) assert.ok(!visible.includes(card), 'a fold shows no cards');
    }
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    await browser.close();
  }
});
