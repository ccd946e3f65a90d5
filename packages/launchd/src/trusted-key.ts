// What may be trusted as a name server key: its public half, 64 hex digits. The private key
// (the name server's nameserver.key) is refused in every form it could be handed over in: its
// marked file text, the path of the file, or its bare hex seed when that is the seed of a key file
// this host can read (the old bare-hex file looked exactly like a public key, and was documented
// as "the trusted key"). A private key in an agent's config is a secret in a world-readable file
// that lets anyone who reads it sign launches.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isWeakPublicKey } from '@dpns/protocol';
import { ConfigError, mentionsPrivateKey, parsePrivateKeyFile } from '@dpns/node-kit';
import { signingKeyFromSeed } from './wire.js';

const KEY = /^[0-9a-f]{64}$/;

/** What to give instead of a private key. */
export const TRUST_PUBLIC_KEY = 'an agent trusts the name server\'s public key: run `dpns-nameserver key` on the name server\'s host and give the 64 hex digits it prints';

/** Where name servers keep their key by default (root, a user, the quick start), for the seed check. */
export function knownKeyFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  return [
    '/var/lib/dpns/nameserver.key',
    join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'dpns', 'nameserver.key'),
    resolve('.dpns-data', 'nameserver', 'nameserver.key'),
  ];
}

/** The lowercased public key in `value`, or a ConfigError at `at` that says why not and what to give instead. */
export function trustedKey(value: string, at: string, keyFiles: readonly string[] = knownKeyFiles()): string {
  if (mentionsPrivateKey(value)) throw new ConfigError(`${at}: this is a private key, which must never leave the name server's host; ${TRUST_PUBLIC_KEY}`);
  const key = value.trim().toLowerCase();
  if (KEY.test(key)) {
    for (const file of keyFiles) {
      const parsed = parsePrivateKeyFile(readOrEmpty(file));
      if (parsed?.seed === key) {
        const pub = signingKeyFromSeed(Buffer.from(key, 'hex')).publicKey;
        throw new ConfigError(`${at}: this is the private seed held in ${file}, not a public key; trust its public key ${pub} instead (printed by dpns-nameserver key)`);
      }
    }
    // Under a point of small order a signature needs no secret: trusting one would trust anyone.
    if (isWeakPublicKey(Buffer.from(key, 'hex'))) {
      throw new ConfigError(`${at}: ${key} is not a usable Ed25519 public key (a point of small order, under which anyone can sign); ${TRUST_PUBLIC_KEY}`);
    }
    return key;
  }
  if (value.includes('/')) {
    const text = readOrEmpty(value);
    if (parsePrivateKeyFile(text) !== undefined || mentionsPrivateKey(text)) {
      throw new ConfigError(`${at}: ${value} is the name server's private key file; ${TRUST_PUBLIC_KEY}`);
    }
    throw new ConfigError(`${at}: expected an Ed25519 public key as 64 hex digits, not a file name; ${TRUST_PUBLIC_KEY}`);
  }
  throw new ConfigError(`${at}: expected an Ed25519 public key as 64 hex digits, got ${JSON.stringify(value)}`);
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // Missing or unreadable (another user's 0600 file): nothing to compare with.
    return '';
  }
}
