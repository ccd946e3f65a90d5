// The agent's own Ed25519 identity, created at first start in <stateDir>/identity.key (mode 0600):
// it signs every hello, so a name server can pin which agent it is talking to.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { fsyncDir } from '@dpns/node-kit';
import type { Logger } from './log.js';
import { signingKeyFromSeed, type SigningKey } from './wire.js';

export interface Identity {
  key: SigningKey;
  path: string;
  created: boolean;
}

/** Reads the identity's seed (64 hex digits), creating it when there is none. */
export async function loadOrCreateIdentity(stateDir: string, log: Logger): Promise<Identity> {
  const path = join(stateDir, 'identity.key');
  try {
    // O_EXCL: two agents racing on a fresh state dir cannot both write a key.
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const seed = nacl.randomBytes(nacl.sign.seedLength);
    try {
      await fh.writeFile(`${Buffer.from(seed).toString('hex')}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsyncDir(stateDir);
    return { key: signingKeyFromSeed(seed), path, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = await fs.stat(path);
  if ((st.mode & 0o077) !== 0) {
    log.warn('identity key file is readable by other users; run chmod 600 on it', { path, mode: (st.mode & 0o777).toString(8) });
  }
  const text = (await fs.readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new Error(`identity key file ${path} does not hold 64 hex digits; delete it to have a new identity made at start (name servers that pinned the old one must then be told the new one)`);
  }
  return { key: signingKeyFromSeed(new Uint8Array(Buffer.from(text, 'hex'))), path, created: false };
}
