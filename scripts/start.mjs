#!/usr/bin/env node
// The quick start: a name server and a local launch agent that trust each other (the agent trusts
// the name server's key; the name server trusts the agent's identity for 127.0.0.1, enrolled
// here through the admin API), with the example echo service registered as auto-start, so
// `dpns find /demo/echo` starts it.
// Addresses and state come from DPNS_LISTEN (127.0.0.1:7700), DPNS_AGENT_PORT (7701) and
// DPNS_DATA_DIR (./.dpns-data). Ctrl-C kills the services this name server launched, stops both
// daemons and exits 0.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = resolve(process.env.DPNS_DATA_DIR ?? join(root, '.dpns-data'));
const nsListen = process.env.DPNS_LISTEN ?? '127.0.0.1:7700';
const agentPort = Number(process.env.DPNS_AGENT_PORT ?? 7701);
const example = join(root, 'examples', 'echo-service', 'echo-service.mjs');
const children = [];

// What a daemon says on stderr is passed through, but a failure to start is said in one line:
// its log lines are JSON, and the last error among them says why.
function start(name, bin, args, onLine, hint) {
  const child = spawn(process.execPath, [join(root, bin), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let ready = false;
  let lastError = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    process.stdout.write(`${name}: ${line}\n`);
    if (onLine?.(line) === true) ready = true;
  });
  createInterface({ input: child.stderr }).on('line', (line) => {
    let why;
    try {
      const j = JSON.parse(line);
      if (j.level === 'error' || j.level === 'fatal') why = [j.msg, j.err?.message ?? j.error].filter(Boolean).join(': ');
    } catch {
      why = line.startsWith(name) ? line : undefined;
    }
    if (why !== undefined) lastError = why;
    if (ready || why === undefined) process.stderr.write(`${line}\n`);
  });
  child.on('exit', (code, signal) => {
    if (!ready && !stopping) {
      process.stderr.write(`${name} could not start: ${lastError || `exit ${signal ?? code}`}${hint ? ` (${hint})` : ''}\n`);
      stopAll(1);
      return;
    }
    if (!stopping) process.stdout.write(`${name} exited (${signal ?? code})\n`);
    stopAll(code === 0 || stopping ? 0 : 1);
  });
  return child;
}

let stopping = false;
let admin;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // The services this name server launched stop first, while the agent that runs them is still up.
  if (admin !== undefined) {
    try {
      const launched = (await admin.serviceState('*')).filter((e) => e.kind === 'service' && e.pid !== undefined && (e.state === 'running' || e.state === 'starting'));
      for (const e of launched) {
        await admin.killService(e.name).then(() => process.stdout.write(`stopped ${e.name}\n`), () => undefined);
      }
      await admin.close();
    } catch {
      // The name server is already gone: nothing more to stop through it.
    }
  }
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const key = await new Promise((resolveKey) => {
  start('dpns-nameserver', 'packages/nameserver/bin/dpns-nameserver.js',
    ['--listen', nsListen, '--data-dir', join(dataDir, 'nameserver'), '--agent-port', String(agentPort), '--log-level', 'warn'],
    (line) => {
      const m = /^nameserver key: ([0-9a-f]{64})/.exec(line);
      if (m) resolveKey(m[1]);
      return m !== null;
    }, `set DPNS_LISTEN=127.0.0.1:PORT to use another address than ${nsListen}`);
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
    return m !== null;
  }, `set DPNS_AGENT_PORT to use another port than ${agentPort}`);
});

// Register the example unless an earlier run did.
const { DpnsClient, isDpnsError } = await import('@dpns/client');
const { readFileSync } = await import('node:fs');
const token = readFileSync(join(dataDir, 'nameserver', 'admin.token'), 'utf8').trim();
const client = new DpnsClient({ servers: [nsListen], token });
admin = new DpnsClient({ servers: [nsListen], token });
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
  export PATH=${join(root, 'node_modules', '.bin')}:$PATH
  export DPNS_SERVERS=${nsListen} DPNS_TOKEN_FILE=${join(dataDir, 'nameserver', 'admin.token')}
  dpns find /demo/echo     # starts the example and prints NAME HOST PORT
  dpns state               # every service and its state
  dpns kill /demo/echo     # stops it again
The monitor page: http://${nsListen}/ (admin actions ask for the token in the file above).
Ctrl-C here stops what was launched, the agent and the name server.
`);
