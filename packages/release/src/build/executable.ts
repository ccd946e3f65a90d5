// Step 2 of the binary: the bundle and the monitor page's files made into a single executable
// application (Node's SEA): a preparation blob from `node --experimental-sea-config`, injected
// with postject into a copy of the node binary that runs this build.
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The fuse Node looks for to know a blob was injected (Node's documentation, "Single executable applications"). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export interface ExecutableOptions {
  /** The binary's main script: the loader bundle.ts writes (the program goes in `assets`). */
  script: string;
  /** Files embedded in the binary, by their key for `node:sea`'s getAsset. */
  assets: ReadonlyMap<string, Buffer>;
  /** An empty folder for the blob and its config. */
  workDir: string;
  out: string;
  progress(line: string): void;
}

export interface ExecutableResult {
  bytes: number;
  /** Whether the node binary's symbols and debug info were stripped (binutils' strip was found). */
  stripped: boolean;
}

export async function makeExecutable(o: ExecutableOptions): Promise<ExecutableResult> {
  const assetDir = join(o.workDir, 'assets');
  await mkdir(assetDir, { recursive: true });
  const assets: Record<string, string> = {};
  let i = 0;
  for (const [key, body] of o.assets) {
    const file = join(assetDir, String(i++));
    await writeFile(file, body);
    assets[key] = file;
  }
  const blob = join(o.workDir, 'sea-prep.blob');
  const config = join(o.workDir, 'sea-config.json');
  await writeFile(config, JSON.stringify({
    main: o.script,
    output: blob,
    // The binary is the product: its users should not see Node's notice on every start.
    disableExperimentalSEAWarning: true,
    // No useCodeCache: the main script is the small loader, which compiles the program with a
    // code cache of its own (loader.ts); Node's would be rejected in a module host (its heap flags
    // differ), which says so on stderr at every module start.
    useCodeCache: false,
    assets,
  }, null, 2));
  o.progress('package: node --experimental-sea-config (the preparation blob)');
  await run(process.execPath, ['--experimental-sea-config', config]);

  const tmp = `${o.out}.tmp`;
  await copyFile(process.execPath, tmp);
  await chmod(tmp, 0o755);
  const stripped = await strip(tmp, o.progress);
  o.progress('package: postject (injecting the blob into the copy of node)');
  const postject = createRequire(import.meta.url).resolve('postject/dist/cli.js');
  try {
    // Its output is a line per ELF note it cannot name, which says nothing: shown only on failure.
    await run(process.execPath, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`postject failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
  await rename(tmp, o.out);
  return { bytes: (await stat(o.out)).size, stripped };
}

/** Strips the copy (node ships with its symbols and debug info: about 13 MB); skipped without binutils. */
async function strip(file: string, progress: (line: string) => void): Promise<boolean> {
  try {
    await run('strip', ['--version']);
  } catch {
    progress('package: no strip (binutils) here: the binary keeps node\'s symbols');
    return false;
  }
  progress('package: strip (node\'s symbols and debug info)');
  await run('strip', [file]);
  return true;
}
