// The name server's key file: made in the marked private-key form with mode 0600; an old bare-hex
// file still works and is rewritten by the server (not by a read-only command); `key` prints the
// public half, the one agents trust.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent as A } from '@dpns/protocol';
import { PRIVATE_KEY_BEGIN, PRIVATE_KEY_END } from '@dpns/node-kit';
import { keyCommandText } from './key-command.js';
import { KEY_FILE, loadOrCreateNameServerKey } from './nameserver-key.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'dpns-key-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a new key file is marked as a private key, mode 0600; `key` prints its public half', async () => {
  await withDir(async (dir) => {
    const made = await loadOrCreateNameServerKey(dir);
    assert.equal(made.created, true);
    const text = await readFile(join(dir, KEY_FILE), 'utf8');
    assert.match(text, new RegExp(`^${PRIVATE_KEY_BEGIN}\\n[0-9a-f]{64}\\n${PRIVATE_KEY_END}\\n$`));
    assert.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
    assert.equal(await keyCommandText(dir, false), `${made.key.publicKey}\n`);
    assert.doesNotMatch(await keyCommandText(dir, false), new RegExp(text.split('\n')[1] as string), 'never the seed');
    assert.deepEqual(JSON.parse(await keyCommandText(dir, true)), {
      type: 'dpns-nameserver-public-key', publicKey: made.key.publicKey, keyFile: join(dir, KEY_FILE), format: 'marked',
    });
    const again = await loadOrCreateNameServerKey(dir, { upgrade: true });
    assert.equal(again.key.publicKey, made.key.publicKey);
    assert.equal(again.upgraded, false);
  });
});

test('an old bare-hex key file is read as it is, and rewritten in the marked form (same key, 0600) only when upgrading', async () => {
  await withDir(async (dir) => {
    const seed = 'ab'.repeat(32);
    const pub = A.signingKeyFromSeed(Buffer.from(seed, 'hex')).publicKey;
    await writeFile(join(dir, KEY_FILE), `${seed}\n`, { mode: 0o600 });
    assert.equal(await keyCommandText(dir, false), `${pub}\n`);
    assert.equal((JSON.parse(await keyCommandText(dir, true)) as { format: string }).format, 'legacy-hex');
    const read = await loadOrCreateNameServerKey(dir);
    assert.equal(read.key.publicKey, pub);
    assert.equal(await readFile(join(dir, KEY_FILE), 'utf8'), `${seed}\n`, 'untouched without upgrade');

    const up = await loadOrCreateNameServerKey(dir, { upgrade: true });
    assert.equal(up.upgraded, true);
    assert.equal(up.key.publicKey, pub);
    assert.equal(await readFile(join(dir, KEY_FILE), 'utf8'), `${PRIVATE_KEY_BEGIN}\n${seed}\n${PRIVATE_KEY_END}\n`);
    assert.equal((await stat(join(dir, KEY_FILE))).mode & 0o777, 0o600);
    assert.equal((await loadOrCreateNameServerKey(dir)).key.publicKey, pub);
  });
});

test('a key file holding anything else, or none at all, is an error that says what to do', async () => {
  await withDir(async (dir) => {
    await assert.rejects(keyCommandText(dir, false), /does not exist: the key is made at the server's first start, or by dpns-nameserver init/);
    await writeFile(join(dir, KEY_FILE), 'not a key\n', { mode: 0o600 });
    await assert.rejects(loadOrCreateNameServerKey(dir), /does not hold a name server private key; delete it/);
  });
});
