// The dpns-launchd command as a real process: its start-up lines, and the reason it exists
// instead of rsh: a service it launched keeps running after the agent is stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as wire from './wire.js';
import { alive, exchange, fixture, killGroup, launchOp, makeTempDir, readIfExists, signed, TICKET_WRITER, until } from './agent.test.helper.js';

const BIN = fileURLToPath(new URL('../bin/dpns-launchd.js', import.meta.url));

/** Starts the command and resolves with its first two stdout lines. */
async function startAgentProcess(args: string[]): Promise<{ proc: ChildProcess; lines: string[] }> {
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const rl = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    rl.on('line', (line) => {
      lines.push(line);
      if (lines.length === 2) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`dpns-launchd exited with ${code} before starting: ${stderr}`)));
  });
  return { proc, lines };
}

test('a launched service survives the agent being stopped with SIGTERM; the agent exits 0', async () => {
  const { dir, outDir } = await makeTempDir('dpns-launchd-survive-');
  const nsKey = wire.newSigningKey();
  const program = await fixture(dir, 'writer.js', TICKET_WRITER);
  const config = join(dir, 'launchd.json');
  await writeFile(config, JSON.stringify({ trustedKeys: [nsKey.publicKey], allow: { writer: program } }));
  let proc: ChildProcess | undefined;
  let childPid: number | undefined;
  try {
    const started = await startAgentProcess(['run', '--config', config, '--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--log-level', 'warn']);
    proc = started.proc;
    const m = /^dpns-launchd 0\.1\.0 listening on (ws:\/\/127\.0\.0\.1:\d+)$/.exec(started.lines[0] ?? '');
    assert.ok(m, `first line: ${started.lines[0]}`);
    assert.match(started.lines[1] ?? '', /^identity: [0-9a-f]{64}$/);
    const url = m[1] as string;

    const out = join(outDir, 'ticket');
    const ex = await exchange(url, (hello) => {
      assert.equal(`identity: ${hello.identity}`, started.lines[1], 'the hello is signed by the printed identity');
      return signed(nsKey, hello, launchOp(hello, { program: 'writer', args: [out] }).op);
    });
    const reply = wire.parseAgentReply(ex.reply, 'launch');
    assert.ok(reply.ok, ex.reply);
    childPid = reply.pid;
    await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the ticket file');

    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, 'a clean stop exits 0');
    assert.equal(await alive(childPid), true, 'the launched service still runs');
  } finally {
    if (childPid !== undefined) killGroup(childPid);
    if (proc !== undefined && proc.exitCode === null) proc.kill('SIGKILL');
    if (childPid !== undefined) await until(async () => !(await alive(childPid as number)), 5000, 'cleanup');
    await rm(dir, { recursive: true, force: true });
  }
});

test('the agent refuses to start without a trusted key (exit 2, says how to fix it) and on a bad flag (exit 2)', async () => {
  const { dir } = await makeTempDir('dpns-launchd-nokey-');
  try {
    for (const [args, pattern] of [
      [['--state-dir', join(dir, 's'), '--listen', '127.0.0.1:0'], /no trusted name server keys.*--trusted-key HEX/],
      [['--no-such-flag'], /Unknown argument/],
    ] as const) {
      const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DPNS_LAUNCHD_TRUSTED_KEYS: '' } });
      let stderr = '';
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(proc, 'exit')) as [number | null];
      assert.equal(code, 2, stderr);
      assert.match(stderr, pattern);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
