// Memory against a real name server process: what a burst of writes leaves in V8's heap is given
// back once the server goes quiet, not a minute later, and the server answers on afterwards.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DpnsClient } from '@dpns/client';
import { startServerProcess, teardown } from './harness/index.js';

after(async () => {
  await teardown();
});

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

test('the heap a burst of writes grew is given back within seconds of the server going quiet', { timeout: 120_000 }, async () => {
  const ns = await startServerProcess({ args: ['--log-level', 'info'] });
  const admin = new DpnsClient({ servers: [ns.server], token: ns.token });
  try {
    const names = 60_000;
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      for (let i = next++; i < names; i = next++) await admin.advertiseStatic(`/mem/g${Math.floor(i / 1000)}/s${i % 1000}`, '127.0.0.1', 1024 + (i % 60_000));
    }));
    const loaded = rssMiB(ns.pid);
    let line: string | undefined;
    for (let waited = 0; line === undefined && waited < 15_000; waited += 100) {
      await sleep(100);
      line = ns.stderrLines().find((l) => l.includes('heap given back after a burst'));
    }
    assert.ok(line !== undefined, `no "heap given back" line within 15 s of the burst (RSS ${loaded.toFixed(0)} MiB)`);
    const { heapBeforeMB, heapAfterMB } = JSON.parse(line) as { heapBeforeMB: number; heapAfterMB: number };
    assert.ok(heapAfterMB < heapBeforeMB / 2, `the heap went from ${heapBeforeMB} to ${heapAfterMB} MB`);
    const rest = rssMiB(ns.pid);
    assert.ok(rest < loaded - 30, `RSS ${loaded.toFixed(0)} MiB after the burst, ${rest.toFixed(0)} MiB once quiet`);
    // Nothing was lost to the collection, and the server goes on answering.
    const found = await admin.findServices('/mem/g59/*');
    assert.equal(found.length, 1000);
  } finally {
    await admin.close();
  }
});
