// A member of another org sees none of acme's sessions or node hosts.
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
  await orgWithOwner(gw, 'globex', 'bob');
});

after(async () => {
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

test('bob of globex sees none of acme\'s sessions and node hosts', async () => {
  // acme: a node host online and a session with a message.
  const pt = (await gw.cli(['agents', 'pairing-token', '--org', 'acme'])).trim().split('\n').pop().trim();
  await gw.agent(['connect', '--pairing-token', pt, '--api', gw.url, '--name', 'acme-box']);
  gw.spawnAgent(['start']);
  const alice = await newPage(browser);
  await signInByLink(gw, alice.page, 'alice');
  const acme = await alice.page.evaluate(async () => {
    const me = await (await fetch('/v1/web/session')).json();
    const org = me.orgs[0].id;
    const r = await fetch(`/v1/orgs/${org}/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'acme secret plans', engine: 'vespid.echo.v1' }) });
    return { org, session: (await r.json()).session };
  });
  assert.ok(acme.session && acme.session.id);
  await alice.page.reload();
  await alice.page.getByText('acme secret plans').waitFor();
  await alice.context.close();

  const { context, page, problems } = await newPage(browser);
  try {
    await signInByLink(gw, page, 'bob');
    await page.goto(`${gw.url}/#/sessions`);
    // globex has no host online: the onboarding card, not acme's host.
    await page.locator('.onboarding', { hasText: 'Connect a node host' }).waitFor();
    await page.getByText('No sessions yet').waitFor();
    const body = await page.locator('main').innerText();
    assert.doesNotMatch(body, /acme secret plans/);
    assert.doesNotMatch(body, /acme-box/);
    const header = await page.locator('header').innerText();
    assert.match(header, /globex/);
    assert.doesNotMatch(header, /acme/);

    // acme's session by its address: not found, never shown.
    await page.goto(`${gw.url}/#/sessions/${acme.session.id}`);
    await page.locator('.error-box').waitFor();
    assert.match(await page.locator('.error-box').first().innerText(), /SESSION_NOT_FOUND|NOT_FOUND/);
    assert.equal(await page.locator('.msg').count(), 0);
    assert.doesNotMatch(await page.locator('main').innerText(), /acme secret plans/);

    // And straight at the API with bob's cookie: acme is forbidden, globex lists nothing of acme.
    const r = await page.evaluate(async (acmeOrg) => {
      const me = await (await fetch('/v1/web/session')).json();
      const own = me.orgs[0].id;
      return {
        orgs: me.orgs.map((o) => o.name),
        acmeSessions: (await fetch(`/v1/orgs/${acmeOrg}/sessions`)).status,
        acmeAgents: (await fetch(`/v1/orgs/${acmeOrg}/agents`)).status,
        ownAgents: (await (await fetch(`/v1/orgs/${own}/agents`)).json()).agents.length,
      };
    }, acme.org);
    assert.deepEqual(r, { orgs: ['globex'], acmeSessions: 403, acmeAgents: 403, ownAgents: 0 });
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a member of two orgs picks the org; the choice is kept across a reload', async () => {
  await gw.cli(['member', 'add', '--org', 'globex', '--user', 'alice', '--role', 'member']);
  const { context, page, problems } = await newPage(browser);
  try {
    await signInByLink(gw, page, 'alice');
    const picker = page.getByLabel('Org', { exact: true });
    await picker.waitFor();
    const options = await picker.locator('option').allInnerTexts();
    assert.deepEqual(options.sort(), ['acme (owner)', 'globex (member)']);
    await picker.selectOption({ label: 'acme (owner)' });
    await page.getByText('acme secret plans').waitFor();
    await picker.selectOption({ label: 'globex (member)' });
    await page.getByText('No sessions yet').waitFor();
    assert.equal(await page.getByText('acme secret plans').count(), 0);
    await page.reload();
    await page.getByText('No sessions yet').waitFor();
    assert.equal(await page.getByLabel('Org', { exact: true }).locator('option:checked').innerText(), 'globex (member)');
    // A member cannot mint pairing tokens: the card says whom to ask instead of failing later.
    await page.locator('.onboarding', { hasText: 'needs the admin or owner role' }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
