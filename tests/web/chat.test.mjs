// Onboarding, a real node host, and chat: streaming, stop, reload, a dropped connection.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, killGroup } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner, signInByLink, openCreateForm } from './support/setup.mjs';

let gw;
let browser;
let page;
let problems;
let agentProc;

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  ({ page, problems } = await newPage(browser));
  await signInByLink(gw, page, 'alice');
});

after(async () => {
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

test('with no node host the onboarding card shows the command, and turns green when the host connects', async () => {
  await page.goto(`${gw.url}/#/sessions`);
  const card = page.locator('.onboarding');
  await card.getByRole('heading', { name: 'Connect a node host' }).waitFor();
  await card.getByRole('button', { name: 'Create a pairing token' }).click();
  const cmd = (await card.locator('.connect-command').innerText()).trim();
  assert.match(cmd, new RegExp(`^vespid-agent connect --pairing-token \\S+\\.\\S+ --api ${gw.url.replace(/[.]/g, '\\.')}$`));
  assert.equal((await card.locator('.start-command').innerText()).trim(), 'vespid-agent start');
  assert.match(await card.innerText(), /works once, until/);

  // Run exactly the command the page shows.
  const args = cmd.split(/\s+/);
  assert.equal(args[0], 'vespid-agent');
  await gw.agent(args.slice(1));
  // Not connected yet: connect only pairs.
  assert.equal(await page.locator('.onboarding.connected').count(), 0);
  agentProc = gw.spawnAgent(['start']);
  // Nobody clicks anything: the card polls.
  await page.locator('.onboarding.connected').waitFor({ timeout: 15000 });
  assert.match(await page.locator('.onboarding.connected').innerText(), /online/);
  assert.deepEqual(problems, []);
});

let sessionUrl;

test('create a session, send a message, see the answer stream in', async () => {
  await page.goto(`${gw.url}/#/sessions`);
  await openCreateForm(page);
  await page.getByLabel('Title', { exact: true }).fill('first chat');
  assert.equal(await page.getByLabel('Engine', { exact: true }).inputValue(), 'vespid.echo.v1');
  await page.getByRole('button', { name: 'Create session' }).click();
  await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
  sessionUrl = page.url();
  await page.getByRole('heading', { name: 'first chat' }).waitFor();
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();

  // Record every text the agent bubble shows while it streams.
  await page.evaluate(() => {
    window.__seen = [];
    const log = document.querySelector('.log');
    new MutationObserver(() => {
      const a = [...document.querySelectorAll('.msg.agent')].pop();
      if (a) window.__seen.push({ text: a.lastChild ? a.textContent : '', streaming: a.classList.contains('streaming') });
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
  const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliett';
  await page.getByLabel('Message', { exact: true }).fill(words);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.msg.agent:not(.streaming)', { hasText: 'juliett' }).waitFor({ timeout: 15000 });
  const finalText = await page.locator('.msg.agent').last().innerText();
  assert.match(finalText, /alpha bravo charlie delta echo foxtrot golf hotel india juliett/);
  const seen = await page.evaluate(() => window.__seen);
  const partial = seen.filter((s) => s.streaming && /alpha/.test(s.text) && !/juliett/.test(s.text));
  assert.ok(partial.length >= 1, `expected a partial text while streaming, saw ${JSON.stringify(seen)}`);
  // The pinned node host is shown.
  assert.match(await page.locator('.pinned-host').innerText(), /online/);
  assert.equal(await page.locator('.msg.user', { hasText: words }).count(), 1);
  assert.deepEqual(problems, []);
});

test('stop a turn: the answer stops and is marked canceled', async () => {
  const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
  await page.getByLabel('Message', { exact: true }).fill(long);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.msg.agent.streaming', { hasText: 'word3' }).waitFor({ timeout: 15000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.locator('.turn-canceled').waitFor({ timeout: 10000 });
  const stopped = page.locator('.msg.agent.canceled');
  await stopped.waitFor();
  const t1 = await stopped.innerText();
  assert.doesNotMatch(t1, /word199/);
  await page.waitForTimeout(500);
  assert.equal(await stopped.innerText(), t1, 'the stopped answer must not grow');
  assert.equal(await page.getByRole('button', { name: 'Stop' }).count(), 0);
  await page.getByRole('button', { name: 'Retry last message' }).waitFor();
});

async function snapshot() {
  return page.evaluate(() => ({
    user: [...document.querySelectorAll('.log .msg.user')].map((e) => e.textContent),
    agent: [...document.querySelectorAll('.log .msg.agent')].map((e) => e.textContent),
    canceled: document.querySelectorAll('.log .turn-canceled').length,
    all: document.querySelectorAll('.log > li').length,
  }));
}

test('reload shows the history once', async () => {
  const before = await snapshot();
  assert.equal(before.user.length, 2);
  await page.reload();
  await page.locator('.conn', { hasText: 'Connected' }).waitFor();
  await page.locator('.msg.agent', { hasText: 'juliett' }).waitFor();
  await page.locator('.turn-canceled').waitFor();
  await page.waitForTimeout(300);
  const after = await snapshot();
  assert.deepEqual(after, before);
  assert.equal(new Set(after.user).size, after.user.length, 'no duplicated message');
  assert.equal(after.canceled, 1);
});

test('a dropped connection resumes without duplicates or holes, and a message sent meanwhile goes once', async () => {
  const before = await snapshot();
  const seqBefore = await page.evaluate(() => window.__vespidChat.lastSeq());
  await page.evaluate(() => window.__vespidChat.drop());
  await page.locator('.conn', { hasText: /Connection lost|Connecting/ }).waitFor();
  // Typed while offline: queued, sent once on the rejoin.
  await page.getByLabel('Message', { exact: true }).fill('sent while reconnecting');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.conn', { hasText: 'Connected' }).waitFor({ timeout: 15000 });
  await page.locator('.msg.agent:not(.streaming)', { hasText: 'sent while reconnecting' }).waitFor({ timeout: 15000 });
  const after = await snapshot();
  assert.deepEqual(after.user.slice(0, before.user.length), before.user);
  assert.equal(after.user.filter((t) => /sent while reconnecting/.test(t)).length, 1);
  assert.equal(after.agent.length, before.agent.length + 1);
  assert.ok((await page.evaluate(() => window.__vespidChat.lastSeq())) > seqBefore);
  // The gateway stored it once, too.
  const res = await page.evaluate(async (url) => {
    const id = url.split('/').pop();
    const org = (await (await fetch('/v1/web/session')).json()).orgs[0].id;
    const r = await fetch(`/v1/orgs/${org}/sessions/${id}/events?limit=200`);
    return r.json();
  }, sessionUrl);
  const users = res.events.filter((e) => e.eventType === 'user_message').map((e) => e.payload.message);
  assert.equal(users.filter((m) => m === 'sent while reconnecting').length, 1);
  const seqs = res.events.map((e) => e.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  assert.deepEqual(problems, []);
});

test('the pinned node host goes offline: the error says what to do, and Reset node host unpins', async () => {
  await killGroup(agentProc);
  await page.locator('.pinned-host', { hasText: 'offline' }).waitFor({ timeout: 15000 });
  const notice = page.locator('.notice', { hasText: 'The pinned node host is offline' });
  await notice.waitFor();
  await page.getByLabel('Message', { exact: true }).fill('anyone there?');
  await page.getByRole('button', { name: 'Send' }).click();
  const err = page.locator('.error-box', { hasText: 'PINNED_AGENT_OFFLINE' });
  await err.waitFor();
  assert.match(await err.innerText(), /reset the node host/i);
  // The refused message is back in the box, not lost, and not shown as sent.
  assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), 'anyone there?');
  assert.equal(await page.locator('.msg.user', { hasText: 'anyone there?' }).count(), 0);

  await notice.getByRole('button', { name: 'Reset node host' }).click();
  await page.locator('.notice', { hasText: 'no longer pinned' }).waitFor();
  await page.locator('.pinned-host', { hasText: 'not pinned yet' }).waitFor();
  // No host at all now: the message is stored, its turn fails saying to start a host, and the
  // message is not put back in the box (it was sent; Retry sends it again).
  await page.getByRole('button', { name: 'Send' }).click();
  const none = page.locator('.turn-error', { hasText: 'NO_AGENT_AVAILABLE' });
  await none.waitFor();
  assert.match(await none.innerText(), /Start a node host/);
  assert.equal(await page.locator('.msg.user', { hasText: 'anyone there?' }).count(), 1);
  assert.equal(await page.getByLabel('Message', { exact: true }).inputValue(), '');
  assert.equal(await page.locator('[role=alert].error-box').count(), 0);
  await page.getByRole('button', { name: 'Retry last message' }).waitFor();
  assert.deepEqual(problems, []);
});
