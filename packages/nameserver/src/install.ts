// `dpns-nameserver install`: writes a systemd unit for the name server, and nothing else (no
// user, no systemctl); says what it did and what is left. `--dry-run` only prints.
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_NAMES, ConfigError, isSingleExecutable, singleExecutableCommand } from '@dpns/node-kit';
import { loadConfig, parseHostPort } from './config.js';
import { renderUnit, UNIT_NAME } from './unit.js';

export { UNIT_NAME };

export interface InstallOptions {
  unitDir: string;
  listen: string;
  /** The ExecStart binary; when absent, the running binary (`pnpm package`'s) or node and this package's bin shim. */
  exec?: string;
  /** Backup mode: every member (HOST:PORT,...) and this host's entry. */
  cluster?: { members: string; self: string };
  dryRun: boolean;
  out: (text: string) => void;
}

/** The command that runs this name server: the binary's dpns-nameserver, or node and the bin shim of this package. */
function selfCommand(): string[] {
  if (isSingleExecutable()) return singleExecutableCommand(COMMAND_NAMES.nameserver);
  return [process.execPath, fileURLToPath(new URL('../bin/dpns-nameserver.js', import.meta.url))];
}

export async function install(opts: InstallOptions): Promise<void> {
  if (opts.exec !== undefined && !isAbsolute(opts.exec)) throw new ConfigError(`--exec: systemd needs an absolute path, got ${JSON.stringify(opts.exec)}`);
  parseHostPort(opts.listen, '--listen');
  // The same checks the server makes at start, so a unit that cannot start is never written.
  if (opts.cluster !== undefined) loadConfig({ listen: opts.listen, cluster: opts.cluster.members, self: opts.cluster.self }, {});
  const unitPath = join(resolve(opts.unitDir), UNIT_NAME);
  const unit = renderUnit({ exec: opts.exec === undefined ? selfCommand() : [opts.exec], listen: opts.listen, ...(opts.cluster === undefined ? {} : { cluster: opts.cluster }) });
  if (opts.dryRun) {
    opts.out(`dry run: nothing is written.\n\nwould write ${unitPath}:\n${unit}`);
    return;
  }
  await mkdir(resolve(opts.unitDir), { recursive: true });
  await writeFile(unitPath, unit, { mode: 0o644 });
  opts.out(`wrote ${unitPath}\nnext:\n  - systemctl daemon-reload && systemctl enable --now dpns-nameserver\n` +
    `  - journalctl -u dpns-nameserver shows where it listens, the admin token's path and the key agents must trust\n`);
}
