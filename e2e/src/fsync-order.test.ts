// "The answer is sent only once the record is fsynced" (PROTOCOL.md §14), checked on the REAL
// name server's system calls. `kill -9` keeps the page cache, so the crash tests cannot tell a
// server that never fdatasyncs from one that does; a power cut could. Here strace records every
// write and fdatasync with the fd's path: for each write made through the client library, the
// record goes to a WAL segment, then that segment is fdatasynced, and only after that fdatasync
// returned does the answer (matched by its revision) go out on the socket. A read that saw a write
// still in flight waits for the same fdatasync; a read with nothing in flight goes at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { DpnsClient } from '@dpns/client';
import { startTracedServer, straceUnavailable, teardown, type Syscall, type TracedServer } from './harness/index.js';

const why = straceUnavailable();
const SYSCALLS = ['fdatasync', 'fsync', 'write', 'writev', 'sendmsg', 'sendto'];
const PREFIX = '/fsync-order';

let traced: TracedServer | undefined;
let client: DpnsClient | undefined;

before(async () => {
  if (why !== undefined) return;
  traced = await startTracedServer(SYSCALLS, { args: ['--log-level', 'warn'] });
  client = new DpnsClient({ servers: [traced.ns.server], token: traced.ns.token, requestTimeoutMs: 15_000 });
});

after(async () => {
  await client?.close();
  await traced?.stop();
  await teardown();
});

/** One write through the client library: a static advertisement under a name found nowhere else. */
async function write(c: DpnsClient, name: string, port: number): Promise<{ name: string; revision: number }> {
  const { revision } = await c.call('advertiseService', { name, host: '127.0.0.1', port, static: true });
  return { name, revision };
}

/** The trace, told apart: the WAL's writes and fdatasyncs, and what went out on sockets. */
interface Trace {
  calls: Syscall[];
  walDir: string;
}

function isSocket(c: Syscall): boolean {
  return c.fd !== undefined && /^(socket|TCP|TCPv6|UNIX):\[/.test(c.fd) && ['write', 'writev', 'sendmsg', 'sendto'].includes(c.name);
}

function isSync(c: Syscall): boolean {
  return c.name === 'fdatasync' || c.name === 'fsync';
}

function show(c: Syscall | undefined): string {
  return c === undefined ? '(none)' : c.text.length > 400 ? `${c.text.slice(0, 400)}…` : c.text;
}

/** The one socket write that carries the JSON-RPC response `{"result":{"revision":R}}`. */
function answerOf(tr: Trace, revision: number): Syscall {
  const re = new RegExp(`"id":[^,]+,"result":\\{"revision":${revision}\\}`);
  const found = tr.calls.filter((c) => isSocket(c) && re.test(c.data));
  assert.equal(found.length, 1, `one answer with revision ${revision} on a socket, found:\n${found.map(show).join('\n')}`);
  return found[0] as Syscall;
}

/**
 * Checks one acknowledged write: its record was written to a WAL segment, that segment was
 * fdatasynced after the write returned, and the answer left only after the fdatasync returned 0.
 */
function checkWrite(tr: Trace, w: { name: string; revision: number }): { sync: Syscall; answer: Syscall } {
  const records = tr.calls.filter((c) => c.name === 'write' && c.fd?.startsWith(tr.walDir) === true && c.data.includes(`"i":${w.revision},`) && c.data.includes(`"${w.name}"`));
  assert.equal(records.length, 1, `${w.name}: one write of record ${w.revision} to a WAL segment under ${tr.walDir}, found ${records.length}`);
  const record = records[0] as Syscall;
  const sync = tr.calls.find((c) => c.name === 'fdatasync' && c.fd === record.fd && c.start > record.end);
  const answer = answerOf(tr, w.revision);
  assert.ok(sync !== undefined, `${w.name}: the WAL segment was never fdatasynced after its record was written\nrecord: ${show(record)}\nanswer: ${show(answer)}`);
  assert.equal(sync.ret, '0', `${w.name}: the fdatasync failed: ${show(sync)}`);
  assert.ok(answer.start > sync.end,
    `${w.name}: the answer (revision ${w.revision}) went out before the fdatasync of its record returned\nrecord: ${show(record)}\nfdatasync: ${show(sync)}\nanswer: ${show(answer)}`);
  return { sync, answer };
}

test('every write is answered only after the fdatasync of its WAL record; reads wait only for writes in flight', { skip: why, timeout: 120_000 }, async (t) => {
  const c = client as DpnsClient;
  const tr0 = traced as TracedServer;
  const walDir = `${realpathSync(tr0.ns.dataDir)}/wal/`;
  const writes: { name: string; revision: number }[] = [];

  // One at a time: each write is its own batch.
  for (let k = 0; k < 5; k++) writes.push(await write(c, `${PREFIX}/one/n${k}`, 2000 + k));
  // Eight at once: a group commit, where several records share one fdatasync.
  writes.push(...(await Promise.all(Array.from({ length: 8 }, (_, k) => write(c, `${PREFIX}/group/n${k}`, 3000 + k)))));
  // Nothing in flight: this read is answered at once.
  const idleNames = await c.listServices(`${PREFIX}/*`);
  assert.deepEqual(idleNames, writes.map((w) => w.name).sort());
  // A read sent right behind a write sees it, so it waits for the write's fdatasync too.
  const [held, heldNames] = await Promise.all([write(c, `${PREFIX}/held/n0`, 4000), c.listServices(`${PREFIX}/held/*`)]);
  assert.deepEqual(heldNames, [held.name], 'the read behind the write sees it');
  writes.push(held);

  await c.close();
  client = undefined;
  await tr0.stop();
  traced = undefined;
  const tr: Trace = { calls: tr0.read(), walDir };
  assert.ok(tr.calls.some((x) => x.fd?.startsWith(walDir) === true), `the trace shows no I/O under ${walDir}: ${tr0.tracePath}`);

  const checked = writes.map((w) => ({ w, ...checkWrite(tr, w) }));
  const syncs = new Set(checked.map((x) => x.sync.start)).size;
  t.diagnostic(`${writes.length} writes checked, ${syncs} fdatasyncs covered them`);

  // The idle read: no disk sync and no WAL write between the last answer before it and its own.
  const names = (list: string[]) => new RegExp(`"result":\\{"names":\\[${list.map((n) => JSON.stringify(n).replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join(',')}\\]\\}`);
  const idleRe = names(idleNames);
  const idleAnswer = tr.calls.find((x) => isSocket(x) && idleRe.test(x.data));
  assert.ok(idleAnswer !== undefined, 'the idle read\'s answer is in the trace');
  const lastWriteAnswer = Math.max(...checked.filter((x) => !x.w.name.includes('/held/')).map((x) => x.answer.start));
  assert.ok(idleAnswer.start > lastWriteAnswer, 'the idle read was answered after the writes before it');
  const between = tr.calls.filter((x) => x.start > lastWriteAnswer && x.start < idleAnswer.start && (isSync(x) || x.fd?.startsWith(walDir) === true));
  assert.deepEqual(between.map(show), [], 'a read with nothing in flight waits for no disk');

  // The held read: after the fdatasync of the write it saw.
  const heldRe = names([held.name]);
  const heldAnswer = tr.calls.find((x) => isSocket(x) && heldRe.test(x.data));
  const heldWrite = checked.find((x) => x.w === held);
  assert.ok(heldAnswer !== undefined && heldWrite !== undefined, 'the held read\'s answer is in the trace');
  assert.ok(heldAnswer.start > heldWrite.sync.end,
    `a read that saw a write in flight went out before that write's fdatasync returned\nfdatasync: ${show(heldWrite.sync)}\nread's answer: ${show(heldAnswer)}`);
});
