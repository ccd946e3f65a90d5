// The systemd unit of the name server: what `dpns-nameserver install` writes and the package
// (`pnpm package`) ships. Every setting carries a comment line saying why it is there.
import { quoteExecArg } from '@dpns/node-kit';
import { SERVER_SETTINGS as S } from './settings.js';

export const UNIT_NAME = 'dpns-nameserver.service';
/** The unit's state directory: the name server's data directory. */
export const DATA_DIR = '/var/lib/dpns';

export interface UnitOptions {
  /** The command before the server's own arguments: [binary] or [node, shim]. */
  exec: readonly string[];
  /** --listen HOST:PORT; absent when the config file says where. */
  listen?: string;
  /** --config FILE: the settings an admin edits (the package's /etc/dpns/nameserver.json). */
  configPath?: string;
  /** Backup mode: every member (HOST:PORT,...) and this host's entry. */
  cluster?: { members: string; self: string };
  /** Who wrote the unit, for its first line; `dpns-nameserver install` when absent. */
  origin?: string;
}

/** The unit file's text. */
export function renderUnit(opts: UnitOptions): string {
  const listenArgs = opts.listen === undefined ? [] : [S.flag('listen'), opts.listen];
  const configArgs = opts.configPath === undefined ? [] : [S.configFlag, opts.configPath];
  const clusterArgs = opts.cluster === undefined ? [] : [S.flag('cluster'), opts.cluster.members, S.flag('self'), opts.cluster.self];
  const execStart = [...opts.exec, ...configArgs, ...listenArgs, S.flag('dataDir'), DATA_DIR, ...clusterArgs, S.flag('logFormat'), 'json'].map(quoteExecArg).join(' ');
  return [
    `# dpns-nameserver: the dpns name server, ${opts.origin ?? 'written by `dpns-nameserver install`'}.`,
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
    `# One descriptor per client connection (${S.flag('maxConnections')} defaults to ${S.defaultOf('maxConnections')}), plus the log.`,
    'LimitNOFILE=65536',
    '# A backup taking the primary\'s snapshot runs at nice +10 and then back at 0: no higher than the unit\'s own.',
    'LimitNICE=+0',
    '# A user made for the unit and kept for nothing else; it owns only its state and cache directories.',
    'DynamicUser=yes',
    `# ${DATA_DIR}: the write-ahead log, snapshots, admin.token and nameserver.key (both 0600).`,
    'StateDirectory=dpns',
    'StateDirectoryMode=0700',
    '# /var/cache/dpns: the program as V8 compiled it, kept between starts (a faster restart); no data.',
    'CacheDirectory=dpns',
    'CacheDirectoryMode=0700',
    'UMask=0077',
    '# It never needs a capability, a new privilege, a device, or to write anywhere but its state and cache.',
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

