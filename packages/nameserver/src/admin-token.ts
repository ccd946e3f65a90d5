// The admin credential: created once, at first start, readable by the server's user only.
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomHex } from '@dpns/protocol';
import { fsyncDir } from '@dpns/node-kit';
import type { Logger } from './log.js';

/** The admin credential's file name in the data directory. */
export const ADMIN_TOKEN_FILE = 'admin.token';

export interface AdminToken {
  token: string;
  path: string;
  created: boolean;
}

/** Reads `<dataDir>/admin.token`, creating it (mode 0600, fsynced) when it does not exist. */
export async function loadOrCreateAdminToken(dataDir: string, log: Logger): Promise<AdminToken> {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    // O_EXCL: two servers racing on a fresh data dir cannot both write a token.
    const fh = await fs.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const token = randomHex(32);
    try {
      await fh.writeFile(`${token}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsyncDir(dataDir);
    return { token, path, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = await fs.stat(path);
  if ((st.mode & 0o077) !== 0) {
    log.warn('admin token file is readable by other users; run chmod 600 on it', { path, mode: (st.mode & 0o777).toString(8) });
  }
  const token = (await fs.readFile(path, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(token)) {
    throw new Error(`admin token file ${path} does not hold 64 hex digits; delete it to have a new one made at start`);
  }
  return { token, path, created: false };
}
