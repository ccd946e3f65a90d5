// The monitor page's accessibility, in a real browser (Debian's Chromium through playwright-core)
// against a real name server and launch agent on loopback:
// - axe-core finds nothing critical or serious in any state of the page: loading, the list, an
//   entry of each state selected, focused and hovered, no match, a refused pattern, each dialog,
//   read-only and admin, the agents panel, and 420 px wide (the servers panel: web.test.ts);
// - the table says it is loading until the first entries arrive, and then that none match;
// - dialogs from the keyboard: focus moves in, Tab stays in, Escape closes, focus goes back;
// - the table's headers sit over their columns, and 420 px wide every column scrolls into view
//   (with the keyboard too) without the page itself overflowing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, startAgentProcess, startServerProcess, teardown, type ServerProcess } from './harness/index.js';
import { assertAccessible, axeContextOptions } from './web/axe.js';
import { bundlePage, launchChromium, screenshot, watchPage, type PageWatch } from './web/browser.js';
import { RawAdmin } from './web/bulk.js';
import { action, actionButton, until } from './web/page.js';

const ROW = (name: string) => `.grid [data-name="${name}"]`;
/** One entry in each state the page draws differently, in the table's (name) order. */
const ENTRIES = {
  alias: '/a11y/alias',
  failed: '/a11y/failed',
  lost: '/a11y/lost',
  registered: '/a11y/registered',
  running: '/a11y/running',
  starting: '/a11y/starting',
} as const;
const NAMES = Object.values(ENTRIES);

let browser: Browser;
let ns: ServerProcess;
/** The process of /a11y/starting, which never advertises: ended at the end. */
let startingPid: number | undefined;

before(async () => {
  bundlePage();
  browser = await launchChromium();
  const agentPort = await freePort();
  ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { sleep: '/bin/sleep' }, port: agentPort, enroll: { url: ns.url, token: ns.token } });
  const admin = await RawAdmin.connect(ns.url, ns.token);
  await admin.advertiseStatic([ENTRIES.running], '10.0.0.1', 80);
  await admin.call('reportLoad', { name: ENTRIES.running, load: 0.42 });
  await admin.call('register.alias', { name: ENTRIES.alias, target: ENTRIES.running });
  await admin.call('register.add', { name: ENTRIES.registered, spec: { host: '127.0.0.1', program: 'sleep', args: ['1'], env: {}, startTimeoutMs: 10_000 } });
  // No agent is enrolled for 10.9.9.9: the launch fails at once, and the entry is `failed`.
  await admin.call('register.add', { name: ENTRIES.failed, spec: { host: '10.9.9.9', program: 'sleep', args: ['1'], env: {}, startTimeoutMs: 10_000 } });
  await assert.rejects(admin.call('launchService', { name: ENTRIES.failed }), /no launch agent is enrolled for 10\.9\.9\.9/);
  // A service that never advertises stays `starting` for its start timeout; its launch call is
  // answered only then, on a connection of its own that the teardown closes.
  await admin.call('register.add', { name: ENTRIES.starting, spec: { host: '127.0.0.1', program: 'sleep', args: ['600'], env: {}, startTimeoutMs: 600_000 } });
  const launcher = await RawAdmin.connect(ns.url, ns.token);
  launcher.call('launchService', { name: ENTRIES.starting }).catch(() => undefined);
  // An advertisement whose connection ends is `lost`.
  const advertiser = await RawAdmin.connect(ns.url, ns.token);
  await advertiser.call('advertiseService', { name: ENTRIES.lost, host: '10.0.0.2', port: 81 });
  advertiser.close();
  const deadline = Date.now() + 15_000;
  for (;;) {
    const r = (await admin.call('serviceState', { pattern: '/a11y/*' })) as { entries: { name: string; state?: string; pid?: number }[] };
    const state = (name: string) => r.entries.find((e) => e.name === name);
    startingPid = state(ENTRIES.starting)?.pid;
    if (state(ENTRIES.starting)?.state === 'starting' && startingPid !== undefined && state(ENTRIES.lost)?.state === 'lost') break;
    assert.ok(Date.now() < deadline, `the entries did not reach their states: ${JSON.stringify(r.entries)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
  admin.close();
});

after(async () => {
  await browser?.close();
  if (startingPid !== undefined) {
    try {
      process.kill(-startingPid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await teardown();
});

/** A context at `width` × 800; `axe` lets axe's script in past the page's CSP. */
async function newContext(width: number, axe: boolean): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width, height: 800 }, ...(axe ? axeContextOptions : {}) });
}

/** Opens the page and waits until its table shows `/a11y/*`. */
async function openPage(context: BrowserContext): Promise<{ page: Page; watch: PageWatch }> {
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${ns.port}/#/a11y/*`);
  await page.waitForSelector('[data-testid=count][data-pattern="/a11y/*"]');
  return { page, watch };
}

/** What has the focus: `dialog`, `grid`, `none`, a field's name or a button's label; `inDialog` says whether it is in an open dialog. */
async function focused(page: Page): Promise<{ what: string; inDialog: boolean }> {
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    const what = el === null || el === document.body ? 'none' : el.tagName === 'DIALOG' ? 'dialog' : el.getAttribute('role') === 'grid' ? 'grid'
      : el.getAttribute('name') ?? el.textContent.trim();
    return { what, inDialog: el !== null && el.closest('dialog[open]') !== null };
  })()`)) as { what: string; inDialog: boolean };
}

test('axe finds nothing critical or serious in any state of the page', { timeout: 180_000 }, async () => {
  const context = await newContext(1280, true);
  // The answers to `watch` are held back until released, to see the page before its first data.
  let held: (() => void)[] | undefined = [];
  const release = () => {
    const queued = held ?? [];
    held = undefined;
    for (const send of queued) send();
  };
  await context.routeWebSocket(/.*/, (ws) => {
    const server = ws.connectToServer();
    const watches = new Set<unknown>();
    ws.onMessage((m) => {
      const msg = typeof m === 'string' ? (JSON.parse(m) as { id?: unknown; method?: string }) : {};
      if (msg.method === 'watch') watches.add(msg.id);
      server.send(m);
    });
    server.onMessage((m) => {
      const msg = typeof m === 'string' ? (JSON.parse(m) as { id?: unknown }) : {};
      if (held !== undefined && watches.has(msg.id)) held.push(() => ws.send(m));
      else ws.send(m);
    });
  });
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${ns.port}/#/a11y/*`);
  await page.waitForSelector('[data-testid=link-state][data-state=open]');

  // Before the first answer: loading, not "no entries".
  const status = page.getByTestId('table-status');
  await page.waitForSelector('[data-testid=table-status][data-status=loading]');
  assert.equal(await status.innerText(), 'Loading entries…');
  assert.equal(await page.getByRole('grid').getAttribute('aria-busy'), 'true');
  await assertAccessible(page, 'while the table is loading');
  release();
  await page.waitForSelector('[data-testid=count][data-pattern="/a11y/*"]');
  assert.equal(await status.getAttribute('data-status'), 'rows');
  assert.equal(await status.innerText(), '');
  assert.equal(await page.getByRole('grid').getAttribute('aria-busy'), 'false');
  for (const name of NAMES) await page.waitForSelector(ROW(name));
  await page.locator('section.agents tr[data-host="127.0.0.1"]').waitFor();
  await assertAccessible(page, 'with the list and the agents panel, read-only');

  // Each entry selected, first by a click and then by the keyboard (the table focused), with the
  // next row hovered: every state's colour on every row background.
  await page.click(ROW(ENTRIES.alias));
  await page.waitForSelector(`${ROW(ENTRIES.alias)}[aria-selected=true]`);
  for (const [i, name] of NAMES.entries()) {
    if (i > 0) await page.keyboard.press('ArrowDown');
    await page.waitForSelector(`${ROW(name)}[aria-selected=true]`);
    assert.equal(await page.getByRole('grid').getAttribute('aria-activedescendant'), await page.locator(ROW(name)).getAttribute('id'));
    await page.hover(ROW(NAMES[(i + 1) % NAMES.length] ?? name));
    await assertAccessible(page, `with ${name} selected and the table focused`);
  }
  await screenshot(page, 'a11y-01-states');

  // A refused pattern is named by the filter box's description; no match says so.
  await page.fill('input[name=pattern]', '/a11y/[');
  await page.locator('#filter-error').getByText(/^INVALID_PATTERN: /).waitFor();
  assert.equal(await page.locator('input[name=pattern]').getAttribute('aria-describedby'), 'filter-error');
  assert.equal(await page.locator('input[name=pattern]').getAttribute('aria-invalid'), 'true');
  await assertAccessible(page, 'with a refused pattern');
  await page.fill('input[name=pattern]', '/none/*');
  await page.waitForSelector('[data-testid=table-status][data-status=empty]');
  assert.equal(await status.innerText(), 'No entries match /none/*.');
  assert.equal(await page.locator('input[name=pattern]').getAttribute('aria-describedby'), null);
  await assertAccessible(page, 'with no entry matching');
  await page.fill('input[name=pattern]', '/a11y/*');
  await page.waitForSelector('[data-testid=count][data-pattern="/a11y/*"]');

  // Each dialog, read-only (with its admin token field).
  await page.click(ROW(ENTRIES.registered));
  for (const label of ['Add', 'Alias', 'Edit', 'Delete', 'Info', 'Reset', 'Kill']) {
    await action(page, label);
    await page.getByRole('dialog').waitFor();
    await assertAccessible(page, `with the ${label} dialog open, read-only`);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  // A launch refused: a notice in red.
  await page.click(ROW(ENTRIES.running));
  await action(page, 'Launch');
  await page.getByTestId('notices').locator('li.failed').waitFor();

  // Logged in (through Info), the dialogs without a token field, and the header's admin marks.
  await action(page, 'Info');
  await page.getByRole('dialog').locator('input[name=token]').fill(ns.token);
  await page.getByRole('dialog').getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('info').waitFor();
  await assertAccessible(page, 'with the Info dialog showing an entry, admin');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('admin').textContent(), 'admin');
  await page.click(ROW(ENTRIES.registered));
  for (const label of ['Edit', 'Kill']) {
    await action(page, label);
    await page.getByRole('dialog').waitFor();
    if (label === 'Edit') await until(page, `document.querySelector('textarea[name=args]')?.value === '1'`);
    await assertAccessible(page, `with the ${label} dialog open, admin`);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
  }
  await page.getByRole('button', { name: 'Forget token' }).click();
  await page.getByTestId('notices').getByText('admin token forgotten').waitFor();
  await assertAccessible(page, 'logged in, with notices');

  // 420 px wide: the page, the table scrolled to either end, and a dialog.
  await page.setViewportSize({ width: 420, height: 800 });
  await until(page, 'window.innerWidth === 420');
  await assertAccessible(page, '420 px wide');
  await page.evaluate(`document.querySelector('.grid').scrollLeft = 1e6`);
  await assertAccessible(page, '420 px wide, the table scrolled to its right end');
  await page.evaluate(`document.querySelector('section.agents').scrollLeft = 1e6`);
  await assertAccessible(page, '420 px wide, the agents panel scrolled to its right end');
  await screenshot(page, 'a11y-02-narrow');
  await action(page, 'Add');
  await page.getByRole('dialog').waitFor();
  await assertAccessible(page, '420 px wide, the Add dialog open');
  await page.keyboard.press('Escape');
  assert.deepEqual(watch.errors, []);
  await context.close();
});

test('dialogs from the keyboard: focus moves in, Tab stays in, Escape closes, focus goes back', { timeout: 120_000 }, async () => {
  const context = await newContext(1280, false);
  const { page, watch } = await openPage(context);
  await page.click(ROW(ENTRIES.registered));
  // The first field of each dialog, read-only (where an admin action asks for the token).
  const firstField: Record<string, string> = { Add: 'name', Alias: 'alias', Edit: 'host', Delete: 'token', Info: 'token', Reset: 'token', Kill: 'token' };
  for (const [label, field] of Object.entries(firstField)) {
    await actionButton(page, label).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    assert.deepEqual(await focused(page), { what: field, inDialog: true }, `${label}: focus on open`);
    // Tab goes round the dialog's controls and comes back to the first, never leaving it.
    const seen: string[] = [];
    for (;;) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      assert.ok(f.inDialog, `${label}: Tab left the dialog for ${f.what} after ${seen.join(', ')}`);
      if (f.what === field) break;
      seen.push(f.what);
      assert.ok(seen.length < 20, `${label}: Tab never came back to ${field}: ${seen.join(', ')}`);
    }
    assert.equal(seen.at(-1), label === 'Info' ? 'Show' : label === 'Edit' ? 'Save' : label, `${label}: the last control is the main button`);
    // Shift+Tab from the first control goes to the last.
    await page.keyboard.press('Shift+Tab');
    assert.deepEqual(await focused(page), { what: seen.at(-1), inDialog: true }, `${label}: Shift+Tab from the first control`);
    // The page behind is inert while the dialog is open.
    await assert.rejects(page.locator('input[name=pattern]').click({ timeout: 500 }));
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(await focused(page), { what: label, inDialog: false }, `${label}: focus after Escape`);
  }

  // Enter on the table opens Info on the selected row; Escape comes back to the table. Logged in,
  // Info has no field: the dialog itself takes the focus, and Tab still goes round inside it.
  await page.click(ROW(ENTRIES.running));
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  assert.deepEqual(await focused(page), { what: 'token', inDialog: true });
  await page.keyboard.type(ns.token);
  await page.keyboard.press('Enter');
  await page.getByTestId('info').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.deepEqual(await focused(page), { what: 'grid', inDialog: false });
  await page.keyboard.press('Enter');
  await page.getByTestId('info').waitFor();
  assert.deepEqual(await focused(page), { what: 'dialog', inDialog: true });
  await page.keyboard.press('Tab');
  assert.deepEqual(await focused(page), { what: 'Cancel', inDialog: true });
  await page.keyboard.press('Tab');
  assert.deepEqual(await focused(page), { what: 'Refresh', inDialog: true });
  await page.keyboard.press('Tab');
  assert.deepEqual(await focused(page), { what: 'Cancel', inDialog: true });
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  assert.deepEqual(await focused(page), { what: 'grid', inDialog: false });
  // The arrow keys still move the selection: focus is back where it was.
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector(`${ROW(ENTRIES.starting)}[aria-selected=true]`);
  assert.deepEqual(watch.errors, []);
  await context.close();
});

/** Where each column's header and the cell of `name` in that column are, in px of the window. */
async function columnBoxes(page: Page, name: string): Promise<{ column: string; head: number[]; cell: number[] }[]> {
  return (await page.evaluate(`(() => {
    const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
    const row = document.querySelector(${JSON.stringify(ROW(name))});
    return [...document.querySelectorAll('.grid .head [role=columnheader]')].map((h) => ({
      column: h.textContent, head: box(h), cell: box(row.children[[...h.parentNode.children].indexOf(h)]),
    }));
  })()`)) as { column: string; head: number[]; cell: number[] }[];
}

/** Resolves once the grid's sideways scrolling (animated, from the keyboard) has stopped. */
const SCROLL_SETTLED = `new Promise((resolve) => {
  const grid = document.querySelector('.grid');
  let last = -1;
  const frame = () => {
    if (grid.scrollLeft === last) return resolve(last);
    last = grid.scrollLeft;
    requestAnimationFrame(() => requestAnimationFrame(frame));
  };
  frame();
})`;

async function assertHeadersAligned(page: Page, where: string): Promise<void> {
  for (const c of await columnBoxes(page, ENTRIES.running)) {
    const [hl = NaN, hr = NaN] = c.head;
    const [cl = NaN, cr = NaN] = c.cell;
    assert.ok(Math.abs(hl - cl) < 0.5 && Math.abs(hr - cr) < 0.5, `${where}: the ${c.column} header spans ${hl}-${hr}, its column ${cl}-${cr}`);
  }
}

test('the table: headers over their columns, and 420 px wide every column scrolls into view', { timeout: 60_000 }, async () => {
  const context = await newContext(1280, false);
  const { page, watch } = await openPage(context);
  await page.waitForSelector(ROW(ENTRIES.running));
  await assertHeadersAligned(page, '1280 px');
  // "Load" (right-aligned) and "Alias target" (left-aligned) do not run together.
  const gap = (await page.evaluate(`(() => {
    const text = (sel) => { const r = document.createRange(); r.selectNodeContents(document.querySelector(sel)); return r.getBoundingClientRect(); };
    return text('.grid .head .c-target').left - text('.grid .head .c-load').right;
  })()`)) as number;
  assert.ok(gap >= 12, `only ${gap} px between the Load and Alias target headers`);

  await page.setViewportSize({ width: 420, height: 800 });
  await until(page, 'window.innerWidth === 420');
  // The page does not overflow sideways (the table scrolls inside its box), and every toolbar
  // button is inside the window.
  const page420 = (await page.evaluate(`({ width: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth,
    buttons: [...document.querySelectorAll('header button, nav button, form button')].map((b) => b.getBoundingClientRect().right) })`)) as { width: number; scrollWidth: number; buttons: number[] };
  assert.ok(page420.scrollWidth <= page420.width, `the page is ${page420.scrollWidth} px wide in a ${page420.width} px window`);
  assert.ok(page420.buttons.every((r) => r <= page420.width), `buttons beyond ${page420.width} px: ${page420.buttons.join(', ')}`);
  await assertHeadersAligned(page, '420 px');

  // The State cell of a row starts out of view; with the table focused, ArrowRight scrolls it in.
  const stateCell = `${ROW(ENTRIES.running)} .c-state`;
  const inView = `(() => {
    const g = document.querySelector('.grid').getBoundingClientRect();
    const c = document.querySelector(${JSON.stringify(stateCell)}).getBoundingClientRect();
    return c.left >= g.left && c.right <= g.right && c.right <= window.innerWidth;
  })()`;
  assert.equal(await page.evaluate(inView), false, 'the State column fits at 420 px: the test no longer tests scrolling');
  await page.click(`${ROW(ENTRIES.running)} .c-name`);
  for (let i = 0; !(await page.evaluate(inView)); i++) {
    assert.ok(i < 40, 'ArrowRight did not bring the State cell into view');
    await page.keyboard.press('ArrowRight');
    await page.evaluate(SCROLL_SETTLED);
  }
  assert.match(await page.locator(stateCell).innerText(), /^running \d+(s|m \d+s)$/);
  await assertHeadersAligned(page, '420 px, scrolled sideways');
  await screenshot(page, 'a11y-03-narrow-scrolled');

  // Every column scrolls into view, its content not cut short (the alias target on the alias's row).
  for (const column of ['c-name', 'c-host', 'c-port', 'c-state', 'c-load', 'c-target']) {
    const cell = `${ROW(column === 'c-target' ? ENTRIES.alias : ENTRIES.running)} .${column}`;
    const seen = (await page.evaluate(`(() => {
      const c = document.querySelector(${JSON.stringify(cell)});
      c.scrollIntoView({ block: 'nearest', inline: 'nearest' });
      const g = document.querySelector('.grid').getBoundingClientRect();
      const r = c.getBoundingClientRect();
      return { text: c.textContent, inView: r.left >= g.left - 0.5 && r.right <= g.right + 0.5, cut: c.scrollWidth > c.clientWidth };
    })()`)) as { text: string; inView: boolean; cut: boolean };
    assert.ok(seen.text !== '', `${cell} is empty: the test checks nothing`);
    assert.deepEqual([seen.inView, seen.cut], [true, false], `${cell} (${seen.text}) in view, not cut`);
  }
  assert.deepEqual(watch.errors, []);
  await context.close();
});
