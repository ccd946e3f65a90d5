// What `dpns-nameserver key` prints: the public half of the name server's key, the value agents
// trust. It only reads the key file: run as another user than the server's, it must neither make
// a key nor rewrite one (the server could not read a file owned by that user).
import { join } from 'node:path';
import { agent as A } from '@dpns/protocol';
import { KEY_FILE, readNameServerKeyFile } from './nameserver-key.js';

/** The output for the key in `dataDir`: the hex public key alone on a line, or one JSON document. */
export async function keyCommandText(dataDir: string, json: boolean): Promise<string> {
  const path = join(dataDir, KEY_FILE);
  let file;
  try {
    file = await readNameServerKeyFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path} does not exist: the key is made at the server's first start, or by dpns-nameserver init --data-dir ${dataDir}`, { cause: e });
    if (code === 'EACCES') throw new Error(`cannot read ${path} (it is the private key, mode 0600): run this as the server's user or root`, { cause: e });
    throw e;
  }
  const publicKey = A.signingKeyFromSeed(Buffer.from(file.seed, 'hex')).publicKey;
  if (!json) return `${publicKey}\n`;
  const doc = { type: 'dpns-nameserver-public-key', publicKey, keyFile: path, format: file.legacy ? 'legacy-hex' : 'marked' };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
