// The binary's first script: small, so that what runs before the program is little. It starts
// reading the name server's newest snapshot (as the workspace's bin does: the name server's
// storage/early-read.ts says why), then compiles the program (multicall.ts and everything it
// imports, bundled on their own: build/bundle.ts) with V8's cache of it from the last start, kept
// in the user's cache folder (@dpns/node-kit's code-cache.ts says where and why it is trusted).
// Compiling the 2.5 MB program without one took ~70 ms of every start on the benchmark VM.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEarly } from '@dpns/nameserver/early-read';
import { codeCacheDir, flagsKey, removeOtherCaches, runCached, scriptText, sourceKey } from '@dpns/node-kit/code-cache';
import { recordStart } from '@dpns/node-kit/fast-start';
import { COMMAND_NAMES, embeddedFile, isSingleExecutable } from '@dpns/node-kit/single-executable';
import { chooseCommand } from './dispatch.js';
import { PROGRAM_FILE } from './program-file.js';

/** The folder under the user's cache folder (or systemd's CacheDirectory itself) for the caches. */
const CACHE_APP = 'dpns';

function main(): void {
  const chosen = chooseCommand(process.argv);
  if ('command' in chosen && chosen.command === COMMAND_NAMES.nameserver) readEarly(chosen.args, process.env);
  const single = isSingleExecutable();
  // Inside the binary the program is one of its files, and its `__filename` is the binary, as a
  // single executable's own script has; from a release folder it is the file beside this one.
  const programPath = single ? process.execPath : join(dirname(fileURLToPath(import.meta.url)), PROGRAM_FILE);
  const bytes = single ? embeddedFile(PROGRAM_FILE) : readFileSync(programPath);
  if (bytes === undefined) throw new Error(`${PROGRAM_FILE} is not in this binary: rebuild it with pnpm package`);
  const source = scriptText(bytes);
  // The client's commands end before a cache would be written (runCached writes it 3 s in): they
  // neither make the folder nor name the program. The daemons do.
  const dir = 'command' in chosen && chosen.command !== COMMAND_NAMES.client ? codeCacheDir(CACHE_APP) : undefined;
  const key = dir === undefined ? undefined : sourceKey(bytes);
  const cachePath = dir === undefined ? undefined : join(dir, `${PROGRAM_FILE}.${key}.${flagsKey()}.v8cache`);
  const ran = runCached({
    source, filename: programPath, dirname: dirname(programPath), require: createRequire(programPath), cachePath,
    onWritten: () => dir !== undefined && key !== undefined && removeOtherCaches(dir, PROGRAM_FILE, key),
  });
  recordStart({ from: 'release bundle', bundle: programPath, codeCache: ran.codeCache });
}

main();
