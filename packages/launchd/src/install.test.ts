// `dpns-launchd install`: what it writes, what --dry-run prints, and that systemd accepts the unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { install, type InstallOptions } from './install.js';
import { quoteExecArg } from './unit.js';
import { main } from './main.js';

const KEY = 'ab'.repeat(32);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-install-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function options(dir: string, over: Partial<InstallOptions> = {}): InstallOptions & { printed: () => string } {
  let printed = '';
  return {
    unitDir: join(dir, 'units'), configPath: join(dir, 'etc', 'launchd.json'), force: false, dryRun: false, user: 'dpns-launchd',
    trustedKeys: [KEY], allow: ['echo=/opt/dpns/bin/echo-service'], listen: '0.0.0.0:7701', out: (t) => (printed += t), printed: () => printed, ...over,
  };
}

const systemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function verify(unitPath: string): void {
  const r = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, `systemd-analyze verify ${unitPath}:\n${r.stderr}${r.stdout}`);
  // verify warns on stderr about problems it does not count as errors; ours must have none.
  const ours = r.stderr.split('\n').filter((l) => l.includes('dpns-launchd.service'));
  assert.deepEqual(ours, [], r.stderr);
}

test('--dry-run prints the unit and the config and writes nothing', async () => {
  await withDir(async (dir) => {
    const o = options(dir, { dryRun: true });
    await install(o);
    assert.deepEqual(await readdir(dir), [], 'nothing written');
    const printed = o.printed();
    assert.match(printed, /^dry run: nothing is written/);
    assert.match(printed, new RegExp(`would write ${join(dir, 'units', 'dpns-launchd.service')}:`));
    assert.match(printed, /\nExecStart=\S+ \S+dpns-launchd\.js run --config \S+launchd\.json --state-dir \/var\/lib\/dpns-launchd/);
    assert.match(printed, /\nKillMode=process\n/);
    assert.match(printed, new RegExp(`"trustedKeys": \\[\\s+"${KEY}"`));
    assert.match(printed, /"echo": "\/opt\/dpns\/bin\/echo-service"/);
  });
});

test('the command line: install --dry-run exits 0 and prints; a bad key is exit 2', async () => {
  await withDir(async (dir) => {
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(['install', '--dry-run', '--unit-dir', dir, '--config-path', join(dir, 'c.json'), '--trusted-key', KEY]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    assert.match(written.join(''), /would write .*dpns-launchd\.service/);
    assert.deepEqual(await readdir(dir), []);
  });
  const errs: string[] = [];
  const ewrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errs.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['install', '--dry-run', '--trusted-key', 'nothex']);
  } finally {
    process.stderr.write = ewrite;
  }
  assert.equal(code, 2);
  assert.match(errs.join(''), /--trusted-key\[0\]: expected an Ed25519 public key as 64 hex digits/);
});

test('install writes the unit and the config, keeps an existing config unless --force, and says so', async () => {
  await withDir(async (dir) => {
    const first = options(dir);
    await install(first);
    const unit = await readFile(join(dir, 'units', 'dpns-launchd.service'), 'utf8');
    const config = JSON.parse(await readFile(join(dir, 'etc', 'launchd.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(config.trustedKeys, [KEY]);
    assert.match(first.printed(), /wrote .*dpns-launchd\.service\nwrote .*launchd\.json\n/);
    assert.match(first.printed(), /useradd --system/);
    // Every setting line has a comment line above it saying why (past the [Unit] header).
    const lines = unit.split('\n');
    for (const [i, line] of lines.entries()) {
      if (!/^[A-Za-z]+=/.test(line) || ['Description', 'ExecStart', 'RestartSec', 'After', 'StateDirectoryMode', 'LogsDirectoryMode', 'ReadWritePaths', 'AmbientCapabilities', 'WantedBy'].includes(line.split('=')[0] as string)) continue;
      const above = lines.slice(0, i).reverse().find((l) => !/^[A-Za-z]+=/.test(l));
      assert.ok(above?.startsWith('#'), `no comment above ${line}`);
    }

    await writeFile(join(dir, 'etc', 'launchd.json'), '{"mine": true}\n');
    const second = options(dir, { trustedKeys: [] });
    await install(second);
    assert.equal(await readFile(join(dir, 'etc', 'launchd.json'), 'utf8'), '{"mine": true}\n');
    assert.match(second.printed(), /kept the existing .*launchd\.json \(--force replaces it\)/);
    await install(options(dir, { force: true }));
    assert.notEqual(await readFile(join(dir, 'etc', 'launchd.json'), 'utf8'), '{"mine": true}\n');
  });
});

test('the unit: root mode bounds capabilities; an unprivileged user gets none', async () => {
  await withDir(async (dir) => {
    await install(options(dir, { user: 'root' }));
    const root = await readFile(join(dir, 'units', 'dpns-launchd.service'), 'utf8');
    assert.match(root, /\nUser=root\n/);
    assert.match(root, /\nCapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL CAP_DAC_READ_SEARCH\n/);
    for (const s of ['Type=simple', 'Restart=on-failure', 'RestartSec=1', 'StateDirectory=dpns-launchd', 'LogsDirectory=dpns-launchd', 'ProtectSystem=strict',
      'ProtectHome=read-only', 'PrivateTmp=yes', 'ProtectKernelTunables=yes', 'ProtectControlGroups=yes', 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
      'RestrictNamespaces=yes', 'LockPersonality=yes', 'KillMode=process', 'ReadWritePaths=/var/lib/dpns-launchd /var/log/dpns-launchd']) {
      assert.ok(root.includes(`\n${s}\n`), `missing ${s}`);
    }
    await install(options(dir));
    const user = await readFile(join(dir, 'units', 'dpns-launchd.service'), 'utf8');
    assert.match(user, /\nUser=dpns-launchd\n/);
    assert.match(user, /\nCapabilityBoundingSet=\n/);
  });
});

test('ExecStart words are quoted for systemd: spaces, %, $ and quotes are taken literally', () => {
  assert.equal(quoteExecArg('/usr/bin/node'), '/usr/bin/node');
  assert.equal(quoteExecArg('/opt/my app/bin'), '"/opt/my app/bin"');
  assert.equal(quoteExecArg('/opt/100%/x'), '/opt/100%%/x');
  assert.equal(quoteExecArg('/opt/$HOME/x'), '/opt/$$HOME/x');
  assert.equal(quoteExecArg('/opt/a "b"'), '"/opt/a \\"b\\""');
});

test('systemd-analyze verify accepts the generated unit (default ExecStart, --exec, both user modes)', { skip: systemdAnalyze ? false : 'systemd-analyze is not installed on this machine, so the unit cannot be verified here' }, async () => {
  await withDir(async (dir) => {
    // verify checks that ExecStart's binary exists and is executable: point --exec at a real one.
    const exec = join(dir, 'dpns launchd bin');
    await writeFile(exec, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    for (const over of [{}, { exec }, { exec, user: 'root' }, { user: 'root' }] as Partial<InstallOptions>[]) {
      const o = options(dir, { ...over, force: true });
      await install(o);
      verify(join(o.unitDir, 'dpns-launchd.service'));
    }
  });
});
