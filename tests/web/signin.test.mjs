// Sign-in by a one-time link (single use, the code gone from the address bar), by a pasted
// access token, and sign out.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner } from './support/setup.mjs';

let gw;
let browser;

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
});

after(async () => {
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

const whoAmI = (page) => page.evaluate(async () => (await fetch('/v1/web/session')).status);

test('sign in by link: the code leaves the address bar, and the link works once', async () => {
  const link = await gw.webLogin('alice');
  const code = link.split('#login=')[1];
  assert.ok(code && code.startsWith('vwl_'));

  const a = await newPage(browser);
  try {
    await a.page.goto(link);
    await a.page.locator('.user-name', { hasText: 'alice' }).waitFor();
    assert.ok(!a.page.url().includes(code), `the code is still in ${a.page.url()}`);
    assert.ok(!a.page.url().includes('login='));
    assert.match(a.page.url(), /#\/sessions$/);
    assert.equal(await whoAmI(a.page), 200);
    assert.match(await a.page.locator('header').innerText(), /acme/);
    // The page carries the CSP, and nothing broke it.
    assert.match(await a.page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'), /script-src 'self'/);
    assert.deepEqual(a.problems, []);
  } finally {
    await a.context.close();
  }

  // The same link in another browser: refused, with what to do; the code is dropped there too.
  const b = await newPage(browser);
  try {
    await b.page.goto(link);
    const err = b.page.locator('.error-box');
    await err.waitFor();
    const text = await err.innerText();
    assert.match(text, /UNAUTHORIZED/);
    assert.match(text, /vespid web login/);
    assert.ok(!b.page.url().includes(code));
    assert.equal(await whoAmI(b.page), 401);
    assert.equal(await b.page.locator('.user-name').count(), 0);
  } finally {
    await b.context.close();
  }
});

test('sign in with a pasted access token, then sign out ends the session on the server', async () => {
  const token = (await gw.cli(['token', 'create', '--user', 'alice'])).trim();
  assert.match(token, /^vat_/);
  const { context, page, problems } = await newPage(browser);
  try {
    await page.goto(`${gw.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Vespid' }).waitFor();
    // A wrong token first: the gateway's error is shown.
    await page.getByLabel(/Access token/).fill('vat_0000000000000000_nope');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.error-box', { hasText: 'UNAUTHORIZED' }).waitFor();
    await page.getByLabel(/Access token/).fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.user-name', { hasText: 'alice' }).waitFor();
    assert.equal(await page.getByLabel(/Access token/).count(), 0);
    assert.equal(await whoAmI(page), 200);
    // The token is not kept by the page.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(token));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Vespid' }).waitFor();
    assert.equal(await whoAmI(page), 401);
    // Reloading stays signed out (the cookie was cleared and the session ended).
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Vespid' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
