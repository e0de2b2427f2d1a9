/**
 * Chromium and RFC 8441: headless Chromium trusts a certificate made at test time (by its SPKI
 * pin), loads the index page of `parley serve` over TLS, and opens a WebSocket from that page.
 * That the page came over HTTP/2 is read from the page (`nextHopProtocol`); that the WebSocket
 * went over HTTP/2 is read from the server's own count of connections by transport.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as https from 'node:https';
import { CHROMIUM, CHROMIUM_ARGS, launchChromium } from '../support/browser.js';
import { makeCertificate } from '../support/tls.js';
import { metric, serve } from '../server/helpers.js';

void test('Chromium opens a WebSocket of a page served over HTTP/2 as a stream of the same connection', { timeout: 60_000 }, async (t) => {
  const cert = makeCertificate(t);
  if (cert === undefined) return;
  if (!existsSync(CHROMIUM)) {
    await launchChromium(t); // skips (or fails under CI) naming the package
    return;
  }
  const s = await serve(t, { tls: { cert: cert.certFile, key: cert.keyFile } });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${cert.spki}`] });
  try {
    const page = await browser.newPage();
    const origin = `https://127.0.0.1:${s.port}`;
    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    const nextHop = await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol');
    assert.equal(nextHop, 'h2', 'the page itself came over HTTP/2');
    const result = await page.evaluate(async (url) => new Promise<{ opened: boolean; code: number }>((resolve) => {
      const ws = new WebSocket(url);
      let opened = false;
      ws.onopen = () => { opened = true; ws.close(1000, 'done'); };
      ws.onclose = (e) => resolve({ opened, code: e.code });
    }), `wss://127.0.0.1:${s.port}/ws`);
    assert.deepEqual(result, { opened: true, code: 1000 });
  } finally {
    await browser.close();
  }
  const text = await new Promise<string>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: s.port, path: '/metrics', ca: cert.cert, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve(body));
    }).on('error', reject);
  });
  assert.equal(metric(text, 'parley_connections_by_transport_total{transport="h2"}'), 1, 'the server accepted the WebSocket as an RFC 8441 stream');
  assert.equal(metric(text, 'parley_connections_by_transport_total{transport="h1"}'), undefined);
});
