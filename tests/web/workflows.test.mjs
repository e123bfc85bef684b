// Workflows: list, Run now with JSON input (checked), a run's timeline following live to
// succeeded (a real vespid-worker and a real vespid-agent node host with the echo engine),
// cancel, runs newest first with load more; screenshots.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startGateway, BIN, REPO, killGroup } from './support/gateway.mjs';
import { launch, newPage } from './support/browser.mjs';
import { orgWithOwner, signInByLink } from './support/setup.mjs';
import { shootAll } from './support/shots.mjs';

// The gateway reads internal.token from this; the worker presents it.
process.env.VESPID_INTERNAL_TOKEN = randomBytes(24).toString('hex');

let gw;
let browser;
let page;
let problems;
let worker;
let wfId;
let api;

function startWorker() {
  const c = spawn(path.join(BIN, 'vespid-worker'), ['--gateway', api, '--id', 'w1', '--log-level', 'warn'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  c.stdout.on('data', (d) => gw.logs.push(`[worker] ${d}`));
  c.stderr.on('data', (d) => gw.logs.push(`[worker] ${d}`));
  return c;
}

before(async () => {
  gw = await startGateway();
  api = `http://127.0.0.1:${gw.apiPort}`;
  browser = await launch();
  await orgWithOwner(gw, 'acme', 'alice');
  // A node host for the agent.run step.
  const pairing = (await gw.cli(['agents', 'pairing-token', '--org', 'acme'])).trim();
  await gw.agent(['connect', '--pairing-token', pairing, '--api', api]);
  gw.spawnAgent(['start']);
  // The demo workflow, created and published with the CLI as alice.
  const token = (await gw.cli(['token', 'create', '--user', 'alice', '--org', 'acme'])).trim();
  const net = ['--api', api, '--org', 'acme', '--token', token];
  wfId = (await gw.cli(['workflow', 'create', ...net, '--name', 'demo greeting', '--spec', path.join(REPO, 'etc/examples/demo-workflow.json')])).trim().split('\n').pop();
  assert.match(wfId, /^[0-9a-f-]{36}$/);
  await gw.cli(['workflow', 'publish', ...net, wfId]);
  await gw.cli(['workflow', 'create', ...net, '--name', 'still a draft', '--spec', path.join(REPO, 'etc/examples/demo-workflow.json')]);
  worker = startWorker();
  ({ page, problems } = await newPage(browser));
  await signInByLink(gw, page, 'alice');
});

after(async () => {
  if (worker) await killGroup(worker);
  if (browser) await browser.close();
  if (gw) await gw.stop();
});

test('the list shows both workflows with their status', async () => {
  await page.goto(`${gw.url}/#/workflows`);
  const list = page.getByRole('list', { name: 'Workflows' });
  await list.getByText('demo greeting').waitFor();
  const text = await list.innerText();
  assert.match(text, /demo greeting\s+published/);
  assert.match(text, /still a draft\s+draft/);
  await shootAll(page, 'workflows', () => list.getByText('demo greeting').waitFor());
  assert.deepEqual(problems, []);
});

test('a draft cannot be run, and says how to publish it', async () => {
  await page.getByRole('link', { name: /still a draft/ }).click();
  await page.getByRole('heading', { name: 'still a draft' }).waitFor();
  assert.match(await page.locator('.run-now').innerText(), /vespid workflow publish/);
  assert.equal(await page.getByRole('button', { name: 'Run now' }).isDisabled(), true);
});

test('Run now checks the JSON input, then the timeline follows the run to succeeded', async () => {
  await page.goto(`${gw.url}/#/workflows/${wfId}`);
  await page.getByRole('heading', { name: 'demo greeting' }).waitFor();
  const input = page.getByLabel('Input (JSON object, optional)');
  const run = page.getByRole('button', { name: 'Run now' });
  await input.fill('{"greet": true,');
  await page.locator('.field-error', { hasText: 'Not valid JSON' }).waitFor();
  assert.equal(await run.isDisabled(), true);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await input.fill('[1, 2]');
  await page.locator('.field-error', { hasText: 'must be a JSON object' }).waitFor();
  await input.fill('{"greet": true, "message": "hello from the web"}');
  assert.equal(await run.isDisabled(), false);
  await run.click();

  await page.waitForURL(/\?run=[0-9a-f-]{36}$/);
  const timeline = page.locator('.run-timeline');
  await timeline.waitFor();
  // Seen live: an event of the run in progress before the end (the worker stores them one by one).
  await timeline.locator('.run-status.succeeded').waitFor({ timeout: 30000 });
  const types = await timeline.locator('.ev-type').allInnerTexts();
  for (const t of ['run_queued', 'run_claimed', 'run_started', 'node_dispatched', 'node_succeeded', 'run_succeeded']) {
    assert.ok(types.includes(t), `timeline lacks ${t}: ${types}`);
  }
  assert.equal(types[0], 'run_queued');
  assert.equal(types[types.length - 1], 'run_succeeded');
  const seqs = (await timeline.locator('.run-event').evaluateAll((els) => els.map((e) => Number(e.dataset.seq))));
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'every event once, in order');
  assert.match(await timeline.innerText(), /hello from the web/);
  await page.locator('.follow-line', { hasText: 'The run has ended' }).waitFor();
  // The runs list has it first, succeeded, and it is the current one.
  const first = page.getByRole('list', { name: 'Runs, newest first' }).locator('li').first();
  await first.locator('.run-status.succeeded').waitFor();
  assert.equal(await first.locator('a').getAttribute('aria-current'), 'true');
  assert.equal(await page.getByRole('button', { name: 'Cancel run' }).count(), 0);
  await shootAll(page, 'workflow', () => timeline.locator('.run-status.succeeded').waitFor());
  // A reload shows the same run from the address.
  await page.reload();
  await page.locator('.run-timeline .run-status.succeeded').waitFor();
  // The run's record (its status) comes before its events: wait for the timeline to fill, and
  // then it must hold every event exactly once.
  await page.waitForFunction((n) => document.querySelectorAll('.run-timeline .run-event').length >= n,
    seqs.length, { timeout: 15000 });
  assert.equal(await page.locator('.run-timeline .run-event').count(), seqs.length);
  assert.deepEqual(problems, []);
});

test('without a worker a run does not end by itself and can be canceled', async () => {
  await killGroup(worker);
  worker = null;
  await page.getByLabel('Input (JSON object, optional)').fill('');
  await page.getByRole('button', { name: 'Run now' }).click();
  const timeline = page.locator('.run-timeline');
  // Queued, or claimed by the long-poll the stopped worker left behind (the gateway hands it the
  // run; its lease then lapses): either way it has not ended and can be canceled.
  await timeline.locator('.run-status.queued, .run-status.running').waitFor();
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await timeline.locator('.run-status.canceled').waitFor({ timeout: 15000 });
  await timeline.locator('.ev-type', { hasText: 'run_canceled' }).waitFor({ timeout: 15000 });
  assert.equal(await page.getByRole('button', { name: 'Cancel run' }).count(), 0);
  const statuses = await page.getByRole('list', { name: 'Runs, newest first' }).locator('.run-status').allInnerTexts();
  assert.deepEqual(statuses.slice(0, 2), ['canceled', 'succeeded']);
});

test('runs are listed newest first, 20 at a time, with load more', async () => {
  const ids = await page.evaluate(async (wf) => {
    const org = (await (await fetch('/v1/web/session')).json()).orgs[0].id;
    const out = [];
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`/v1/orgs/${org}/workflows/${wf}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: { greet: false, n: i } }) });
      out.push((await r.json()).run.id);
    }
    return out;
  }, wfId);
  await page.goto(`${gw.url}/#/workflows/${wfId}`);
  await page.reload();
  const runs = page.getByRole('list', { name: 'Runs, newest first' }).locator('li');
  await page.getByRole('button', { name: 'Load more' }).waitFor();
  assert.equal(await runs.count(), 20);
  const firstHref = await runs.first().locator('a').getAttribute('href');
  assert.ok(firstHref.endsWith(ids[19]), 'the newest run first');
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.run-list li').length === 22);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).count(), 0);
  assert.deepEqual(problems, []);
});
