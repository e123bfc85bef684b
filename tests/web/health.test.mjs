// Health: a gateway administrator sees the status (version, plugin instances, storage, bus) and
// log lines arriving live (a refused node host connection makes one), with pause/resume and a level filter; a
// user who is not a gateway administrator is told who can see it and how.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startGateway } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner, signInByLink } from './support/setup.mjs';
import { shootAll } from './support/shots.mjs';

let gw;
let browser;
let page;
let problems;

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  await gw.cli(['user', 'create', 'bob', '--org', 'acme', '--role', 'owner']);
  await gw.cli(['user', 'gateway-admin', 'alice']);
  ({ page, problems } = await newPage(browser));
  await signInByLink(gw, page, 'alice');
});

after(async () => {
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

/** Something the gateway logs at info: a node host connection without a token, refused. */
async function refusedConnection() {
  await new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: gw.wsPort,
      path: '/ws',
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('upgrade', (res, sock) => {
      sock.destroy();
      resolve();
    });
    req.on('error', resolve);
    req.end();
  });
}

test('a gateway administrator sees the status and its plugin instances', async () => {
  await page.goto(`${gw.url}/#/health`);
  await page.getByRole('heading', { name: 'Plugin instances' }).waitFor();
  assert.match(await page.locator('#h-version').innerText(), /\d+\.\d+/);
  const names = await page.locator('table.instances tbody th').allInnerTexts();
  for (const n of ['storage', 'bus', 'bridge', 'api', 'web']) assert.ok(names.includes(n), `instance ${n} listed: ${names}`);
  assert.match(await page.locator('tr[data-instance="storage"]').innerText(), /sqlite/);
  // Where each listener is, as the transport reported it: this page's own listener among them.
  assert.match(await page.locator('tr[data-instance="web"] td.listen').innerText(), new RegExp(`^127\\.0\\.0\\.1:${gw.webPort}$`));
  assert.match(await page.locator('tr[data-instance="bridge"] td.listen').innerText(), new RegExp(`127\\.0\\.0\\.1:${gw.bridgePort}`));
  assert.equal(await page.locator('tr[data-instance="storage"] td.listen').innerText(), '');
  // Refreshed by itself: uptime moves on.
  const up1 = await page.locator('#h-uptime').innerText();
  await page.waitForFunction((u) => document.querySelector('#h-uptime').textContent !== u, up1, { timeout: 10000 });
  await page.getByRole('heading', { name: 'Storage' }).waitFor();
  await page.getByRole('heading', { name: 'Bus' }).waitFor();
  assert.deepEqual(problems, []);
});

test('log lines arrive live; pause holds them back, resume shows them; the level filter hides lower levels', async () => {
  const lines = page.locator('.log-lines > li');
  await page.locator('.log-summary', { hasText: 'Following' }).waitFor();
  const before = await lines.count();
  await refusedConnection();
  await page.waitForFunction((n) => document.querySelectorAll('.log-lines > li').length > n, before, { timeout: 10000 });

  await page.getByRole('button', { name: 'Pause' }).click();
  const paused = await lines.count();
  await refusedConnection();
  await page.locator('.log-summary', { hasText: /Paused: [1-9]\d* new line/ }).waitFor({ timeout: 10000 });
  assert.equal(await lines.count(), paused, 'nothing added while paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('.log-lines > li').length > n, paused);

  await page.getByLabel('Level').selectOption('error');
  const levels = await page.locator('.log-lines .log-level').allInnerTexts();
  assert.ok(levels.every((l) => /error|critical/i.test(l)), `only errors shown: ${levels}`);
  await page.getByLabel('Level').selectOption('debug');
  assert.ok((await lines.count()) > 0);
  await shootAll(page, 'health', () => page.getByRole('heading', { name: 'Plugin instances' }).waitFor());
  assert.deepEqual(problems, []);
});

test('someone who is not a gateway administrator is told who sees health and how to become one', async () => {
  const { context, page: p, problems: probs } = await newPage(browser);
  try {
    await signInByLink(gw, p, 'bob');
    await p.goto(`${gw.url}/#/health`);
    const card = p.locator('.not-admin');
    await card.getByRole('heading', { name: 'Only gateway administrators see health' }).waitFor();
    assert.match(await card.innerText(), /vespid user gateway-admin bob/);
    assert.equal(await p.locator('table.instances').count(), 0);
    assert.equal(await p.locator('.log-lines').count(), 0);
    assert.deepEqual(probs, []);
  } finally {
    await context.close();
  }
});
