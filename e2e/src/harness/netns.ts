// Test hosts on one machine: network namespaces joined to each other and to the test by veth
// pairs on a private bridge, with addresses from 198.18.0.0/15 (set aside for network tests)
// and no route anywhere else. The test makes them and removes them; nothing else is touched.
import { execFileSync } from 'node:child_process';

export interface TestHost {
  /** The namespace's name, for `ip netns exec`. */
  ns: string;
  /** Its address on the test bridge. */
  addr: string;
}

export interface TestNet {
  hosts: TestHost[];
  /** The test's own address on the bridge (the root namespace). */
  gateway: string;
  /**
   * A second address of the test's own on the bridge: clients whose connections leave from it
   * (ws's `localAddress`) can be cut off by `block` apart from the rest.
   */
  sideGateway: string;
  /** argv prefix that runs a command inside a host. */
  exec(host: TestHost): string[];
  /** Cuts a host off the bridge (its link goes down), or brings it back. */
  setLink(host: TestHost, up: boolean): void;
  /**
   * Drops every packet `host` sends to `addrs` (a blackhole route each): one direction of a cut,
   * and a cut both ways takes a `block` on each side. The far end hears nothing, as after a
   * lost cable; on `host` its open connections go silent and new ones fail at once (EINVAL).
   */
  block(host: TestHost, addrs: readonly string[]): void;
  /** Lifts every `block` of `host`. */
  unblock(host: TestHost): void;
  /** Removes the namespaces and the bridge; safe to call twice. */
  down(): void;
}

const PREFIX = 'dpnst';

/** Why this machine cannot run namespace tests, or undefined when it can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespace tests need root (CI runs them as root)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (iproute2) is missing; .ci/run installs it';
  }
  return undefined;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Removes namespaces and bridges that an earlier, killed test run of ours left behind. */
function sweepStale(): void {
  let list = '';
  try {
    list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}(\\d+)h\\d+$`).exec(ns);
    if (m === null || pidAlive(Number(m[1]))) continue;
    try {
      ip('netns', 'del', ns);
    } catch {
      // Already gone.
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<TestNet>();
let hooked = false;

/** Makes `count` hosts at 198.18.<subnet>.11, .12, ... with the test at 198.18.<subnet>.1. */
export function createTestNet(count: number): TestNet {
  sweepStale();
  // One subnet per test process, so parallel runs do not collide.
  const subnet = (process.pid % 250) + 1;
  const tag = `${PREFIX}${process.pid}`;
  const bridge = `${PREFIX}b${process.pid % 100000}`;
  const gateway = `198.18.${subnet}.1`;
  const sideGateway = `198.18.${subnet}.2`;
  const hosts: TestHost[] = [];
  const blocked = new Map<TestHost, string[]>();
  let removed = false;
  const net: TestNet = {
    hosts,
    gateway,
    sideGateway,
    exec: (h) => ['ip', 'netns', 'exec', h.ns],
    setLink: (h, up) => ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'eth0', up ? 'up' : 'down'),
    block: (h, addrs) => {
      const list = blocked.get(h) ?? [];
      blocked.set(h, list);
      for (const a of addrs) {
        if (list.includes(a)) continue;
        ip('netns', 'exec', h.ns, 'ip', 'route', 'add', 'blackhole', `${a}/32`);
        list.push(a);
      }
    },
    unblock: (h) => {
      for (const a of blocked.get(h)?.splice(0) ?? []) ip('netns', 'exec', h.ns, 'ip', 'route', 'del', 'blackhole', `${a}/32`);
    },
    down: () => {
      if (removed) return;
      removed = true;
      live.delete(net);
      for (const h of hosts) {
        try {
          ip('netns', 'del', h.ns);
        } catch {
          // Already gone.
        }
      }
      try {
        ip('link', 'del', bridge);
      } catch {
        // Already gone.
      }
    },
  };
  live.add(net);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const n of live) n.down();
    });
  }
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${gateway}/24`, 'dev', bridge);
    ip('addr', 'add', `${sideGateway}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (let i = 0; i < count; i++) {
      const ns = `${tag}h${i}`;
      const outer = `${PREFIX}${process.pid % 100000}v${i}`;
      const addr = `198.18.${subnet}.${11 + i}`;
      ip('netns', 'add', ns);
      hosts.push({ ns, addr });
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      // Deliberately no default route: the hosts reach each other and the test, nothing else.
    }
  } catch (e) {
    net.down();
    throw new Error(`cannot build the test network: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? (e as Error).message}`);
  }
  return net;
}
