// What the .deb holds, as text: its units come from the daemons' own generators, its scripts
// enable and start nothing, and its users and config files match the units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig as loadAgentConfig, VERSION as AGENT_VERSION } from '@dpns/launchd';
import { loadConfig as loadServerConfig, VERSION as SERVER_VERSION } from '@dpns/nameserver';
import { configFiles } from './config-files.js';
import { controlFile } from './control.js';
import { LAUNCHD_CONFIG, NAMESERVER_CONFIG } from './layout.js';
import { maintainerScripts } from './maintainer-scripts.js';
import { packagedUnits } from './units.js';
import { sysusersConf, SYSTEM_USERS, useraddLines } from './users.js';

test('the units run /usr/bin with the config in /etc/dpns, hardened as the install commands write them', () => {
  const [server, agent] = packagedUnits();
  assert.equal(server?.path, '/usr/lib/systemd/system/dpns-nameserver.service');
  assert.match(server?.text ?? '', /^ExecStart=\/usr\/bin\/dpns-nameserver --config \/etc\/dpns\/nameserver\.json --data-dir \/var\/lib\/dpns --log-format json$/m);
  assert.match(server?.text ?? '', /^# dpns-nameserver: the dpns name server, installed by the dpns package\.$/m);
  assert.equal(agent?.path, '/usr/lib/systemd/system/dpns-launchd.service');
  assert.match(agent?.text ?? '', /^ExecStart=\/usr\/bin\/dpns-launchd run --config \/etc\/dpns\/launchd\.json --state-dir \/var\/lib\/dpns-launchd --logs-dir \/var\/log\/dpns-launchd$/m);
  for (const u of [server, agent]) {
    for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'RestrictNamespaces=yes', 'WantedBy=multi-user.target']) {
      assert.match(u?.text ?? '', new RegExp(`^${line}$`, 'm'), `${u?.path}: ${line}`);
    }
  }
});

test('the sysusers file and the useradd fallback make the user the agent\'s unit runs as', () => {
  const user = /^User=(.+)$/m.exec(packagedUnits()[1]?.text ?? '')?.[1];
  assert.deepEqual(SYSTEM_USERS.map((u) => u.name), [user]);
  assert.match(sysusersConf(), /^u dpns-launchd - "dpns launch agent" \/var\/lib\/dpns-launchd \/usr\/sbin\/nologin$/m);
  assert.match(useraddLines()[0] ?? '', /\|\| useradd \$\{DPKG_ROOT:\+--prefix "\$DPKG_ROOT"\} --system --user-group .* dpns-launchd$/);
  // The name server's unit needs no user of its own.
  assert.match(packagedUnits()[0]?.text ?? '', /^DynamicUser=yes$/m);
});

test('the maintainer scripts enable and start nothing, and restart only what runs on an upgrade', () => {
  const scripts = maintainerScripts();
  assert.deepEqual(scripts.map((s) => s.name), ['postinst', 'prerm', 'postrm']);
  for (const s of scripts) {
    assert.match(s.text, /^#!\/bin\/sh\n/);
    assert.doesNotMatch(s.text, /systemctl (enable|start|restart|reload-or-restart)\b/, s.name);
  }
  const postinst = scripts[0]?.text ?? '';
  assert.match(postinst, /systemd-sysusers \$\{DPKG_ROOT:\+--root="\$DPKG_ROOT"\} dpns\.conf/);
  assert.match(postinst, /systemctl try-restart dpns-nameserver\.service dpns-launchd\.service/);
  assert.match(postinst, /\[ -z "\$DPKG_ROOT" \] && \[ -d \/run\/systemd\/system \]/);
});

test('the conffiles: the name server listens where the config says; the agent trusts nothing yet', () => {
  const files = new Map(configFiles().map((f) => [f.path, JSON.parse(f.text) as Record<string, unknown>]));
  assert.deepEqual([...files.keys()], [NAMESERVER_CONFIG, LAUNCHD_CONFIG]);
  assert.deepEqual(files.get(NAMESERVER_CONFIG), { listen: '0.0.0.0:7700' });
  assert.deepEqual(files.get(LAUNCHD_CONFIG)?.trustedKeys, []);
  assert.deepEqual(files.get(LAUNCHD_CONFIG)?.allow, {});
});

test('each daemon reads its conffile as it is shipped: every key a setting, every value in range', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dpns-conffiles-'));
  try {
    const write = (path: string) => {
      const file = join(dir, path.replaceAll('/', '_'));
      writeFileSync(file, configFiles().find((f) => f.path === path)?.text ?? '');
      return file;
    };
    const server = loadServerConfig({ config: write(NAMESERVER_CONFIG) }, {});
    assert.deepEqual([server.host, server.port], ['0.0.0.0', 7700]);
    // The agent's is complete but for the key the admin adds: that, and nothing else, stops it.
    assert.throws(() => loadAgentConfig({ config: write(LAUNCHD_CONFIG) }, {}), /no trusted name server keys/);
    const agent = loadAgentConfig({ config: write(LAUNCHD_CONFIG), trustedKeys: ['ab'.repeat(32)] }, {});
    assert.deepEqual([agent.host, agent.port, agent.allow], ['0.0.0.0', 7701, []]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('control names the package, its version and its libraries; every program reports the package\'s version', () => {
  const text = controlFile({ version: '1.2.3', architecture: 'amd64', maintainer: 'A <a@example.org>', depends: 'libc6 (>= 2.34)', installedSize: 86000 });
  assert.match(text, /^Package: dpns\nVersion: 1\.2\.3\nArchitecture: amd64\nMaintainer: A <a@example\.org>\nInstalled-Size: 86000\nDepends: libc6 \(>= 2\.34\)\n/);
  assert.match(text, /\nDescription: [^\n]+\n( [^\n]+\n)+$/);
  const root = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
  // The .deb's version is the workspace's; `dpns --version` is checked in e2e/src/package.test.ts.
  assert.equal(SERVER_VERSION, root.version);
  assert.equal(AGENT_VERSION, root.version);
});
