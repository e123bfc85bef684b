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
