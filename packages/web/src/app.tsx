// The monitor page: connection status, the glob filter (the paper's "Service" entry), the
// actions, the services table, the servers of a cluster, the trusted launch agents, and a log of what the actions did.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { AddDialog, AliasDialog, ConfirmDialog, EditDialog, InfoDialog, type ConfirmAction } from './dialogs.js';
import { Filter, MATCH_ALL } from './filter.js';
import { describeError, formatAge } from './format.js';
import { RpcError } from './rpc.js';
import { PrimaryBanner, ServersPanel, useServers } from './servers.js';
import { AgentsPanel, useAgents } from './agents.js';
import { Session, type SessionStatus } from './session.js';
import { EntryStore } from './store.js';
import { ServicesTable } from './table.js';
import type { FilterStatus } from './filter.js';

type Dialog =
  | { kind: 'add' }
  | { kind: 'alias'; target: string }
  | { kind: 'edit'; name: string }
  | { kind: 'info'; name: string }
  | { kind: 'confirm'; action: ConfirmAction; name: string };

interface Notice {
  id: number;
  ok: boolean;
  text: string;
}

const MAX_NOTICES = 6;
let noticeIds = 0;

/** The pattern in the address's fragment (#/demo/*), so a filtered view can be bookmarked. */
function patternFromLocation(): string {
  const h = decodeURIComponent(window.location.hash.slice(1));
  return h === '' ? MATCH_ALL : h;
}

export function App() {
  const { session, store, filter } = useMemo(() => {
    const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/`;
    const s = new Session(url);
    const st = new EntryStore();
    return { session: s, store: st, filter: new Filter(s, st, patternFromLocation()) };
  }, []);
  const [status, setStatus] = useState<SessionStatus>(session.current);
  const [filterStatus, setFilterStatus] = useState<FilterStatus>(filter.current);
  const [version, setVersion] = useState(0);
  const [input, setInput] = useState(patternFromLocation());
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [dialog, setDialog] = useState<Dialog | undefined>(undefined);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [primaryHint, setPrimaryHint] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const servers = useServers(session, status);
  const agents = useAgents(session, status);

  useEffect(() => {
    const offs = [session.onStatus(setStatus), filter.onStatus(setFilterStatus), store.onChange(() => setVersion(store.version))];
    session.start();
    // "How long in this state" moves once a second; only the rows in view render again.
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => {
      offs.forEach((off) => off());
      window.clearInterval(tick);
      session.close();
      store.dispose();
    };
  }, [session, store, filter]);

  // A primary named by a NOT_PRIMARY refusal is news about the connection it came on.
  useEffect(() => setPrimaryHint(undefined), [status.hello]);

  const notify = (ok: boolean, text: string) => setNotices((n) => [{ id: ++noticeIds, ok, text }, ...n].slice(0, MAX_NOTICES));
  const failed = (e: unknown, what: string) => {
    const err = e instanceof RpcError ? e : new RpcError('ERROR', String(e));
    if (err.code === 'NOT_PRIMARY' && typeof err.data.primary === 'string') setPrimaryHint(err.data.primary);
    notify(false, `${what}: ${describeError(err)}`);
  };

  const applyFilter = (pattern: string) => {
    const p = pattern.trim() === '' ? MATCH_ALL : pattern.trim();
    window.history.replaceState(null, '', `#${encodeURIComponent(p).replace(/%2F/g, '/').replace(/%2A/g, '*')}`);
    filter.set(p);
  };

  const entry = selected === undefined ? undefined : store.get(selected);
  const service = entry?.kind === 'service' ? entry : undefined;

  // A deleted row disables the button that deleted it, and a disabled button drops the focus to
  // the body, where a keyboard user is lost: hand it to the table, whose arrows pick the next row.
  useEffect(() => {
    if (entry !== undefined) return;
    const active = document.activeElement;
    if (active === null || active === document.body || active.matches(':disabled')) {
      document.querySelector<HTMLElement>('.grid[role=grid]')?.focus();
    }
  }, [entry]);
  const launch = async (name: string) => {
    notify(true, `launching ${name}…`);
    try {
      const r = await session.call('launchService', { name });
      notify(true, r.launched ? `launched ${name}: running on ${r.service.host}:${r.service.port}` : `${name} was already running on ${r.service.host}:${r.service.port}`);
    } catch (e) {
      failed(e, `launch ${name}`);
    }
  };

  const close = () => setDialog(undefined);
  const done = (message: string) => {
    setDialog(undefined);
    notify(true, message);
  };
  const base = { session, onDone: done, onCancel: close };
  const serverTime = now + session.clockOffsetMs;

  return (
    <div class="app">
      <header>
        <h1>dpns monitor</h1>
        <ConnectionStatus status={status} />
        <span class={`admin ${status.admin ? 'yes' : 'no'}`} data-testid="admin">{status.admin ? 'admin' : 'read-only'}</span>
        {session.hasToken && (
          <button type="button" class="link" onClick={() => { session.forgetToken(); notify(true, 'admin token forgotten (this connection stays admin until it ends)'); }}>
            Forget token
          </button>
        )}
      </header>
      <PrimaryBanner status={status} servers={servers} hint={primaryHint} />
      <form class="toolbar" role="search" onSubmit={(ev) => { ev.preventDefault(); applyFilter(input); }}>
        <label>
          Service
          <input
            name="pattern" value={input} spellcheck={false} autocomplete="off"
            aria-invalid={filterStatus.error !== undefined} aria-describedby={filterStatus.error === undefined ? undefined : 'filter-error'}
            onInput={(e) => { setInput(e.currentTarget.value); applyFilter(e.currentTarget.value); }}
          />
        </label>
        <span class="count" data-testid="count" data-pattern={filterStatus.shown ?? ''}>
          {filterStatus.shown === undefined ? '' : `${store.size.toLocaleString('en-US')} ${store.size === 1 ? 'entry matches' : 'entries match'} ${filterStatus.shown}`}
        </span>
        {/* Always in the DOM: a live region announces what is put into it, not itself appearing. */}
        <span id="filter-error" class="error" role="alert">{filterStatus.error ?? ''}</span>
      </form>
      <nav class="actions" aria-label="Actions">
        <button type="button" onClick={() => setDialog({ kind: 'add' })}>Add</button>
        <button type="button" onClick={() => setDialog({ kind: 'alias', target: selected ?? '' })}>Alias</button>
        <button type="button" disabled={service === undefined} onClick={() => service && setDialog({ kind: 'edit', name: service.name })}>Edit</button>
        <button type="button" disabled={entry === undefined} onClick={() => entry && setDialog({ kind: 'confirm', action: 'delete', name: entry.name })}>Delete</button>
        <button type="button" disabled={entry === undefined} onClick={() => entry && setDialog({ kind: 'info', name: entry.name })}>Info</button>
        <button type="button" disabled={service === undefined} onClick={() => service && void launch(service.name)}>Launch</button>
        <button type="button" disabled={service === undefined} onClick={() => service && setDialog({ kind: 'confirm', action: 'reset', name: service.name })}>Reset</button>
        <button type="button" disabled={service === undefined} onClick={() => service && setDialog({ kind: 'confirm', action: 'kill', name: service.name })}>Kill</button>
        <span class="selected">{selected === undefined ? 'Select a row to act on it.' : `Selected: ${selected}`}</span>
      </nav>
      <main>
        <ServicesTable store={store} version={version} filter={filterStatus} selected={selected} onSelect={setSelected} onOpen={(name) => setDialog({ kind: 'info', name })} now={serverTime} />
        {servers !== undefined && servers.servers.length > 1 && <ServersPanel servers={servers} />}
        {agents.length > 0 && <AgentsPanel agents={agents} />}
      </main>
      <div class="notices" role="log" aria-label="What the actions did" data-testid="notices">
        <ul>
          {notices.map((n) => <li key={n.id} class={n.ok ? 'ok' : 'failed'}>{n.text}</li>)}
        </ul>
      </div>
      {dialog?.kind === 'add' && <AddDialog {...base} />}
      {dialog?.kind === 'alias' && <AliasDialog {...base} target={dialog.target} />}
      {dialog?.kind === 'info' && <InfoDialog {...base} name={dialog.name} />}
      {dialog?.kind === 'confirm' && <ConfirmDialog {...base} action={dialog.action} name={dialog.name} />}
      {dialog?.kind === 'edit' && (() => {
        const e = store.get(dialog.name);
        return e?.kind === 'service' ? <EditDialog {...base} entry={e} /> : null;
      })()}
    </div>
  );
}

function ConnectionStatus({ status }: { status: SessionStatus }) {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (status.state !== 'waiting') return undefined;
    const t = window.setInterval(() => setTick((n) => n + 1), 250);
    return () => window.clearInterval(t);
  }, [status.state]);
  const host = window.location.host;
  const text = {
    connecting: `connecting to ${host}…`,
    open: `connected to ${host}${status.hello === undefined ? '' : ` (dpns ${status.hello.version})`}`,
    waiting: `disconnected (${status.lastError ?? 'connection lost'}); retrying in ${formatAge(Math.max(0, (status.retryAt ?? 0) - Date.now()) + 999)}`,
    closed: 'closed',
  }[status.state];
  return <span class={`link-state ${status.state}`} data-testid="link-state" data-state={status.state}>{text}</span>;
}
