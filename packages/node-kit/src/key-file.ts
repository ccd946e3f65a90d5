// The name server's private key file, in a form that says what it is. The old file held the bare
// hex seed: 64 hex digits, exactly like a public key, so it was copied into agents' configs (and
// world-readable files) as "the key to trust". The new file wraps the seed in PEM-style markers
// that no public key has, so the installer and the agent can refuse it; the old form is still
// read (and rewritten by the name server) so that existing data directories keep working.

/** The first line of a private key file. */
export const PRIVATE_KEY_BEGIN = '-----BEGIN DPNS NAME SERVER PRIVATE KEY-----';
/** The last line of a private key file. */
export const PRIVATE_KEY_END = '-----END DPNS NAME SERVER PRIVATE KEY-----';

const HEX64 = /^[0-9a-f]{64}$/;

/** The file's text for the hex Ed25519 `seed`. */
export function formatPrivateKeyFile(seed: string): string {
  if (!HEX64.test(seed)) throw new Error('a private key seed is 64 lowercase hex digits');
  return `${PRIVATE_KEY_BEGIN}\n${seed}\n${PRIVATE_KEY_END}\n`;
}

/** The seed of a private key file's text: the marked form, or (legacy) the bare hex seed; undefined for anything else. */
export function parsePrivateKeyFile(text: string): { seed: string; legacy: boolean } | undefined {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 1 && HEX64.test(lines[0] as string)) return { seed: lines[0] as string, legacy: true };
  if (lines.length === 3 && lines[0] === PRIVATE_KEY_BEGIN && lines[2] === PRIVATE_KEY_END && HEX64.test(lines[1] as string)) {
    return { seed: lines[1] as string, legacy: false };
  }
  return undefined;
}

/**
 * Whether `text` is, or holds, a private key in a marked form: ours, or any PEM/OpenSSH private
 * key ("-----BEGIN ... PRIVATE KEY-----"), none of which belongs where a public key is expected.
 */
export function mentionsPrivateKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || text.includes(PRIVATE_KEY_BEGIN);
}
