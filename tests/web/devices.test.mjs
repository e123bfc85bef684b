// Devices: a real node host turning online with its reason; rename and tags that persist (the
// CLI sees them); a bridge.v1 test node's pairing request appearing live for a gateway
// administrator, approved into the org and then connected; a rejected one; revoke and remove;
// a plain member sees no pending panel and no edit buttons; another org's owner sees none of it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner, signInByLink } from './support/setup.mjs';
import { BridgeNode } from './support/bridge-node.mjs';
import { shootAll } from './support/shots.mjs';

let gw;
let browser;
let page;
let problems;
const bridges = [];

async function cliNodes(org) {
  return JSON.parse(await gw.cli(['--json', 'nodes', 'list', '--org', org])).nodes;
}

async function bridge(nodeId, displayName) {
  const b = await BridgeNode.connect(gw.bridgePort, { nodeId, displayName, platform: 'iOS 18.1', version: '2.4.0' });
  bridges.push(b);
  return b;
}

before(async () => {
  gw = await startGateway();
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  await gw.cli(['user', 'create', 'bob', '--org', 'acme', '--role', 'member']);
  await orgWithOwner(gw, 'globex', 'carol');
  await gw.cli(['user', 'gateway-admin', 'alice']);
  ({ page, problems } = await newPage(browser));
  await signInByLink(gw, page, 'alice');
});

after(async () => {
  bridges.forEach((b) => b.close());
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

const row = (name) => page.locator('.device-list > li.device', { has: page.getByRole('heading', { name, exact: true }) });

test('a real node host shows online with its reason, live, without a reload', async () => {
  await page.goto(`${gw.url}/#/devices`);
  await page.getByRole('heading', { name: 'Devices', level: 1 }).waitFor();
  await page.locator('.live-line .status.open').waitFor();
  // No node host yet: the onboarding card, and the pending panel for a gateway admin.
  await page.locator('.onboarding').getByRole('heading', { name: 'Connect a node host' }).waitFor();
  await page.getByRole('heading', { name: /Pending pairing requests/ }).waitFor();
  await page.locator('.pending-requests .empty').waitFor();

  const pairing = (await gw.cli(['agents', 'pairing-token', '--org', 'acme'])).trim();
  await gw.agent(['connect', '--pairing-token', pairing, '--api', gw.url, '--name', 'lab-box']);
  gw.spawnAgent(['start']);
  const r = row('lab-box');
  await r.locator('.status.online').waitFor({ timeout: 15000 });
  assert.match(await r.locator('.kind-badge').innerText(), /node host/);
  const reason = (await r.locator('.device-reason').innerText()).trim();
  assert.ok(reason.length > 10, `a reason is shown: "${reason}"`);
  assert.doesNotMatch(reason, /Not connected|Never seen/);
  // The card turned green by itself.
  await page.locator('.onboarding.connected').waitFor({ timeout: 15000 });
  assert.deepEqual(problems, []);
});

test('rename and tags persist (the CLI sees them, and a reload shows them)', async () => {
  const r = row('lab-box');
  await r.getByRole('button', { name: 'Rename lab-box' }).click();
  await r.getByLabel('New name').fill('build-server');
  await r.getByRole('button', { name: 'Save name' }).click();
  const r2 = row('build-server');
  await r2.waitFor();
  await r2.getByRole('button', { name: 'Edit tags of build-server' }).click();
  await r2.getByLabel(/^Tags, separated by spaces/).fill('gpu  group:eu gpu');
  await r2.getByRole('button', { name: 'Save tags' }).click();
  await r2.locator('.tag-list .tag', { hasText: 'group:eu' }).waitFor();
  assert.deepEqual((await r2.locator('.tag-list .tag').allInnerTexts()).sort(), ['gpu', 'group:eu']);

  const n = (await cliNodes('acme')).find((x) => x.kind === 'agent');
  assert.equal(n.displayName, 'build-server');
  assert.deepEqual([...n.tags].sort(), ['gpu', 'group:eu']);

  await page.reload();
  await row('build-server').locator('.status.online').waitFor();
  assert.deepEqual((await row('build-server').locator('.tag-list .tag').allInnerTexts()).sort(), ['gpu', 'group:eu']);
});

test('a bridge node asks to pair: the request appears live, approve into acme, it shows connected', async () => {
  const b = await bridge('ios-7d1e', 'Kitchen iPad');
  b.pairRequest();
  const req = page.locator('.request-list > li.request', { hasText: 'Kitchen iPad' });
  await req.locator('.status.waiting').waitFor({ timeout: 10000 });
  const state = await req.locator('.request-state').innerText();
  assert.match(state, /expires in/);
  assert.match(await req.innerText(), /camera\.snap/);
  assert.match(await req.innerText(), /iOS 18\.1/);
  await shootAll(page, 'devices', () => req.waitFor());

  await req.getByRole('button', { name: 'Approve Kitchen iPad into acme' }).click();
  await req.locator('.status.approved').waitFor();
  assert.match(await req.locator('.request-state').innerText(), /Approved .*acme/s);
  // The node itself got its token and hello-ok on the socket it waited on.
  const ok = await b.waitFor((f) => f.type === 'pair-ok');
  assert.ok(ok.token);
  await b.waitFor((f) => f.type === 'hello-ok');
  const r = row('Kitchen iPad');
  await r.locator('.status.online').waitFor({ timeout: 10000 });
  assert.match(await r.locator('.kind-badge').innerText(), /bridge node/);
  assert.match(await r.innerText(), /iOS 18\.1/);
  const n = (await cliNodes('acme')).find((x) => x.nodeId === 'ios-7d1e');
  assert.equal(n.status, 'online');
  assert.deepEqual(problems, []);
});

test('a rejected request says so, and the node is told', async () => {
  const b = await bridge('android-55', 'Hall tablet');
  b.pairRequest();
  const req = page.locator('.request-list > li.request', { hasText: 'Hall tablet' });
  await req.locator('.status.waiting').waitFor({ timeout: 10000 });
  await req.getByRole('button', { name: 'Reject Hall tablet' }).click();
  await req.locator('.status.rejected').waitFor();
  assert.match(await req.locator('.request-state').innerText(), /Rejected/);
  const err = await b.waitFor((f) => f.type === 'error');
  assert.equal(err.code, 'UNAUTHORIZED');
  assert.equal(await row('Hall tablet').count(), 0);
  assert.ok(!(await cliNodes('acme')).some((x) => x.nodeId === 'android-55'));
});

test('revoke, then remove a device', async () => {
  const r = row('Kitchen iPad');
  await r.getByRole('button', { name: 'Revoke Kitchen iPad' }).click();
  await r.getByRole('button', { name: 'Yes, revoke' }).click();
  await r.locator('.status.revoked').waitFor({ timeout: 10000 });
  assert.equal((await cliNodes('acme')).find((x) => x.nodeId === 'ios-7d1e').status, 'revoked');
  await r.getByRole('button', { name: 'Remove Kitchen iPad' }).click();
  await r.getByRole('button', { name: 'Yes, remove' }).click();
  await r.waitFor({ state: 'detached', timeout: 10000 });
  assert.ok(!(await cliNodes('acme')).some((x) => x.nodeId === 'ios-7d1e'));
  assert.deepEqual(problems, []);
});

test('a plain member sees the devices but no pending panel and no edit buttons', async () => {
  const b = await bridge('mac-01', 'Studio Mac');
  b.pairRequest();
  const { context, page: p, problems: probs } = await newPage(browser);
  try {
    await signInByLink(gw, p, 'bob');
    await p.goto(`${gw.url}/#/devices`);
    await p.locator('.device-list > li.device', { hasText: 'build-server' }).locator('.status.online').waitFor();
    await p.locator('.member-note').waitFor();
    assert.equal(await p.getByRole('heading', { name: /Pending pairing requests/ }).count(), 0);
    assert.equal(await p.getByText('Studio Mac').count(), 0);
    for (const name of ['Rename', 'Revoke', 'Remove', 'Edit tags']) {
      assert.equal(await p.getByRole('button', { name: new RegExp(`^${name}`) }).count(), 0, `no ${name} button`);
    }
    assert.deepEqual(probs, []);
  } finally {
    await context.close();
  }
});

test('an owner of another org sees none of it', async () => {
  const { context, page: p, problems: probs } = await newPage(browser);
  try {
    await signInByLink(gw, p, 'carol');
    await p.goto(`${gw.url}/#/devices`);
    await p.locator('.device-section .empty').waitFor();
    const text = await p.locator('main').innerText();
    for (const s of ['build-server', 'Studio Mac', 'Kitchen iPad', 'Hall tablet', 'ios-7d1e', 'mac-01']) {
      assert.ok(!text.includes(s), `carol must not see ${s}`);
    }
    assert.equal(await p.locator('.device-list > li').count(), 0);
    assert.equal(await p.locator('.request-list > li').count(), 0);
    // Her org has no node host: the onboarding card.
    await p.locator('.onboarding').getByRole('heading', { name: 'Connect a node host' }).waitFor();
    assert.deepEqual(probs, []);
  } finally {
    await context.close();
  }
});
