// kill -9 while a snapshot of a large registry is being written loses nothing acknowledged.
// Writers fill the registry towards 200,000 names through the real client; once it is large enough
// that a snapshot takes a while to write, the server is killed the moment a snapshot's temp file
// appears. The temp file left behind proves the kill landed mid-snapshot; after a restart on the
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
/** A snapshot is only waited for once this many names are acknowledged: one of 100k+ entries takes long enough to hit. */
const LARGE = 100_000;
const MAX_NAMES = 200_000;

function nameOf(i: number): string {
  return `/snapcrash/g${i % 500}/s${i}`;
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

test('kill -9 during a snapshot of 100,000+ names loses no acknowledged write', { timeout: 300_000 }, async (t) => {
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
    const entries = await client.serviceState('/snapcrash/*');
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
