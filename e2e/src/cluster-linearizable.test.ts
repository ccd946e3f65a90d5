// Issue 15's real-process check: three name servers, four clients recording what they ask and
// what they get (advertise, unadvertise, find on ten names) while the primary is killed -9 and
// restarted, or frozen (SIGSTOP) and resumed; the history must be linearizable (@dpns/sim's
// checker, the registry model). In the pause test two of the clients are readers that stay on a
// frozen primary, so that what it answers as it resumes, before it learns it was deposed, is in
// the history: a stale read there is the bug of issue 15, item 6. A failure names the seed of the clients' operation mix, the fault
// round, the checker's explanation, and a file holding the whole history.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@dpns/sim';
import { HistoryClient, HistoryRecorder, runOperations, startCluster, teardown, type TestCluster } from './harness/index.js';

after(teardown);

const CLIENTS = 4;
const NAMES = 10;
const RUN_MS = 10_000;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the clients while `faults` runs, then checks what they saw. With `stickyReaders`, the last
 * two clients only read, with a short time limit, and stay on their server when a read times out.
 */
async function recordAndCheck(label: string, stickyReaders: boolean, faults: (c: TestCluster, log: (s: string) => void) => Promise<void>): Promise<void> {
  const seed = Number(process.env.DPNS_LIN_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const c = await startCluster({ n: 3 });
  const recorder = new HistoryRecorder();
  const clients: HistoryClient[] = [];
  const stop = { now: false };
  const notes: string[] = [];
  const log = (s: string): void => {
    notes.push(s);
    console.log(`# ${label} seed ${seed}: ${s}`);
  };
  try {
    await c.primary();
    const loops: Promise<void>[] = [];
    for (let id = 0; id < CLIENTS; id++) {
      const reader = stickyReaders && id >= CLIENTS - 2;
      const client = new HistoryClient({ id, urls: c.urls, token: c.adminToken, recorder, ...(reader ? { sticky: true, opTimeoutMs: 200 } : {}) });
      clients.push(client);
      loops.push(runOperations(client, { prefix: '/lin/', names: NAMES, rand: seededRandom(seed + id), reader }, stop));
    }
    const started = Date.now();
    await faults(c, log);
    await delay(Math.max(0, RUN_MS - (Date.now() - started)));
    stop.now = true;
    await Promise.all(loops);
    const history = recorder.history();
    const { answered, unknown, dropped } = recorder.counts;
    log(`${history.length} operations recorded (${answered} answered, ${unknown} with unknown outcome); ${dropped} refused or failed reads dropped`);
    assert.deepEqual(recorder.unexpected, [], `seed ${seed}: answers the model has no place for`);
    assert.ok(answered > 200, `seed ${seed}: the clients got answers (${answered})`);
    const t0 = performance.now();
    const r = recorder.check();
    log(`checked in ${(performance.now() - t0).toFixed(0)} ms: ${r.ok ? 'linearizable' : r.verdict}`);
    if (!r.ok) {
      const file = join(tmpdir(), `dpns-lin-${label.replace(/\W+/g, '-')}-${seed}.json`);
      // JSON leaves out what is undefined (a return never made, find's absent address): read back, it is the same history.
      writeFileSync(file, JSON.stringify(history));
      assert.fail(`${label}, seed ${seed} (DPNS_LIN_SEED=${seed} repeats the operation mix), faults: ${notes.join('; ')}\nthe history is in ${file}\n${r.explanation}`);
    }
  } finally {
    stop.now = true;
    for (const cl of clients) cl.close();
    await c.close();
  }
}

test('kill -9 of the primary, twice, and its restart: the clients\' history is linearizable', { timeout: 120_000 }, async () => {
  await recordAndCheck('kill', false, async (c, log) => {
    for (let round = 0; round < 2; round++) {
      await delay(1500);
      const old = await c.primary();
      await c.kill9(old.sid);
      const next = await c.primary({ minEpoch: old.epoch + 1, timeoutMs: 10_000 });
      log(`round ${round}: SID ${old.sid} killed, SID ${next.sid} primary of epoch ${next.epoch}`);
      await delay(1000);
      await c.restart(old.sid);
      await c.waitStatus(old.sid, (s) => s.primary === next.sid && s.servers.find((x) => x.self)?.role === 'backup', 10_000);
      log(`round ${round}: SID ${old.sid} back as a backup`);
    }
  });
});

test('SIGSTOP of the primary for 2 s, then SIGCONT, twice: the clients\' history is linearizable', { timeout: 120_000 }, async () => {
  await recordAndCheck('pause', true, async (c, log) => {
    for (let round = 0; round < 2; round++) {
      await delay(1500);
      const old = await c.primary();
      const pid = c.proc(old.sid).pid;
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        const next = await c.primary({ minEpoch: old.epoch + 1, among: [0, 1, 2].filter((s) => s !== old.sid), timeoutMs: 10_000 });
        log(`round ${round}: SID ${old.sid} stopped, SID ${next.sid} primary of epoch ${next.epoch} after ${Date.now() - stoppedAt} ms`);
        await delay(Math.max(0, 2000 - (Date.now() - stoppedAt)));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      log(`round ${round}: SID ${old.sid} resumed after ${Date.now() - stoppedAt} ms`);
      await c.waitStatus(old.sid, (s) => s.servers.find((x) => x.self)?.role === 'backup', 10_000);
    }
  });
});
