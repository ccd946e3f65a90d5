// Issue 15, item 7: a frozen primary (SIGSTOP: its sockets stay open, nothing answers) must not
// hold a client for its request timeout while the other members elect a new primary. The client
// library notices the unanswered ping, asks the other members, and moves to the newer primary:
// a write made after the freeze is acknowledged while the old primary is still stopped, well
// inside a request timeout shorter than the heartbeat's death sentence (5 s).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { DpnsClient } from '@dpns/client';
import { startCluster, teardown } from './harness/index.js';

after(teardown);

test('a client moves off a frozen primary to the newly elected one while it is still frozen', { timeout: 90_000 }, async (t) => {
  const c = await startCluster({ n: 3, extraArgs: ['--client-heartbeat-ms', '500'] });
  const clients: DpnsClient[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      const primary = await c.primary({ minEpoch: 0, timeoutMs: 20_000 });
      // A client that has been talking to the primary, as an application's would.
      const client = new DpnsClient({ servers: c.servers, token: c.adminToken, requestTimeoutMs: 4_000 });
      clients.push(client);
      await client.register.add(`/frozen/r${round}/before`, { host: '127.0.0.1', program: 'echo' });
      const proc = c.proc(primary.sid);
      proc.proc.kill('SIGSTOP');
      const frozenAt = performance.now();
      try {
        // Without the probe the client would wait on the frozen socket until its heartbeat gives
        // up (5 s), past this write's 4 s request timeout.
        await client.register.add(`/frozen/r${round}/during`, { host: '127.0.0.1', program: 'echo' });
        const tookMs = performance.now() - frozenAt;
        const now = await c.primary({ among: [0, 1, 2].filter((s) => s !== primary.sid), minEpoch: primary.epoch + 1, timeoutMs: 5_000 });
        t.diagnostic(`round ${round + 1}: primary ${primary.sid} frozen; the write was acknowledged ${Math.round(tookMs)} ms later by member ${now.sid} (epoch ${now.epoch})`);
        const a = await c.call(now.sid, 'listServices', { pattern: `/frozen/r${round}/*` });
        assert.ok(a.ok && (a.result as { names: string[] }).names.includes(`/frozen/r${round}/during`), 'the write is on the new primary');
      } finally {
        proc.proc.kill('SIGCONT');
      }
      // The old primary rejoins as a backup before the next round.
      try {
        await c.waitStatus(primary.sid, (s) => s.servers.every((r) => r.connected && r.lag === 0) && s.servers.some((r) => r.self && r.role === 'backup'), 20_000);
      } catch (e) {
        const logs = [0, 1, 2].map((sid) => `--- member ${sid}:\n${[...c.proc(sid).stdoutLines(), ...c.proc(sid).stderrLines()].slice(-25).join('\n')}`).join('\n');
        throw new Error(`${(e as Error).message}\n${logs}`);
      }
      await client.close();
    }
  } finally {
    await Promise.all(clients.map((x) => x.close()));
    await c.close();
  }
});
