// Every acknowledged write survives `kill -9` of the name server, and nothing appears that was
// never asked for. Four writers stream static advertisements through the real client library
// as fast as they can; the server is SIGKILLed mid-stream, restarted on the same data
// directory, and the registry is read back with the real `dpns` command. Three rounds, one
// data directory, so later rounds also recover the tails of earlier crashes.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient } from '@dpns/client';
import { CrashLedger, makeTempDir, runCli, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

after(async () => {
  await teardown();
});

const WRITERS = 4;
const ROUNDS = 3;

/** One writer: sequential writes until one fails (the server died), then it stops. */
function writer(client: DpnsClient, round: number, w: number, ledger: CrashLedger): Promise<void> {
  let k = 0;
  return ledger.writeUntilCrash(client, () => {
    const port = 1000 + ((round * 7919 + w * 104_729 + k) % 60_000);
    return { name: `/dur/r${round}/w${w}/n${k++}`, port };
  });
}

async function streamFor(ledger: CrashLedger, n: number, ms: number): Promise<void> {
  const start = Date.now();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (ledger.acked.size >= n && Date.now() - start >= ms) {
        clearInterval(check);
        resolve();
      }
    }, 20);
  });
}

test('acknowledged writes survive kill -9, three times', async (t) => {
  const dataDir = makeTempDir('dpns-durability-');
  const ledger = new CrashLedger();
  let ns: ServerProcess = await startServerProcess({ dataDir, args: ['--log-level', 'warn'] });

  for (let round = 1; round <= ROUNDS; round++) {
    const clients = Array.from({ length: WRITERS }, () => new DpnsClient({ servers: [ns.server], token: ns.token, requestTimeoutMs: 5000 }));
    const ackedBefore = ledger.acked.size;
    const writers = clients.map((c, w) => writer(c, round, w, ledger));
    await streamFor(ledger, ackedBefore + 100, 1000 + Math.random() * 1000);
    const exit = await ns.kill('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
    await Promise.all(writers);
    await Promise.all(clients.map((c) => c.close()));
    assert.ok(ledger.acked.size >= ackedBefore + 100, `round ${round}: only ${ledger.acked.size - ackedBefore} writes acknowledged`);

    const unknown = [...ledger.requested.keys()].filter((n) => n.startsWith(`/dur/r${round}/`) && !ledger.acked.has(n)).length;
    t.diagnostic(`round ${round}: ${ledger.acked.size - ackedBefore} acknowledged, ${unknown} in flight at the crash`);

    ns = await startServerProcess({ dataDir, port: ns.port, args: ['--log-level', 'warn'] });
    const list = await runCli(['--server', ns.server, 'list', '/dur/*', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const present = new Set((JSON.parse(list.stdout) as { names: string[] }).names);
    const missing = [...ledger.acked].filter((n) => !present.has(n));
    assert.deepEqual(missing.slice(0, 10), [], `round ${round}: ${missing.length} acknowledged writes lost`);
    const invented = [...present].filter((n) => !ledger.requested.has(n));
    assert.deepEqual(invented, [], `round ${round}: names that were never requested`);

    // The entries are whole: each acknowledged one is running, static, at the port it was given.
    const state = await runCli(['--server', ns.server, 'state', `/dur/r${round}/*`, '--json']);
    assert.equal(state.code, 0, state.stderr);
    const entries = (JSON.parse(state.stdout) as { entries: { name: string; state: string; port?: number; advertiser?: { kind: string } }[] }).entries;
    for (const e of entries) {
      assert.equal(e.state, 'running', e.name);
      assert.equal(e.advertiser?.kind, 'static', e.name);
      assert.equal(e.port, ledger.requested.get(e.name), e.name);
    }
  }
  await ns.stop();
});
