// The user a module's child runs as when the name server runs as root (default `nobody`),
// looked up in /etc/passwd: Node has no getpwnam, and a numeric `uid:gid` is taken as it is.
import { readFileSync } from 'node:fs';

/** A user's numeric ids. */
export interface UserIds {
  uid: number;
  gid: number;
}

/** The ids of `user` (a name from /etc/passwd, or "UID:GID"); undefined when there is no such user. */
export function lookupUser(user: string, passwd = '/etc/passwd'): UserIds | undefined {
  const numeric = /^(\d+):(\d+)$/.exec(user);
  if (numeric !== null) return { uid: Number(numeric[1]), gid: Number(numeric[2]) };
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name !== user || uid === undefined || gid === undefined) continue;
    const ids = { uid: Number(uid), gid: Number(gid) };
    return Number.isSafeInteger(ids.uid) && Number.isSafeInteger(ids.gid) ? ids : undefined;
  }
  return undefined;
}
