// The one binary `pnpm package` builds with Node's single executable applications (packages/release):
// a single program that is `dpns`, `dpns-nameserver`, `dpns-launchd` and the module host, chosen
// by the name it is started by. What the daemons need to know when they run inside it: that they
// do, the files embedded in it, and the command that runs each of them (for the units their
// install commands write, and for the module host's child processes).
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join } from 'node:path';

/** The names the binary answers to; the package installs the first three in /usr/bin. */
export const COMMAND_NAMES = {
  client: 'dpns',
  nameserver: 'dpns-nameserver',
  launchd: 'dpns-launchd',
  /** Not installed: the name server starts the binary under it (as argv[0]) for a module's child. */
  moduleHost: 'dpns-module-host',
} as const;

/** What `node:sea` offers in Node 20.12 and later. */
interface SeaApi {
  isSea(): boolean;
  getAsset(key: string): ArrayBuffer;
}

let sea: SeaApi | null | undefined;

/** `node:sea` when this process is a single executable, else null (plain node, or a Node without `node:sea`). */
function seaApi(): SeaApi | null {
  if (sea !== undefined) return sea;
  try {
    const api = createRequire(import.meta.url)('node:sea') as SeaApi;
    sea = api.isSea() ? api : null;
  } catch {
    sea = null;
  }
  return sea;
}

/** True inside the binary `pnpm package` builds, false under plain node. */
export function isSingleExecutable(): boolean {
  return seaApi() !== null;
}

/** A file embedded in the binary (its sea-config `assets` key), or undefined outside it or when there is none. */
export function embeddedFile(key: string): Buffer | undefined {
  const api = seaApi();
  if (api === null) return undefined;
  try {
    return Buffer.from(api.getAsset(key));
  } catch {
    return undefined;
  }
}

/**
 * The command that runs `name` from this binary: the link of that name beside it when there is
 * one (the package's /usr/bin/dpns-nameserver → dpns), else the binary with the name as its
 * first argument (a release file run from where it was unpacked).
 */
export function singleExecutableCommand(name: string): string[] {
  const binary = process.execPath;
  // Node reads the binary's path from /proc/self/exe; without /proc it has only argv[0].
  if (!isAbsolute(binary)) throw new Error(`cannot tell where this binary is (Node says ${JSON.stringify(binary)}; is /proc mounted?): give --exec /absolute/path`);
  const link = join(dirname(binary), name);
  try {
    if (realpathSync(link) === realpathSync(binary)) return [link];
  } catch {
    // No such link: the first-argument form below.
  }
  return [binary, name];
}
