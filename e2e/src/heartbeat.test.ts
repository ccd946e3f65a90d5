// The heartbeat on a real socket (PROTOCOL §2.6), against the real server binary. A client that
// keeps its TCP connection open but answers no ping (ws with `autoPong: false`) is cut off one
// beat after the one ping it was sent after its last frame, so between one and two heartbeats
// after it was last heard from, and its name becomes `lost`; a client that answers, connected
// all the while, is left alone. And a whole client process frozen by SIGSTOP (socket open, no
// pongs) is lost two beats after the last ping it answered. (SIGKILL, in client.test.ts, closes
// the socket: that path never waits for a heartbeat.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type WebSocket from 'ws';
import type { EntryView, WatchEventParams } from '@dpns/protocol';
import { RpcSession, spawnFixture, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

// Long, so that one beat stands clear of the scheduling noise of a loaded 2-core machine.
const HB = 1000;
/** §2.6: "a silent peer is cut off between one and two heartbeatMs after it was last heard from". */
const CUT_OFF = { fromMs: HB, toMs: 2 * HB };
/** Timer lateness under a quarter of an interval, the close or commit, and the events reaching this process. */
const SLACK_MS = HB / 2;

let ns: ServerProcess;

before(async () => {
  ns = await startServerProcess({ args: ['--client-heartbeat-ms', String(HB), '--log-level', 'info'] });
});
after(async () => {
  await teardown();
});

/** One series of the server's /metrics (0 when it has no sample yet). */
async function metric(series: string): Promise<number> {
  const text = await (await fetch(`http://${ns.server}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return Number(line?.split(' ')[1] ?? 0);
}

/** `p`, or a rejection naming `what` once `ms` have passed. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after the next `n` pings on `ws`. */
function pings(ws: WebSocket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onPing = (): void => {
      if (++seen < n) return;
      ws.off('ping', onPing);
      resolve();
    };
    ws.on('ping', onPing);
  });
}

/** When a watch event on `ws` says `name` is `lost`. */
function lostEvent(ws: WebSocket, name: string): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData): void => {
      const m = JSON.parse(String(data)) as { method?: string; params?: WatchEventParams };
      const e: EntryView | undefined = m.params?.entry;
      if (m.method !== 'watch.event' || m.params?.name !== name || e?.kind !== 'service' || e.state !== 'lost') return;
      ws.off('message', onMessage);
      resolve(performance.now());
    };
    ws.on('message', onMessage);
  });
}

async function ok(s: RpcSession, method: string, params: unknown): Promise<unknown> {
  const a = await s.call(method, params);
  assert.ok(a.ok, `${method}: ${a.ok ? '' : `${a.code} ${a.message}`}`);
  return a.result;
}

test('a client that keeps its socket open but answers no ping is cut off one beat after its last ping, and its name is lost; an answering client stays', { timeout: 60_000 }, async (t) => {
  // The well-behaved client: ws answers every ping by itself.
  const live = await RpcSession.open(ns.url);
  await ok(live, 'advertiseService', { name: '/hb/live', host: '127.0.0.1', port: 9601 });
  await ok(live, 'watch', { pattern: '/hb/*' });

  let attempts = 0;
  // A round in which the server itself was late judges nobody (§2.6) and so adds a ping: such
  // an attempt measures nothing about the bound, and is made again with a fresh client.
  for (;;) {
    attempts++;
    const name = `/hb/silent${attempts}`;
    const silent = await RpcSession.open(ns.url, 2000, { autoPong: false });
    const pingedAt: number[] = [];
    silent.ws.on('ping', () => pingedAt.push(performance.now()));
    const closed = once(silent.ws, 'close').then(([code]) => ({ code: code as number, at: performance.now() }));
    const lost = lostEvent(live.ws, name);
    const lateBefore = await metric('dpns_heartbeat_late_rounds_total');

    // Its last frame goes right after a ping, so the server hears from it just after a beat.
    await within(once(silent.ws, 'ping'), 2 * HB, 'no first ping');
    const lastFrameAt = performance.now();
    await ok(silent, 'advertiseService', { name, host: '127.0.0.1', port: 9602 });
    const cut = await within(closed, 4 * HB, 'the silent client was not closed');
    const lostAt = await within(lost, 2 * HB, `${name} was not marked lost`);

    const late = (await metric('dpns_heartbeat_late_rounds_total')) - lateBefore;
    const ms = (at: number): string => `${(at - lastFrameAt).toFixed(0)} ms`;
    t.diagnostic(`attempt ${attempts}: last frame at 0, pings at ${pingedAt.map(ms).join(', ')}, closed at ${ms(cut.at)}, lost at ${ms(lostAt)}; late rounds ${late}`);
    if (late > 0 && attempts < 3) continue;

    assert.equal(cut.code, 1006, 'dropped without a close frame');
    // The beat after its last frame still finds it heard and pings it; the next one drops it.
    // Needing one more missed beat would mean a third ping, and a cut-off one beat later.
    assert.equal(pingedAt.length, 2, 'pings before the cut-off: the one it answered with a frame, and one more');
    const sinceLastPing = cut.at - (pingedAt.at(-1) ?? 0);
    assert.ok(sinceLastPing >= HB / 2 && sinceLastPing <= HB + SLACK_MS, `closed ${sinceLastPing.toFixed(0)} ms after its last ping, with a ${HB} ms heartbeat`);
    for (const [what, at] of [['closed', cut.at], ['lost', lostAt]] as const) {
      const silentFor = at - lastFrameAt;
      assert.ok(silentFor > CUT_OFF.fromMs && silentFor <= CUT_OFF.toMs + SLACK_MS, `${what} ${silentFor.toFixed(0)} ms after it was last heard from, with a ${HB} ms heartbeat`);
    }
    break;
  }

  const [e] = (await ok(live, 'serviceState', { pattern: `/hb/silent${attempts}` }) as { entries: EntryView[] }).entries;
  assert.equal(e?.kind === 'service' && e.reason, 'its advertiser went away: it stopped answering heartbeats');
  // The answering client saw the same beats and is untouched two beats later.
  await within(pings(live.ws, 2), 4 * HB, 'the answering client was not pinged');
  assert.ok(live.open, 'the answering client was closed');
  const [mine] = (await ok(live, 'serviceState', { pattern: '/hb/live' }) as { entries: EntryView[] }).entries;
  assert.equal(mine?.kind === 'service' && mine.state, 'running');
  assert.equal(await metric('dpns_connections_closed_by_server_total{reason="heartbeat"}'), attempts, 'only the silent clients were closed');
  live.close();
});

test('a frozen advertiser process (SIGSTOP: socket open, no pongs) is lost at the second beat after the last ping it answered', { timeout: 60_000 }, async (t) => {
  const watcher = await RpcSession.open(ns.url);
  await ok(watcher, 'watch', { pattern: '/hb/frozen*' });
  let attempts = 0;
  for (;;) {
    attempts++;
    const name = `/hb/frozen${attempts}`;
    const fx = spawnFixture('advertiser', [ns.server, name, '127.0.0.1', String(9610 + attempts)]);
    try {
      await fx.stdout.waitFor(`advertised ${name}`);
      const lost = lostEvent(watcher.ws, name);
      const lateBefore = await metric('dpns_heartbeat_late_rounds_total');
      // One judgement pings every connection: the watcher's ping marks the beat at which the
      // advertiser was pinged too. Half a beat on it has long answered, and is frozen there.
      await within(once(watcher.ws, 'ping'), 2 * HB, 'no ping');
      const beatAt = performance.now();
      await delay(HB / 2);
      fx.proc.kill('SIGSTOP');
      const lostAt = await within(lost, 4 * HB, `${name} was not marked lost`);
      const late = (await metric('dpns_heartbeat_late_rounds_total')) - lateBefore;
      t.diagnostic(`attempt ${attempts}: beat at 0, frozen at ${HB / 2} ms, lost at ${(lostAt - beatAt).toFixed(0)} ms; late rounds ${late}`);
      if (late > 0 && attempts < 3) continue;
      // Last heard just after that beat: the next beat finds it heard, the one after drops it.
      // Needing one more missed beat would mean 3 × HB.
      const sinceBeat = lostAt - beatAt;
      assert.ok(sinceBeat > HB && sinceBeat <= CUT_OFF.toMs + SLACK_MS, `lost ${sinceBeat.toFixed(0)} ms after the last ping it answered, with a ${HB} ms heartbeat`);
      break;
    } finally {
      await fx.kill('SIGKILL');
    }
  }
  const [e] = (await ok(watcher, 'serviceState', { pattern: `/hb/frozen${attempts}` }) as { entries: EntryView[] }).entries;
  assert.equal(e?.kind === 'service' && e.reason, 'its advertiser went away: it stopped answering heartbeats');
  watcher.close();
});
