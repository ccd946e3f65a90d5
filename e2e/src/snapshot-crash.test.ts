// kill -9 while a snapshot of a million names is being written loses nothing acknowledged
// (issue 16). Writers fill the registry towards 1,250,000 names through the real client; once a
// million are acknowledged, the server is killed the moment a snapshot's temp file appears (one
// starts each time an eighth of the registry has been written, so one of over a million entries
// starts before 1,250,000). The temp file left behind proves the kill landed mid-snapshot; after a restart on the
// same data directory every acknowledged name is there with the port it was given, and nothing
// that was never asked for.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { DpnsClient } from '@dpns/client';
import { CrashLedger, makeTempDir, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

after(async () => {
  await teardown();
});

const CLIENTS = 4;
const LOOPS_PER_CLIENT = 32;
/** A snapshot is only waited for once this many names are acknowledged. */
const LARGE = 1_000_000;
const MAX_NAMES = 1_250_000;
/** Names are spread over this many parents, and read back a parent at a time. */
const PARENTS = 500;

function nameOf(i: number): string {
  return `/snapcrash/g${i % PARENTS}/s${i}`;
}

/** One write loop: the next name until the server dies or enough were sent. */
function loop(client: DpnsClient, ledger: CrashLedger, counter: { next: number }): Promise<void> {
  return ledger.writeUntilCrash(client, () => {
    const i = counter.next++;
    return i >= MAX_NAMES ? undefined : { name: nameOf(i), port: 1000 + (i % 60_000) };
  });
}

/** The snapshot temp file being written, if any. */
async function snapshotTemp(dir: string): Promise<string | undefined> {
  return (await readdir(dir)).find((n) => n.startsWith('snap-') && n.endsWith('.tmp'));
}

test('kill -9 during a snapshot of 1,000,000+ names loses no acknowledged write', { timeout: 900_000 }, async (t) => {
  const dataDir = makeTempDir('dpns-snapcrash-');
  const ledger = new CrashLedger();
  const counter = { next: 0 };
  let ns: ServerProcess = await startServerProcess({ dataDir, args: ['--log-level', 'warn', '--snapshot-every', '1000'] });
  const clients = Array.from({ length: CLIENTS }, () => new DpnsClient({ servers: [ns.server], token: ns.token, requestTimeoutMs: 10_000 }));
  const loops = clients.flatMap((c) => Array.from({ length: LOOPS_PER_CLIENT }, () => loop(c, ledger, counter)));

  // Polled, not watched: the temp file lives for the few hundred milliseconds the snapshot takes.
  let temp: string | undefined;
  while (temp === undefined) {
    assert.ok(counter.next < MAX_NAMES, `no snapshot started while ${MAX_NAMES} names were written`);
    await new Promise((r) => setTimeout(r, 2));
    if (ledger.acked.size >= LARGE) temp = await snapshotTemp(dataDir);
  }
  const exit = await ns.kill('SIGKILL');
  assert.equal(exit.signal, 'SIGKILL');
  await Promise.all(loops);
  await Promise.all(clients.map((c) => c.close()));
  assert.equal(await snapshotTemp(dataDir), temp, 'the kill did not land while the snapshot was being written');
  t.diagnostic(`killed while writing ${temp}: ${ledger.acked.size} writes acknowledged, ${ledger.requested.size - ledger.acked.size} in flight`);

  ns = await startServerProcess({ dataDir, port: ns.port, args: ['--log-level', 'warn'] });
  const client = new DpnsClient({ servers: [ns.server], token: ns.token, requestTimeoutMs: 30_000 });
  try {
    // A parent at a time: one answer of a million entries would be ~200 MB of JSON.
    const entries: Awaited<ReturnType<DpnsClient['serviceState']>> = [];
    for (let g = 0; g < PARENTS; g++) entries.push(...(await client.serviceState(`/snapcrash/g${g}/*`)));
    const port = new Map(entries.map((e) => [e.name, e.kind === 'service' ? e.port : undefined]));
    const missing = [...ledger.acked].filter((n) => !port.has(n));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes lost`);
    const invented = [...port.keys()].filter((n) => !ledger.requested.has(n));
    assert.deepEqual(invented.slice(0, 10), [], 'names that were never requested');
    const wrong = [...ledger.acked].filter((n) => port.get(n) !== ledger.requested.get(n));
    assert.deepEqual(wrong.slice(0, 10), [], 'entries with another port than the one acknowledged');
    // The half-written snapshot was never taken for a good one, and is cleared by the next.
    assert.ok(entries.length >= ledger.acked.size);
  } finally {
    await client.close();
    await ns.stop();
  }
});
