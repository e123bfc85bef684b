// Headless Chromium through playwright-core: Debian's /usr/bin/chromium, or $CHROMIUM.
// apps/web/index.html carries the gateway's Content-Security-Policy in a <meta> (everything but
// frame-ancestors), so a page that breaks it logs "Refused to ..." and the tests fail on it.
// (Rewriting answers through page.route to add the header is no good: Chromium then treats the
// page as public and blocks its WebSockets to loopback, ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS.)

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
 * A new context + page. `problems` collects CSP violations and page errors; tests assert it
 * stays empty.
 */
export async function newPage(browser, { width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme });
  const problems = [];
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
