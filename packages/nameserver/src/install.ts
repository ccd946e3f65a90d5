// `dpns-nameserver install`: writes a systemd unit for the name server, and nothing else (no
// user, no systemctl); says what it did and what is left. `--dry-run` only prints.
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, quoteExecArg } from '@dpns/protocol';
import { loadConfig, parseHostPort } from './config.js';

export const UNIT_NAME = 'dpns-nameserver.service';
const DATA_DIR = '/var/lib/dpns';

export interface InstallOptions {
  unitDir: string;
  listen: string;
  /** The ExecStart binary; the running node and this package's bin shim when absent. */
  exec?: string;
  /** Backup mode: every member (HOST:PORT,...) and this host's entry. */
  cluster?: { members: string; self: string };
  dryRun: boolean;
  out: (text: string) => void;
}

/** The bin shim of this package, as installed. */
function shimPath(): string {
  return fileURLToPath(new URL('../bin/dpns-nameserver.js', import.meta.url));
}

export function renderUnit(exec: readonly string[], listen: string, cluster?: InstallOptions['cluster']): string {
  const clusterArgs = cluster === undefined ? [] : ['--cluster', cluster.members, '--self', cluster.self];
  const execStart = [...exec, '--listen', listen, '--data-dir', DATA_DIR, ...clusterArgs, '--log-format', 'json'].map(quoteExecArg).join(' ');
  return [
    '# dpns-nameserver: the dpns name server, written by `dpns-nameserver install`.',
    '# Change settings with a drop-in (systemctl edit dpns-nameserver) so that a re-install keeps them.',
    '[Unit]',
    'Description=dpns name server (finds, launches and vouches for the services of this network)',
    '# Clients and launch agents reach it over the network.',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${execStart}`,
    '# Every client depends on it: back within a second after a crash; the log makes the restart lossless.',
    'Restart=on-failure',
    'RestartSec=1',
    '# One descriptor per client connection (--max-connections defaults to 20000), plus the log.',
    'LimitNOFILE=65536',
    '# A user made for the unit and kept for nothing else; it owns only its state directory.',
    'DynamicUser=yes',
    `# ${DATA_DIR}: the write-ahead log, snapshots, admin.token and nameserver.key (both 0600).`,
    'StateDirectory=dpns',
    'StateDirectoryMode=0700',
    'UMask=0077',
    '# It never needs a capability, a new privilege, a device, or to write anywhere but its state.',
    'CapabilityBoundingSet=',
    'AmbientCapabilities=',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectControlGroups=yes',
    '# Other users\' processes are none of its business.',
    'ProtectProc=invisible',
    '# IP for clients and agents, UNIX sockets for the journal.',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    '# Not set: MemoryDenyWriteExecute=yes breaks the Node.js JIT.',
    '# Modules run in child processes of this one, under the same sandbox, as the same user, and under Node\'s permission model (docs/MODULES.md).',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

export async function install(opts: InstallOptions): Promise<void> {
  if (opts.exec !== undefined && !isAbsolute(opts.exec)) throw new ConfigError(`--exec: systemd needs an absolute path, got ${JSON.stringify(opts.exec)}`);
  parseHostPort(opts.listen, '--listen');
  // The same checks the server makes at start, so a unit that cannot start is never written.
  if (opts.cluster !== undefined) loadConfig({ listen: opts.listen, cluster: opts.cluster.members, self: opts.cluster.self }, {});
  const unitPath = join(resolve(opts.unitDir), UNIT_NAME);
  const unit = renderUnit(opts.exec === undefined ? [process.execPath, shimPath()] : [opts.exec], opts.listen, opts.cluster);
  if (opts.dryRun) {
    opts.out(`dry run: nothing is written.\n\nwould write ${unitPath}:\n${unit}`);
    return;
  }
  await mkdir(resolve(opts.unitDir), { recursive: true });
  await writeFile(unitPath, unit, { mode: 0o644 });
  opts.out(`wrote ${unitPath}\nnext:\n  - systemctl daemon-reload && systemctl enable --now dpns-nameserver\n` +
    `  - journalctl -u dpns-nameserver shows where it listens, the admin token's path and the key agents must trust\n`);
}
