// The workspace's name server starts from the bundle `pnpm build` makes of it (@dpns/node-kit's
// fast-start.ts), which the 100,000-name restart figure of docs/BENCHMARKS.md depends on, and
// from its modules with DPNS_FAST_START=0; either answers, and writes what survives a restart.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startServerProcess, teardown, type ServerProcess } from './harness/index.js';

after(teardown);

function loaded(ns: ServerProcess): Record<string, unknown> {
  const line = [...ns.stdoutLines(), ...ns.stderrLines()].find((l) => l.includes('"msg":"program loaded"'));
  assert.ok(line !== undefined, 'the name server logs how its program was loaded');
  return JSON.parse(line) as Record<string, unknown>;
}

async function ok(ns: ServerProcess, args: string[]): Promise<string> {
  const r = await runCli(['--server', ns.server, ...args], { env: { DPNS_TOKEN: ns.token } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('the built workspace runs the name server from its bundle, DPNS_FAST_START=0 runs the modules', async () => {
  const ns = await startServerProcess();
  const first = loaded(ns);
  assert.equal(first.from, 'fast start bundle', 'a checkout built by the README\'s commands (pnpm build) starts from the bundle');
  assert.match(String(first.bundle), /packages\/nameserver\/dist\/fast-start\/dpns-nameserver\.cjs$/);
  await ok(ns, ['advertise', '/fast/a', '127.0.0.1', '9100']);

  const modules = await ns.restart({ env: { DPNS_FAST_START: '0' } });
  assert.equal(loaded(modules).from, 'modules');
  assert.equal(loaded(modules).bundle, undefined);
  assert.equal(await ok(modules, ['find', '/fast/a']), '/fast/a 127.0.0.1 9100\n');
  await ok(modules, ['advertise', '/fast/b', '127.0.0.1', '9101']);

  const again = await modules.restart({ env: { DPNS_FAST_START: '' } });
  assert.equal(loaded(again).from, 'fast start bundle');
  assert.equal(await ok(again, ['find', '/fast/*']), '/fast/a 127.0.0.1 9100\n/fast/b 127.0.0.1 9101\n');
});
