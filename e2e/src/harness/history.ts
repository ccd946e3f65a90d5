// Histories of real clients for the linearizability checker (@dpns/sim): each registry call's
// call and return times (performance.now()), what was asked, and what came back, classified by
// the rules in @dpns/sim's registry-answers.ts (refused before applying: dropped; unknown outcome:
// kept, never returned; a read that failed: dropped).
//
// The clients are raw RPC sessions, not the client library, on purpose: the library sends a
// write again after a lost connection, and advertiseService is not deduplicated by its requestId
// (PROTOCOL.md §19.4), so one recorded operation could take effect twice; and it re-advertises by
// itself after a reconnect, a write no history would hold. A HistoryClient sends each operation
// once, to the primary, and after any failure looks for the primary again before the next one.
import { performance } from 'node:perf_hooks';
import { checkLinearizable, classifyAnswer, registryModel, type AnswerClass, type CheckResult, type RegistryInput, type RegistryOperation, type RegistryOutput } from '@dpns/sim';
import { newRequestId, openPrimary, type Answer, type RpcSession } from './raw-writer.js';

/** Operations recorded so far, and what did not fit the model. */
export class HistoryRecorder {
  private readonly ops: RegistryOperation[] = [];
  /** Answers the model has no place for (`client op name: CODE`): a test should fail on any. */
  readonly unexpected: string[] = [];
  readonly counts = { answered: 0, unknown: 0, dropped: 0 };

  /** Times `send`, classifies its answer, and keeps the operation if it belongs in the history. */
  async record(client: number, input: RegistryInput, send: () => Promise<Answer>): Promise<AnswerClass> {
    const call = performance.now();
    const answer = await send();
    const ret = performance.now();
    const c = classifyAnswer(input, answer);
    switch (c.kind) {
      case 'answered':
        this.counts.answered++;
        this.ops.push({ client, call, return: ret, input, output: c.output });
        break;
      case 'unknown':
        this.counts.unknown++;
        this.ops.push({ client, call, input });
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

  /** A copy of the history so far. */
  history(): RegistryOperation[] {
    return [...this.ops];
  }

  /** Checks the history so far against the registry model. */
  check(timeoutMs = 30_000): CheckResult<RegistryInput, RegistryOutput> {
    return checkLinearizable(registryModel, this.ops, { timeoutMs });
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
}

/** One client of the registry, recording every operation it makes. One operation at a time. */
export class HistoryClient {
  private session: RpcSession | undefined;
  private target: string | undefined;
  private closed = false;

  constructor(private readonly opts: HistoryClientOptions) {}

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
    const s = await this.connected();
    // Nothing was sent: nothing to record.
    if (s === undefined) return { kind: 'not-applied' };
    let timedOut = false;
    const c = await this.opts.recorder.record(this.opts.id, input, () => s.call(method, params, this.opts.opTimeoutMs ?? 1000).then((a) => {
      if (!a.ok && a.code === 'NOT_PRIMARY' && a.primary !== undefined) this.target = a.primary;
      timedOut = !a.ok && a.code === 'TIMEOUT';
      return a;
    }));
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
    const s = await openPrimary(this.opts.urls, target, this.opts.token, this.opts.connectTimeoutMs ?? 300);
    if (s !== undefined && this.closed) {
      s.close();
      return undefined;
    }
    this.session = s;
    return s;
  }
}
