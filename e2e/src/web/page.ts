// Small steps on the monitor page shared by its browser tests.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/**
 * Polls `expression` in the page until it is truthy. (page.waitForFunction would evaluate it with
 * eval inside the page, which the page's CSP rightly forbids.)
 */
export async function until(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) assert.fail(`not true in the page within ${timeoutMs} ms: ${expression}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The toolbar button of an action (Add, Alias, Edit, ...). */
export function actionButton(page: Page, label: string) {
  return page.getByRole('navigation', { name: 'Actions' }).getByRole('button', { name: label, exact: true });
}

/** Clicks a toolbar action. */
export async function action(page: Page, label: string): Promise<void> {
  await actionButton(page, label).click();
}
