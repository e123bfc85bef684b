// Headless Chromium through playwright-core: Debian's /usr/bin/chromium, or $CHROMIUM.
// Pages get the Content-Security-Policy the gateway will send on its web listener, added to
// every answer here so the tests catch inline scripts and styles before the server does.

import { chromium } from 'playwright-core';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
}

/**
 * A new context + page. `cspErrors` collects CSP violations and page errors; tests assert it
 * stays empty.
 */
export async function newPage(browser, { width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  const problems = [];
  await context.route('**/*', async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/ws/') || url.pathname === '/healthz') {
      await route.continue();
      return;
    }
    const res = await route.fetch();
    const headers = { ...res.headers() };
    if (!headers['content-security-policy']) headers['content-security-policy'] = CSP;
    await route.fulfill({ response: res, headers });
  });
  const page = await context.newPage();
  page.on('console', (msg) => {
    const t = msg.text();
    if (msg.type() === 'error' && /Content Security Policy|Refused to/.test(t)) problems.push(t);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { context, page, problems };
}

let shotDir = null;
export async function screenshotDir() {
  if (process.env.VESPID_WEB_SCREENSHOTS) return process.env.VESPID_WEB_SCREENSHOTS;
  if (!shotDir) shotDir = await mkdtemp(path.join(tmpdir(), 'vespid-web-shots-'));
  return shotDir;
}
