// The form of every action dialog (shown in a Modal): its fields, the admin token field when the
// action needs the credential and this connection has not logged in, and the server's answer when
// it refuses.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { RpcError } from './rpc.js';
import type { Session } from './session.js';
import { describeError, pageUrlOf } from './format.js';
import { Modal } from './modal.js';

export interface ActionFormProps {
  title: string;
  session: Session;
  /** Whether the action needs the admin credential (ADMIN_METHODS in the protocol). */
  admin: boolean;
  submitLabel: string;
  /** Does the action; resolves with a line for the notices, or undefined to keep the dialog open. */
  run(): Promise<string | undefined>;
  onDone(message: string): void;
  onCancel(): void;
  children?: ComponentChildren;
}

export function ActionForm(props: ActionFormProps) {
  const { session } = props;
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<RpcError | undefined>(undefined);
  const askToken = props.admin && !session.current.admin;

  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      // Without a token the request still goes: the server's own refusal is what the operator sees.
      if (askToken && token.trim() !== '') await session.login(token.trim(), true);
      const message = await props.run();
      if (message !== undefined) props.onDone(message);
    } catch (e) {
      setError(e instanceof RpcError ? e : new RpcError('ERROR', e instanceof Error ? e.message : String(e)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={props.title} onCancel={props.onCancel}>
      <form onSubmit={submit}>
        {props.children}
        {askToken && (
          <label class="token">
            <span>Admin token <small>(from the server's admin.token; asked once, kept for this tab only)</small></span>
            <input type="password" name="token" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} />
          </label>
        )}
        {error !== undefined && <ErrorBox error={error} />}
        {error?.code === 'UNAUTHORIZED' && askToken && <p class="hint">This action needs the admin credential: enter the admin token above.</p>}
        <div class="buttons">
          <button type="button" onClick={props.onCancel}>Cancel</button>
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Working…' : props.submitLabel}</button>
        </div>
      </form>
    </Modal>
  );
}

/** A refusal, with a link to the primary when the server named one. */
export function ErrorBox({ error }: { error: RpcError }) {
  const primary = error.code === 'NOT_PRIMARY' && typeof error.data.primary === 'string' ? pageUrlOf(error.data.primary) : undefined;
  return (
    <p class="error" role="alert" data-code={error.code}>
      {describeError(error)}
      {primary !== undefined && (
        <> — open the primary: <a href={primary}>{primary}</a></>
      )}
    </p>
  );
}
