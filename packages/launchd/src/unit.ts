// The systemd unit `dpns-launchd install` writes and the package (`pnpm package`) ships. Every
// setting carries a comment line saying why it is there, because an operator reviewing a unit
// should not have to guess.
import { quoteExecArg } from '@dpns/node-kit';
import { AGENT_SETTINGS as S } from './settings.js';

export { quoteExecArg };

export const UNIT_NAME = 'dpns-launchd.service';
export const UNIT_STATE_DIR = '/var/lib/dpns-launchd';
export const UNIT_LOGS_DIR = '/var/log/dpns-launchd';

export interface UnitOptions {
  /** The command before the agent's own arguments: [binary] or [node, shim]. */
  exec: readonly string[];
  /** The service user; "root" to let the agent start services as other users. */
  user: string;
  configPath: string;
  /** Who wrote the unit, for its first line; `dpns-launchd install` when absent. */
  origin?: string;
}

/** The unit file's text. */
export function renderUnit(opts: UnitOptions): string {
  const execStart = [...opts.exec, 'run', S.configFlag, opts.configPath, S.flag('stateDir'), UNIT_STATE_DIR, S.flag('logsDir'), UNIT_LOGS_DIR]
    .map(quoteExecArg)
    .join(' ');
  const asRoot = opts.user === 'root';
  const identity = asRoot
    ? [
      '# Root, so that it can start each service as the user its spec names (setgid and setuid just',
      '# before exec); it never starts one as root unless its config lists "root" in "users".',
      'User=root',
      '# ...holding only the capabilities that takes: switch user and group, signal services that run',
      '# as other users, and enter their working directories. No CAP_SYS_ADMIN, no CAP_DAC_OVERRIDE.',
      'CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_KILL CAP_DAC_READ_SEARCH',
    ]
    : [
      '# Its own unprivileged user; every service it launches runs as this user too. To launch',
      '# services as other users, install with --user root (capabilities are then bounded).',
      `User=${opts.user}`,
      '# An unprivileged agent needs no capability, and so its services get none either.',
      'CapabilityBoundingSet=',
      'AmbientCapabilities=',
    ];
  return [
    `# dpns-launchd: the dpns launch agent of this host, ${opts.origin ?? 'written by `dpns-launchd install`'}.`,
    '# Change settings with a drop-in (systemctl edit dpns-launchd) so that a re-install keeps them.',
    '[Unit]',
    'Description=dpns launch agent (starts and stops dpns services on this host)',
    '# It answers name servers over the network, so it starts once the network is up.',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    '# It stays in the foreground and is ready once it listens; nothing to fork or notify.',
    'Type=simple',
    `ExecStart=${execStart}`,
    '# Back after a crash within a second: no service can be launched on this host while it is down.',
    'Restart=on-failure',
    'RestartSec=1',
    '# A descriptor per launch in flight and per log file it opens for a service.',
    'LimitNOFILE=16384',
    '# Stop only the agent: the services it launched live in this cgroup too and must outlive a',
    '# restart or upgrade of the agent (the reason the paper launched through inetd, not rsh).',
    'KillMode=process',
    ...identity,
    '# /var/lib/dpns-launchd: identity key, ledger of launched processes, epoch; made by systemd, owned by the user.',
    'StateDirectory=dpns-launchd',
    'StateDirectoryMode=0700',
    '# /var/log/dpns-launchd: the stdout and stderr of each launched service.',
    'LogsDirectory=dpns-launchd',
    'LogsDirectoryMode=0750',
    '# /var/cache/dpns-launchd: the program as V8 compiled it, kept between starts (a faster start); made by systemd.',
    'CacheDirectory=dpns-launchd',
    'CacheDirectoryMode=0700',
    '# Files it creates are not world-readable.',
    'UMask=0027',
    '# Nothing in this unit gains privileges through execve (set-uid binaries, file capabilities). The',
    "# agent's own setuid()/setgid() before exec are not affected, so switching users still works;",
    '# a launched service cannot use set-uid helpers such as sudo.',
    'NoNewPrivileges=yes',
    '# The file system is read-only but for the two directories above; launched services inherit this,',
    '# so one that writes elsewhere needs ReadWritePaths= in a drop-in.',
    'ProtectSystem=strict',
    `ReadWritePaths=${UNIT_STATE_DIR} ${UNIT_LOGS_DIR}`,
    '# Programs and working directories may live in home directories: readable, never writable.',
    'ProtectHome=read-only',
    '# A private, empty /tmp: no files shared with other units through it.',
    'PrivateTmp=yes',
    '# Only pseudo-devices (null, zero, random...): neither the agent nor its services touch hardware.',
    'PrivateDevices=yes',
    '# No writes to /proc/sys and /sys, no module loading, no kernel log, no clock changes, no hostname changes.',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    '# The cgroup tree is read-only: a service cannot escape its limits.',
    'ProtectControlGroups=yes',
    '# IP for name servers and services, UNIX sockets for local IPC and the journal; no netlink, no raw packets.',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    '# No new namespaces, no realtime scheduling, no new set-uid files, no personality changes, native syscalls only.',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    '# Not set: MemoryDenyWriteExecute=yes breaks the Node.js JIT, of the agent and of Node services it launches.',
    "# Not set: ProtectProc=invisible hides other users' processes, and the agent reads its services' start times in /proc.",
    '# Not set: SystemCallFilter=; launched services inherit it, and what they need is not known here.',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
