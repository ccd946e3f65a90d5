// Backup mode: the servers of the cluster (SID, URL, role, epoch, last index, lag), polled every
// 2 s, shown only when the cluster has more than one server; and the banner that says when this
// server is not the primary, with a link to the page of the one that is.
import { useEffect, useState } from 'preact/hooks';
import { RpcError } from './rpc.js';
import type { Session, SessionStatus } from './session.js';
import type { Result } from './protocol.js';
import { pageUrlOf } from './format.js';

const POLL_MS = 2_000;

type ServersResult = Result<'servers'>;

/** Polls `servers` while connected; undefined when there is nothing to show. */
export function useServers(session: Session, status: SessionStatus): ServersResult | undefined {
  const [servers, setServers] = useState<ServersResult | undefined>(undefined);
  const hello = status.hello;
  const open = status.state === 'open';
  useEffect(() => {
    if (!open) return undefined;
    let stopped = false;
    let timer: number | undefined;
    const poll = async () => {
      try {
        const r = await session.call('servers', {});
        if (!stopped) setServers(r);
      } catch (e) {
        // A server from before backup mode has no `servers`: no panel, and no more asking.
        if (e instanceof RpcError && e.code === 'METHOD_NOT_FOUND') {
          setServers(undefined);
          return;
        }
      }
      if (!stopped) timer = window.setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [session, open, hello]);
  return servers;
}

export function ServersPanel({ servers }: { servers: ServersResult }) {
  return (
    // Focusable: in a narrow window the panel scrolls sideways, and a keyboard scrolls only what it can focus.
    <section class="servers" aria-label="Servers" tabIndex={0}>
      <h2>Servers <small>epoch {servers.epoch}, {servers.replication} replication</small></h2>
      <table>
        <thead>
          <tr><th>SID</th><th>URL</th><th>Role</th><th>Epoch</th><th>Last index</th><th>Lag</th><th>Connected</th></tr>
        </thead>
        <tbody>
          {servers.servers.map((s) => (
            <tr key={s.sid} class={s.self ? 'self' : undefined} data-sid={s.sid}>
              <td>{s.sid}{s.self ? ' (this)' : ''}</td>
              <td><a href={pageUrlOf(s.url)}>{s.url}</a></td>
              <td class={`role ${s.role ?? 'unknown'}`}>{s.role ?? '?'}</td>
              <td>{s.epoch ?? ''}</td>
              <td>{s.lastIndex ?? ''}</td>
              <td>{s.lag ?? ''}</td>
              <td>{s.connected ? 'yes' : `no${s.lastHeardMs === undefined ? '' : ` (${Math.round(s.lastHeardMs / 1000)}s)`}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * Says when this server takes no writes and where the primary's page is, from the last `servers`
 * answer (a role can change without a new hello) or else from the hello; and, while this server
 * does not answer, links to the cluster's other servers.
 */
export function PrimaryBanner({ status, servers, hint }: { status: SessionStatus; servers: ServersResult | undefined; hint: string | undefined }) {
  const cluster = status.hello?.cluster;
  if (status.state !== 'open') {
    const others = (servers?.servers ?? []).filter((s) => !s.self);
    if (others.length === 0) return null;
    return (
      <div class="banner" role="status" data-testid="primary-banner">
        This server does not answer; the page keeps trying. The cluster's other servers:{' '}
        {others.map((s, i) => (
          <span key={s.sid}>{i > 0 && ', '}<a href={pageUrlOf(s.url)}>{pageUrlOf(s.url)}</a></span>
        ))}
      </div>
    );
  }
  let role = cluster?.role;
  let primary = cluster?.primary;
  if (servers !== undefined) {
    role = servers.servers.find((s) => s.self)?.role ?? role;
    primary = servers.primary === undefined ? undefined : servers.servers.find((s) => s.sid === servers.primary)?.url;
  }
  if (role === undefined || role === 'primary') {
    if (hint === undefined) return null;
    primary = hint;
  }
  return (
    <div class="banner" role="status" data-testid="primary-banner">
      {primary !== undefined ? (
        <>This server is not the primary{role !== undefined && role !== 'primary' ? ` (it is a ${role})` : ''}: it takes no writes. Open the primary: <a href={pageUrlOf(primary)}>{pageUrlOf(primary)}</a></>
      ) : (
        <>This server is a {role} and knows of no primary at the moment: writes are refused until one is elected.</>
      )}
    </div>
  );
}
