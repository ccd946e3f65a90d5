// The action dialogs: Add and Edit (a launch spec), Alias, Info, and the confirmations of
// Delete, Kill and Reset.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ActionForm } from './action-form.js';
import { RpcError } from './rpc.js';
import type { Session } from './session.js';
import type { EntryView, LaunchSpec, Params, RestartPolicy, ServiceView } from './protocol.js';

interface DialogBase {
  session: Session;
  onDone(message: string): void;
  onCancel(): void;
}

/** The launch spec as the form holds it: text fields. */
interface SpecText {
  host: string;
  program: string;
  /** One argument a line. */
  args: string;
  /** KEY=VALUE a line. */
  env: string;
  cwd: string;
  user: string;
  startTimeoutMs: string;
  restart: RestartPolicy;
}

const EMPTY_SPEC: SpecText = { host: '', program: '', args: '', env: '', cwd: '', user: '', startTimeoutMs: '10000', restart: 'no' };

function specText(s: LaunchSpec): SpecText {
  return {
    // Several hosts are edited as one line: "h1, h2" or a pattern like "media-*".
    host: s.host ?? (s.hosts ?? []).join(', '),
    program: s.program,
    args: s.args.join('\n'),
    env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`).join('\n'),
    cwd: s.cwd ?? '',
    user: s.user ?? '',
    startTimeoutMs: String(s.startTimeoutMs),
    restart: s.restart ?? 'no',
  };
}

const invalid = (field: string, why: string) => new RpcError('INVALID_INPUT', `${field}: ${why}`);

/** The form's text as a launch spec; the server checks the rest and says which field is wrong. */
function parseSpec(t: SpecText): LaunchSpec {
  const env: Record<string, string> = {};
  for (const line of t.env.split('\n')) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw invalid('Environment', `expected KEY=VALUE, got ${JSON.stringify(line)}`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  const timeout = Number(t.startTimeoutMs);
  if (!Number.isInteger(timeout)) throw invalid('Start timeout', `expected whole milliseconds, got ${JSON.stringify(t.startTimeoutMs)}`);
  const hosts = t.host.split(',').map((h) => h.trim()).filter((h) => h !== '');
  const spec: LaunchSpec = {
    ...(hosts.length === 1 && !/[*?]/.test(hosts[0] as string) ? { host: hosts[0] as string } : { hosts }),
    program: t.program.trim(),
    args: t.args.split('\n').filter((a) => a !== ''),
    env,
    startTimeoutMs: timeout,
    restart: t.restart,
  };
  if (t.cwd.trim() !== '') spec.cwd = t.cwd.trim();
  if (t.user.trim() !== '') spec.user = t.user.trim();
  return spec;
}

function SpecFields({ value, onChange }: { value: SpecText; onChange(v: SpecText): void }) {
  const field = (key: keyof SpecText, label: string, hint?: string) => (
    <label>
      <span>{label} {hint !== undefined && <small>{hint}</small>}</span>
      <input name={key} value={value[key]} onInput={(e) => onChange({ ...value, [key]: e.currentTarget.value })} />
    </label>
  );
  const area = (key: 'args' | 'env', label: string, hint: string) => (
    <label>
      <span>{label} <small>{hint}</small></span>
      <textarea name={key} rows={2} value={value[key]} onInput={(e) => onChange({ ...value, [key]: e.currentTarget.value })} />
    </label>
  );
  return (
    <>
      {field('host', 'Host', '(whose launch agent starts it; for several: h1, h2 or a pattern like media-*)')}
      {field('program', 'Program', '(absolute path, or a name on the agent\'s allowlist)')}
      {area('args', 'Arguments', '(one a line)')}
      {area('env', 'Environment', '(KEY=VALUE, one a line)')}
      {field('cwd', 'Working directory', '(optional, absolute)')}
      {field('user', 'User', '(optional)')}
      {field('startTimeoutMs', 'Start timeout (ms)')}
      <label>
        Restart
        <select name="restart" value={value.restart} onChange={(e) => onChange({ ...value, restart: e.currentTarget.value as RestartPolicy })}>
          <option value="no">no</option>
          <option value="on-failure">on failure</option>
        </select>
      </label>
    </>
  );
}

export function AddDialog(props: DialogBase) {
  const [name, setName] = useState('');
  const [spec, setSpec] = useState<SpecText>(EMPTY_SPEC);
  return (
    <ActionForm
      title="Add an auto-start service" submitLabel="Add" admin {...props}
      run={async () => {
        await props.session.call('register.add', { name: name.trim(), spec: parseSpec(spec) });
        return `added ${name.trim()}`;
      }}
    >
      <label>
        <span>Name <small>(e.g. /demo/echo)</small></span>
        <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <SpecFields value={spec} onChange={setSpec} />
    </ActionForm>
  );
}

/**
 * What the server shows in place of a hidden spec value to a connection that is not admin
 * (REDACTED in packages/protocol/src/redact.ts; the page imports only types from there).
 */
const REDACTED = '<redacted>';

export function EditDialog(props: DialogBase & { entry: ServiceView }) {
  const { entry, session } = props;
  const [before, setBefore] = useState<SpecText>(entry.spec === undefined ? EMPTY_SPEC : specText(entry.spec));
  const [spec, setSpec] = useState<SpecText>(before);
  // Once the operator types, the values arriving from register.info no longer replace the form.
  const touched = useRef(false);
  const hidden = [before.args, before.env, before.cwd, before.user].some((t) => t.includes(REDACTED));
  useEffect(() => {
    // The table's entries come from the watch, which never carries spec values: an admin edits the real ones.
    if (entry.spec?.redacted !== true || !session.current.admin) return;
    session.call('register.info', { name: entry.name }).then((r) => {
      if (touched.current || r.entry.kind !== 'service' || r.entry.spec === undefined) return;
      const t = specText(r.entry.spec);
      setBefore(t);
      setSpec(t);
    }, () => undefined);
  }, []); // once per dialog
  return (
    <ActionForm
      title={`Edit ${entry.name}`} submitLabel="Save" admin {...props}
      run={async () => {
        const params = editParams(entry.name, before, spec);
        await props.session.call('register.edit', params);
        return `edited ${entry.name}`;
      }}
    >
      {entry.spec === undefined && <p class="hint">This entry has no launch spec (it was advertised, not added): only an auto-start service can be edited.</p>}
      {hidden && <p class="hint" data-testid="redacted-hint">Argument, environment, directory and user values are hidden until the admin token is given; hidden fields left as they are stay unchanged.</p>}
      <SpecFields value={spec} onChange={(v) => {
        touched.current = true;
        setSpec(v);
      }} />
    </ActionForm>
  );
}

/** Only the fields that changed; a cleared cwd or user is unset. */
function editParams(name: string, before: SpecText, after: SpecText): Params<'register.edit'> {
  const full = parseSpec(after);
  const spec: Partial<LaunchSpec> = {};
  const unset: ('cwd' | 'user')[] = [];
  if (after.host !== before.host) {
    if (full.host !== undefined) spec.host = full.host;
    if (full.hosts !== undefined) spec.hosts = full.hosts;
  }
  if (after.program !== before.program) spec.program = full.program;
  if (after.args !== before.args) spec.args = full.args;
  if (after.env !== before.env) spec.env = full.env;
  // A hidden value must never be written back as the marker text.
  const stillHidden = spec.args?.includes(REDACTED) === true || Object.values(spec.env ?? {}).includes(REDACTED) ||
    (full.cwd === REDACTED && after.cwd !== before.cwd) || (full.user === REDACTED && after.user !== before.user);
  if (stillHidden) {
    throw new RpcError('INVALID_INPUT', `a changed field still holds ${REDACTED}: give the admin token and reopen Edit to see the real values, or retype them`);
  }
  if (after.startTimeoutMs !== before.startTimeoutMs) spec.startTimeoutMs = full.startTimeoutMs;
  if (after.restart !== before.restart) spec.restart = full.restart;
  for (const k of ['cwd', 'user'] as const) {
    if (after[k] === before[k]) continue;
    if (full[k] === undefined) unset.push(k);
    else spec[k] = full[k];
  }
  if (Object.keys(spec).length === 0 && unset.length === 0) throw new RpcError('INVALID_INPUT', 'nothing changed');
  return { name, spec, unset };
}

export function AliasDialog(props: DialogBase & { target: string }) {
  const [name, setName] = useState('');
  const [target, setTarget] = useState(props.target);
  return (
    <ActionForm
      title="Add an alias" submitLabel="Alias" admin {...props}
      run={async () => {
        await props.session.call('register.alias', { name: name.trim(), target: target.trim() });
        return `${name.trim()} now stands for ${target.trim()}`;
      }}
    >
      <label>
        Alias name
        <input name="alias" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Target
        <input name="target" value={target} onInput={(e) => setTarget(e.currentTarget.value)} />
      </label>
    </ActionForm>
  );
}

export type ConfirmAction = 'delete' | 'kill' | 'reset';

export function ConfirmDialog(props: DialogBase & { action: ConfirmAction; name: string }) {
  const { action, name, session } = props;
  const what = {
    delete: `Delete ${name}? A running service loses its advertisement; aliases must be deleted first.`,
    kill: `Kill ${name}? Its agent sends SIGTERM to its process group, then SIGKILL.`,
    reset: `Reset ${name}? It is killed, then launched again.`,
  }[action];
  const run = async (): Promise<string> => {
    switch (action) {
      case 'delete':
        await session.call('register.delete', { name });
        return `deleted ${name}`;
      case 'kill': {
        const r = await session.call('killService', { name });
        return r.alreadyGone ? `${name} was not running` : `killed ${name}${r.signal === undefined ? '' : ` (${r.signal})`}`;
      }
      case 'reset': {
        const r = await session.call('resetService', { name });
        return `reset ${name}: running on ${r.service.host}:${r.service.port}`;
      }
    }
  };
  const label = action[0]?.toUpperCase() + action.slice(1);
  return (
    <ActionForm title={`${label} ${name}`} submitLabel={label} admin {...props} run={run}>
      <p>{what}</p>
    </ActionForm>
  );
}

export function InfoDialog(props: DialogBase & { name: string }) {
  const { session, name } = props;
  const [info, setInfo] = useState<{ entry: EntryView; aliases: string[]; resolved?: string } | undefined>(undefined);
  const fetchInfo = async (): Promise<undefined> => {
    setInfo(await session.call('register.info', { name }));
    return undefined;
  };
  useEffect(() => {
    if (session.current.admin) fetchInfo().catch(() => undefined);
  }, []); // once per dialog: the name does not change while it is open
  return (
    <ActionForm title={`Info: ${name}`} submitLabel={info === undefined ? 'Show' : 'Refresh'} admin {...props} run={fetchInfo}>
      {info !== undefined && (
        <div class="info">
          {info.resolved !== undefined && <p>Resolves to <code>{info.resolved}</code></p>}
          <p>Aliases: {info.aliases.length === 0 ? 'none' : info.aliases.join(', ')}</p>
          <pre data-testid="info">{JSON.stringify(info.entry, null, 2)}</pre>
        </div>
      )}
    </ActionForm>
  );
}
