// The .deb: a staging tree laid out as the host will have it, then `dpkg-deb --build`.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { configFiles } from './config-files.js';
import { controlFile, sharedLibraryDepends } from './control.js';
import { BINARY, LINKS, SYSUSERS_FILE } from './layout.js';
import { maintainerScripts } from './maintainer-scripts.js';
import { packagedUnits, type PackagedFile } from './units.js';
import { sysusersConf } from './users.js';

const run = promisify(execFile);

export interface DebOptions {
  /** The single executable to install as /usr/bin/dpns. */
  binary: string;
  version: string;
  architecture: string;
  maintainer: string;
  /** Where the .deb is written. */
  out: string;
  /** An empty folder for the staging tree. */
  workDir: string;
  progress(line: string): void;
}

export interface DebResult {
  bytes: number;
  depends: string;
}

/** A path on the host, inside the staging tree. */
function staged(root: string, path: string): string {
  return join(root, path);
}

async function writeStaged(root: string, f: PackagedFile, mode: number): Promise<void> {
  const file = staged(root, f.path);
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFile(file, f.text);
  // writeFile's mode is filtered by the umask; dpkg installs what the tree says.
  await chmod(file, mode);
}

export async function buildDeb(o: DebOptions): Promise<DebResult> {
  const root = join(o.workDir, 'root');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true, mode: 0o755 });

  const bin = staged(root, BINARY);
  await mkdir(dirname(bin), { recursive: true, mode: 0o755 });
  await copyFile(o.binary, bin);
  await chmod(bin, 0o755);
  for (const link of LINKS) await symlink(basename(BINARY), staged(root, link));
  for (const unit of packagedUnits()) await writeStaged(root, unit, 0o644);
  await writeStaged(root, { path: SYSUSERS_FILE, text: sysusersConf() }, 0o644);
  const conffiles = configFiles();
  for (const f of conffiles) await writeStaged(root, f, 0o644);

  o.progress('package: finding the shared libraries the binary needs');
  const { depends, how } = await sharedLibraryDepends(o.binary);
  o.progress(`package: Depends: ${depends} (${how})`);
  const { stdout: du } = await run('du', ['-sk', '--apparent-size', root]);
  const installedSize = Number(du.split('\t')[0]);

  const debian = join(root, 'DEBIAN');
  await mkdir(debian, { mode: 0o755 });
  const meta: [string, string, number][] = [
    ['control', controlFile({ version: o.version, architecture: o.architecture, maintainer: o.maintainer, depends, installedSize }), 0o644],
    ['conffiles', conffiles.map((f) => `${f.path}\n`).join(''), 0o644],
    ...maintainerScripts().map((s): [string, string, number] => [s.name, s.text, 0o755]),
  ];
  for (const [name, text, mode] of meta) {
    await writeFile(join(debian, name), text);
    await chmod(join(debian, name), mode);
  }

  // xz at level 1: a fifth of the time of the default level 6 for a package 15 % larger.
  o.progress(`package: dpkg-deb --build (xz) → ${o.out}`);
  await mkdir(dirname(o.out), { recursive: true });
  await run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z1', '--build', root, o.out]);
  await rm(root, { recursive: true, force: true });
  return { bytes: (await stat(o.out)).size, depends };
}
