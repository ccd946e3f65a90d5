// The name server's signing key: launch agents trust requests signed by it. Made once, at
// first start, readable by the server's user only; its public half goes into agents' configs.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { agent as A, fsyncDir, randomHex } from '@dpns/protocol';

export const KEY_FILE = 'nameserver.key';

/** Reads `<dataDir>/nameserver.key` (a hex Ed25519 seed), creating it when absent. */
export async function loadOrCreateNameServerKey(dataDir: string): Promise<{ key: A.SigningKey; path: string; created: boolean }> {
  const path = join(dataDir, KEY_FILE);
  try {
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const seed = Buffer.from(randomHex(32), 'hex');
    try {
      await fh.writeFile(`${seed.toString('hex')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The file's name must survive a crash too, not only its bytes.
    await fsyncDir(dataDir);
    return { key: A.signingKeyFromSeed(seed), path, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const text = (await fs.readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${path} does not hold a 64-hex-digit key seed; delete it to have a new key made (and re-trust it on every agent)`);
  return { key: A.signingKeyFromSeed(Buffer.from(text, 'hex')), path, created: false };
}
