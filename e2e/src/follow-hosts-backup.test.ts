// Services that follow their hosts, in backup mode with real processes: the spec's hosts and the
// host a launch picked (launchedOn) travel through the log to every backup, and after the
// primary's kill -9 the new primary stops the service through the agent of the host it runs on.
// Two agents on one port, on 127.0.0.1 and 127.0.0.2 (both loopback), enrolled for those hosts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceView } from '@dpns/client';
import { ECHO_SERVICE, freePort, killLaunchedGroups, startAgentProcess, startCluster, teardown, type TestCluster } from './harness/index.js';

const launched = new Set<number>();
after(async () => {
  killLaunchedGroups(launched);
  await teardown();
});

test('backup mode: spec.hosts and launchedOn reach every member; a new primary kills through the host it runs on', { timeout: 180_000 }, async () => {
  const agentPort = await freePort();
  const c: TestCluster = await startCluster({ n: 3, readFromBackups: true, extraArgs: ['--agent-port', String(agentPort)] });
  try {
    const primary = await c.primary();
    const key = c.proc(primary.sid).publicKey;
    const agents = await Promise.all(['127.0.0.1', '127.0.0.2'].map((host) => startAgentProcess({ trustedKeys: [key], allow: { echo: ECHO_SERVICE }, listenHost: host, port: agentPort })));
    for (const a of agents) {
      const host = a.address.split(':')[0] as string;
      const t = await c.call(primary.sid, 'agents.trust', { host, key: a.identity });
      assert.ok(t.ok, JSON.stringify(t));
    }
    const call = async (sid: number, method: string, params: unknown): Promise<Record<string, unknown>> => {
      const a = await c.call(sid, method, params);
      assert.ok(a.ok, `${method}: ${JSON.stringify(a)}`);
      return a.result as Record<string, unknown>;
    };
    const state = async (sid: number, name: string): Promise<ServiceView | undefined> => {
      const a = await c.call(sid, 'serviceState', { pattern: name });
      const e = a.ok ? (a.result as { entries: ServiceView[] }).entries[0] : undefined;
      if (e?.pid !== undefined) launched.add(e.pid);
      return e;
    };
    const until = async (sid: number, name: string, what: string, cond: (e: ServiceView | undefined) => boolean): Promise<ServiceView | undefined> => {
      const deadline = performance.now() + 15_000;
      for (;;) {
        const e = await state(sid, name);
        if (cond(e)) return e;
        if (performance.now() > deadline) assert.fail(`member ${sid}: ${name} is not ${what}; last seen ${JSON.stringify(e)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // 127.0.0.1 runs one service, 127.0.0.2 none: the launch picks 127.0.0.2.
    await call(primary.sid, 'register.add', { name: '/ha/pin', spec: { host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'] } });
    await call(primary.sid, 'launchService', { name: '/ha/pin' });
    // Its pid, so that it is killed at the end: left running, it would advertise itself again to
    // whatever listens on this port in a later test (found: ALREADY_EXISTS for /ha/pin in the next run).
    assert.ok((await state(primary.sid, '/ha/pin'))?.pid !== undefined, '/ha/pin runs');
    await call(primary.sid, 'register.add', { name: '/ha/follow', spec: { hosts: ['127.0.0.1', '127.0.0.2'], program: 'echo', restart: 'on-failure' } });
    const r = await call(primary.sid, 'launchService', { name: '/ha/follow' });
    assert.equal((r.service as { host: string }).host, '127.0.0.2');
    const backups = c.members.map((m) => m.sid).filter((sid) => sid !== primary.sid);
    for (const sid of backups) {
      const e = await until(sid, '/ha/follow', 'running on 127.0.0.2', (x) => x?.state === 'running' && x.launchedOn === '127.0.0.2');
      assert.deepEqual(e?.spec?.hosts, ['127.0.0.1', '127.0.0.2']);
      assert.equal(e?.spec?.host, undefined);
    }
    const pid = (await state(primary.sid, '/ha/follow'))?.pid;
    assert.ok(pid !== undefined);

    await c.kill9(primary.sid);
    const next = await c.primary({ minEpoch: primary.epoch + 1, timeoutMs: 15_000 });
    // The process outlived its connection to the old primary: it reconnects and re-advertises,
    // or is lost and relaunched; either way a kill by the new primary goes to the agent on 127.0.0.2.
    await until(next.sid, '/ha/follow', 'running', (x) => x?.state === 'running' && x.launchedOn !== undefined);
    const where = (await state(next.sid, '/ha/follow'))?.launchedOn as string;
    const running = (await state(next.sid, '/ha/follow'))?.pid as number;
    await call(next.sid, 'killService', { name: '/ha/follow' });
    await until(next.sid, '/ha/follow', 'stopped', (x) => x?.state === 'stopped');
    const agent = agents.find((a) => a.address.startsWith(`${where}:`));
    assert.ok(agent !== undefined);
    assert.ok(agent.stderr.lines.some((l) => l.includes('"msg":"killed"') && l.includes(`"pid":${running}`)), 'the kill reached the agent that launched it');
    for (const t0 = Date.now(); ; await new Promise((res) => setTimeout(res, 20))) {
      try {
        process.kill(running, 0);
      } catch {
        break;
      }
      if (Date.now() - t0 > 10_000) assert.fail(`pid ${running} still runs after the kill`);
    }
  } finally {
    await c.close();
  }
});
