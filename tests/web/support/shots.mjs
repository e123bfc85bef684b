// Screenshots of one page at desktop and phone width, light and dark:
// <name>-<desktop|phone>-<light|dark>.png in $VESPID_WEB_SCREENSHOTS (or a temp dir), whole
// pages as screenshots.test.mjs takes them; a page wider than the screen fails.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { screenshotDir } from './browser.mjs';

export const VIEWS = [
  { size: 'desktop', width: 1280, height: 800 },
  { size: 'phone', width: 390, height: 844 },
];

/**
 * Shoots `page` as it is now in the four variants, then restores 1280x800 light. `ready` (an
 * async fn) runs after each change, e.g. to wait for a locator. Returns the file paths.
 */
export async function shootAll(page, name, ready) {
  const dir = await screenshotDir();
  await mkdir(dir, { recursive: true });
  const files = [];
  for (const v of VIEWS) {
    for (const scheme of ['light', 'dark']) {
      await page.setViewportSize({ width: v.width, height: v.height });
      await page.emulateMedia({ colorScheme: scheme });
      if (ready) await ready();
      await page.waitForTimeout(150);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (overflow > 0) throw new Error(`${name} is ${overflow}px wider than the ${v.size} screen (${scheme})`);
      const file = path.join(dir, `${name}-${v.size}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      files.push(file);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.emulateMedia({ colorScheme: 'light' });
  return files;
}
