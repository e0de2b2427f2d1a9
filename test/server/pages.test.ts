/**
 * Every page a person can open on `parley serve` with both apps, in headless Chromium (Debian's
 * `chromium` via playwright-core): the index, both apps' pages (lobbies, a lot, the sell form, a
 * poker table, the "not found" pages of each), `/admin` and the server's 404. Any console error,
 * uncaught exception, failed request or error status fails the test (the 404 page's own status
 * aside), and every page names an icon that loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { serve } from './helpers.js';

void test('every page of both apps, the index, /admin and a 404: no console error, no failed request, an icon each', { timeout: 90_000 }, async (t) => {
  const browser = await launchChromium(t);
  if (browser === undefined) return;
  t.after(() => browser.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-pages-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const s = await serve(t, { apps: ['auction', 'poker'], dataDir });
  const problems: string[] = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  /** The one document allowed an error status: the 404 page. */
  let expected404 = '';
  page.on('console', (m) => {
    if (m.type() === 'error' && !(expected404 !== '' && page.url() === expected404 && /status of 404/.test(m.text()))) problems.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught on ${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText ?? '';
    // Chromium fetches a page's icon on its own and cancels that fetch when the test moves on to
    // the next page first (a loaded machine): an abort of the browser's, not a failure of the
    // server's. Each icon is still fetched and checked by checkIcon.
    if (error === 'net::ERR_ABORTED' && /\/favicon\.(svg|ico)$/.test(new URL(r.url()).pathname)) return;
    problems.push(`request failed: ${r.url()} (${error})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && r.url() !== expected404) problems.push(`${r.status()} for ${r.url()}`);
  });

  const visited: string[] = [];
  /** Opens `path`, waits for `ready`, and checks the page's icon loads. */
  const visit = async (path: string, ready: (p: Page) => Promise<unknown>): Promise<void> => {
    await page.goto(`${s.url}${path}`);
    await ready(page);
    await checkIcon(path);
  };
  const checkIcon = async (path: string): Promise<void> => {
    visited.push(path);
    const href = await page.locator('link[rel="icon"]').first().getAttribute('href');
    assert.ok(href !== null && href !== 'data:,', `${path} names an icon`);
    // Relative to the page's <base href> where it has one (the apps do).
    const base = await page.locator('base').count() > 0 ? await page.locator('base').getAttribute('href') : null;
    const icon = await page.request.get(new URL(href, new URL(base ?? '', page.url())).href);
    assert.equal(icon.status(), 200, `${path}: its icon ${href} loads`);
    assert.match(icon.headers()['content-type'] ?? '', /^image\//);
  };

  await visit('/', (p) => p.getByRole('heading', { name: 'Parley' }).waitFor());
  expected404 = `${s.url}/no/such/page`;
  await visit('/no/such/page', (p) => p.getByRole('heading', { name: 'Page not found' }).waitFor());
  expected404 = '';
  // Without an icon link a browser asks for /favicon.ico: it must not be a 404 either.
  assert.equal((await page.request.get(`${s.url}/favicon.ico`)).status(), 200);
  await visit('/admin', (p) => p.locator('#state', { hasText: 'live' }).waitFor());

  await visit('/auction/', (p) => p.getByRole('heading', { name: 'Live lots' }).waitFor());
  await visit('/auction/sell', (p) => p.getByRole('heading', { name: 'Sell an item' }).waitFor());
  await page.getByRole('button', { name: 'Choose a name' }).first().click();
  await page.getByRole('textbox', { name: 'Display name' }).fill('Sam');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('#me-name', { hasText: 'Sam' }).waitFor();
  await page.getByLabel('Title', { exact: true }).fill('Brass telescope');
  await page.getByLabel('Starting price ($)').fill('10');
  await page.getByRole('button', { name: 'Start the auction' }).click();
  await page.waitForURL(/\/auction\/lots\/\d+$/);
  await page.locator('#price', { hasText: '$10.00' }).waitFor();
  await checkIcon(new URL(page.url()).pathname);
  await visit('/auction/lots/999999', (p) => p.getByRole('heading', { name: 'Lot not found' }).waitFor());

  await visit('/poker/', (p) => p.locator('.lobby-table').first().waitFor());
  await visit('/poker/tables/main', (p) => p.locator('.seat').first().waitFor());
  await visit('/poker/tables/nope', (p) => p.getByRole('heading', { name: 'Table not found' }).waitFor());
  // A moment for late requests (images, source maps are not fetched without devtools).
  await page.waitForTimeout(300);
  await context.close();
  assert.deepEqual(problems, [], `on ${visited.join(', ')}`);
});
