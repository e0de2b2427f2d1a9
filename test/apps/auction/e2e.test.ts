/**
 * The auction in headless Chromium (Debian's `chromium` through playwright-core): two people in
 * two separate browser contexts sign in, open the same lot and outbid each other, and both pages
 * follow every bid; the outbid bidder gets the private notice. Then the server restarts on the
 * same data directory and port, and the pages still show every accepted bid, live and after a
 * reload. Screenshots go to `$AUCTION_SCREENSHOTS` (or a temp directory, printed).
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, takeCspViolations, watchCsp } from '../../support/browser.js';
import type { LotView } from '../../../src/apps/auction/rules.js';
import { lotInput, person, startAuction } from './helpers.js';

afterEach(() => assert.deepEqual(takeCspViolations(), [], 'CSP violations'));

const T = { timeout: 90_000 };

function screenshotDir(): string {
  const dir = process.env.AUCTION_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'auction-shots-'));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Signs in through the page's name dialog. */
async function signIn(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Choose a name' }).first().click();
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#me-name', { hasText: name }).waitFor();
}

async function text(page: Page, selector: string): Promise<string> {
  return ((await page.locator(selector).textContent()) ?? '').trim();
}

/** Waits until the element's text is `expected`. */
async function showing(page: Page, selector: string, expected: string): Promise<void> {
  await page.locator(selector, { hasText: expected }).waitFor({ timeout: 10_000 });
  assert.equal(await text(page, selector), expected);
}

/** Both windows in one picture, as a person playing with two windows sees them. */
async function sideBySide(browser: Browser, pages: Page[], path: string): Promise<void> {
  const images: string[] = [];
  for (const page of pages) {
    await page.setViewportSize({ width: 960, height: 860 });
    images.push((await page.screenshot()).toString('base64'));
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  const board = watchCsp(await browser.newPage({ viewport: { width: 1968, height: 900 } }));
  const frames = images.map((b64, i) => `<figure><img src="data:image/png;base64,${b64}" alt=""><figcaption>${['Ann', 'Bob'][i]}'s window</figcaption></figure>`).join('');
  await board.setContent(`<body style="margin:0;padding:16px;display:flex;gap:16px;background:#2a2f38;font:600 15px system-ui;color:#e5e7eb">
    <style>figure{margin:0}img{display:block;border-radius:8px;box-shadow:0 6px 24px #0006}figcaption{margin-top:8px;text-align:center}</style>${frames}</body>`);
  await board.screenshot({ path, fullPage: true });
  await board.close();
}

void test('two bidders outbid each other and both pages follow; a restart keeps every bid', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const shots = screenshotDir();
  t.diagnostic(`screenshots in ${shots}`);

  const first = await startAuction(t);
  const seller = await person(t, first, 'Marguerite');
  const lot = await seller.client.request<LotView>('createLot', lotInput(20 * 60_000, {
    title: 'Vintage rangefinder camera',
    description: 'A 1950s rangefinder in working order, with its original leather case.\nShutter and light seal recently serviced.',
    image: 'illustration:camera',
    startingPrice: 12_000,
    increment: 500,
    reserve: 15_000,
  }));
  for (const [title, image, minutes, price] of [['Porcelain teapot', 'teapot', 7, 2_500], ['Racing bicycle, 1978', 'bicycle', 45, 18_000], ['Alpine landscape in oils', 'painting', 180, 40_000]] as const) {
    await seller.client.request('createLot', lotInput(minutes * 60_000, { title, image: `illustration:${image}`, startingPrice: price, increment: 100, description: 'From a private collection.' }));
  }

  const contexts = await Promise.all([0, 1].map(() => browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })));
  const [ann, bob] = await Promise.all(contexts.map(async (c) => watchCsp(await c.newPage())));
  for (const page of [ann!, bob!]) {
    page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
    await page.goto(`${first.base}/`);
    await page.locator('.card').first().waitFor();
  }
  assert.equal(await ann!.locator('.card').count(), 4);
  await signIn(ann!, 'Ann');
  await signIn(bob!, 'Bob');
  await ann!.screenshot({ path: join(shots, 'lobby.png') });

  // Both open the lot from the lobby.
  for (const page of [ann!, bob!]) {
    await page.getByRole('link', { name: /Vintage rangefinder camera/ }).click();
    await showing(page, '#price', '$120.00');
  }
  assert.equal(await text(ann!, '#leader'), 'No bids yet');

  // Ann takes the suggested minimum; both pages show it.
  await ann!.getByRole('button', { name: 'Bid $120.00' }).click();
  for (const page of [ann!, bob!]) await showing(page, '#price', '$120.00');
  await showing(ann!, '#leader', 'You are the highest bidder');
  await showing(bob!, '#leader', 'Highest bidder: Ann');
  await showing(bob!, '#bid-count', '1');

  // Bob types a bid that is too low: refused with the reason, nothing changes.
  await bob!.getByLabel('Your bid').fill('121');
  await bob!.getByRole('button', { name: 'Place bid' }).click();
  await showing(bob!, '#bid-feedback', 'The minimum bid is $125.00.');
  await showing(ann!, '#bid-count', '1');

  // Bob outbids Ann; Ann is told privately and answers.
  await bob!.getByLabel('Your bid').fill('140');
  await bob!.keyboard.press('Enter');
  for (const page of [ann!, bob!]) await showing(page, '#price', '$140.00');
  await ann!.locator('.toast', { hasText: 'You were outbid on “Vintage rangefinder camera”' }).waitFor();
  assert.equal(await ann!.locator('.toast a', { hasText: 'Open lot' }).count(), 0, 'no link to the lot on the lot itself');
  assert.equal(await bob!.locator('.toast').count(), 0, 'only the outbid bidder is notified');
  await ann!.getByLabel('Your bid').fill('155.50');
  await ann!.getByRole('button', { name: 'Place bid' }).click();
  for (const page of [ann!, bob!]) {
    await showing(page, '#price', '$155.50');
    await showing(page, '#bid-count', '3');
    await showing(page, '#reserve', 'Met');
  }
  await bob!.locator('.toast', { hasText: 'You were outbid' }).waitFor();
  assert.equal(await ann!.locator('.toast').count(), 0, 'the old notice went when Ann led again');
  const countdown = await text(ann!, '#countdown');
  assert.match(countdown, /^(19|20)m \d\ds$/, `countdown by the server clock: ${countdown}`);
  await bob!.screenshot({ path: join(shots, 'lot.png'), fullPage: true });
  await ann!.screenshot({ path: join(shots, 'lot-outbid.png') });
  await sideBySide(browser, [ann!, bob!], join(shots, 'auction.png'));
  const history = await bob!.locator('#history li').allTextContents();
  assert.equal(history.length, 3);
  assert.match(history[0]!, /^Ann.*\$155\.50/);

  // Restart on the same data directory and port: the pages reconnect by themselves.
  await first.stop();
  await showing(ann!, '#conn', 'Reconnecting…');
  const second = await startAuction(t, { dataDir: first.dataDir, port: first.port });
  await showing(ann!, '#conn', 'Live');
  await showing(ann!, '#price', '$155.50');
  // A bid after the restart reaches the other page live.
  await bob!.getByRole('button', { name: 'Bid $160.50' }).click();
  for (const page of [ann!, bob!]) await showing(page, '#price', '$160.50');
  // A reload shows every accepted bid, from disk.
  await ann!.reload();
  await showing(ann!, '#price', '$160.50');
  await showing(ann!, '#bid-count', '4');
  assert.equal(await ann!.locator('#history li').count(), 4);
  assert.equal(second.app.auction.view(lot.id)!.bidCount, 4);
  await ann!.screenshot({ path: join(shots, 'after-restart.png') });

  // The phone layout.
  await bob!.setViewportSize({ width: 390, height: 844 });
  await bob!.screenshot({ path: join(shots, 'lot-phone.png'), fullPage: true });
  for (const c of contexts) await c.close();
});

void test('keyboard only: sign in, sell a lot, and bid on it from another browser', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const shots = screenshotDir();
  const running = await startAuction(t);
  const context = await browser.newContext({ viewport: { width: 1100, height: 1100 } });
  const page = watchCsp(await context.newPage());
  page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  await page.goto(`${running.base}/sell`);
  await page.getByRole('heading', { name: 'Sell an item' }).waitFor();
  await page.getByRole('button', { name: 'Choose a name' }).first().focus();
  await page.keyboard.press('Enter');
  await page.keyboard.type('Sid');
  await page.keyboard.press('Enter');
  await page.locator('#me-name', { hasText: 'Sid' }).waitFor();

  await page.getByLabel('Title', { exact: true }).focus();
  await page.keyboard.type('Tin robot <b>bold</b>');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Winds up and walks.');
  await page.getByRole('radio', { name: 'Bicycle' }).check();
  await page.getByLabel('Starting price ($)').fill('5');
  await page.getByLabel('Reserve price ($, optional)').fill('not money');
  await page.getByRole('button', { name: 'Start the auction' }).click();
  await showing(page, '#sell-feedback', 'Enter a reserve such as 50, or leave it empty.');
  assert.equal(await page.getByLabel('Reserve price ($, optional)').getAttribute('aria-invalid'), 'true');
  await page.getByLabel('Reserve price ($, optional)').fill('');
  await page.screenshot({ path: join(shots, 'sell.png') });
  await page.getByRole('button', { name: 'Start the auction' }).press('Enter');
  await page.waitForURL(/\/auction\/lots\/\d+$/);
  // Markup typed by a user is shown as text, never parsed.
  await showing(page, '#lot-title', 'Tin robot <b>bold</b>');
  assert.equal(await page.locator('#lot-title b').count(), 0);
  await page.locator('.signin-note', { hasText: 'This is your lot' }).waitFor();

  const other = watchCsp(await (await browser.newContext()).newPage());
  await other.goto(page.url());
  await showing(other, '#price', '$5.00');
  await other.getByRole('button', { name: 'Choose a name' }).first().click();
  await other.getByRole('textbox', { name: 'Display name' }).fill('Kit');
  await other.getByRole('textbox', { name: 'Display name' }).press('Enter');
  await other.getByRole('button', { name: 'Bid $5.00' }).click();
  await showing(page, '#leader', 'Highest bidder: Kit');
  // A lot that does not exist says so.
  await other.goto(`${running.base}/lots/424242`);
  await other.getByRole('heading', { name: 'Lot not found' }).waitFor();
  await context.close();
});

void test('a browser whose clock is two hours fast counts down by the server clock, and sees the lot end', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const running = await startAuction(t);
  const seller = await person(t, running, 'Sam');
  const lot = await seller.client.request<LotView>('createLot', lotInput(11_000, { title: 'Cuckoo clock', image: 'illustration:painting' }));
  const context = await browser.newContext();
  // Timers run as usual; only the browser's idea of "now" is two hours ahead of the server.
  await context.clock.install({ time: Date.now() + 2 * 3600_000 });
  const page = watchCsp(await context.newPage());
  page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  await page.goto(`${running.base}/lots/${lot.id}`);
  await showing(page, '#price', '$10.00');
  assert.ok(await page.evaluate(() => Date.now()) - Date.now() > 3600_000, 'the browser clock is fast');
  await signIn(page, 'Kit');
  await page.locator('#countdown', { hasText: /^\ds$/ }).waitFor({ timeout: 8000 });
  const left = Number((await text(page, '#countdown')).slice(0, -1));
  assert.ok(left >= 1 && left <= 9, `counting down the server's seconds: ${left}`);
  await page.getByRole('button', { name: 'Bid $10.00' }).click();
  await showing(page, '#leader', 'You are the highest bidder');
  // The server ends the lot; the page shows the outcome and the winner's notice.
  await showing(page, '#outcome', 'You won this lot for $10.00.');
  await showing(page, '#countdown', 'Ended');
  await showing(page, '#leader', 'You won this lot');
  assert.equal(await page.locator('#bid-amount').count(), 0, 'no bid form on an ended lot');
  // The lot's own page says it all: no toast offering to "Open lot" over the bid history.
  await page.waitForTimeout(500);
  assert.equal(await page.locator('.toast').count(), 0, 'no toast about the lot on its own page');
  await context.close();
});

void test('two windows of one browser can be two people, and each stays itself across reloads', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const running = await startAuction(t);
  const context = await browser.newContext();
  const first = watchCsp(await context.newPage());
  await first.goto(`${running.base}/`);
  await signIn(first, 'Ann');
  // A new window starts as the last person who signed in here…
  const second = watchCsp(await context.newPage());
  await second.goto(`${running.base}/`);
  await second.locator('#me-name', { hasText: 'Ann' }).waitFor();
  // …and can become someone else without changing the first window.
  await second.getByRole('button', { name: 'Sign out Ann' }).click();
  await signIn(second, 'Bob');
  await first.reload();
  await first.locator('#me-name', { hasText: 'Ann' }).waitFor();
  await second.reload();
  await second.locator('#me-name', { hasText: 'Bob' }).waitFor();
  // A window that signed out stays signed out on reload.
  await first.getByRole('button', { name: 'Sign out Ann' }).click();
  await first.reload();
  await first.getByRole('button', { name: 'Choose a name' }).waitFor();
  assert.equal(await first.locator('#me-name').count(), 0);
  await context.close();
});

void test('a lot that ends unsold says so: the reserve was not met, nobody is the highest bidder; the seller gets no toast on it', T, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const running = await startAuction(t);
  const seller = await person(t, running, 'Sam');
  const lot = await seller.client.request<LotView>('createLot', lotInput(8000, { title: 'Brass telescope', reserve: 5000 }));
  // The seller's window, signed in as the seller (the page reads its session from storage).
  const sellerContext = await browser.newContext();
  await sellerContext.addInitScript({ content: `localStorage.setItem('parley-auction-session', ${JSON.stringify(JSON.stringify({ token: seller.token, user: seller.user, name: seller.name }))});` });
  const sellerPage = await sellerContext.newPage();
  await sellerPage.goto(`${running.base}/lots/${lot.id}`);
  await sellerPage.locator('#me-name', { hasText: 'Sam' }).waitFor();
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => assert.fail(`page error: ${error.message}`));
  await page.goto(`${running.base}/lots/${lot.id}`);
  await signIn(page, 'Kit');
  await page.getByRole('button', { name: 'Bid $10.00' }).click();
  await showing(page, '#leader', 'You are the highest bidder');
  await showing(page, '#reserve', 'Not met yet');
  await showing(page, '#outcome', 'Ended without a sale: the reserve was not met.');
  await showing(page, '#reserve', 'Not met');
  await showing(page, '#leader', 'Your bid was the highest');
  await showing(sellerPage, '#leader', 'Highest bid by Kit');
  await showing(sellerPage, '#reserve', 'Not met (yours: $50.00)');
  await sellerPage.waitForTimeout(500);
  assert.equal(await sellerPage.locator('.toast').count(), 0, 'the seller, on the lot, gets no toast about it');
  await sellerContext.close();
  await context.close();
});
