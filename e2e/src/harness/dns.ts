// Real DNS clients for the DNS tests: `dig` (bind9-dnsutils) with its answer parsed into
// sections, and `dnsmasq` run as an unprivileged forwarder of one domain to the name server on a
// loopback port, with no upstream besides it (nothing leaves the machine). Both tracked and
// ended at teardown like every other child.
import { execFile, spawn } from 'node:child_process';
import { makeTempDir } from './tmp.js';
import { LineLog } from './lines.js';
import { killChild, trackChild } from './children.js';
import { freePort } from './ports.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

/** What dig printed, read: the status, the header flags, and each section's records as text. */
export interface DigAnswer {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  /** dig's whole output, for failure messages. */
  text: string;
}

/**
 * `dig @127.0.0.1 -p PORT ...args`, one try with a 5 s wait, no recursion asked; records are
 * "name ttl class type data" with runs of blanks made one space.
 */
export function dig(port: number, args: string[]): Promise<DigAnswer> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+norecurse', '+time=5', '+tries=1', ...args], { timeout: 15_000 }, (err, stdout) => {
      if (err !== null && stdout === '') {
        reject(err);
        return;
      }
      resolve(parseDig(stdout));
    });
  });
}

function parseDig(text: string): DigAnswer {
  const out: DigAnswer = { status: /status: (\w+)/.exec(text)?.[1] ?? 'NONE', flags: (/;; flags: ([a-z ]*);/.exec(text)?.[1] ?? '').split(' ').filter(Boolean), answer: [], authority: [], additional: [], text };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') section = undefined;
    } else if (section !== undefined) out[section].push(line.trim().replace(/\s+/g, ' '));
  }
  return out;
}

export interface Dnsmasq {
  /** The loopback port it answers on. */
  readonly port: number;
  readonly stderr: LineLog;
  stop(): Promise<void>;
}

/**
 * dnsmasq in the foreground on 127.0.0.1:a free port, forwarding `domain` (e.g. "dpns") to
 * 127.0.0.1#`upstreamPort` and nothing else: no /etc/resolv.conf, no /etc/hosts, no config file,
 * no cache (so every query reaches the name server), and as user nobody once its port is bound.
 */
export async function startDnsmasq(domain: string, upstreamPort: number): Promise<Dnsmasq> {
  const port = await freePort();
  const dir = makeTempDir('dpns-dnsmasq-');
  const conf = join(dir, 'dnsmasq.conf');
  writeFileSync(conf, '');
  const proc = spawn('dnsmasq', [
    '--no-daemon', `--conf-file=${conf}`, '--no-resolv', '--no-hosts', '--no-poll', '--pid-file=',
    '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, '--cache-size=0', '--user=nobody', '--group=nogroup',
    `--server=/${domain}/127.0.0.1#${upstreamPort}`, '--log-queries',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = trackChild(proc);
  const stderr = new LineLog(proc.stderr, 'dnsmasq stderr');
  await Promise.race([
    stderr.waitFor(/started, version/, 10_000),
    exited.then((e) => {
      throw new Error(`dnsmasq exited (code ${e.code}) before it started:\n${stderr.text()}`);
    }),
  ]);
  return { port, stderr, stop: async () => void (await killChild(proc, 'SIGTERM')) };
}

/** The name server binary answering DNS on a free loopback port (`--dns-listen 127.0.0.1:0`): the process and that port. */
export async function startDnsServer(args: string[] = []): Promise<{ ns: ServerProcess; dnsPort: number }> {
  const ns = await startServerProcess({ args: ['--dns-listen', '127.0.0.1:0', ...args] });
  const line = await ns.waitForStdout(/^dns: listening on 127\.0\.0\.1:\d+ \(udp, tcp\) for \S+$/);
  return { ns, dnsPort: Number(/:(\d+) /.exec(line)?.[1]) };
}
