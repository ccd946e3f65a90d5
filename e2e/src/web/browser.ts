// Debian's Chromium, driven by playwright-core: headless, no sandbox (CI runs as root), no
// background networking. The page must talk only to the name server on loopback.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../harness/index.js';

/** Where the browser is; .ci/run installs Debian's `chromium` package when it is missing. */
export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots of the main states, kept as test artifacts. */
export const ARTIFACTS = join(REPO_ROOT, 'e2e/artifacts/web');

/** Bundles the page from packages/web/src, as `pnpm build` does: the page under test is the one in src. */
export function bundlePage(): void {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'packages/web/scripts/bundle.mjs')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `bundling the page failed:\n${r.stdout}${r.stderr}`);
}

/** Starts Chromium, or fails saying how to install it: a missing browser is an error, never a skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the monitor page's browser tests need Debian's Chromium (apt-get install -y chromium; .ci/run installs it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking'],
  });
}

/** Saves a full-page screenshot as e2e/artifacts/web/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** What a page did that a test should fail on: script errors, CSP violations, requests elsewhere. */
export interface PageWatch {
  errors: string[];
  /** Every URL the page asked for, WebSockets included. */
  urls: string[];
}

export function watchPage(page: Page): PageWatch {
  const w: PageWatch = { errors: [], urls: [] };
  page.on('pageerror', (e) => w.errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') w.errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => w.urls.push(r.url()));
  page.on('websocket', (ws) => w.urls.push(ws.url()));
  return w;
}
