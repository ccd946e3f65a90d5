// Which user a launched program runs as. As root the agent switches to the named user (or the
// default), never to root unless the config lists "root"; as anyone else it can only launch as
// itself, and says so rather than silently ignoring the request.
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { execa } from 'execa';
import { AgentError } from './wire.js';

/** The user a child runs as; uid/gid only when the agent has to switch to it. */
export interface RunAs {
  name: string;
  home: string;
  uid?: number;
  gid?: number;
}

export interface RunAsPolicy {
  /** Users a launch may name. */
  users: readonly string[];
  /** The user when a launch names none (as root). */
  defaultUser: string;
}

/** The user for a launch that asked for `requested` (or nobody in particular). */
export async function chooseRunAs(requested: string | undefined, policy: RunAsPolicy, agentUid = process.getuid?.() ?? -1): Promise<RunAs> {
  if (agentUid !== 0) {
    const self = userInfo();
    if (requested !== undefined && requested !== self.username) {
      throw new AgentError('NOT_ALLOWED', `this agent runs as ${self.username}, not root, so it can only launch programs as ${self.username}, not as ${JSON.stringify(requested)}; drop "user" from the spec or run the agent as root`);
    }
    return { name: self.username, home: self.homedir };
  }
  const name = requested ?? policy.defaultUser;
  const rootAllowed = policy.users.includes('root');
  if (name === 'root' && !rootAllowed) {
    throw new AgentError('NOT_ALLOWED', 'launching a program as root needs "root" in the agent\'s "users" setting; name another user in the spec');
  }
  if (requested !== undefined && requested !== policy.defaultUser && !policy.users.includes(requested)) {
    throw new AgentError('NOT_ALLOWED', `user ${JSON.stringify(requested)} is not in this agent's "users" setting (allowed: ${[policy.defaultUser, ...policy.users].join(', ')})`);
  }
  const found = await lookupUser(name);
  if (found === undefined) {
    throw new AgentError('NOT_ALLOWED', `user ${JSON.stringify(name)} does not exist on this host; create it or name another user`);
  }
  // An alias of uid 0 under another name is root all the same.
  if (found.uid === 0 && !rootAllowed) {
    throw new AgentError('NOT_ALLOWED', `user ${JSON.stringify(name)} has uid 0, and launching as root needs "root" in the agent's "users" setting`);
  }
  return { name, home: found.home, uid: found.uid, gid: found.gid };
}

interface PasswdEntry {
  uid: number;
  gid: number;
  home: string;
}

/** A user from /etc/passwd, or from `id` for users that come from NSS (LDAP and the like). */
export async function lookupUser(name: string): Promise<PasswdEntry | undefined> {
  const local = parsePasswd(await readFile('/etc/passwd', 'utf8').catch(() => ''), name);
  if (local !== undefined) return local;
  const uid = await execa('id', ['-u', name], { reject: false });
  const gid = await execa('id', ['-g', name], { reject: false });
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()), home: '/' };
}

/** The entry for `name` in passwd(5) text. */
export function parsePasswd(text: string, name: string): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[0] !== name) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
    return { uid, gid, home: f[5] || '/' };
  }
  return undefined;
}
