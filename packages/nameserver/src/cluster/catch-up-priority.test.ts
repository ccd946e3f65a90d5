// A catching-up server's threads run at a lower priority only when it can give it back, and all
// of them get it back, those started meanwhile too; not for long, and not where it gets no CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CatchUpPriority, type Priorities } from './catch-up-priority.js';
import { createLogger } from '../log.js';

interface FakeSystem extends Priorities {
  nice: Map<number, number>;
  idled: boolean;
  /** true for each time the threads went idle, false for each time they came back. */
  calls: boolean[];
  waited: number | undefined;
}

/** A process of three threads; `chrt` says whether SCHED_IDLE can be set, `stuck` that it cannot be left. */
function fakeSystem(o: { own?: number; mayLower?: boolean; chrt?: boolean; stuck?: boolean } = {}): FakeSystem {
  const nice = new Map([[100, o.own ?? 0], [101, o.own ?? 0], [102, o.own ?? 0]]);
  const sys: FakeSystem = {
    nice,
    idled: false,
    calls: [],
    waited: 0,
    idle() {
      if (o.chrt === false) return undefined;
      sys.calls.push(true);
      sys.idled = true;
      return {
        end: async () => {
          sys.calls.push(false);
          if (o.stuck === true) return false;
          sys.idled = false;
          return true;
        },
      };
    },
    threads: () => [...nice.keys()],
    own: () => nice.get(100) ?? 0,
    set(tid: number, n: number) {
      if (!nice.has(tid)) throw new Error('ESRCH');
      nice.set(tid, n);
    },
    mayLowerTo: () => o.mayLower ?? true,
    waitedMs: () => sys.waited,
  };
  return sys;
}

function logged(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

async function until(what: () => boolean): Promise<void> {
  for (const t0 = Date.now(); !what() && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 2));
}

test('lowered: every thread runs on idle CPU time only; restored: every thread runs as before', async () => {
  const sys = fakeSystem({ own: 2 });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, { sys });
  p.lower();
  assert.equal(p.lowered, true);
  assert.equal(sys.idled, true);
  // Nice values are left alone: SCHED_IDLE does not use them.
  assert.deepEqual([...sys.nice.values()], [2, 2, 2]);
  p.lower();
  p.restore();
  assert.equal(p.lowered, false);
  p.restore();
  await settle();
  assert.equal(sys.idled, false);
  assert.deepEqual(sys.calls, [true, false]);
  assert.equal(lines.filter((l) => /lowered this server's CPU priority/.test(l)).length, 1);
  assert.match(lines.find((l) => /lowered/.test(l)) ?? '', /"policy":"idle","threads":3/);
  assert.match(lines.find((l) => /restored/.test(l)) ?? '', /"policy":"other","nice":2/);
});

test('no lowering while the way back still runs: it would undo it', async () => {
  const sys = fakeSystem();
  let finish: (ok: boolean) => void = () => undefined;
  sys.idle = () => {
    sys.calls.push(true);
    return { end: () => new Promise<boolean>((r) => (finish = r)) };
  };
  const { log } = logged();
  const p = new CatchUpPriority(log, { sys });
  p.lower();
  p.restore();
  p.lower();
  assert.equal(p.lowered, false);
  finish(true);
  await settle();
  p.lower();
  assert.equal(p.lowered, true);
  assert.deepEqual(sys.calls, [true, true]);
  p.restore();
  finish(true);
});

test('a policy that cannot be given back is said in a warning', async () => {
  const sys = fakeSystem({ stuck: true });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, { sys });
  p.lower();
  p.restore();
  await settle();
  assert.equal(p.lowered, false);
  assert.equal(lines.filter((l) => /could not restore this server's CPU priority.*restart it/.test(l)).length, 1);
});

test('without chrt: every thread runs 10 lower; restored: every thread, those started meanwhile too, runs as before', () => {
  const sys = fakeSystem({ own: 2, chrt: false });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, { sys });
  p.lower();
  assert.equal(p.lowered, true);
  assert.deepEqual([...sys.nice.values()], [12, 12, 12]);
  // A second snapshot's first chunk while lowered changes nothing (and not what is given back).
  p.lower();
  sys.nice.set(103, 12);
  p.restore();
  assert.equal(p.lowered, false);
  assert.deepEqual([...sys.nice.values()], [2, 2, 2, 2]);
  p.restore();
  assert.equal(lines.filter((l) => /lowered this server's CPU priority/.test(l)).length, 1);
  assert.match(lines.find((l) => /lowered/.test(l)) ?? '', /"nice":12,"threads":3/);
  assert.equal(lines.filter((l) => /restored this server's CPU priority/.test(l)).length, 1);
});

test('a server that could not raise its priority again does not lower it, and says why once', () => {
  const sys = fakeSystem({ mayLower: false });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, { sys });
  p.lower();
  p.lower();
  assert.equal(p.lowered, false);
  assert.deepEqual([...sys.nice.values()], [0, 0, 0]);
  assert.deepEqual(sys.calls, []);
  assert.equal(lines.filter((l) => /full CPU priority.*LimitNICE=\+0/.test(l)).length, 1);
  // Without chrt, nor one already near the lowest nice value; nor with the lowering turned off.
  const low = fakeSystem({ own: 15, chrt: false });
  new CatchUpPriority(log, { sys: low }).lower();
  assert.deepEqual([...low.nice.values()], [15, 15, 15]);
  const off = fakeSystem();
  new CatchUpPriority(log, { by: 0, sys: off }).lower();
  assert.deepEqual([...off.nice.values()], [0, 0, 0]);
  assert.equal(off.idled, false);
});

test('a catch-up that goes on too long, over all its attempts, has the rest at full priority', async () => {
  const sys = fakeSystem();
  const { lines, log } = logged();
  let clock = 0;
  const p = new CatchUpPriority(log, { sys, maxMs: 40, checkMs: 2, now: () => clock });
  // A first attempt of 30 ms ends when its link closes; the second may run lowered for the 10 ms left.
  p.lower();
  clock = 30;
  p.restore();
  await settle();
  p.lower();
  clock = 35;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(p.lowered, true);
  clock = 40;
  await until(() => !p.lowered);
  assert.equal(p.lowered, false);
  await settle();
  assert.equal(sys.idled, false);
  assert.equal(lines.filter((l) => /still catching up after the longest.*the rest at full priority/.test(l)).length, 1);
  // Later attempts run at full priority, until this server has caught up once.
  p.lower();
  assert.equal(p.lowered, false);
  p.restore(true);
  await settle();
  p.lower();
  assert.equal(p.lowered, true);
  p.restore(true);
  await settle();
  assert.equal(lines.filter((l) => /still catching up/.test(l)).length, 1);
  assert.deepEqual(sys.calls, [true, false, true, false, true, false]);
});

test('a catch-up whose main thread waits for a CPU half the time has the rest at full priority', async () => {
  const sys = fakeSystem();
  const { lines, log } = logged();
  let clock = 0;
  const p = new CatchUpPriority(log, { sys, checkMs: 2, now: () => clock });
  p.lower();
  // Waiting a third of the time is what a shared host does: it stays lowered.
  for (let i = 1; i <= 5; i++) {
    clock += 100;
    sys.waited = (sys.waited ?? 0) + 33;
    await new Promise((r) => setTimeout(r, 6));
  }
  assert.equal(p.lowered, true);
  clock += 100;
  sys.waited = (sys.waited ?? 0) + 60;
  await until(() => !p.lowered);
  assert.equal(p.lowered, false);
  assert.equal(lines.filter((l) => /too little idle CPU time: the rest at full priority/.test(l)).length, 1);
  p.lower();
  assert.equal(p.lowered, false, 'not again until caught up');
  // Where the wait cannot be read, only the time limit applies.
  const blind = fakeSystem();
  blind.waited = undefined;
  const q = new CatchUpPriority(log, { sys: blind, checkMs: 2, now: () => clock });
  q.lower();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(q.lowered, true);
  q.restore();
});

test('on Linux, all of a process\'s threads are lowered and given back (where the process may give it back)', { skip: process.platform !== 'linux' ? 'per-thread policies and nice values are Linux\'s' : false }, () => {
  // In a process of its own, with a worker thread: the test runner's priority is left alone.
  // Each thread's nice value and policy (fields 19 and 41 of its stat; SCHED_IDLE is 5), first
  // with chrt, then as without it; then lowered while every CPU is kept busy.
  const script = `
    const { Worker } = require('node:worker_threads');
    const { spawn } = require('node:child_process');
    const { readdirSync, readFileSync } = require('node:fs');
    const { availableParallelism } = require('node:os');
    const w = new Worker('setTimeout(() => {}, 60000)', { eval: true });
    const field = (i) => readdirSync('/proc/self/task').map((t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[i]));
    const seen = () => ({ nice: field(16), policy: field(38) });
    const lines = [];
    const log = { info(m) { lines.push(m); }, warn(m) { lines.push(m); }, debug() {}, error() {}, child() { return this; } };
    const until = async (f) => { for (const t0 = Date.now(); !f() && Date.now() - t0 < 20000;) await new Promise((r) => setTimeout(r, 10)); };
    w.once('online', async () => {
      const { CatchUpPriority, linuxPriorities } = await import(${JSON.stringify(new URL('./catch-up-priority.js', import.meta.url).href)});
      const out = { before: seen(), may: linuxPriorities.mayLowerTo(field(16)[0]), waited: linuxPriorities.waitedMs() };
      const p = new CatchUpPriority(log);
      p.lower();
      out.idle = seen();
      p.restore();
      await until(() => lines.some((l) => /restored/.test(l)));
      out.afterIdle = seen();
      const q = new CatchUpPriority(log, { sys: { ...linuxPriorities, idle: () => undefined } });
      q.lower();
      out.niced = seen();
      q.restore();
      out.after = seen();
      if (out.idle.policy.every((x) => x === 5)) {
        // Busy loops at full priority on every CPU: the lowered catch-up gives up its idle time.
        const hogs = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
        const r = new CatchUpPriority(log, { checkMs: 25 });
        r.lower();
        const t0 = Date.now();
        const restoredBefore = lines.filter((l) => /restored/.test(l)).length;
        await until(() => lines.filter((l) => /restored/.test(l)).length > restoredBefore);
        out.starvedMs = Date.now() - t0;
        for (const h of hogs) h.kill('SIGKILL');
        out.starved = lines.some((l) => /too little idle CPU time/.test(l));
        out.afterStarved = seen();
      }
      console.log(JSON.stringify(out));
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  type Seen = { nice: number[]; policy: number[] };
  const o = JSON.parse(r.stdout) as { before: Seen; idle: Seen; afterIdle: Seen; niced: Seen; after: Seen; may: boolean; waited?: number; starved?: boolean; starvedMs?: number; afterStarved?: Seen };
  const threads = o.before.nice.length;
  assert.ok(threads >= 3, `threads: ${threads}`);
  assert.deepEqual(o.before.policy, o.before.policy.map(() => 0), 'SCHED_OTHER to begin with');
  assert.deepEqual(o.afterIdle, o.before);
  assert.deepEqual(o.after, o.before);
  if (process.getuid?.() === 0) assert.equal(o.may, true, 'root has CAP_SYS_NICE');
  if (!o.may) {
    assert.deepEqual(o.idle, o.before);
    assert.deepEqual(o.niced, o.before);
    return;
  }
  assert.deepEqual(o.niced, { nice: o.before.nice.map((n) => n + 10), policy: o.before.policy });
  if (!existsSync('/usr/bin/chrt') && !existsSync('/bin/chrt')) {
    assert.deepEqual(o.idle, { nice: o.before.nice.map((n) => n + 10), policy: o.before.policy });
    return;
  }
  assert.deepEqual(o.idle, { nice: o.before.nice, policy: o.before.policy.map(() => 5) });
  if (o.waited === undefined) return;
  assert.equal(o.starved, true, `starved catch-up not given full priority (after ${o.starvedMs} ms)`);
  assert.deepEqual(o.afterStarved, o.before);
});
