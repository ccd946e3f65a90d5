// /proc parsing: the command name may hold spaces and parentheses; start time identifies a process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcStat, procStat, processIdentity } from './proc.js';

test('field 22 is read after the last ")", whatever the command name holds', () => {
  const tail = 'S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10';
  assert.deepEqual(parseProcStat(`4242 (node) ${tail}`), { state: 'S', pgrp: 4242, startTime: '987654' });
  assert.deepEqual(parseProcStat(`4242 (evil) 1 2 (x) ${tail}`), { state: 'S', pgrp: 4242, startTime: '987654' });
  assert.equal(parseProcStat('garbage'), undefined);
  assert.equal(parseProcStat('1 (x) S 1'), undefined);
});

test('this process: alive with its own start time; another start time means the pid was recycled', async () => {
  const st = await procStat(process.pid);
  assert.ok(st);
  assert.match(st.startTime, /^\d+$/);
  assert.equal(await processIdentity(process.pid, st.startTime), 'alive');
  assert.equal(await processIdentity(process.pid, `${st.startTime}1`), 'recycled');
  assert.equal(await processIdentity(2 ** 22 + 12345, '1'), 'gone');
});
