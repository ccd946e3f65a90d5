// DEBIAN/control: what the package is, and the shared libraries the binary needs (the Node
// binary it was made from links the C and C++ runtimes; nothing of Node's own).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_NAME } from './layout.js';

const run = promisify(execFile);

export interface ControlFields {
  version: string;
  architecture: string;
  maintainer: string;
  depends: string;
  /** Kibibytes the files take once installed. */
  installedSize: number;
}

export function controlFile(f: ControlFields): string {
  return [
    `Package: ${PACKAGE_NAME}`,
    `Version: ${f.version}`,
    `Architecture: ${f.architecture}`,
    `Maintainer: ${f.maintainer}`,
    `Installed-Size: ${f.installedSize}`,
    ...(f.depends === '' ? [] : [`Depends: ${f.depends}`]),
    'Section: net',
    'Priority: optional',
    'Description: name server and service launcher for the services of a local network',
    ' dpns finds services by name, launches them on demand through a per-host agent,',
    ' and takes them out of "running" the moment their process or host dies.',
    ' .',
    ' One self-contained binary (Node.js inside; no Node.js needed on the host) is',
    ' dpns, dpns-nameserver and dpns-launchd. The units dpns-nameserver.service and',
    ' dpns-launchd.service are installed but neither enabled nor started.',
    '',
  ].join('\n');
}

/**
 * The Depends line for `binary`, from dpkg-shlibdeps (package dpkg-dev) with the minimum
 * versions its symbols need; without dpkg-dev, the packages that own the libraries ldd lists,
 * unversioned.
 */
export async function sharedLibraryDepends(binary: string): Promise<{ depends: string; how: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-shlibdeps-'));
  try {
    // dpkg-shlibdeps reads the package's name from a source tree's debian/control.
    await mkdir(join(dir, 'debian'));
    await writeFile(join(dir, 'debian', 'control'), `Source: ${PACKAGE_NAME}\n\nPackage: ${PACKAGE_NAME}\nArchitecture: any\n`);
    const { stdout } = await run('dpkg-shlibdeps', ['-O', binary], { cwd: dir });
    const m = /^shlibs:Depends=(.*)$/m.exec(stdout);
    if (m?.[1] !== undefined) return { depends: m[1].trim(), how: 'dpkg-shlibdeps' };
  } catch {
    // No dpkg-dev: the fallback below.
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const { stdout } = await run('ldd', [binary]);
  const libs = [...stdout.matchAll(/=>\s+(\/\S+)/g)].map((m) => m[1] as string);
  const owners = new Set<string>();
  for (const lib of libs) {
    try {
      const { stdout: owner } = await run('dpkg', ['-S', lib]);
      const pkg = owner.split(':')[0]?.trim();
      if (pkg !== undefined && pkg !== '') owners.add(pkg);
    } catch {
      // Not owned by a package (merged /usr: dpkg knows it under /lib): tried under /usr below.
      try {
        const { stdout: owner } = await run('dpkg', ['-S', lib.replace(/^\/usr\/lib\//, '/lib/')]);
        const pkg = owner.split(':')[0]?.trim();
        if (pkg !== undefined && pkg !== '') owners.add(pkg);
      } catch {
        // Left out of Depends; the package test's chroot would show it missing.
      }
    }
  }
  return { depends: [...owners].sort().join(', '), how: 'ldd and dpkg -S (install dpkg-dev for minimum versions)' };
}
