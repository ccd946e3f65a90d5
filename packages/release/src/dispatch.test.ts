// Which program the binary is, by the name it was started by or by its first argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseCommand } from './dispatch.js';

const BIN = '/usr/bin/dpns';

test('a name of its own runs that program with every argument', () => {
  assert.deepEqual(chooseCommand([BIN, 'dpns', 'find', '/a']), { command: 'dpns', args: ['find', '/a'] });
  assert.deepEqual(chooseCommand([BIN, '/usr/bin/dpns-nameserver', '--listen', '127.0.0.1:0']), { command: 'dpns-nameserver', args: ['--listen', '127.0.0.1:0'] });
  assert.deepEqual(chooseCommand([BIN, 'dpns-launchd', 'install', '--dry-run']), { command: 'dpns-launchd', args: ['install', '--dry-run'] });
  assert.deepEqual(chooseCommand([BIN, 'dpns-module-host']), { command: 'dpns-module-host', args: [] });
  // A daemon's name wins over its first argument.
  assert.deepEqual(chooseCommand([BIN, 'dpns-launchd', 'dpns-nameserver']), { command: 'dpns-launchd', args: ['dpns-nameserver'] });
});

test('dpns with a daemon\'s name first runs the daemon (the install commands\' fallback)', () => {
  assert.deepEqual(chooseCommand([BIN, '/opt/x/dpns', 'dpns-nameserver', '--help']), { command: 'dpns-nameserver', args: ['--help'] });
  assert.deepEqual(chooseCommand([BIN, 'dpns', 'dpns', 'state']), { command: 'dpns', args: ['dpns', 'state'] });
});

test('any other name takes the program from its first argument, but never the module host', () => {
  const release = '/tmp/dpns-0.1.0-linux-amd64';
  assert.deepEqual(chooseCommand([release, release, 'dpns', '--version']), { command: 'dpns', args: ['--version'] });
  assert.deepEqual(chooseCommand([release, release, 'dpns-launchd']), { command: 'dpns-launchd', args: [] });
  for (const argv of [[release, release], [release, release, 'find'], [release, release, 'dpns-module-host']]) {
    const chosen = chooseCommand(argv);
    assert.ok('usage' in chosen, argv.join(' '));
    assert.match(chosen.usage, /^usage: dpns-0\.1\.0-linux-amd64 dpns\|dpns-nameserver\|dpns-launchd \[ARGUMENTS\.\.\.\]\n/);
  }
});
