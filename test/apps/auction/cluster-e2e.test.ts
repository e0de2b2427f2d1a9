/**
 * The auction on three `parley serve` processes sharing PostgreSQL and Redis, in headless
 * Chromium: Ann's page is served by one node, Bob's by another, the seller works on the third;
 * they outbid each other and both pages follow every bid, and the outbid notice reaches the
 * right page across nodes. Screenshots go to `$AUCTION_SCREENSHOTS` (or a temp directory, printed).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, takeCspViolations, watchCsp } from '../../support/browser.js';
import type { LotView } from '../../../src/apps/auction/rules.js';
import { lotInput } from './helpers.js';
import { connect, needDatabase, signIn as signInApi, startNodes } from './cluster-helpers.js';

afterEach(() => assert.deepEqual(takeCspViolations(), [], 'CSP violations'));

const T = { timeout: 60_000 };

/** Signs in through the page's name dialog. */
async function signIn(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Choose a name' }).first().click();
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#me-name', { hasText: name }).waitFor();
}

/** Waits until the element's text is `expected`. */
async function showing(page: Page, selector: string, expected: string): Promise<void> {
  await page.locator(selector, { hasText: expected }).waitFor({ timeout: 10_000 });
  assert.equal(((await page.locator(selector).textContent()) ?? '').trim(), expected);
}

void test('bidders on two nodes outbid each other and both pages follow every bid', T, async (t) => {
  const database = await needDatabase(t);
  if (database === undefined) return;
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const shots = process.env.AUCTION_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'auction-shots-'));
  mkdirSync(shots, { recursive: true });
  t.diagnostic(`screenshots in ${shots}`);

  const [nodeA, nodeB, nodeC] = await startNodes(t, database, 3);
  const seller = connect(t, nodeC!, await signInApi(nodeC!, 'Marguerite'));
  const lot = await seller.request<LotView>('createLot', lotInput(20 * 60_000, {
    title: 'Vintage rangefinder camera',
    description: 'A 1950s rangefinder in working order, with its original leather case.',
    image: 'illustration:camera',
    startingPrice: 12_000,
    increment: 500,
  }));

  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })));
  const [ann, bob] = await Promise.all(contexts.map(async (c) => watchCsp(await c.newPage())));
  const pages: [Page, string][] = [[ann!, nodeA!.base], [bob!, nodeB!.base]];
  for (const [page, base] of pages) {
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    await page.goto(`${base}/lots/${lot.id}`);
    await showing(page, '#price', '$120.00');
  }
  await signIn(ann!, 'Ann');
  await signIn(bob!, 'Bob');

  // Ann bids on node A; Bob's page, served by node B, follows.
  await ann!.getByRole('button', { name: 'Bid $120.00' }).click();
  for (const page of [ann!, bob!]) await showing(page, '#price', '$120.00');
  await showing(ann!, '#leader', 'You are the highest bidder');
  await showing(bob!, '#leader', 'Highest bidder: Ann');

  // Bob outbids her on node B; Ann's page follows and she is told privately, across nodes.
  await bob!.getByLabel('Your bid').fill('140');
  await bob!.getByRole('button', { name: 'Place bid' }).click();
  for (const page of [ann!, bob!]) await showing(page, '#price', '$140.00');
  await ann!.locator('.toast', { hasText: 'You were outbid on “Vintage rangefinder camera”' }).waitFor();
  await showing(ann!, '#leader', 'Highest bidder: Bob');

  // And back: Ann answers, Bob hears of it on his node.
  await ann!.getByLabel('Your bid').fill('155.50');
  await ann!.getByRole('button', { name: 'Place bid' }).click();
  for (const page of [ann!, bob!]) {
    await showing(page, '#price', '$155.50');
    await showing(page, '#bid-count', '3');
  }
  await bob!.locator('.toast', { hasText: 'You were outbid' }).waitFor();
  assert.equal(await ann!.locator('.toast').count(), 0, 'only the outbid bidder is notified');
  for (const page of [ann!, bob!]) {
    const history = await page.locator('#history li').allTextContents();
    assert.equal(history.length, 3);
    assert.match(history[0]!, /^Ann.*\$155\.50/);
    assert.match(history[1]!, /^Bob.*\$140\.00/);
  }
  await ann!.screenshot({ path: join(shots, 'cluster-ann-node-a.png') });
  await bob!.screenshot({ path: join(shots, 'cluster-bob-node-b.png') });

  // The third node, which neither page uses, has every bid too.
  const lobby = (await (await fetch(`${nodeC!.base}/api/lots`)).json()) as { lots: { id: number; price: number; bidCount: number }[] };
  assert.deepEqual(lobby.lots.find((l) => l.id === lot.id), { ...lobby.lots.find((l) => l.id === lot.id), price: 15_550, bidCount: 3 });
  const { rows } = await database.db.query<{ amount: string }>('SELECT amount FROM auction_bids WHERE lot = $1 ORDER BY seq', [lot.id]);
  assert.deepEqual(rows.map((r) => Number(r.amount)), [12_000, 14_000, 15_550]);
  for (const c of contexts) await c.close();
});
