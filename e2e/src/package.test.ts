// The release artefacts, for real: `pnpm package`'s binary and .deb (built afresh into a
// temporary folder, or taken from DPNS_PACKAGE_DIR), the .deb installed by dpkg -i into a
// throwaway root with its maintainer scripts run, and everything after run inside that root
// (chroot): a host with no Node at all, only the C and C++ runtimes the package depends on.
// There the three commands answer, the name server serves the monitor page from inside the
// binary and runs a module in a child that is the binary again, `dpns` advertises and finds, an
// agent enrolls and starts, the install commands write units that run /usr/bin, and
// systemd-analyze verifies the units; then dpkg --purge takes it all away.
// Needs root (dpkg --root, chroot, a mount namespace), dpkg-deb, unshare and systemd-analyze.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { DpnsClient } from '@dpns/client';
import { killChild, LineLog, makeTempDir, REPO_ROOT, teardown, trackChild } from './harness/index.js';

const run = promisify(execFile);

const TOOLS = ['dpkg', 'dpkg-deb', 'dpkg-query', 'chroot', 'unshare', 'mount', 'systemd-analyze', 'ldd'];
const missingTools = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
const skip = process.getuid?.() !== 0 ? 'needs root: dpkg --root, chroot and a mount namespace'
  : missingTools.length > 0 ? `needs ${missingTools.join(', ')} (Debian packages dpkg, coreutils, util-linux, mount, systemd, libc-bin)`
  : false;

/** chroot is in /usr/sbin, which the PATH given to the commands in the root leaves out. */
const CHROOT = skip === false ? spawnSync('sh', ['-c', 'command -v chroot'], { encoding: 'utf8' }).stdout.trim() : 'chroot';

/** The binary's place and its links, as the package lays them out. */
const BIN = '/usr/bin/dpns';
const UNITS = ['dpns-nameserver.service', 'dpns-launchd.service'];
const UNIT_DIR = '/usr/lib/systemd/system';

let root = '';
let deb = '';
let releaseFile = '';

/** A path inside the throwaway root. */
function inRoot(path: string): string {
  return join(root, path);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts `args` inside the root as on a host with no node: chroot, an environment of PATH and
 * `env` only, and /proc and /dev mounted in a mount namespace of its own (gone with the process).
 */
function spawnInRoot(args: string[], env: Record<string, string> = {}): ChildProcess {
  const vars = Object.entries({ PATH: '/usr/bin:/bin', ...env }).map(([k, v]) => `${k}=${v}`);
  const script = `mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec env -i ${vars.map((v) => `'${v}'`).join(' ')} ${CHROOT} "$0" "$@"`;
  return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `args` in the root (spawnInRoot) to completion. */
function chrooted(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const proc = spawnInRoot(args, env);
    const out = new LineLog(proc.stdout, 'stdout');
    const err = new LineLog(proc.stderr, 'stderr');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    void trackChild(proc).then((e) => {
      clearTimeout(timer);
      resolve({ code: e.code, stdout: out.text(), stderr: err.text() });
    });
  });
}

async function ok(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await chrooted(args, env);
  assert.equal(r.code, 0, `${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The packages named in the .deb's Depends, without versions. */
async function dependsOf(file: string): Promise<string[]> {
  const { stdout } = await run('dpkg-deb', ['-f', file, 'Depends']);
  return stdout.split(',').map((d) => d.trim().split(/[\s(:]/)[0] ?? '').filter((d) => d !== '');
}

/**
 * The root a minimal Debian host would be, without Node: dpkg's database knowing of the C and C++
 * runtimes the package depends on (their entries copied from this host's) with their libraries in
 * place, root and nobody in /etc/passwd, and systemd's own units for systemd-analyze.
 */
async function makeRoot(): Promise<void> {
  root = makeTempDir('dpns-root-');
  // Modules run as nobody under a root name server: it must be able to walk from /.
  chmodSync(root, 0o755);
  const admin = inRoot('/var/lib/dpkg');
  mkdirSync(join(admin, 'info'), { recursive: true });
  mkdirSync(join(admin, 'updates'));
  writeFileSync(join(admin, 'available'), '');
  const depends = new Set(await dependsOf(deb));
  const stanzas = readFileSync('/var/lib/dpkg/status', 'utf8').split('\n\n')
    .filter((s) => depends.has(/^Package: (\S+)$/m.exec(s)?.[1] ?? '') && /^Status: install ok installed$/m.test(s));
  writeFileSync(join(admin, 'status'), stanzas.map((s) => `${s.trim()}\n\n`).join(''));
  mkdirSync(inRoot('/etc'));
  const lines = (file: string, names: string[]) => readFileSync(file, 'utf8').split('\n').filter((l) => names.includes(l.split(':')[0] ?? '')).join('\n') + '\n';
  writeFileSync(inRoot('/etc/passwd'), lines('/etc/passwd', ['root', 'nobody']));
  writeFileSync(inRoot('/etc/group'), lines('/etc/group', ['root', 'nogroup']));
  for (const d of ['/tmp', '/proc', '/dev', '/srv']) mkdirSync(inRoot(d));
  chmodSync(inRoot('/tmp'), 0o1777);
  const { stdout } = await run('ldd', [releaseFile]);
  for (const lib of stdout.match(/\/\S+/g) ?? []) {
    mkdirSync(dirname(inRoot(lib)), { recursive: true });
    copyFileSync(lib, inRoot(lib));
  }
  cpSync('/usr/lib/systemd/system', inRoot(UNIT_DIR), { recursive: true, dereference: false, verbatimSymlinks: true });
}

before(async () => {
  if (skip !== false) return;
  let dir = process.env.DPNS_PACKAGE_DIR;
  if (dir === undefined) {
    // Built afresh each run: artefacts left in dist-release/ may be older than the code under test.
    dir = makeTempDir('dpns-release-');
    await run(process.execPath, [join(REPO_ROOT, 'packages/release/dist/package.js'), '--out', dir], { timeout: 540_000, maxBuffer: 16 * 1024 * 1024 });
  }
  const files = readdirSync(dir);
  const debName = files.find((f) => f.endsWith('.deb'));
  const binName = files.find((f) => /^dpns-.*-linux-/.test(f));
  assert.ok(debName !== undefined && binName !== undefined, `no .deb and binary in ${dir}: ${files.join(', ')}`);
  deb = join(dir, debName);
  releaseFile = join(dir, binName);
  await makeRoot();
  // The real dpkg -i, maintainer scripts included, with the root in $DPKG_ROOT.
  await run('dpkg', [`--root=${root}`, '--force-script-chrootless', '-i', deb]);
}, { timeout: 600_000 });

after(async () => {
  await teardown();
});

test('dpkg -i installs the binary, its links, the units, the users and the conffiles, and starts nothing', { skip }, async () => {
  assert.equal(lstatSync(inRoot(BIN)).mode & 0o777, 0o755);
  for (const name of ['dpns-nameserver', 'dpns-launchd']) assert.equal(readlinkSync(inRoot(`/usr/bin/${name}`)), 'dpns');
  for (const unit of UNITS) {
    const text = readFileSync(inRoot(`${UNIT_DIR}/${unit}`), 'utf8');
    assert.match(text, new RegExp(`^ExecStart=/usr/bin/${unit.replace('.service', '')} `, 'm'), unit);
    // The hardening of the units the install commands write: the same generator.
    assert.match(text, /^ProtectSystem=strict$/m, unit);
    assert.match(text, /^NoNewPrivileges=yes$/m, unit);
  }
  assert.match(readFileSync(inRoot(`${UNIT_DIR}/dpns-nameserver.service`), 'utf8'), /^ExecStart=\/usr\/bin\/dpns-nameserver --config \/etc\/dpns\/nameserver\.json --data-dir \/var\/lib\/dpns --log-format json$/m);
  // The sysusers file made the agent's user in the root, through the postinst.
  assert.match(readFileSync(inRoot('/usr/lib/sysusers.d/dpns.conf'), 'utf8'), /^u dpns-launchd - /m);
  assert.match(readFileSync(inRoot('/etc/passwd'), 'utf8'), /^dpns-launchd:x:\d+:\d+:dpns launch agent:\/var\/lib\/dpns-launchd:\/usr\/sbin\/nologin$/m);
  const { stdout: conffiles } = await run('dpkg-query', [`--admindir=${inRoot('/var/lib/dpkg')}`, '-W', '-f=${Conffiles}', 'dpns']);
  assert.deepEqual(conffiles.trim().split('\n').map((l) => l.trim().split(' ')[0]).sort(), ['/etc/dpns/launchd.json', '/etc/dpns/nameserver.json']);
  assert.deepEqual(JSON.parse(readFileSync(inRoot('/etc/dpns/nameserver.json'), 'utf8')), { listen: '0.0.0.0:7700' });
  assert.deepEqual(JSON.parse(readFileSync(inRoot('/etc/dpns/launchd.json'), 'utf8')).trustedKeys, []);
  // Nothing enabled: no unit linked into a target.
  assert.equal(existsSync(inRoot('/etc/systemd/system')), false, 'the package enabled a unit');
  const { stdout: status } = await run('dpkg-query', [`--admindir=${inRoot('/var/lib/dpkg')}`, '-W', '-f=${Status} ${Version}', 'dpns']);
  assert.match(status, /^install ok installed \d+\.\d+\.\d+/);
});

test('the three commands answer in a root with no node, by name and by first argument', { skip }, async () => {
  const { stdout: nodes } = await run('find', [root, '-name', 'node*', '-not', '-path', `${inRoot('/usr/lib/systemd')}/*`]);
  assert.equal(nodes, '', 'the root has a node');
  assert.match(await ok(['/usr/bin/dpns', '--help']), /^dpns <command> \[options\]/);
  assert.match(await ok(['dpns-nameserver', '--help']), /^dpns-nameserver \[options\]/);
  assert.match(await ok(['dpns-launchd', '--help']), /^dpns-launchd \[run\] \[options\]/);
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  for (const cmd of ['dpns', 'dpns-nameserver', 'dpns-launchd']) assert.equal((await ok([cmd, '--version'])).trim(), version, cmd);
  // The release file as it is downloaded: the program is its first argument.
  copyFileSync(releaseFile, inRoot('/srv/dpns-release'));
  chmodSync(inRoot('/srv/dpns-release'), 0o755);
  assert.match(await ok(['/srv/dpns-release', 'dpns-nameserver', '--help']), /^dpns-nameserver \[options\]/);
  assert.equal((await ok(['/srv/dpns-release', 'dpns', '--version'])).trim(), version);
  const bare = await chrooted(['/srv/dpns-release']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /^usage: dpns-release dpns\|dpns-nameserver\|dpns-launchd /);
});

/** A module that reports where it runs and whether it may read a file. */
const PROBE_MODULE = `import { readFileSync } from 'node:fs';
export const manifest = { prefix: 'probe', version: '1.0.0', methods: { where: { description: 'where this module runs' } } };
export const handlers = {
  where() {
    let read = 'read';
    try { readFileSync('/etc/passwd'); } catch (e) { read = e.code; }
    return { execPath: process.execPath, permission: typeof process.permission, passwd: read };
  },
};
`;

function httpGet(port: number, path: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the name server from the binary: dpns advertises and finds, a module runs in the binary, an agent enrolls and starts, the page is served from inside it', { skip }, async () => {
  mkdirSync(inRoot('/srv/modules'));
  copyFileSync(join(REPO_ROOT, 'modules/dir.mjs'), inRoot('/srv/modules/dir.mjs'));
  writeFileSync(inRoot('/srv/modules/probe.mjs'), PROBE_MODULE);
  // A generous call limit: this test is about where modules run, not how fast on a busy machine.
  // A snapshot every 10 records, so some are made from the one before, on the snapshot thread.
  const proc = spawnInRoot(['dpns-nameserver', '--listen', '127.0.0.1:0', '--data-dir', '/srv/data', '--modules-dir', '/srv/modules', '--module-timeout-ms', '10000', '--log-format', 'text', '--snapshot-every', '10']);
  void trackChild(proc);
  const out = new LineLog(proc.stdout, 'dpns-nameserver stdout');
  const log = new LineLog(proc.stderr, 'dpns-nameserver stderr');
  try {
    const listening = await out.waitFor(/^dpns-nameserver \S+ listening on ws:\/\/127\.0\.0\.1:\d+$/, 30_000);
    const port = Number(/:(\d+)$/.exec(listening)?.[1]);
    await log.waitFor(/modules directory loaded/, 30_000);
    const server = `127.0.0.1:${port}`;
    const admin = { DPNS_SERVERS: server, DPNS_TOKEN_FILE: '/srv/data/admin.token' };

    assert.match(await ok(['dpns', 'modules', 'list'], admin), /^dir\s+running\s/m);
    assert.match(await ok(['dpns', 'advertise', '/conf/room-1', '127.0.0.1', '7010'], admin), /^advertised \/conf\/room-1 at 127\.0\.0\.1:7010/);
    assert.equal((await ok(['dpns', 'find', '/conf/room-1'], { DPNS_SERVERS: server })).trim(), '/conf/room-1 127.0.0.1 7010');
    await ok(['dpns', 'call', 'dir.register', '{"person":"ann","server":"/conf/room-1"}'], admin);
    assert.deepEqual(JSON.parse(await ok(['dpns', 'call', 'dir.lookup', '{"person":"ann"}'], { DPNS_SERVERS: server })), {
      person: 'ann', server: '/conf/room-1', service: '/conf/room-1', host: '127.0.0.1', port: 7010,
    });
    // The module's child is the binary itself, under Node's permission model: no file to read.
    assert.deepEqual(JSON.parse(await ok(['dpns', 'call', 'probe.where'], { DPNS_SERVERS: server })), { execPath: BIN, permission: 'object', passwd: 'ERR_ACCESS_DENIED' });

    // The snapshot thread runs from the code inside the binary (there is no file to start it from).
    const client = new DpnsClient({ servers: [server], token: readFileSync(inRoot('/srv/data/admin.token'), 'utf8').trim() });
    try {
      for (let i = 0; i < 60; i++) await client.advertise(`/snap/s${i}`, '127.0.0.1', 7100 + i);
    } finally {
      await client.close();
    }
    await log.waitFor(/snapshot written.*from/, 30_000);

    // The agent from the binary: enrolled with a join token, then started trusting this server.
    const token = (await ok(['dpns', 'agents', 'join-token', '--host', '127.0.0.1'], admin)).trim();
    assert.match(await ok(['dpns-launchd', 'join', '--join', token, '--server', server, '--host', '127.0.0.1', '--state-dir', '/srv/agent']), /^enrolled: this agent \(identity [0-9a-f]{64}\) is trusted for 127\.0\.0\.1$/m);
    assert.match(await ok(['dpns', 'agents', 'list'], admin), /^127\.0\.0\.1\s+[0-9a-f]+\s+/m);
    const key = /^nameserver key: ([0-9a-f]{64}) /m.exec(out.text())?.[1] ?? '';
    const agent = spawnInRoot(['dpns-launchd', 'run', '--trusted-key', key, '--listen', '127.0.0.1:0', '--state-dir', '/srv/agent', '--log-format', 'text']);
    void trackChild(agent);
    try {
      await new LineLog(agent.stdout, 'dpns-launchd stdout').waitFor(/^dpns-launchd \S+ listening on ws:\/\/127\.0\.0\.1:\d+/, 30_000);
    } finally {
      await killChild(agent, 'SIGTERM');
    }

    // The page and its script, byte for byte the bundle: there is no packages/web in the root.
    for (const [path, file, type] of [['/', 'index.html', 'text/html'], ['/app.js', 'app.js', 'text/javascript']] as const) {
      const r = await httpGet(port, path);
      assert.equal(r.status, 200, path);
      assert.match(r.type, new RegExp(`^${type}`), path);
      assert.ok(r.body.equals(readFileSync(join(REPO_ROOT, 'packages/web/dist', file))), `${path} is not the bundle's ${file}`);
    }
    // Nothing on a module child's stderr (Node's own warnings included), and no error logged.
    assert.equal(log.lines.filter((l) => / ERROR |module output/.test(l)).join('\n'), '', 'the name server logged an error or a module child\'s output');
  } finally {
    await killChild(proc, 'SIGTERM');
  }
});

/** Starts the binary's name server in the root with `env`; stops it once it is listening and `until` holds (within 20 s). Resolves with its line saying how it loaded its program. */
async function loadedLine(env: Record<string, string>, until: () => boolean = () => true): Promise<string> {
  const proc = spawnInRoot(['dpns-nameserver', '--listen', '127.0.0.1:0', '--data-dir', '/srv/cache-test', '--log-format', 'text'], env);
  void trackChild(proc);
  const log = new LineLog(proc.stderr, 'dpns-nameserver stderr');
  try {
    const line = await log.waitFor(/program loaded/, 30_000);
    await new LineLog(proc.stdout, 'dpns-nameserver stdout').waitFor(/listening on/, 30_000);
    for (const end = Date.now() + 20_000; !until() && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
    return line;
  } finally {
    await killChild(proc, 'SIGTERM');
  }
}

test('the binary keeps its compiled program in the unit\'s cache directory, takes it at the next start, and trusts no folder others may write', { skip }, async () => {
  const dir = inRoot('/var/cache/dpns');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const env = { CACHE_DIRECTORY: '/var/cache/dpns' };
  const OTHER = 'dpns-program.cjs.0000000000000000.000000000000.v8cache';
  const caches = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8cache') && f !== OTHER);
  // The first start compiles the program and writes V8's cache of it ~3 s in.
  assert.match(await loadedLine(env, () => caches().length > 0), /from=release bundle .*codeCache=none/);
  const [cache, ...more] = caches();
  assert.deepEqual(more, []);
  assert.match(cache ?? '', /^dpns-program\.cjs\.[0-9a-f]{16}\.[0-9a-f]{12}\.v8cache$/);
  assert.equal(lstatSync(join(dir, cache ?? '')).mode & 0o777, 0o600);
  assert.match(await loadedLine(env), /codeCache=accepted/);
  // A folder others may write is not trusted: its cache is not read.
  chmodSync(dir, 0o777);
  assert.match(await loadedLine(env), /codeCache=none/);
  chmodSync(dir, 0o700);
  // A cache of another build is removed once this build's is written.
  writeFileSync(join(dir, OTHER), 'old');
  rmSync(join(dir, cache ?? ''));
  assert.match(await loadedLine(env, () => caches().length > 0 && !existsSync(join(dir, OTHER))), /codeCache=none/);
  assert.deepEqual(caches(), [cache]);
  assert.equal(existsSync(join(dir, OTHER)), false, 'the other build\'s cache is still there');
});

test('dpns-nameserver install and dpns-launchd install from the binary write units that run /usr/bin', { skip }, async () => {
  const key = '11'.repeat(32);
  await ok(['dpns-nameserver', 'install', '--unit-dir', '/srv/units']);
  await ok(['dpns-launchd', 'install', '--unit-dir', '/srv/units', '--config-path', '/srv/launchd.json', '--trusted-key', key]);
  assert.match(readFileSync(inRoot('/srv/units/dpns-nameserver.service'), 'utf8'), /^ExecStart=\/usr\/bin\/dpns-nameserver --listen 0\.0\.0\.0:7700 /m);
  assert.match(readFileSync(inRoot('/srv/units/dpns-launchd.service'), 'utf8'), /^ExecStart=\/usr\/bin\/dpns-launchd run --config \/srv\/launchd\.json /m);
  for (const unit of UNITS) {
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, `/srv/units/${unit}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `systemd-analyze verify ${unit}:\n${r.stderr}${r.stdout}`);
  }
});

test('systemd-analyze verify accepts the installed units, and their users exist', { skip }, async () => {
  for (const unit of UNITS) {
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, `${UNIT_DIR}/${unit}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `systemd-analyze verify ${unit}:\n${r.stderr}${r.stdout}`);
    const text = readFileSync(inRoot(`${UNIT_DIR}/${unit}`), 'utf8');
    const user = /^User=(.+)$/m.exec(text)?.[1];
    if (user === undefined) assert.match(text, /^DynamicUser=yes$/m, `${unit} names no user and has no dynamic one`);
    else assert.match(readFileSync(inRoot('/etc/passwd'), 'utf8'), new RegExp(`^${user}:`, 'm'), `${unit}'s User=${user}`);
  }
  // verify does fail on a unit whose binary is not there: the check above is not vacuous.
  const bad = join(inRoot('/srv'), 'missing.service');
  writeFileSync(bad, readFileSync(inRoot(`${UNIT_DIR}/dpns-launchd.service`), 'utf8').replace('/usr/bin/dpns-launchd', '/usr/bin/dpns-absent'));
  assert.notEqual(spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/srv/missing.service'], { encoding: 'utf8' }).status, 0);
});

test('dpkg --purge takes away what the package installed and keeps the users', { skip }, async () => {
  await run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--purge', 'dpns']);
  for (const path of [BIN, '/usr/bin/dpns-nameserver', '/usr/bin/dpns-launchd', `${UNIT_DIR}/dpns-nameserver.service`, '/usr/lib/sysusers.d/dpns.conf', '/etc/dpns', '/var/cache/dpns']) {
    assert.equal(existsSync(inRoot(path)), false, `${path} is still there`);
  }
  assert.match(readFileSync(inRoot('/etc/passwd'), 'utf8'), /^dpns-launchd:/m);
});
