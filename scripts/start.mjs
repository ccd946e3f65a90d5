#!/usr/bin/env node
// The quick start: a name server and a local launch agent that trust each other (the agent trusts
// the name server's key; the name server trusts the agent's identity for 127.0.0.1, enrolled
// here through the admin API), with the example echo service registered as auto-start, so
// `dpns find /demo/echo` starts it.
// State lives in ./.dpns-data; Ctrl-C stops both daemons (launched services keep running,
// as they would under systemd; `dpns kill /demo/echo` stops the example).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, '.dpns-data');
const nsListen = process.env.DPNS_LISTEN ?? '127.0.0.1:7700';
const agentPort = Number(process.env.DPNS_AGENT_PORT ?? 7701);
const example = join(root, 'examples', 'echo-service', 'echo-service.mjs');
const children = [];

function start(name, bin, args, onLine) {
  const child = spawn(process.execPath, [join(root, bin), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (line) => {
    process.stdout.write(`${name}: ${line}\n`);
    onLine?.(line);
  });
  child.on('exit', (code, signal) => {
    process.stdout.write(`${name} exited (${signal ?? code})\n`);
    stopAll(code === 0 ? 0 : 1);
  });
  return child;
}

let stopping = false;
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 300).unref();
}
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const key = await new Promise((resolveKey) => {
  start('dpns-nameserver', 'packages/nameserver/bin/dpns-nameserver.js',
    ['--listen', nsListen, '--data-dir', join(dataDir, 'nameserver'), '--agent-port', String(agentPort), '--log-level', 'warn'],
    (line) => {
      const m = /^nameserver key: ([0-9a-f]{64})/.exec(line);
      if (m) resolveKey(m[1]);
    });
});

const agentConfig = join(dataDir, 'launchd.json');
writeFileSync(agentConfig, `${JSON.stringify({
  listen: `127.0.0.1:${agentPort}`,
  stateDir: join(dataDir, 'launchd'),
  trustedKeys: [key],
  allow: { echo: example },
}, null, 2)}\n`, { mode: 0o600 });
const identity = await new Promise((resolveAgent) => {
  start('dpns-launchd', 'packages/launchd/bin/dpns-launchd.js', ['--config', agentConfig, '--log-level', 'warn'], (line) => {
    const m = /^identity: ([0-9a-f]{64})/.exec(line);
    if (m) resolveAgent(m[1]);
  });
});

// Register the example unless an earlier run did.
const { DpnsClient, isDpnsError } = await import('@dpns/client');
const { readFileSync } = await import('node:fs');
const token = readFileSync(join(dataDir, 'nameserver', 'admin.token'), 'utf8').trim();
const client = new DpnsClient({ servers: [nsListen], token });
try {
  // Launches go only to an agent enrolled for its host: this one is ours, so trust it directly
  // (on other hosts an admin uses a join token: dpns agents join-token, then dpns-launchd join).
  await client.agents.trust('127.0.0.1', identity);
  process.stdout.write(`trusted the local agent (identity ${identity.slice(0, 16)}…) for 127.0.0.1\n`);
  await client.register.add('/demo/echo', {
    host: '127.0.0.1', program: 'echo', args: ['--host', '127.0.0.1'], env: { DPNS_ADVERTISE_HOST: '127.0.0.1' },
  });
  process.stdout.write('registered /demo/echo as an auto-start service\n');
} catch (e) {
  if (!isDpnsError(e, 'ALREADY_EXISTS')) throw e;
} finally {
  await client.close();
}
process.stdout.write(`
Ready. In another terminal, at the repository root:
  export DPNS_SERVERS=${nsListen} DPNS_TOKEN_FILE=${join(dataDir, 'nameserver', 'admin.token')}
  npx -y pnpm@10 exec dpns find /demo/echo     # starts the example and prints NAME HOST PORT
  npx -y pnpm@10 exec dpns state               # every service and its state
  npx -y pnpm@10 exec dpns kill /demo/echo     # stops it again
The monitor page: http://${nsListen}/ (admin actions ask for the token in the file above).
Ctrl-C here stops the name server and the agent.
`);
