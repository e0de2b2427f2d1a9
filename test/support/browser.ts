/**
 * Headless Chromium for browser tests: Debian's `chromium` driven by `playwright-core` (never a
 * downloaded browser). Without it a test skips with the package to install, except under
 * `CI=true`, where a missing browser fails the run.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';

/** Where Debian installs Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a closed network: no background traffic, no sandbox (tests run as root). */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Launches Chromium, or skips `t` (fails under CI) when it is not installed. Returns undefined
 * when skipped. Close the browser in a `finally`.
 */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    const message = `${CHROMIUM} is missing: install the Debian package \`chromium\` (apt-get install -y chromium)`;
    if (process.env.CI === 'true') assert.fail(message);
    t.skip(message);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** Content-Security-Policy violations any watched page reported (Chromium logs each on the console). */
const cspViolations: string[] = [];

/** Records `page`'s CSP violations: the apps' pages must work under their strict policy. */
export function watchCsp(page: Page): Page {
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  return page;
}

/** The CSP violations recorded since the last call (for an `afterEach` that asserts none). */
export function takeCspViolations(): string[] {
  return cspViolations.splice(0);
}

