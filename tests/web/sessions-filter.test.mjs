// The sessions list filters at the gateway: a text in the title or engine (any case), and
// "Only mine", over sessions of two members of one org.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner, signInByLink } from './support/setup.mjs';

let gw;
let browser;

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  await gw.cli(['user', 'create', 'carol', '--org', 'acme', '--role', 'member']);
});

after(async () => {
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

async function createSessions(page, titles) {
  await page.evaluate(async (list) => {
    const me = await (await fetch('/v1/web/session')).json();
    const org = me.orgs[0].id;
    for (const title of list) {
      const r = await fetch(`/v1/orgs/${org}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title, engine: 'vespid.echo.v1' }),
      });
      if (r.status !== 201) throw new Error(`create ${title}: ${r.status} ${await r.text()}`);
    }
  }, titles);
}

async function shownTitles(page) {
  return (await page.locator('.session-list li .title').allInnerTexts()).sort();
}

test('the filter box and "Only mine" narrow the list at the gateway', async () => {
  const carol = await newPage(browser);
  await signInByLink(gw, carol.page, 'carol');
  await createSessions(carol.page, ['carol build notes']);
  await carol.context.close();

  const { context, page, problems } = await newPage(browser);
  try {
    await signInByLink(gw, page, 'alice');
    await createSessions(page, ['nightly build', 'deploy to staging', 'build cache']);
    await page.goto(`${gw.url}/#/sessions`);
    await page.reload(); // the sign-in already showed the list, before these sessions existed
    await page.getByText('deploy to staging').waitFor();
    assert.equal((await shownTitles(page)).length, 4);

    const box = page.getByLabel('Filter by title or engine');
    await box.fill('BUILD');
    await page.waitForFunction(() => document.querySelectorAll('.session-list li').length === 3);
    assert.deepEqual(await shownTitles(page), ['build cache', 'carol build notes', 'nightly build']);

    await page.getByLabel('Only mine').check();
    await page.waitForFunction(() => document.querySelectorAll('.session-list li').length === 2);
    assert.deepEqual(await shownTitles(page), ['build cache', 'nightly build']);

    await box.fill('no such session');
    await page.getByText('No session matches “no such session” among yours').waitFor();
    assert.equal(await page.locator('.session-list li').count(), 0);

    await box.fill('');
    await page.getByLabel('Only mine').uncheck();
    await page.waitForFunction(() => document.querySelectorAll('.session-list li').length === 4);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
