// Crash safety with a real process: SIGKILL a busy writer, then check every acknowledged record.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { range, Scratch } from './testing.js';

// Appends forever with many appends in flight, printing each index once it is durable.
// stdout to a pipe is synchronous on Linux, so a printed index was acknowledged before the kill.
function writerScript(storeUrl: string, dir: string): string {
  return `
import { Store } from ${JSON.stringify(storeUrl)};
const logger = { info() {}, warn() {}, error(msg, fields) { console.error(msg, JSON.stringify(fields)); } };
const { store } = await Store.open({ dir: ${JSON.stringify(dir)}, logger, segmentBytes: 16384 });
for (let n = 1; ; n++) {
  const { index, durable } = store.append({ n, pad: 'p'.repeat(n % 40) });
  durable.then(() => process.stdout.write(index + '\\n'), (err) => { console.error(String(err)); process.exit(3); });
  if (n % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
}
`;
}

void test('every index acknowledged before a SIGKILL is there after reopening', async (t) => {
  const s = await Scratch.create(t);
  const dataDir = join(s.dir, 'data');
  const script = join(s.dir, 'writer.mjs');
  await writeFile(script, writerScript(new URL('./store.js', import.meta.url).href, dataDir));

  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = once(child, 'close');
  const acked: number[] = [];
  const firstAck = new Promise<void>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      acked.push(Number(line));
      if (acked.length === 1) resolve();
    });
  });
  await Promise.race([
    firstAck,
    closed.then(() => assert.fail(`the writer exited before its first acknowledgement: ${stderr}`)),
  ]);
  await delay(300); // the crash should land at an arbitrary point of a busy writer
  child.kill('SIGKILL');
  const [code, signal] = await closed;
  assert.equal(signal, 'SIGKILL', `writer exited by itself (code ${String(code)}): ${stderr}`);

  assert.ok(acked.length > 10, `only ${acked.length} acknowledgements`);
  assert.deepEqual(acked, range(1, acked.length), 'acknowledged in index order');
  const { recovered } = await s.open({ dir: dataDir, segmentBytes: 16384 });
  const lastAcked = acked.at(-1)!;
  assert.ok(recovered.lastIndex >= lastAcked, `recovered up to ${recovered.lastIndex}, acknowledged up to ${lastAcked}`);
  assert.deepEqual(recovered.records.map((r) => r.index), range(1, recovered.lastIndex));
  for (const r of recovered.records) assert.deepEqual(r.data, { n: r.index, pad: 'p'.repeat(r.index % 40) });
  t.diagnostic(`acknowledged ${acked.length}, recovered ${recovered.lastIndex}, dropped tail: ${JSON.stringify(recovered.droppedTail ?? null)}`);
});
