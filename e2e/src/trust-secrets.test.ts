// Attack 3 of the "Trust" issue, scripted: an auto-start service whose launch spec holds a secret
// (an env value and a password argument) is added and launched through the real CLI, agent and
// name server. Anonymous state, list, find, watch events and the monitor page's HTTP answers
// never show the secret; the admin's `info` does; the server's log and /metrics never hold it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DpnsClient, isDpnsError, REDACTED, type ServiceView, type WatchEvent } from '@dpns/client';
import { FIXTURES_DIR, freePorts, runCli, startAgentProcess, startServerProcess, teardown } from './harness/index.js';

after(teardown);

const SECRET = 's3cret';
const PASSWORD_ARG = '--password=x';
const NAME = '/sec/db';

test('launch spec secrets: anonymous readers see keys and counts, admins see values, logs never do', { timeout: 60_000 }, async () => {
  const [agentPort] = await freePorts(1);
  // Debug logging: the secret must not reach even the most talkative log. /sec is kept for admins:
  // the launched service still advertises there, with its ticket.
  const ns = await startServerProcess({ args: ['--agent-port', String(agentPort), '--log-level', 'debug', '--admin-prefix', '/sec/*'] });
  const agent = await startAgentProcess({ trustedKeys: [ns.publicKey], allow: { node: process.execPath }, port: agentPort, enroll: { url: ns.url, token: ns.token } });
  const dpns = (args: string[], admin: boolean) => runCli(['--server', ns.server, ...args], { env: admin ? { DPNS_TOKEN: ns.token } : {}, timeoutMs: 30_000 });

  const anon = new DpnsClient({ servers: [ns.server] });
  const events: WatchEvent[] = [];
  const w = anon.watch('/sec/*', { onEvent: (e) => events.push(e) });
  await w.ready;
  try {
    const added = await dpns(['add', NAME, '--host', '127.0.0.1', '--program', 'node', '--arg', join(FIXTURES_DIR, 'secret-holder.js'),
      `--arg=${PASSWORD_ARG}`, '--env', `DB_PASSWORD=${SECRET}`, '--cwd', '/tmp'], true);
    assert.equal(added.code, 0, added.stderr);
    const launched = await dpns(['launch', NAME], false);
    assert.equal(launched.code, 0, launched.stderr);
    await assert.rejects(anon.advertise('/sec/other', '127.0.0.1', 9531), (e: unknown) => isDpnsError(e, 'FORBIDDEN'), 'the admin prefix holds for others');

    // Anonymous CLI reads, human and JSON.
    const anonymousOutputs: string[] = [];
    for (const args of [['state', '/sec/*'], ['state', '/sec/*', '--json'], ['list', '/sec/*'], ['list', '/sec/*', '--json'], ['find', NAME], ['find', NAME, '--json']]) {
      const r = await dpns(args, false);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      anonymousOutputs.push(r.stdout + r.stderr);
    }
    const state = JSON.parse(anonymousOutputs[1] as string) as { entries: ServiceView[] };
    const spec = state.entries[0]?.spec;
    assert.deepEqual(spec?.env, { DB_PASSWORD: REDACTED }, 'the key is shown, not its value');
    assert.deepEqual(spec?.args, [REDACTED, REDACTED], 'as many args, none of their values');
    assert.equal(spec?.cwd, REDACTED);
    assert.equal(spec?.program, 'node', 'the program name stays visible');
    assert.equal(spec?.redacted, true);
    // The library's reads, a watch's events, and the same watch's initial entries.
    anonymousOutputs.push(JSON.stringify(await anon.serviceState('/sec/*')));
    anonymousOutputs.push(JSON.stringify(await anon.findServices(NAME)));
    const initial = anon.watch('/sec/*', { initial: true });
    const firstInitial = new Promise<WatchEvent>((resolve) => initial.on('event', resolve));
    anonymousOutputs.push(JSON.stringify(await firstInitial));
    await initial.close();
    assert.ok(events.some((e) => e.entry?.kind === 'service' && e.entry.spec !== undefined), 'the watch saw the entry with its spec');
    assert.ok(events.some((e) => e.entry?.kind === 'service' && e.entry.state === 'running'), 'and saw it running');
    anonymousOutputs.push(JSON.stringify(events));
    // The monitor page without a token: its HTML, and every HTTP answer the server gives anyone.
    for (const path of ['/', '/healthz', '/metrics', '/app.js']) {
      const res = await fetch(`http://127.0.0.1:${ns.port}${path}`);
      anonymousOutputs.push(await res.text());
    }
    for (const [i, out] of anonymousOutputs.entries()) {
      assert.ok(!out.includes(SECRET), `anonymous output ${i} holds the env value: ${out.slice(0, 400)}`);
      assert.ok(!out.includes(PASSWORD_ARG), `anonymous output ${i} holds the password argument`);
    }

    // The admin's info shows the values.
    const info = await dpns(['info', NAME, '--json'], true);
    assert.equal(info.code, 0, info.stderr);
    const full = (JSON.parse(info.stdout) as { entry: ServiceView }).entry.spec;
    assert.equal(full?.env.DB_PASSWORD, SECRET);
    assert.ok(full?.args.includes(PASSWORD_ARG));
    assert.equal(full?.redacted, undefined);

    const killed = await dpns(['kill', NAME], true);
    assert.equal(killed.code, 0, killed.stderr);
    // The server's own log of the whole add, launch and kill, and its metrics.
    const metrics = await (await fetch(`http://127.0.0.1:${ns.port}/metrics`)).text();
    const log = [...ns.stdoutLines(), ...ns.stderrLines()].join('\n');
    assert.ok(log.includes('launching'), 'the log did cover the launch');
    assert.ok(!log.includes(SECRET) && !log.includes(PASSWORD_ARG), 'the server log holds a secret');
    assert.ok(!metrics.includes(SECRET), '/metrics holds a secret');
  } finally {
    await anon.close();
    await agent.kill();
  }
});
