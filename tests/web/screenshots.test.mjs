// Screenshots of each main page at desktop (1280x800) and phone (390x844) width, light and dark:
// <page>-<desktop|phone>-<light|dark>.png in $VESPID_WEB_SCREENSHOTS, else a temp dir (printed).
// Also checks that no page breaks the CSP and that nothing is wider than a phone's screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startGateway } from './support/gateway.mjs';
import { launch, newPage, screenshotDir } from './support/browser.mjs';
import { orgWithOwner, signInByLink, createSession } from './support/setup.mjs';

const VARIANTS = [
  { size: 'desktop', width: 1280, height: 800, scheme: 'light' },
  { size: 'desktop', width: 1280, height: 800, scheme: 'dark' },
  { size: 'phone', width: 390, height: 844, scheme: 'light' },
  { size: 'phone', width: 390, height: 844, scheme: 'dark' },
];

let gw;
let browser;
let dir;
const views = [];

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  dir = await screenshotDir();
  await mkdir(dir, { recursive: true });
});

after(async () => {
  for (const v of views) await v.context.close().catch(() => {});
  if (browser) await browser.close();
  if (gw) await gw.stop();
  if (dir) console.log(`# screenshots in ${dir}`);
});

async function shot(v, name) {
  await v.page.waitForTimeout(150); // fonts and layout settle
  const overflow = await v.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name} is ${overflow}px wider than the ${v.size} screen`);
  await v.page.screenshot({ path: path.join(dir, `${name}-${v.size}-${v.scheme}.png`), fullPage: true });
}

test('screenshots of every main page', async () => {
  for (const spec of VARIANTS) {
    const v = { ...spec, ...(await newPage(browser, { width: spec.width, height: spec.height, colorScheme: spec.scheme })) };
    views.push(v);
    await v.page.goto(`${gw.url}/#/signin`);
    await v.page.getByRole('heading', { name: 'Sign in to Vespid' }).waitFor();
    await shot(v, 'signin');
  }

  // No node host yet: the onboarding card with a minted token.
  for (const v of views) {
    await signInByLink(gw, v.page, 'alice');
    await v.page.locator('.onboarding').getByRole('button', { name: 'Create a pairing token' }).click();
    await v.page.locator('.connect-command').waitFor();
    await shot(v, 'onboarding');
  }

  // A node host, and a session with a conversation.
  const pt = (await gw.cli(['agents', 'pairing-token', '--org', 'acme'])).trim().split('\n').pop().trim();
  await gw.agent(['connect', '--pairing-token', pt, '--api', gw.url, '--name', 'lab-box', '--tags', 'linux']);
  gw.spawnAgent(['start']);
  const main = views[0].page;
  await main.locator('.onboarding.connected').waitFor({ timeout: 15000 });
  for (const title of ['release checklist', 'debug flaky build']) {
    await main.goto(`${gw.url}/#/sessions`);
    await main.reload();
    await createSession(main, title);
  }
  await main.locator('.conn', { hasText: 'Connected' }).waitFor();
  const chatUrl = main.url();
  for (const msg of ['hello from the web client', 'the echo engine streams every word back']) {
    await main.getByLabel('Message', { exact: true }).fill(msg);
    await main.getByRole('button', { name: 'Send' }).click();
    await main.locator('.msg.agent:not(.streaming)', { hasText: msg }).waitFor({ timeout: 15000 });
  }

  for (const v of views) {
    await v.page.goto(`${gw.url}/#/sessions`);
    await v.page.reload();
    await v.page.getByText('release checklist').waitFor();
    await shot(v, 'sessions');
    await v.page.goto(chatUrl);
    await v.page.locator('.msg.agent:not(.streaming)', { hasText: 'streams every word' }).waitFor();
    await shot(v, 'chat');
    // devices, workflows, workflow and health: their own test files shoot them with content
    // (a pending request, a finished run, the log tail).
    assert.deepEqual(v.problems, []);
  }
});
