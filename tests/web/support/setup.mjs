// Shared steps: an org with an owner, signed in through the page by a one-time link.
import assert from 'node:assert/strict';

export async function orgWithOwner(gw, org, user) {
  await gw.cli(['org', 'create', org]);
  await gw.cli(['user', 'create', user, '--org', org, '--role', 'owner']);
}

/** Opens a fresh sign-in link for `user` in `page` and waits until the app shows the user. */
export async function signInByLink(gw, page, user) {
  const link = await gw.webLogin(user);
  assert.match(link, /#login=vwl_/);
  await page.goto(link);
  await page.locator('.user-name', { hasText: user }).waitFor();
  return link;
}

/** On the sessions page: waits for the list to load, then makes sure the create form is open. */
export async function openCreateForm(page) {
  await page.locator('[role=status]', { hasText: 'sessions shown' }).waitFor();
  const title = page.getByLabel('Title', { exact: true });
  if (!(await title.isVisible())) await page.locator('summary', { hasText: 'New session' }).click();
  await title.waitFor();
}

/** Creates a session through the page's form; returns its URL (the chat view). */
export async function createSession(page, title) {
  await openCreateForm(page);
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByRole('button', { name: 'Create session' }).click();
  await page.waitForURL(/#\/sessions\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name: title }).waitFor();
  return page.url();
}
