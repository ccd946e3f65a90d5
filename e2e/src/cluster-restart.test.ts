// After a takeover the new primary asks the launch agent on the dead primary's host to start it
// again (the paper's Figure 9): no operator and no test harness restarts it. The agent is real,
// trusts only the cluster's key, and runs only the allowlisted start script.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, makeTempDir, NAMESERVER_BIN, startAgentProcess, startCluster, teardown } from './harness/index.js';

after(teardown);

test('the new primary has the old primary restarted through its host\'s agent, and it rejoins as a backup', { timeout: 60_000 }, async () => {
  const dir = makeTempDir('dpns-restart-');
  // What an operator's unit or wrapper does: start member {sid} with its own data directory.
  const script = join(dir, 'start-member.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `dir=$(cat "${dir}/dir-$2")`,
    `exec "${process.execPath}" "${NAMESERVER_BIN}" --cluster "$(cat "${dir}/cluster")" --self "$1" --data-dir "$dir" --agent-port "$(cat "${dir}/agent-port")" --log-format text`,
    '',
  ].join('\n'));
  chmodSync(script, 0o755);
  const [agentPort] = await freePorts(1);
  const c = await startCluster({
    n: 3, extraArgs: ['--agent-port', String(agentPort), '--restart-member', JSON.stringify({ program: script, args: ['{self}', '{sid}'], user: 'root' })],
  });
  let restartedDir: string | undefined;
  try {
    writeFileSync(join(dir, 'cluster'), c.servers.join(','));
    writeFileSync(join(dir, 'agent-port'), String(agentPort));
    for (const m of c.members) writeFileSync(join(dir, `dir-${m.sid}`), m.dataDir);
    const agent = await startAgentProcess({ trustedKeys: [c.proc(0).publicKey], allow: { member: script }, port: agentPort,
      // Enrolled through the primary, so every member knows it: the restart goes through the same trust check as a launch.
      enroll: { url: (await c.primary()).url, token: c.adminToken },
      // This test's name servers run as root, so the restarted one must too; an operator's run as their own user.
      users: ['root'] });

    const first = await c.primary();
    restartedDir = c.members[first.sid]?.dataDir;
    await c.kill9(first.sid);
    const next = await c.primary({ minEpoch: first.epoch + 1, timeoutMs: 10_000 });
    // Nobody here restarts it: the new primary's request to the agent must.
    const seen = await c.waitStatus(next.sid, (s) => {
      const old = s.servers.find((x) => x.sid === first.sid);
      return old?.connected === true && old.role === 'backup' && old.epoch === next.epoch;
    }, 15_000).catch((e: unknown) => {
      console.log(`# new primary:\n${c.proc(next.sid).stderrLines().filter((l) => /restart|agent/i.test(l)).join('\n')}`);
      console.log(`# agent:\n${agent.stderr.text()}\n${agent.stdout.text()}`);
      throw e;
    });
    const old = seen.servers.find((x) => x.sid === first.sid);
    assert.equal(old?.role, 'backup', 'the old primary is back, as a backup of the new epoch');
    const w = await c.call(next.sid, 'register.add', { name: '/restart/after', spec: { host: '127.0.0.1', program: 'echo' } });
    assert.ok(w.ok, 'the cluster of three takes writes again');
  } finally {
    // The restarted server is the agent's child, not the harness's.
    if (restartedDir !== undefined) {
      try {
        execFileSync('pkill', ['-9', '-f', restartedDir]);
      } catch {
        // already gone
      }
    }
    await c.close();
  }
});
