// What a connection must carry besides requests: the admin login and the owner identity.
// Both are proofs over the connection's own nonce, so they are redone on every new connection
// (after a reconnect or a server restart), before anything queued is sent on it.
import {
  adminProof, DpnsError, identifySignature, newOwnerKey, type OwnerKey,
} from '@dpns/protocol';
import '@dpns/node-kit/use-native-crypto';
import type { Channel } from './channel.js';
import type { Connection } from './connection.js';

export class Session {
  /** Made at the first `advertise`; proves ownership of this client's names on every connection. */
  #ownerKey: OwnerKey | undefined;
  readonly #identified = new WeakMap<Connection, Promise<void>>();
  /** Why the last login was refused, kept to explain later UNAUTHORIZED answers. */
  #loginError: DpnsError | undefined;

  constructor(
    private readonly channel: Channel,
    private readonly token: string | undefined,
    /** Reports a refusal no caller is waiting for. */
    private readonly reportError: (err: DpnsError) => void,
    /** A key given in the options, proved from the first advertise on, as a made one would be. */
    private readonly givenOwnerKey?: OwnerKey,
  ) {}

  /** Creates the owner key if there is none yet; from then on every connection identifies. */
  ensureOwnerKey(): void {
    this.#ownerKey ??= this.givenOwnerKey ?? newOwnerKey();
  }

  /** Logs in and identifies on a fresh connection. Throws only when the connection itself failed. */
  async restore(conn: Connection): Promise<void> {
    if (this.token !== undefined) {
      try {
        await this.channel.request('login', { proof: adminProof(this.token, conn.hello.nonce) }, conn);
        this.#loginError = undefined;
      } catch (err) {
        if (!isWireRefusal(err)) throw err;
        // A wrong token must not stop reads; admin calls will fail and say why (see explain).
        this.#loginError = err;
        this.reportError(err);
      }
    }
    await this.identify(conn);
  }

  /** Proves the owner key on `conn`, once per connection (concurrent callers share the proof). */
  identify(conn: Connection): Promise<void> {
    const key = this.#ownerKey;
    if (key === undefined) return Promise.resolve();
    let done = this.#identified.get(conn);
    if (done === undefined) {
      done = this.channel
        // A key made here dies with this client: it asks for no reservation, or a restarted
        // process (with a new key) would find its own name held for hours.
        .request('identify', { publicKey: key.publicKey, signature: identifySignature(key, conn.hello.nonce), reserve: this.givenOwnerKey !== undefined }, conn)
        .then(
          () => undefined,
          (err: unknown) => {
            this.#identified.delete(conn);
            if (!isWireRefusal(err)) throw err;
            this.reportError(err);
          },
        );
      this.#identified.set(conn, done);
    }
    return done;
  }

  /** Adds the login failure to an UNAUTHORIZED answer, which otherwise would not say why. */
  explain(err: unknown): unknown {
    if (this.#loginError !== undefined && err instanceof DpnsError && err.code === 'UNAUTHORIZED') {
      return new DpnsError('UNAUTHORIZED', `${err.message} (login with the given token was refused: ${this.#loginError.message})`, {
        details: err.details,
        cause: err,
      });
    }
    return err;
  }
}

/** True for an error the server answered with (as opposed to a lost connection or a timeout). */
function isWireRefusal(err: unknown): err is DpnsError {
  return err instanceof DpnsError && !['CONNECTION_LOST', 'TIMEOUT', 'CLOSED', 'BAD_RESPONSE'].includes(err.code);
}
