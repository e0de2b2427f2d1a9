/**
 * The poker page in headless Chromium (Debian's `chromium` via playwright-core): three players
 * in three browser contexts (separate storage) choose names, sit down and play a hand to
 * showdown by clicking; a player reloads mid-hand and is back in the same seat with the same
 * cards. Screenshots go to a temporary directory (its path is printed as a test diagnostic).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, takeCspViolations, watchCsp } from '../../support/browser.js';
import type { TableConfig } from '../../../src/apps/poker/engine/table.js';
import { startPoker, type Running } from './helpers.js';

afterEach(() => assert.deepEqual(takeCspViolations(), [], 'CSP violations'));

const WEB_ROOT = resolve('dist/web/poker');
const TABLES: TableConfig[] = [
  { id: 'main', name: 'Main Street (6-max)', seats: 6, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 60_000 },
  { id: 'heads-up', name: 'Heads-Up', seats: 2, smallBlind: 1, bigBlind: 2, minBuyIn: 40, maxBuyIn: 200, turnMs: 60_000 },
];
const T = { timeout: 120_000 };
const shots = mkdtempSync(join(tmpdir(), 'poker-shots-'));
/** Uncaught errors in any page; each test asserts there were none. */
const pageErrors: string[] = [];

/**
 * Players in their own browser contexts (separate storage): each chooses a name, opens `main`
 * from the lobby, picks a seat and a buy-in; then all click "Sit down" one right after the other,
 * so the first hand (dealt `startDelayMs`, 4 s, after two players sit) includes everyone.
 */
async function seatAll(browser: Browser, run: Running, players: [string, number][]): Promise<Page[]> {
  const pages: Page[] = [];
  for (const [name, seat] of players) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = watchCsp(await context.newPage());
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    await page.goto(`${run.base}/`);
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Play' }).click();
    await page.getByText(`Playing as ${name}`).waitFor();
    await page.getByRole('link', { name: 'Main Street (6-max)', exact: true }).click();
    await page.getByRole('button', { name: `Take seat ${seat + 1}` }).click();
    await page.getByLabel(/Buy-in for seat/).fill('100');
    pages.push(page);
  }
  for (const page of pages) await page.getByRole('button', { name: 'Sit down' }).click();
  for (const page of pages) await page.locator('.seat.me').waitFor();
  return pages;
}

/** The card names (`data-card`) of every card element `locator` matches. */
async function cardNames(locator: Locator): Promise<string[]> {
  const names: string[] = [];
  for (const el of await locator.all()) names.push((await el.getAttribute('data-card')) ?? '');
  return names;
}
/** The card names a page shows anywhere. */
const shownCards = (page: Page): Promise<string[]> => cardNames(page.locator('[data-card]'));
/** The viewer's own cards. */
const myCards = (page: Page): Promise<string[]> => cardNames(page.locator('.seat.me [data-card]'));

/** Whoever has the action bar checks or calls (by click, or with the C key); resolves with that page. */
async function checkOrCall(pages: Page[], keyboard = false): Promise<Page | undefined> {
  for (const page of pages) {
    const button = page.locator('.action-bar button.call');
    if (await button.count() > 0) {
      if (keyboard) await page.keyboard.press('c');
      else await button.click();
      return page;
    }
  }
  return undefined;
}

async function playToShowdown(pages: Page[], hole: Map<Page, string[]>, onStep?: (step: number) => Promise<void>, keyboard = false): Promise<void> {
  for (let step = 0; step < 40; step++) {
    if (await pages[0]?.locator('.outcome p').count() !== 0) return;
    // Before the showdown no page shows another player's cards.
    for (const page of pages) {
      const visible = await shownCards(page);
      for (const [other, cards] of hole) {
        if (other === page) continue;
        for (const card of cards) assert.ok(!visible.includes(card), `a page shows another player's ${card}`);
      }
    }
    await onStep?.(step);
    const actor = await checkOrCall(pages, keyboard);
    if (actor === undefined) await new Promise((r) => setTimeout(r, 50));
    else await actor.locator('.action-bar').waitFor({ state: 'detached' });
  }
  assert.fail('the hand did not end');
}

void test('three browser players play a hand to showdown', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  const run = await startPoker({ tables: TABLES, startDelayMs: 4000, handPauseMs: 600_000 }, WEB_ROOT);
  try {
    t.diagnostic(`screenshots in ${shots}`);
    const lobby = watchCsp(await browser.newPage({ viewport: { width: 1100, height: 700 } }));
    await lobby.goto(`${run.base}/`);
    await lobby.getByRole('heading', { name: 'Tables' }).waitFor();
    await lobby.locator('.lobby-table').first().waitFor();
    const pages = await seatAll(browser, run, [['Ada', 0], ['Brook', 2], ['Cy', 4]]);
    await lobby.getByText('3 of 6 seats taken').waitFor();
    await lobby.screenshot({ path: join(shots, 'lobby.png') });

    const hole = new Map<Page, string[]>();
    for (const page of pages) {
      await page.locator('.seat.me [data-card]').nth(1).waitFor();
      hole.set(page, await myCards(page));
    }
    for (const cards of hole.values()) assert.equal(cards.length, 2);
    assert.equal(new Set([...hole.values()].flat()).size, 6, 'six different hole cards');
    // The first to act raises with the pot preset (3-handed the button, Ada, acts first).
    const ada = pages[0] as Page;
    await ada.locator('.action-bar').waitFor();
    // A raise below the minimum is not offered: the button is disabled and the minimum is said.
    await ada.getByLabel('Raise to', { exact: true }).fill('3');
    await ada.locator('.amount-hint', { hasText: 'At least 4' }).waitFor();
    assert.equal(await ada.locator('.raise-form button[type=submit]').isDisabled(), true);
    assert.equal(await ada.locator('.action-bar').count(), 1, 'still Ada\u2019s turn');
    await ada.getByRole('button', { name: 'Pot', exact: true }).click();
    assert.equal(await ada.getByLabel('Raise to', { exact: true }).inputValue(), '7', 'a pot-sized raise: 2 to call, then the pot of 5');
    await ada.getByRole('button', { name: 'Raise to 7' }).click();
    await ada.locator('.action-bar').waitFor({ state: 'detached' });
    await pages[1]?.locator('.seats .bet', { hasText: '7' }).waitFor();

    await playToShowdown(pages, hole, async (step) => {
      if (step === 4) await pages[2]?.screenshot({ path: join(shots, 'mid-hand.png') });
    });
    for (const page of pages) {
      await page.locator('.outcome p').first().waitFor();
      const visible = await shownCards(page);
      for (const cards of hole.values()) for (const card of cards) assert.ok(visible.includes(card), `showdown shows ${card}`);
      assert.equal(await page.locator('.board [data-card]').count(), 5);
    }
    const outcome = await pages[0]?.locator('.outcome').innerText();
    const won = [...(outcome ?? '').matchAll(/wins (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    assert.equal(won, 21, `the whole pot of 21 is won: ${outcome}`);
    // The announcer said what happened, for screen readers.
    assert.match(await pages[1]?.locator('#announcer').innerText() ?? '', /wins|shows/);
    await pages[0]?.screenshot({ path: join(shots, 'showdown.png') });
    const narrow = watchCsp(await pages[1]!.context().newPage());
    await narrow?.setViewportSize({ width: 390, height: 844 });
    await narrow?.goto(`${run.base}/tables/main`);
    await narrow?.locator('.outcome p').first().waitFor();
    // A guest watching: counted as a spectator on the players' pages, shown no private cards.
    const guest = watchCsp(await browser.newPage());
    await guest.goto(`${run.base}/tables/main`);
    await guest.locator('.outcome p').first().waitFor();
    await pages[0]?.getByText('1 watching').waitFor();
    assert.equal(await guest.getByRole('button', { name: /Take seat/ }).count(), 0, 'a guest cannot sit');
    await narrow?.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await run.stop();
  }
});

void test('a page reload mid-hand keeps the seat and the cards', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  const run = await startPoker({ tables: TABLES, startDelayMs: 4000, handPauseMs: 600_000 }, WEB_ROOT);
  try {
    const pages = await seatAll(browser, run, [['Dana', 0], ['Eli', 3], ['Flo', 4]]);
    const hole = new Map<Page, string[]>();
    for (const page of pages) {
      await page.locator('.seat.me [data-card]').nth(1).waitFor();
      hole.set(page, await myCards(page));
    }
    // One action, then Eli reloads.
    const actor = await checkOrCall(pages);
    assert.ok(actor !== undefined);
    const eli = pages[1] as Page;
    const seatBefore = await eli.locator('.seat.me').getAttribute('data-seat');
    await eli.reload();
    await eli.locator('.seat.me [data-card]').nth(1).waitFor();
    assert.equal(await eli.locator('.seat.me').getAttribute('data-seat'), seatBefore, 'the same seat');
    assert.deepEqual(await myCards(eli), hole.get(eli), 'the same cards');
    assert.match(await eli.getByText('Playing as').innerText(), /Eli/);
    await eli.screenshot({ path: join(shots, 'after-reload.png') });
    // And the hand goes on with Eli playing from the reloaded page, everyone by keyboard (C).
    await playToShowdown(pages, hole, undefined, true);
    await eli.locator('.outcome p').first().waitFor();
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser.close();
    await run.stop();
  }
});
