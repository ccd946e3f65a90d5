// The name server's signing key: launch agents trust requests signed by it. Made once, at
// first start, readable by the server's user only; its public half goes into agents' configs
// (`dpns-nameserver key` prints it). The file is marked as a private key (@dpns/node-kit's
// key-file.ts) so that it cannot pass for the public key it looks like in the old bare-hex form.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomHex, type agent as A } from '@dpns/protocol';
import { formatPrivateKeyFile, fsyncDir, nativeSigningKeyFromSeed, parsePrivateKeyFile, replaceFileDurably } from '@dpns/node-kit';

export const KEY_FILE = 'nameserver.key';

export interface LoadedKey {
  key: A.SigningKey;
  path: string;
  created: boolean;
  /** The file held the old bare-hex form and was rewritten in the marked form. */
  upgraded: boolean;
}

/**
 * Reads `<dataDir>/nameserver.key`, creating it when absent. An old bare-hex file is rewritten in
 * the marked form when `upgrade` (the server, running as the file's owner, does; a command an
 * operator runs as another user must not replace the file with one the server cannot read).
 */
export async function loadOrCreateNameServerKey(dataDir: string, opts: { upgrade?: boolean } = {}): Promise<LoadedKey> {
  const path = join(dataDir, KEY_FILE);
  try {
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const seed = randomHex(32);
    try {
      await fh.writeFile(formatPrivateKeyFile(seed));
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The file's name must survive a crash too, not only its bytes.
    await fsyncDir(dataDir);
    return { key: nativeSigningKeyFromSeed(Buffer.from(seed, 'hex')), path, created: true, upgraded: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const { seed, legacy } = await readNameServerKeyFile(path);
  const upgraded = legacy && opts.upgrade === true && (await rewrite(path, seed));
  return { key: nativeSigningKeyFromSeed(Buffer.from(seed, 'hex')), path, created: false, upgraded };
}

/** The seed in an existing key file, either form; an Error saying what to do when it holds neither. */
export async function readNameServerKeyFile(path: string): Promise<{ seed: string; legacy: boolean }> {
  const parsed = parsePrivateKeyFile(await fs.readFile(path, 'utf8'));
  if (parsed === undefined) throw new Error(`${path} does not hold a name server private key; delete it to have a new key made (and re-trust it on every agent)`);
  return parsed;
}

/**
 * Replaces the file by the marked form atomically (a temporary file of mode 0600, fsynced, renamed
 * over it): a crash leaves the old or the new file, never half of one. False when it cannot (a
 * read-only data directory): the old form still works.
 */
async function rewrite(path: string, seed: string): Promise<boolean> {
  try {
    // A fixed temporary name: a crash's leftover holds the private key, and the next try removes it.
    await replaceFileDurably(path, formatPrivateKeyFile(seed), { temp: `${path}.tmp` });
    return true;
  } catch {
    return false;
  }
}
