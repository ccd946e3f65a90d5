// The monitor page in a real browser (Debian's Chromium through playwright-core) against a real
// name server and a real launch agent on loopback: filter, add an auto-start service through the
// page, launch it and watch it turn running without a reload, reset, alias, kill and delete it,
// an admin action refused without the credential, a health check turning a row unhealthy and back,
// reconnecting after a restart, and how fast the table filters and updates with 10,000 services;
// axe-core on the servers panel of a backup (the rest of the page's accessibility:
// web-a11y.test.ts). Screenshots go to e2e/artifacts/web/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { freePort, killLaunchedGroups, REPO_ROOT, startAgentProcess, startCluster, startServerProcess, teardown, type ServerProcess } from './harness/index.js';
import { bundlePage, launchChromium, screenshot, watchPage, type PageWatch } from './web/browser.js';
import { assertAccessible, axeContextOptions } from './web/axe.js';
import { RawAdmin } from './web/bulk.js';
import { filterTiming, updateTiming } from './web/in-page.js';
import { action, until } from './web/page.js';

const ECHO = resolve(REPO_ROOT, 'examples/echo-service/echo-service.mjs');
const SERVICE = '/demo/web-echo';
const ALIAS = '/demo/web-alias';
const ROW = (name: string) => `.grid [data-name="${name}"]`;

let browser: Browser;
/** Launched services are detached from the agent; their process groups are ended at the end. */
const launchedPids = new Set<number>();

before(async () => {
  bundlePage();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  killLaunchedGroups(launchedPids);
  await teardown();
});

/** Opens the page on `ns` (optionally at a filter) and waits until it is connected. */
async function openPage(ns: ServerProcess, hash = ''): Promise<{ page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${ns.port}/${hash}`);
  await page.waitForSelector('[data-testid=link-state][data-state=open]');
  // A mark that a reload would wipe: the table must change without one.
  await page.evaluate('window.__noReload = true');
  return { page, watch };
}

/** The page only ever talked to its own server, and logged no error (a CSP violation is one). */
function assertClean(watch: PageWatch, ns: ServerProcess): void {
  assertCleanOn(watch, `127.0.0.1:${ns.port}`);
}

function assertCleanOn(watch: PageWatch, server: string): void {
  assert.deepEqual(watch.errors, []);
  const foreign = watch.urls.filter((u) => !u.startsWith(`http://${server}/`) && !u.startsWith(`ws://${server}/`));
  assert.deepEqual(foreign, []);
}

async function setFilter(page: Page, pattern: string): Promise<void> {
  await page.fill('input[name=pattern]', pattern);
  await page.waitForSelector(`[data-testid=count][data-pattern="${pattern}"]`);
}

async function select(page: Page, name: string): Promise<void> {
  await page.click(ROW(name));
  await page.waitForSelector(`${ROW(name)}[aria-selected=true]`);
}

/** Submits the open dialog with its main button and waits for it to close. */
async function submit(page: Page, label: string): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: label, exact: true }).click();
  await dialog.waitFor({ state: 'detached', timeout: 60_000 });
}

async function rowState(page: Page, name: string, state: string, timeout = 30_000): Promise<void> {
  await page.waitForSelector(`${ROW(name)}[data-state=${state}]`, { timeout });
}

/** Notes the pid of a launched service, so that `after` ends it even when the test fails. */
async function rememberPid(ns: ServerProcess, name: string): Promise<void> {
  const admin = await RawAdmin.connect(ns.url, ns.token);
  const r = (await admin.call('serviceState', { pattern: name })) as { entries: { pid?: number }[] };
  admin.close();
  const pid = r.entries[0]?.pid;
  if (pid !== undefined) launchedPids.add(pid);
}

test('launch spec values: <redacted> on the page without the token, the real ones in Edit and Info with it', { timeout: 90_000 }, async () => {
  const ns = await startServerProcess({ args: ['--log-level', 'warn'] });
  const admin = await RawAdmin.connect(ns.url, ns.token);
  await admin.call('register.add', { name: '/sec/page', spec: { host: '127.0.0.1', program: 'echo', args: ['--password=x'], env: { DB_PASSWORD: 's3cret' }, startTimeoutMs: 10000 } });
  admin.close();
  const { page, watch } = await openPage(ns, '#/sec/*');
  await rowState(page, '/sec/page', 'registered');
  assert.ok(!(await page.content()).includes('s3cret'), 'the page holds the secret without the token');
  assert.ok(!JSON.stringify(await page.evaluate('document.body.innerText')).includes('s3cret'));

  // Edit without the token: hidden values show as the marker, and the page says why.
  await select(page, '/sec/page');
  await action(page, 'Edit');
  let edit = page.getByRole('dialog');
  assert.equal(await edit.locator('textarea[name=env]').inputValue(), 'DB_PASSWORD=<redacted>');
  await edit.getByTestId('redacted-hint').waitFor();
  // Writing the marker back is refused in the page, before anything is sent.
  await edit.locator('textarea[name=env]').fill('DB_PASSWORD=<redacted>\nMORE=1');
  await edit.locator('input[name=token]').fill(ns.token);
  await edit.getByRole('button', { name: 'Save', exact: true }).click();
  await edit.getByRole('alert').getByText('still holds <redacted>').waitFor();
  await edit.getByRole('button', { name: 'Cancel' }).click();

  // Now admin: Info and Edit show the real values.
  await action(page, 'Info');
  await page.getByTestId('info').waitFor();
  assert.match(await page.getByTestId('info').innerText(), /"DB_PASSWORD": "s3cret"/);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await action(page, 'Edit');
  edit = page.getByRole('dialog');
  await until(page, `document.querySelector('textarea[name=env]')?.value === 'DB_PASSWORD=s3cret'`);
  assert.equal(await edit.locator('textarea[name=args]').inputValue(), '--password=x');
  await edit.getByRole('button', { name: 'Cancel' }).click();
  assertClean(watch, ns);
  await page.context().close();
});

test('a static entry that fails its health check turns unhealthy with the reason in the page, and running again', { timeout: 60_000 }, async () => {
  const ns = await startServerProcess({ args: ['--log-level', 'warn'] });
  const listener = createServer((s) => s.destroy());
  await new Promise<void>((res) => listener.listen(0, '127.0.0.1', res));
  const port = (listener.address() as { port: number }).port;
  const admin = await RawAdmin.connect(ns.url, ns.token);
  await admin.call('advertiseService', { name: '/hc/db', host: '127.0.0.1', port, static: true, check: { kind: 'tcp', intervalMs: 1000, timeoutMs: 500, threshold: 2 } });
  admin.close();
  const { page, watch } = await openPage(ns, '#/hc/*');
  await rowState(page, '/hc/db', 'running');
  await new Promise((res) => listener.close(res));
  // Through watch events alone, as every state change.
  await rowState(page, '/hc/db', 'unhealthy', 15_000);
  const cell = page.locator(`${ROW('/hc/db')} .c-state`);
  assert.equal(await cell.locator('.state.unhealthy').innerText(), 'unhealthy');
  assert.equal(await cell.locator('.reason').innerText(), `tcp connect 127.0.0.1:${port}: ECONNREFUSED (2 in a row)`);
  await screenshot(page, '02b-unhealthy');
  const again = createServer((s) => s.destroy());
  await new Promise<void>((res) => again.listen(port, '127.0.0.1', res));
  await rowState(page, '/hc/db', 'running', 15_000);
  assert.equal(await cell.locator('.reason').count(), 0);
  again.close();
  assertClean(watch, ns);
  await page.context().close();
  await ns.stop();
});

test('an operator adds, launches, resets, aliases, kills and deletes a service from the page', { timeout: 180_000 }, async () => {
  const agentPort = await freePort();
  const ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  const agent = await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { echo: ECHO }, port: agentPort, enroll: { url: ns.url, token: ns.token } });
  const { page, watch } = await openPage(ns);
  assert.equal(await page.getByTestId('admin').textContent(), 'read-only');
  // A stand-alone server is a cluster of one (or predates `servers`): no servers panel.
  assert.equal(await page.locator('section.servers').count(), 0);
  // The agent enrolled for 127.0.0.1 is listed, by its fingerprint, for anyone (no admin needed).
  const agentRow = page.locator('section.agents tr[data-host="127.0.0.1"]');
  await agentRow.waitFor({ timeout: 10_000 });
  assert.match((await agentRow.textContent()) ?? '', new RegExp(`${agent.identity.slice(0, 16)}trust`));

  await setFilter(page, '/demo/*');
  assert.equal(new URL(page.url()).hash, '#/demo/*');
  await screenshot(page, '01-filtered-empty');

  // Add, with the admin token typed into the page (asked once).
  await action(page, 'Add');
  const add = page.getByRole('dialog');
  await add.locator('input[name=name]').fill(SERVICE);
  await add.locator('input[name=host]').fill('127.0.0.1');
  await add.locator('input[name=program]').fill('echo');
  await add.locator('textarea[name=env]').fill('DPNS_ADVERTISE_HOST=127.0.0.1');
  await add.locator('input[name=token]').fill(ns.token);
  await screenshot(page, '02-add-form');
  await submit(page, 'Add');
  await rowState(page, SERVICE, 'registered');
  assert.equal(await page.getByTestId('admin').textContent(), 'admin');
  assert.equal(await page.evaluate('sessionStorage.getItem("dpns.adminToken")'), ns.token);

  // Edit: only the changed field is sent.
  await select(page, SERVICE);
  await action(page, 'Edit');
  const edit = page.getByRole('dialog');
  assert.equal(await edit.locator('input[name=program]').inputValue(), 'echo');
  await edit.locator('input[name=startTimeoutMs]').fill('15000');
  await submit(page, 'Save');
  await page.getByTestId('notices').getByText(`edited ${SERVICE}`).waitFor();

  // Launch: the row turns running through watch events alone.
  await action(page, 'Launch');
  await rowState(page, SERVICE, 'running');
  await rememberPid(ns, SERVICE);
  await page.getByTestId('notices').getByText(`launched ${SERVICE}: running on 127.0.0.1:`).waitFor();
  assert.match(await page.locator(`${ROW(SERVICE)} .c-host`).innerText(), /^127\.0\.0\.1$/);
  assert.match(await page.locator(`${ROW(SERVICE)} .c-port`).innerText(), /^\d+$/);
  await screenshot(page, '03-running');

  // Info: the whole entry, with the pid the agent started.
  await action(page, 'Info');
  const info = JSON.parse(await page.getByTestId('info').innerText()) as { state: string; pid?: number; spec?: { startTimeoutMs: number } };
  assert.equal(info.state, 'running');
  assert.equal(info.spec?.startTimeoutMs, 15000);
  assert.ok(typeof info.pid === 'number');
  launchedPids.add(info.pid);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Reset: killed, launched again; admin already, so no token is asked for.
  await action(page, 'Reset');
  assert.equal(await page.getByRole('dialog').locator('input[name=token]').count(), 0);
  await submit(page, 'Reset');
  await page.getByTestId('notices').getByText(`reset ${SERVICE}: running on 127.0.0.1:`).waitFor();
  await rowState(page, SERVICE, 'running');
  await rememberPid(ns, SERVICE);

  // Alias it; the alias row shows its target.
  await action(page, 'Alias');
  const alias = page.getByRole('dialog');
  assert.equal(await alias.locator('input[name=target]').inputValue(), SERVICE);
  await alias.locator('input[name=alias]').fill(ALIAS);
  await submit(page, 'Alias');
  await page.waitForSelector(`${ROW(ALIAS)}[data-kind=alias]`);
  assert.equal(await page.locator(`${ROW(ALIAS)} .c-target`).innerText(), SERVICE);
  await screenshot(page, '04-aliased');

  // Without the credential (another browser context: no token in its sessionStorage) an admin
  // action is refused, with the server's own message.
  const other = await openPage(ns, '#/demo/*');
  await other.page.waitForSelector(ROW(SERVICE));
  await select(other.page, SERVICE);
  await action(other.page, 'Kill');
  const kill = other.page.getByRole('dialog');
  assert.equal(await kill.locator('input[name=token]').count(), 1);
  await kill.getByRole('button', { name: 'Kill', exact: true }).click();
  const refusal = kill.locator('.error[data-code=UNAUTHORIZED]');
  await refusal.waitFor();
  assert.match(await refusal.innerText(), /^UNAUTHORIZED: killService needs the admin credential/);
  await screenshot(other.page, '05-refused-without-token');
  assert.equal(await other.page.getByTestId('admin').textContent(), 'read-only');
  await rowState(page, SERVICE, 'running');
  assertClean(other.watch, ns);

  // A wrong token is refused too, and says so.
  await kill.locator('input[name=token]').fill('0'.repeat(64));
  await kill.getByRole('button', { name: 'Kill', exact: true }).click();
  await kill.locator('.error[data-code=UNAUTHORIZED]').getByText(/wrong admin credential/).waitFor();
  await other.page.context().close();

  // Kill, then delete the alias and the service.
  await select(page, SERVICE);
  await action(page, 'Kill');
  await submit(page, 'Kill');
  await rowState(page, SERVICE, 'stopped');
  await select(page, ALIAS);
  await action(page, 'Delete');
  await submit(page, 'Delete');
  await page.waitForSelector(ROW(ALIAS), { state: 'detached' });
  await select(page, SERVICE);
  await action(page, 'Delete');
  await submit(page, 'Delete');
  await page.waitForSelector(ROW(SERVICE), { state: 'detached' });
  // The Delete button is disabled with its row gone: the focus is on the table, not lost.
  await until(page, `document.activeElement?.getAttribute('role') === 'grid'`, 5_000);
  await screenshot(page, '06-deleted');

  assert.equal(await page.evaluate('window.__noReload'), true);
  assertClean(watch, ns);
  await page.context().close();
});

test('a service with several hosts: added from the page as a list, shown by its hosts, then where it was launched', { timeout: 120_000 }, async () => {
  const agentPort = await freePort();
  const ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'warn'] });
  // Only 127.0.0.1 has an agent: 127.0.0.2 is named but no candidate.
  await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { echo: ECHO }, port: agentPort, enroll: { url: ns.url, token: ns.token } });
  const { page, watch } = await openPage(ns);
  await setFilter(page, '/follow/*');
  await action(page, 'Add');
  const add = page.getByRole('dialog');
  await add.locator('input[name=name]').fill('/follow/web');
  await add.locator('input[name=host]').fill('127.0.0.2, 127.0.0.1');
  await add.locator('input[name=program]').fill('echo');
  await add.locator('input[name=token]').fill(ns.token);
  await submit(page, 'Add');
  await rowState(page, '/follow/web', 'registered');
  assert.equal(await page.locator(`${ROW('/follow/web')} .c-host`).innerText(), '127.0.0.2, 127.0.0.1');
  const admin = await RawAdmin.connect(ns.url, ns.token);
  const info = (await admin.call('register.info', { name: '/follow/web' })) as { entry: { spec: { host?: string; hosts?: string[] } } };
  admin.close();
  assert.deepEqual(info.entry.spec.hosts, ['127.0.0.2', '127.0.0.1'], 'a list in the host field is sent as hosts');
  assert.equal(info.entry.spec.host, undefined);

  await select(page, '/follow/web');
  await action(page, 'Edit');
  assert.equal(await page.getByRole('dialog').locator('input[name=host]').inputValue(), '127.0.0.2, 127.0.0.1');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel', exact: true }).click();

  await action(page, 'Launch');
  await rowState(page, '/follow/web', 'running');
  await rememberPid(ns, '/follow/web');
  assert.equal(await page.locator(`${ROW('/follow/web')} .c-host`).innerText(), '127.0.0.1');
  assertClean(watch, ns);
  await page.context().close();
});

test('the login proof works without WebCrypto (http from another host is not a secure context)', { timeout: 60_000 }, async () => {
  const ns = await startServerProcess({ args: ['--log-level', 'warn'] });
  const admin = await RawAdmin.connect(ns.url, ns.token);
  await admin.advertiseStatic(['/demo/static'], '10.0.0.1', 80);
  admin.close();
  const context = await browser.newContext();
  await context.addInitScript('Object.defineProperty(globalThis.crypto, "subtle", { get: () => undefined })');
  const page = await context.newPage();
  const watch = watchPage(page);
  await page.goto(`http://127.0.0.1:${ns.port}/#/demo/*`);
  await page.waitForSelector(ROW('/demo/static'));
  assert.equal(await page.evaluate('typeof crypto.subtle'), 'undefined');
  await select(page, '/demo/static');
  await action(page, 'Info');
  const dialog = page.getByRole('dialog');
  await dialog.locator('input[name=token]').fill(ns.token);
  await dialog.getByRole('button', { name: 'Show' }).click();
  const info = JSON.parse(await page.getByTestId('info').innerText()) as { host: string; advertiser: { kind: string } };
  assert.deepEqual([info.host, info.advertiser.kind], ['10.0.0.1', 'static']);
  assert.equal(await page.getByTestId('admin').textContent(), 'admin');
  assertClean(watch, ns);

  // The page reconnects after the server restarts, logs in again, and watches again.
  // (It may be back before a poll sees it disconnected, so count its WebSockets instead.)
  const sockets = () => watch.urls.filter((u) => u.startsWith('ws:')).length;
  const before = sockets();
  const restarted = await ns.restart();
  const deadline = Date.now() + 20_000;
  while (sockets() === before) {
    assert.ok(Date.now() < deadline, 'the page did not reconnect within 20 s');
    await new Promise((r) => setTimeout(r, 20));
  }
  await page.waitForSelector('[data-testid=link-state][data-state=open]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid=admin]:text("admin")');
  const again = await RawAdmin.connect(restarted.url, restarted.token);
  await again.advertiseStatic(['/demo/after-restart'], '10.0.0.2', 81);
  again.close();
  await page.waitForSelector(ROW('/demo/after-restart'));
  await screenshot(page, '07-reconnected');
  await context.close();
});

test('10,000 services: filtering and updates show within 100 ms in the page', { timeout: 180_000 }, async (t) => {
  const ns = await startServerProcess({ args: ['--log-level', 'warn'] });
  const names = Array.from({ length: 10_000 }, (_, i) => `/load/s${String(i).padStart(5, '0')}`);
  const admin = await RawAdmin.connect(ns.url, ns.token);
  const t0 = performance.now();
  await admin.advertiseStatic(names, '10.1.0.1', 1000);
  admin.close();
  const registerMs = performance.now() - t0;

  const { page, watch } = await openPage(ns);
  await page.waitForSelector('[data-testid=count][data-pattern="*"]');
  assert.equal(await page.locator('.table').getAttribute('data-count'), '10000');
  // Virtualised: a screenful of rows in the DOM, not 10,000.
  assert.ok((await page.locator('.grid [data-name]').count()) < 100);

  // Each figure is the median of several tries, from the change until the DOM shows it. The
  // issue's 100 ms bound is asserted on the page's own share (after the server's answer arrived):
  // that is what virtualising and batching are for, and it does not swing with the server's load
  // (answering 10,000 entries takes the server some 20-40 ms here, more on a busy machine), so
  // the total, printed beside it, is only held to 1 s. A median, not the worst try, so one
  // scheduling hiccup does not fail the run; a page that rendered every row or applied events one
  // at a time would be over the bound on every try.
  const patterns = ['/load/s1*', '*', '/load/s0[0-4]*', '/load/*', '/load/s09999', '*', '/load/s2*', '*'];
  const filterMs: number[] = [];
  const filterPageMs: number[] = [];
  for (const p of patterns) {
    const { totalMs, pageMs } = (await page.evaluate(filterTiming(p))) as { totalMs: number; pageMs: number };
    filterMs.push(totalMs);
    filterPageMs.push(pageMs);
  }
  assert.equal(await page.locator('.table').getAttribute('data-count'), '10000');
  await page.evaluate(`document.querySelector('.table .grid').scrollTop = ${5000 * 28}`);
  await page.waitForSelector(ROW('/load/s05000'));
  await screenshot(page, '08-ten-thousand');

  await page.evaluate(`document.querySelector('.table .grid').scrollTop = 0`);
  const updateMs: number[] = [];
  for (let i = 0; i < 7; i++) updateMs.push((await page.evaluate(updateTiming(`/load/a-probe${i}`))) as number);
  assert.equal(await page.locator('.table').getAttribute('data-count'), '10007');

  // A burst: all 10,000 entries change at once, written by another client. The page applies them
  // a frame's worth at a time; the longest task the browser saw during it is reported.
  await page.evaluate(`document.querySelector('.table .grid').scrollTop = 1e9`);
  await page.waitForSelector(ROW('/load/s09999'));
  await page.evaluate(`(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask' });
  })()`);
  const burst0 = performance.now();
  const admin2 = await RawAdmin.connect(ns.url, ns.token);
  await admin2.advertiseStatic(names, '10.1.0.2', 2000);
  admin2.close();
  await until(page, `document.querySelector('${ROW('/load/s09999')} .c-host')?.textContent === '10.1.0.2'`);
  const burstMs = performance.now() - burst0;
  const longTasks = (await page.evaluate('window.__longTasks')) as number[];

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
  const report =
    `monitor page with 10,000 services (registered in ${registerMs.toFixed(0)} ms):\n` +
    `  filter change → table shown: median ${median(filterMs).toFixed(1)} ms (tries: ${fmt(filterMs)})\n` +
    `    of which the page's own work after the server's answer: median ${median(filterPageMs).toFixed(1)} ms (tries: ${fmt(filterPageMs)})\n` +
    `  write → row shown (server's durable write included): median ${median(updateMs).toFixed(1)} ms (tries: ${fmt(updateMs)})\n` +
    `  10,000 changes written by another client → the last one shown: ${burstMs.toFixed(0)} ms; ` +
    `page tasks over 50 ms meanwhile: ${longTasks.length}${longTasks.length === 0 ? '' : ` (longest ${Math.max(...longTasks).toFixed(0)} ms)`}`;
  t.diagnostic(report);
  assert.ok(median(filterPageMs) < 100, report);
  assert.ok(median(filterMs) < 1000, report);
  assert.ok(median(updateMs) < 100, report);
  assertClean(watch, ns);
  await page.context().close();
});

test('backup mode: the servers panel, the banner that names the primary, and a failover', { timeout: 120_000 }, async () => {
  const cluster = await startCluster({ n: 3 });
  try {
    const primary = await cluster.primary({ timeoutMs: 30_000 });
    const backup = (primary.sid + 1) % 3;
    const pageOf = (sid: number) => `http://${cluster.servers[sid] ?? ''}/`;
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const watch = watchPage(page);
    await page.goto(pageOf(backup));
    await page.waitForSelector('[data-testid=link-state][data-state=open]');

    // Every member, polled every 2 s; this one marked.
    await until(page, `document.querySelectorAll('section.servers tbody tr').length === 3`);
    assert.match(await page.locator(`section.servers tr[data-sid="${backup}"]`).innerText(), /\(this\)/);
    await page.waitForSelector(`section.servers tr[data-sid="${primary.sid}"] .role.primary`);
    const banner = page.getByTestId('primary-banner');
    await banner.getByText('not the primary').waitFor();
    assert.equal(await banner.locator('a').getAttribute('href'), pageOf(primary.sid));
    // A backup started without --read-from-backups serves no watch: the filter says why.
    await page.locator('#filter-error').getByText(/^NOT_PRIMARY: /).waitFor();
    assert.equal(await page.getByTestId('table-status').getAttribute('data-status'), 'refused');
    await screenshot(page, '09-backup-servers');

    // axe, on the same page in a context that lets its script in: the servers panel, the banner
    // and the refused watch, wide and 420 px wide.
    const axeContext = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...axeContextOptions });
    const axePage = await axeContext.newPage();
    await axePage.goto(pageOf(backup));
    await until(axePage, `document.querySelectorAll('section.servers tbody tr').length === 3`);
    await axePage.getByTestId('primary-banner').waitFor();
    await axePage.locator('#filter-error').getByText(/^NOT_PRIMARY: /).waitFor();
    await assertAccessible(axePage, 'on a backup: the servers panel, the banner, a refused watch');
    await axePage.setViewportSize({ width: 420, height: 800 });
    await until(axePage, 'window.innerWidth === 420');
    await assertAccessible(axePage, 'on a backup, 420 px wide');
    await axePage.evaluate(`document.querySelector('section.servers').scrollLeft = 1e6`);
    await assertAccessible(axePage, 'on a backup, 420 px wide, the servers panel scrolled to its right end');
    await axeContext.close();

    // A write sent to a backup is refused with NOT_PRIMARY, and the refusal links to the primary.
    await action(page, 'Alias');
    const dialog = page.getByRole('dialog');
    await dialog.locator('input[name=alias]').fill('/demo/a');
    await dialog.locator('input[name=target]').fill('/demo/b');
    await dialog.locator('input[name=token]').fill(cluster.adminToken);
    await dialog.getByRole('button', { name: 'Alias', exact: true }).click();
    const refusal = dialog.locator('.error[data-code=NOT_PRIMARY]');
    await refusal.waitFor();
    assert.equal(await refusal.locator('a').getAttribute('href'), pageOf(primary.sid));
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // The primary dies: the page, still connected to its backup, follows the new primary.
    await cluster.kill9(primary.sid);
    const next = await cluster.primary({ timeoutMs: 30_000, minEpoch: primary.epoch + 1, among: [0, 1, 2].filter((s) => s !== primary.sid) });
    await page.waitForSelector(`section.servers tr[data-sid="${next.sid}"] .role.primary`, { timeout: 15_000 });
    if (next.sid === backup) {
      // This server is the primary now: no banner, and the table fills (the filter retries).
      await banner.waitFor({ state: 'detached' });
      await page.waitForSelector('[data-testid=count][data-pattern="*"]', { timeout: 15_000 });
      const w = await cluster.call(next.sid, 'advertiseService', { name: '/demo/after-failover', host: '10.0.0.3', port: 80, static: true });
      assert.ok(w.ok, JSON.stringify(w));
      await page.waitForSelector(ROW('/demo/after-failover'));
    } else {
      await until(page, `document.querySelector('[data-testid=primary-banner] a')?.getAttribute('href') === ${JSON.stringify(pageOf(next.sid))}`);
    }
    await screenshot(page, '10-after-failover');
    assertCleanOn(watch, cluster.servers[backup] ?? '');
    await context.close();
  } finally {
    await cluster.close();
  }
});
