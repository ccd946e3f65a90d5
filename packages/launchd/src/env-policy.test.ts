// The environment policy against a real agent: a spec that sets a loader or interpreter variable
// is refused before anything runs, unless the program's allowlist entry permits that variable.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as wire from './wire.js';
import { checkLaunchEnv, isLoaderVariable } from './env-policy.js';
import { ConfigError, loadConfig } from './config.js';
import { allowEntries, allowEnvList, withAllowEnv } from './setting-kinds.js';
import { exchange, fixture, launchOp, MARKER, readIfExists, signed, startTestAgent, until, type TestAgent } from './agent.test.helper.js';

let t: TestAgent | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function launch(a: TestAgent, f: Parameters<typeof launchOp>[1]): Promise<wire.AgentReplyFor<'launch'>> {
  const ex = await exchange(a.url, (hello) => signed(a.nsKey, hello, launchOp(hello, f).op));
  return wire.parseAgentReply(ex.reply, 'launch');
}

test('LD_PRELOAD, PATH and NODE_OPTIONS in a spec are NOT_ALLOWED, named, and nothing runs (not even the preloaded code)', async () => {
  t = await startTestAgent({ allow: (dir) => [{ name: 'marker', path: join(dir, 'marker.js') }] });
  const a = t;
  await fixture(a.dir, 'marker.js', MARKER);
  // What the attacker wanted to run: a module NODE_OPTIONS would require, and a PATH of its own.
  const evil = join(a.dir, 'evil.cjs');
  await writeFile(evil, `require('node:fs').writeFileSync(${JSON.stringify(join(a.outDir, 'evil'))}, 'ran');\n`);
  const cases: [Record<string, string>, RegExp][] = [
    [{ LD_PRELOAD: join(a.dir, 'evil.so') }, /"LD_PRELOAD"/],
    [{ PATH: `${a.dir}:/usr/bin:/bin` }, /"PATH"/],
    [{ NODE_OPTIONS: `--require=${evil}` }, /"NODE_OPTIONS"/],
    [{ GREETING: 'hi', PYTHONPATH: '/tmp/x', BASH_ENV: '/tmp/x' }, /variables "PYTHONPATH", "BASH_ENV", which make a loader/],
  ];
  for (const [env, message] of cases) {
    const marker = join(a.outDir, `ran-${Object.keys(env).join('-')}`);
    const reply = await launch(a, { program: 'marker', args: [marker], env });
    assert.equal(reply.ok, false, JSON.stringify(reply));
    if (reply.ok) continue;
    assert.equal(reply.code, 'NOT_ALLOWED');
    assert.match(reply.message, message);
    assert.match(reply.message, /--allow-env/);
    assert.equal(await readIfExists(marker), undefined, 'the program did not run');
  }
  assert.equal(await readIfExists(join(a.outDir, 'evil')), undefined, 'the NODE_OPTIONS module did not run');
  assert.deepEqual(a.agent.ledger?.entries(), [], 'nothing in the ledger');
  assert.ok(a.logs.some((l) => l.msg === 'refused' && l.code === 'NOT_ALLOWED' && /NODE_OPTIONS/.test(String(l.reason))), 'the refusal is logged');
});

test('a variable the program\'s allowlist entry permits passes, for that program only; the child gets it', async () => {
  t = await startTestAgent({
    allow: (dir) => withAllowEnv(allowEntries({ dump: join(dir, 'envdump.js'), marker: join(dir, 'marker.js') }, 'allow'), allowEnvList(['dump=PYTHONPATH'], 'allowEnv'), 'allowEnv'),
  });
  const a = t;
  await fixture(a.dir, 'marker.js', MARKER);
  await fixture(a.dir, 'envdump.js', `require('node:fs').writeFileSync(process.argv[2], JSON.stringify(process.env)); setInterval(() => {}, 1 << 30);`);
  const out = join(a.outDir, 'env');
  // By short name and by path: the permission belongs to the program.
  const ok = await launch(a, { program: join(a.dir, 'envdump.js'), args: [out], env: { PYTHONPATH: '/opt/qs/lib', GREETING: 'hi' } });
  assert.ok(ok.ok, JSON.stringify(ok));
  await until(async () => (await readIfExists(out)) !== undefined, 5000, 'the env file');
  const env = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
  assert.equal(env.PYTHONPATH, '/opt/qs/lib');
  assert.equal(env.PATH, '/usr/local/bin:/usr/bin:/bin', 'the agent\'s fixed PATH');

  const other = await launch(a, { program: 'marker', args: [join(a.outDir, 'm')], env: { PYTHONPATH: '/opt/qs/lib' } });
  assert.equal(other.ok, false);
  assert.equal(other.ok ? '' : other.code, 'NOT_ALLOWED');
  const notThat = await launch(a, { program: 'dump', args: [join(a.outDir, 'n')], env: { LD_PRELOAD: '/x.so' } });
  assert.equal(notThat.ok ? '' : notThat.message.includes('"LD_PRELOAD"'), true, 'permitting one variable does not permit another');
});

test('the rule: loader and interpreter families are refused by exact name or prefix, ordinary variables pass', () => {
  for (const name of ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'NODE_OPTIONS', 'NODE_PATH', 'PATH', 'PYTHONPATH', 'PYTHONSTARTUP',
    'PERL5LIB', 'PERL5OPT', 'PERLLIB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'BASH_ENV', 'ENV', 'IFS',
    'SHELLOPTS', 'BASHOPTS', 'PS4', 'GCONV_PATH', 'LOCPATH', 'HOSTALIASES', 'MALLOC_CHECK_', 'GLIBC_TUNABLES', 'TCLLIBPATH', 'TK_LIBRARY', 'LUA_INIT',
    'GEM_PATH', 'BUNDLE_GEMFILE']) {
    assert.ok(isLoaderVariable(name), name);
  }
  for (const name of ['LANG', 'HOME', 'PORT', 'NODE_ENV', 'DPNS_ADVERTISE_HOST', 'path', 'TZ', 'GREETING', 'ENVIRONMENT']) assert.ok(!isLoaderVariable(name), name);
  assert.doesNotThrow(() => checkLaunchEnv({ PORT: '1' }, new Set(), '/p'));
  assert.throws(() => checkLaunchEnv({ PATH: '/x' }, new Set(['PYTHONPATH']), '/p'), (e: unknown) => wire.isAgentError(e) && e.code === 'NOT_ALLOWED');
});

test('the config: {"name": {"path", "env"}}, allowEnv and --allow-env NAME=VAR; bad names and unknown programs are refused', () => {
  const K = 'ab'.repeat(32);
  const cfg = loadConfig({ trustedKeys: [K], allow: ['qs=/opt/vods/bin/qs', '/opt/x'], allowEnv: ['qs=PYTHONPATH', '/opt/x=LD_LIBRARY_PATH', 'qs=PYTHONHOME'] }, {});
  assert.deepEqual(cfg.allow, [{ name: 'qs', path: '/opt/vods/bin/qs', env: ['PYTHONPATH', 'PYTHONHOME'] }, { path: '/opt/x', env: ['LD_LIBRARY_PATH'] }]);
  const fromEnv = loadConfig({}, { DPNS_LAUNCHD_TRUSTED_KEYS: K, DPNS_LAUNCHD_ALLOW: 'qs=/opt/qs', DPNS_LAUNCHD_ALLOW_ENV: 'qs=PYTHONPATH,qs=PYTHONHOME' });
  assert.deepEqual(fromEnv.allow, [{ name: 'qs', path: '/opt/qs', env: ['PYTHONPATH', 'PYTHONHOME'] }]);
  assert.deepEqual(allowEntries({ qs: { path: '/opt/vods/bin/qs', env: ['PYTHONPATH'] }, plain: '/bin/true' }, 'allow'), [
    { name: 'qs', path: '/opt/vods/bin/qs', env: ['PYTHONPATH'] }, { name: 'plain', path: '/bin/true' },
  ]);
  assert.throws(() => allowEntries({ qs: { path: '/opt/qs', env: ['NOT-A-NAME'] } }, 'allow'), /allow\.qs\.env\[0\]: expected an environment variable name/);
  assert.throws(() => allowEntries({ qs: { path: '/opt/qs', envs: [] } }, 'allow'), /unknown field "envs"/);
  assert.throws(() => loadConfig({ trustedKeys: [K], allow: ['/opt/x'], allowEnv: ['qs=PYTHONPATH'] }, {}), (e: unknown) => e instanceof ConfigError && /"qs" is neither a short name nor a path in "allow"/.test(e.message));
  assert.throws(() => loadConfig({ trustedKeys: [K], allow: ['/opt/x'], allowEnv: ['PYTHONPATH'] }, {}), /expected NAME=VAR/);
});
