// `pnpm package`: the release artefacts from the built workspace (`pnpm build` first, as the
// root script does). dist-release/dpns-<version>-linux-<arch>, one executable that is dpns,
// dpns-nameserver and dpns-launchd with Node inside; and dist-release/dpns_<version>_<arch>.deb,
// which installs it. A line on stdout per step: the whole takes a minute or two.
//   node packages/release/dist/package.js [--out DIR]
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EMBEDDED_WEB, filesInDir } from '@dpns/nameserver';
import { bundle } from './build/bundle.js';
import { makeExecutable } from './build/executable.js';
import { PROGRAM_FILE } from './program-file.js';
import { buildDeb } from './deb/build-deb.js';
import { PACKAGE_NAME } from './deb/layout.js';

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The artefacts' names for `version` and Debian architecture `arch`. */
export function artefactNames(version: string, arch: string): { binary: string; deb: string } {
  return { binary: `${PACKAGE_NAME}-${version}-linux-${arch}`, deb: `${PACKAGE_NAME}_${version}_${arch}.deb` };
}

/** The monitor page's files under their keys in the binary, with the list of their names. */
function webAssets(): Map<string, Buffer> {
  const dist = join(dirname(createRequire(import.meta.url).resolve('@dpns/web/package.json')), 'dist');
  const files = filesInDir(() => dist)();
  if (files?.has('index.html') !== true) throw new Error(`the monitor page is not built in ${dist}: run pnpm build first`);
  const assets = new Map<string, Buffer>([[EMBEDDED_WEB.list, Buffer.from(JSON.stringify([...files.keys()]))]]);
  for (const [name, body] of files) assets.set(EMBEDDED_WEB.file(name), body);
  return assets;
}

function outDir(argv: string[]): string {
  const i = argv.indexOf('--out');
  if (i === -1) return join(REPO_ROOT, 'dist-release');
  const dir = argv[i + 1];
  if (dir === undefined) throw new Error('--out needs a folder');
  return resolve(dir);
}

async function main(argv: string[]): Promise<void> {
  const started = Date.now();
  const progress = (line: string): void => void process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`);
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 12)) throw new Error(`Node ${process.versions.node}: single executables with embedded files need Node 20.12 or later`);
  if (process.platform !== 'linux') throw new Error('the binary and the .deb are built on Linux, for Linux');
  // A node that links libnode (Debian's own nodejs package) would make a binary that needs it on every host.
  const { stdout: libs } = await run('ldd', [process.execPath]);
  if (/libnode\.so/.test(libs)) throw new Error(`${process.execPath} links libnode: the binary would need Node's library on every host; build with a self-contained node (nodejs.org's or NodeSource's)`);
  const out = outDir(argv);
  const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const architecture = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  const names = artefactNames(version, architecture);
  const work = await mkdtemp(join(tmpdir(), 'dpns-package-'));
  try {
    progress(`package: dpns ${version} for linux-${architecture} (node ${process.versions.node}) into ${out}`);
    await mkdir(out, { recursive: true });
    const script = join(work, 'dpns.cjs');
    const b = await bundle(script);
    progress(`package: bundled the workspace into one script, ${(b.bytes / 1024 / 1024).toFixed(1)} MB (without the optional ${b.absent.join(', ')}), and its loader`);
    const binary = join(out, names.binary);
    const assets = new Map([...webAssets(), [PROGRAM_FILE, await readFile(b.program)]]);
    const exe = await makeExecutable({ script, assets, workDir: join(work, 'sea'), out: binary, progress });
    progress(`package: wrote ${binary} (${(exe.bytes / 1024 / 1024).toFixed(1)} MB${exe.stripped ? ', stripped' : ''})`);
    const maintainer = process.env.DEBFULLNAME !== undefined && process.env.DEBEMAIL !== undefined
      ? `${process.env.DEBFULLNAME} <${process.env.DEBEMAIL}>`
      : 'dpns developers <dpns@localhost>';
    const deb = join(out, names.deb);
    const d = await buildDeb({ binary, version, architecture, maintainer, out: deb, workDir: join(work, 'deb'), progress });
    progress(`package: wrote ${deb} (${(d.bytes / 1024 / 1024).toFixed(1)} MB)`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`package: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
