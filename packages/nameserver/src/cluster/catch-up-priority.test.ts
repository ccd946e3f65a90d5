// A catching-up server's threads run at a lower priority only when it can give it back, and all
// of them get it back, those started meanwhile too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CatchUpPriority, type Priorities } from './catch-up-priority.js';
import { createLogger } from '../log.js';

function fakeSystem(o: { own?: number; mayLower?: boolean } = {}): Priorities & { nice: Map<number, number> } {
  const nice = new Map([[100, o.own ?? 0], [101, o.own ?? 0], [102, o.own ?? 0]]);
  return {
    nice,
    threads: () => [...nice.keys()],
    own: () => nice.get(100) ?? 0,
    set(tid, n) {
      if (!nice.has(tid)) throw new Error('ESRCH');
      nice.set(tid, n);
    },
    mayLowerTo: () => o.mayLower ?? true,
  };
}

function logged(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) };
}

test('lowered: every thread runs 10 lower; restored: every thread, those started meanwhile too, runs as before', () => {
  const sys = fakeSystem({ own: 2 });
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
  assert.equal(lines.filter((l) => /full CPU priority.*LimitNICE=\+0/.test(l)).length, 1);
  // Nor one already near the lowest priority, nor with the lowering turned off.
  const low = fakeSystem({ own: 15 });
  new CatchUpPriority(log, 10, low).lower();
  assert.deepEqual([...low.nice.values()], [15, 15, 15]);
  const off = fakeSystem();
  new CatchUpPriority(log, 0, off).lower();
  assert.deepEqual([...off.nice.values()], [0, 0, 0]);
});

test('on Linux, all of a process\'s threads are lowered and given back (where the process may give it back)', { skip: process.platform !== 'linux' ? 'per-thread nice values are Linux\'s' : false }, () => {
  // In a process of its own, with a worker thread: the test runner's priority is left alone.
  const script = `
    const { Worker } = require('node:worker_threads');
    const { readdirSync, readFileSync } = require('node:fs');
    const w = new Worker('setTimeout(() => {}, 5000)', { eval: true });
    const nice = () => readdirSync('/proc/self/task').map((t) => Number(readFileSync('/proc/self/task/' + t + '/stat', 'utf8').split(') ')[1].split(' ')[16]));
    w.once('online', async () => {
      const { CatchUpPriority, linuxPriorities } = await import(${JSON.stringify(new URL('./catch-up-priority.js', import.meta.url).href)});
      const p = new CatchUpPriority({ info() {}, warn() {}, debug() {}, error() {}, child() { return this; } });
      const before = nice();
      p.lower();
      const during = nice();
      p.restore();
      console.log(JSON.stringify({ before, during, after: nice(), may: linuxPriorities.mayLowerTo(before[0]) }));
      process.exit(0);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { before, during, after, may } = JSON.parse(r.stdout) as { before: number[]; during: number[]; after: number[]; may: boolean };
  assert.ok(before.length >= 3, `threads: ${before.length}`);
  assert.deepEqual(after, before);
  if (may) assert.deepEqual(during, before.map((n) => n + 10));
  else assert.deepEqual(during, before);
  if (process.getuid?.() === 0) assert.equal(may, true, 'root has CAP_SYS_NICE');
});
