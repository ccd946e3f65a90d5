// Histories of real clients for the linearizability checker (@dpns/sim): each registry call's
// call and return times (performance.now()), what was asked, and what came back, classified by
// the rules in @dpns/sim's registry-answers.ts (refused before applying: dropped; unknown outcome:
// kept, never returned; a read that failed: dropped). Reads a backup answered are kept apart:
// they are held to the staleness bound of PROTOCOL.md §19.3, not to linearizability.
//
// The clients are raw RPC sessions, not the client library, on purpose: the library sends a
// write again after a lost connection, and advertiseService is not deduplicated by its requestId
// (PROTOCOL.md §19.4), so one recorded operation could take effect twice; and it re-advertises by
// itself after a reconnect, a write no history would hold. A HistoryClient sends each operation
// once, to the primary (a reader of backups: to a backup), and after any failure looks for one
// again before the next.
import { performance } from 'node:perf_hooks';
import type WebSocket from 'ws';
import { checkBoundedStaleness, checkLinearizable, classifyAnswer, registryModel, type AnswerClass, type CheckResult, type RegistryInput, type RegistryOperation, type RegistryOutput } from '@dpns/sim';
import { newRequestId, openPrimary, RpcSession, type Answer } from './raw-writer.js';

/** Operations recorded so far, and what did not fit the model. */
export class HistoryRecorder {
  private readonly ops: RegistryOperation[] = [];
  private readonly fromBackups: RegistryOperation[] = [];
  /** Answers the model has no place for (`client op name: CODE`): a test should fail on any. */
  readonly unexpected: string[] = [];
  readonly counts = { answered: 0, unknown: 0, dropped: 0 };

  /**
   * Times `send`, classifies its answer, and keeps the operation if it belongs in the history;
   * `from` says who answered (a read sent to a backup may be answered from older state).
   */
  async record(client: number, input: RegistryInput, send: () => Promise<Answer>, from: 'primary' | 'backup' = 'primary'): Promise<AnswerClass> {
    const ops = from === 'primary' ? this.ops : this.fromBackups;
    const call = performance.now();
    const answer = await send();
    const ret = performance.now();
    const c = classifyAnswer(input, answer);
    switch (c.kind) {
      case 'answered':
        this.counts.answered++;
        ops.push({ client, call, return: ret, input, output: c.output });
        break;
      case 'unknown':
        this.counts.unknown++;
        ops.push({ client, call, input });
        break;
      case 'not-applied':
        this.counts.dropped++;
        break;
      case 'unexpected':
        this.unexpected.push(`client ${client} ${input.op} ${input.name}: ${c.code}${answer.ok ? '' : ` ${answer.message}`}`);
        break;
    }
    return c;
  }

  /** A copy of the history so far, but for the reads backups answered. */
  history(): RegistryOperation[] {
    return [...this.ops];
  }

  /** A copy of the reads backups answered so far. */
  backupReads(): RegistryOperation[] {
    return [...this.fromBackups];
  }

  /**
   * Checks the history so far against the registry model: linearizable, but for the reads backups
   * answered, which may each show a state up to `staleMs` older than its call (required when there are any).
   */
  check(opts: { timeoutMs?: number; staleMs?: number } = {}): CheckResult<RegistryInput, RegistryOutput> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    if (this.fromBackups.length === 0) return checkLinearizable(registryModel, this.ops, { timeoutMs });
    if (opts.staleMs === undefined) throw new Error('HistoryRecorder.check: backups answered reads, so a staleness bound (staleMs) is needed');
    return checkBoundedStaleness(registryModel, { primary: this.ops, backupReads: this.fromBackups }, { timeoutMs, staleMs: opts.staleMs });
  }
}

export interface HistoryClientOptions {
  /** Names the client in the history. */
  id: number;
  /** Every member's ws:// URL. */
  urls: readonly string[];
  /** The admin token: advertisements are static (tied to no connection, so never `lost`). */
  token: string;
  recorder: HistoryRecorder;
  /** An operation with no answer by then has an unknown outcome (a write) or is dropped (a read); default 1000 ms. */
  opTimeoutMs?: number;
  /** Per member, when looking for the primary; default 300 ms. */
  connectTimeoutMs?: number;
  /**
   * Keep the connection after a read timed out (a late answer to it is ignored: answers are matched
   * by id): a reader stuck on a frozen server, whose first reads once it resumes are the point.
   * Any other failure still moves it on.
   */
  sticky?: boolean;
  /**
   * Where it sends its operations: the primary (the default), or a member that serves reads when
   * it is a backup (a reader of backups: finds only, recorded as a backup's; the cluster runs with
   * --read-from-backups). A reader of backups also takes a candidate (which refuses its reads
   * until it follows a primary), so that it can be there from the first read a rejoining member answers.
   */
  from?: 'primary' | 'backup';
  /** The local address its connections leave from (a test network's `sideGateway`, to be cut off apart from the rest). */
  localAddress?: string;
}

/** One client of the registry, recording every operation it makes. One operation at a time. */
export class HistoryClient {
  private session: RpcSession | undefined;
  private target: string | undefined;
  private closed = false;
  /** Where a reader of backups starts looking next: each new connection starts one member further. */
  private turn: number;

  constructor(private readonly opts: HistoryClientOptions) {
    this.turn = opts.id;
  }

  /** The client's number in the history. */
  get id(): number {
    return this.opts.id;
  }

  /** `advertiseService` of `name` at `address` (HOST:PORT), static. */
  advertise(name: string, address: string): Promise<AnswerClass> {
    const i = address.lastIndexOf(':');
    return this.run({ op: 'advertise', name, address }, 'advertiseService', { name, host: address.slice(0, i), port: Number(address.slice(i + 1)), static: true, requestId: newRequestId() });
  }

  unadvertise(name: string): Promise<AnswerClass> {
    return this.run({ op: 'unadvertise', name }, 'unadvertiseService', { name, requestId: newRequestId() });
  }

  /** `findServices` of the exact `name`, never launching. */
  find(name: string): Promise<AnswerClass> {
    return this.run({ op: 'find', name }, 'findServices', { pattern: name, launch: false });
  }

  /** Closes the connection; safe to call twice. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }

  private async run(input: RegistryInput, method: string, params: unknown): Promise<AnswerClass> {
    const from = this.opts.from ?? 'primary';
    if (from === 'backup' && input.op !== 'find') throw new Error('HistoryClient: a reader of backups only finds');
    const s = await this.connected();
    // Nothing was sent: nothing to record.
    if (s === undefined) return { kind: 'not-applied' };
    let timedOut = false;
    const c = await this.opts.recorder.record(this.opts.id, input, () => s.call(method, params, this.opts.opTimeoutMs ?? 1000).then((a) => {
      if (!a.ok && a.code === 'NOT_PRIMARY' && a.primary !== undefined) this.target = a.primary;
      timedOut = !a.ok && a.code === 'TIMEOUT';
      return a;
    }), from);
    // After anything but a definite answer the primary may have moved (a frozen or cut-off one, a
    // lost connection, NOT_PRIMARY): look for it again. A late answer to a timed-out request is
    // harmless either way, since answers are matched by id.
    const stays = c.kind === 'answered' || (this.opts.sticky === true && input.op === 'find' && s.open && timedOut);
    if (!stays) this.drop(s);
    return c;
  }

  private drop(s: RpcSession): void {
    s.close();
    if (this.session === s) this.session = undefined;
  }

  /** The open session, or a new one to the primary (the one last named, else whichever says so). */
  private async connected(): Promise<RpcSession | undefined> {
    if (this.closed) return undefined;
    if (this.session?.open === true) return this.session;
    const target = this.target;
    this.target = undefined;
    const connectTimeoutMs = this.opts.connectTimeoutMs ?? 300;
    const options: WebSocket.ClientOptions = this.opts.localAddress === undefined ? {} : { localAddress: this.opts.localAddress };
    const s = this.opts.from === 'backup'
      ? await openBackup(this.opts.urls, this.turn++, this.opts.token, connectTimeoutMs, options)
      : await openPrimary(this.opts.urls, target, this.opts.token, connectTimeoutMs, options);
    if (s !== undefined && this.closed) {
      s.close();
      return undefined;
    }
    this.session = s;
    return s;
  }
}

/**
 * A session, logged in as admin, to a member that serves reads as a backup: the first backup in
 * `urls` from index `first` on (so readers spread over the backups and move on in turn), else the
 * first candidate; undefined when there is neither.
 */
async function openBackup(urls: readonly string[], first: number, token: string, connectTimeoutMs: number, options: WebSocket.ClientOptions): Promise<RpcSession | undefined> {
  const sessions = await Promise.all(urls.map((url) => RpcSession.open(url, connectTimeoutMs, options).catch(() => undefined)));
  let pick: RpcSession | undefined;
  for (const role of ['backup', 'candidate']) {
    for (let k = 0; k < urls.length && pick === undefined; k++) {
      const s = sessions[(first + k) % urls.length];
      if (s?.hello.cluster?.role === role && s.hello.cluster.readFromBackups) pick = s;
    }
  }
  for (const s of sessions) if (s !== pick) s?.close();
  if (pick === undefined) return undefined;
  try {
    await pick.login(token);
  } catch {
    pick.close();
    return undefined;
  }
  return pick;
}

export interface OperationMix {
  /** Names used: `${prefix}n0` to `${prefix}n${names - 1}`. */
  prefix: string;
  names: number;
  /** The mix's seeded randomness (the same seed, the same operations). */
  rand: () => number;
  /** Only finds (a reader); else 35 % advertise, 15 % unadvertise, 50 % find. */
  reader: boolean;
  /** A pause after every operation (default none): paces a reader of backups, each of whose reads widens the checker's search. */
  pauseMs?: number;
  /** The pause after an operation that found no server to take it (default 10 ms: an election under way, do not spin). */
  idleMs?: number;
}

/**
 * Runs `client` until `stop.now`: a random operation on a random name, back to back. Each
 * write's address is unique to the client and the operation (the port is 1 + id × 16,000 + a
 * count, so a client that writes has an id below 4).
 */
export async function runOperations(client: HistoryClient, mix: OperationMix, stop: { readonly now: boolean }): Promise<void> {
  if (!mix.reader && client.id >= 4) throw new RangeError(`runOperations: client ${client.id} writes, and a writer's id must be below 4 (its addresses' ports hold it)`);
  for (let i = 0; !stop.now; i++) {
    const name = `${mix.prefix}n${Math.floor(mix.rand() * mix.names)}`;
    const r = mix.reader ? 1 : mix.rand();
    const c = r < 0.35 ? await client.advertise(name, `127.0.0.1:${1 + client.id * 16_000 + (i % 16_000)}`) : r < 0.5 ? await client.unadvertise(name) : await client.find(name);
    const pause = c.kind === 'not-applied' ? mix.idleMs ?? 10 : mix.pauseMs ?? 0;
    if (pause > 0) await new Promise((r) => setTimeout(r, pause));
  }
}
