#!/usr/bin/env node
// A committed shim, so pnpm can link the command before the TypeScript is built. It starts reading
// the newest snapshot of the data directory it is given (storage/early-read.ts says why), then runs
// the bundle `pnpm build` makes of the compiled program when that is current, else the modules
// themselves (@dpns/node-kit's fast-start.ts says why and when).
import { readEarly } from '../dist/storage/early-read.js';
import { fastStartMain } from '@dpns/node-kit/fast-start';

readEarly(process.argv.slice(2), process.env);
const main = fastStartMain(new URL('../dist/fast-start/dpns-nameserver.json', import.meta.url)) ?? (await import('../dist/main.js')).main;
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
