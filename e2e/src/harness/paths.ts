// Where the real binaries live, found from this file so tests run from any cwd.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** The repository root (this file is compiled to e2e/dist/harness/paths.js). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The committed shim that starts the name server daemon. */
export const NAMESERVER_BIN = resolve(REPO_ROOT, 'packages/nameserver/bin/dpns-nameserver.js');

/** The committed shim that runs the `dpns` command line. */
export const CLI_BIN = resolve(REPO_ROOT, 'packages/client/bin/dpns.js');

/** Compiled fixture programs (e2e/src/harness/fixtures/*.ts). */
export const FIXTURES_DIR = resolve(REPO_ROOT, 'e2e/dist/harness/fixtures');

/** The launch agent's command, as `pnpm exec dpns-launchd` runs it. */
export const LAUNCHD_BIN = resolve(REPO_ROOT, 'packages/launchd/bin/dpns-launchd.js');

/** The example service users register first. */
export const ECHO_SERVICE = resolve(REPO_ROOT, 'examples/echo-service/echo-service.mjs');
