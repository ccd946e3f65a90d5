#!/usr/bin/env node
// A committed shim, so pnpm can link the command before the TypeScript is built.
import { main } from '../dist/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
