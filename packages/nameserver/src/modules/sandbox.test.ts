// The sandbox of a module's child process without the help of another user: as the name
// server's own user (`user: ''`), the permission model and the child's lock-down alone must
// keep a module from the data directory, the environment, programs and the server's process.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log.js';
import { Registry } from '../registry/registry.js';
import { DEFAULT_MODULE_LIMITS } from './limits.js';
import { ModuleManager } from './manager.js';
import { childCommand, CHILD_ENTRY } from './sandbox.js';

let dir: string;
let manager: ModuleManager;
const SECRET = 'secret-in-the-data-dir-7f3a';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dpns-sandbox-'));
  await writeFile(join(dir, 'admin.token'), SECRET);
  process.env.DPNS_SANDBOX_TEST_SECRET = SECRET;
  manager = new ModuleManager({
    registry: new Registry(), dataDir: dir, now: Date.now, afterDurable: (x) => x,
    log: createLogger({ level: 'error', format: 'json', write: () => undefined }),
    limits: { ...DEFAULT_MODULE_LIMITS, user: '', moduleNice: 0 },
  });
  await writeFile(join(dir, 'probe.mjs'), `
    import * as fs from 'node:fs';
    const DATA = ${JSON.stringify(dir)};
    export const manifest = { prefix: 'probe', version: '1', methods: { try: { description: '' } } };
    const attempt = async (f) => { try { return 'ok: ' + String(await f()); } catch (err) { return String(err?.code ?? err); } };
    export const handlers = { async try() {
      return {
        token: await attempt(() => fs.readFileSync(DATA + '/admin.token', 'utf8')),
        ownFile: await attempt(() => fs.readFileSync(DATA + '/probe.mjs', 'utf8')),
        parentEnviron: await attempt(() => fs.readFileSync('/proc/' + process.ppid + '/environ', 'utf8')),
        write: await attempt(() => fs.writeFileSync(DATA + '/pwned', 'x')),
        exec: await attempt(async () => (await import('node:child_process')).execSync('id').toString()),
        kill: await attempt(() => process.kill(process.ppid, 'SIGTERM')),
        killRaw: await attempt(() => process._kill(process.ppid, 15)),
        env: Object.keys(process.env).join(','),
      };
    } };`);
  await manager.load(join(dir, 'probe.mjs'));
});
after(async () => {
  await manager.close();
  delete process.env.DPNS_SANDBOX_TEST_SECRET;
  await rm(dir, { recursive: true, force: true });
});

test('as the name server\'s own user, a module still reaches no file, program, environment or signal outside', async () => {
  const out = JSON.parse(await manager.call({ prefix: 'probe', method: 'try' }, {}, { admin: false, conn: 1, owner: null })) as Record<string, string>;
  const { env, ...rest } = out;
  for (const [k, v] of Object.entries(rest)) assert.equal(v, 'ERR_ACCESS_DENIED', `${k}: ${v}`);
  assert.deepEqual(env?.split(',').filter((k) => k !== '' && k !== 'TZ'), []);
});

test('the child\'s command line: the permission model, the host\'s code only, no data directory; its environment empty', () => {
  const cmd = childCommand({ ...DEFAULT_MODULE_LIMITS, user: '' });
  assert.equal(cmd.args[0], '--experimental-permission');
  assert.equal(cmd.args.at(-1), CHILD_ENTRY);
  assert.ok(!cmd.args.some((a) => a.startsWith('--allow-fs-write') || a.startsWith('--allow-child-process') || a.startsWith('--allow-worker')), cmd.args.join(' '));
  assert.ok(!cmd.args.some((a) => a.includes(dir) || a.includes(tmpdir())), cmd.args.join(' '));
  assert.ok(!Object.keys(cmd.options.env ?? {}).some((k) => k.startsWith('DPNS_')));
  assert.equal(cmd.options.cwd, '/');
});
