// A catching-up server's threads run at a lower priority only when it can give it back, and all
// of them get it back, those started meanwhile too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CatchUpPriority, type Priorities } from './catch-up-priority.js';
import { createLogger } from '../log.js';

/** A process of three threads; `chrt` says whether setting the policy works, and `stuck` makes it fail from the nth call on. */
function fakeSystem(o: { own?: number; mayLower?: boolean; chrt?: boolean; stuckFrom?: number } = {}): Priorities & { nice: Map<number, number>; idle: boolean; calls: boolean[] } {
  const nice = new Map([[100, o.own ?? 0], [101, o.own ?? 0], [102, o.own ?? 0]]);
  const sys = {
    nice,
    idle: false,
    calls: [] as boolean[],
    policy(idle: boolean) {
      sys.calls.push(idle);
      if (o.chrt === false || sys.calls.length >= (o.stuckFrom ?? Infinity)) return false;
      sys.idle = idle;
      return true;
    },
    threads: () => [...nice.keys()],
    own: () => nice.get(100) ?? 0,
    set(tid: number, n: number) {
      if (!nice.has(tid)) throw new Error('ESRCH');
      nice.set(tid, n);
    },
    mayLowerTo: () => o.mayLower ?? true,
  };
  return sys;
}

function logged(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) };
}

test('lowered: every thread runs on idle CPU time only; restored: every thread runs as before', () => {
  const sys = fakeSystem({ own: 2 });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, 10, sys);
  p.lower();
  assert.equal(p.lowered, true);
  assert.equal(sys.idle, true);
  // Nice values are left alone: SCHED_IDLE does not use them.
  assert.deepEqual([...sys.nice.values()], [2, 2, 2]);
  p.lower();
  p.restore();
  assert.equal(p.lowered, false);
  assert.equal(sys.idle, false);
  p.restore();
  assert.deepEqual(sys.calls, [true, false]);
  assert.equal(lines.filter((l) => /lowered this server's CPU priority/.test(l)).length, 1);
  assert.match(lines.find((l) => /lowered/.test(l)) ?? '', /"policy":"idle","threads":3/);
  assert.match(lines.find((l) => /restored/.test(l)) ?? '', /"policy":"other","nice":2/);
});

test('a policy that cannot be given back is said in a warning', () => {
  const sys = fakeSystem({ stuckFrom: 2 });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, 10, sys);
  p.lower();
  p.restore();
  assert.equal(p.lowered, false);
  assert.equal(lines.filter((l) => /could not restore this server's CPU priority.*restart it/.test(l)).length, 1);
});

test('without chrt: every thread runs 10 lower; restored: every thread, those started meanwhile too, runs as before', () => {
  const sys = fakeSystem({ own: 2, chrt: false });
  const { lines, log } = logged();
  const p = new CatchUpPriority(log, 10, sys);
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
  const p = new CatchUpPriority(log, 10, sys);
  p.lower();
  p.lower();
  assert.equal(p.lowered, false);
  assert.deepEqual([...sys.nice.values()], [0, 0, 0]);
  assert.deepEqual(sys.calls, []);
  assert.equal(lines.filter((l) => /full CPU priority.*LimitNICE=\+0/.test(l)).length, 1);
  // Without chrt, nor one already near the lowest nice value; nor with the lowering turned off.
  const low = fakeSystem({ own: 15, chrt: false });
  new CatchUpPriority(log, 10, low).lower();
  assert.deepEqual([...low.nice.values()], [15, 15, 15]);
  const off = fakeSystem();
  new CatchUpPriority(log, 0, off).lower();
  assert.deepEqual([...off.nice.values()], [0, 0, 0]);
  assert.equal(off.idle, false);
});

test('on Linux, all of a process\'s threads are lowered and given back (where the process may give it back)', { skip: process.platform !== 'linux' ? 'per-thread policies and nice values are Linux\'s' : false }, () => {
  // In a process of its own, with a worker thread: the test runner's priority is left alone.
  // Each thread's nice value and policy (fields 19 and 41 of its stat; SCHED_IDLE is 5), first
  // with chrt, then as without it.
  const script = `
    const { Worker } = require('node:worker_threads');
    const { readdirSync, readFileSync } = require('node:fs');
    const w = new Worker('setTimeout(() => {}, 5000)', { eval: true });
    const field = (i) => readdirSync('/proc/self/task').map((t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[i]));
    const seen = () => ({ nice: field(16), policy: field(38) });
    w.once('online', async () => {
      const { CatchUpPriority, linuxPriorities } = await import(${JSON.stringify(new URL('./catch-up-priority.js', import.meta.url).href)});
      const log = { info() {}, warn() {}, debug() {}, error() {}, child() { return this; } };
      const out = { before: seen(), may: linuxPriorities.mayLowerTo(field(16)[0]) };
      const p = new CatchUpPriority(log);
      p.lower();
      out.idle = seen();
      p.restore();
      out.afterIdle = seen();
      const q = new CatchUpPriority(log, 10, { ...linuxPriorities, policy: () => false });
      q.lower();
      out.niced = seen();
      q.restore();
      out.after = seen();
      console.log(JSON.stringify(out));
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  type Seen = { nice: number[]; policy: number[] };
  const o = JSON.parse(r.stdout) as { before: Seen; idle: Seen; afterIdle: Seen; niced: Seen; after: Seen; may: boolean };
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
  if (existsSync('/usr/bin/chrt') || existsSync('/bin/chrt')) assert.deepEqual(o.idle, { nice: o.before.nice, policy: o.before.policy.map(() => 5) });
  else assert.deepEqual(o.idle, { nice: o.before.nice.map((n) => n + 10), policy: o.before.policy });
});

test('a catch-up that goes on too long, over all its attempts, has the rest at full priority', async () => {
  const sys = fakeSystem();
  const { lines, log } = logged();
  let clock = 0;
  const p = new CatchUpPriority(log, 10, sys, 40, () => clock);
  // A first attempt of 30 ms ends when its link closes; the second may run lowered for the 10 ms
  // left, so its clock runs out before a 25 ms timer set after it (timers fire in order).
  p.lower();
  clock = 30;
  p.restore();
  p.lower();
  assert.equal(p.lowered, true);
  await new Promise((r) => setTimeout(r, 25));
  assert.equal(p.lowered, false);
  assert.equal(sys.idle, false);
  assert.equal(lines.filter((l) => /still catching up after the longest.*the rest at full priority/.test(l)).length, 1);
  // Later attempts run at full priority, until this server has caught up once.
  p.lower();
  assert.equal(p.lowered, false);
  p.restore(true);
  p.lower();
  assert.equal(p.lowered, true);
  p.restore(true);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(lines.filter((l) => /still catching up/.test(l)).length, 1);
  assert.deepEqual(sys.calls, [true, false, true, false, true, false]);
});
