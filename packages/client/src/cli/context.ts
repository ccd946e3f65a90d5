// What every command gets: the global options resolved (servers, token, timeout, --json),
// a client made on first use, and the two output streams.
import { DpnsClient } from '../client.js';
import { parseEndpoint } from '../endpoints.js';
import { DEFAULT_SERVER } from '../options.js';
import { optInt, optString, stringList, type Argv } from './args.js';
import { resolveToken, TOKEN_FLAG_WARNING } from './token.js';
import { checkLocally, UsageError } from './usage-error.js';

/** Where a command writes; the process streams, or buffers in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
}

export class CliContext {
  readonly json: boolean;
  readonly servers: string[];
  readonly timeoutMs: number | undefined;
  readonly readFromBackups: boolean;
  /** --verbose: connection events on stderr, each with the time (for "why was that slow?"). */
  readonly verbose: boolean;
  #client: DpnsClient | undefined;

  constructor(private readonly argv: Argv, readonly io: CliIo) {
    this.json = argv.json === true;
    this.servers = serverList(argv, io.env);
    this.timeoutMs = optInt(argv, 'timeout', 1, 3_600_000);
    this.readFromBackups = argv['read-from-backups'] === true;
    this.verbose = argv.verbose === true;
    if (optString(argv, 'token') !== undefined) this.note(TOKEN_FLAG_WARNING);
  }

  /** The client, made on first use; `admin` commands log in with the token when one is configured. */
  client(opts: { admin: boolean }): DpnsClient {
    if (this.#client !== undefined) return this.#client;
    const token = opts.admin
      ? resolveToken({ token: optString(this.argv, 'token'), tokenFile: optString(this.argv, 'token-file'), env: this.io.env })
      : undefined;
    const t = this.timeoutMs;
    this.#client = new DpnsClient({
      servers: this.servers,
      readFromBackups: this.readFromBackups,
      ...(token === undefined ? {} : { token }),
      // An explicit --timeout bounds launches too; without it a launch may take the default 65 s.
      ...(t === undefined ? {} : { requestTimeoutMs: t, launchTimeoutMs: t, connectTimeoutMs: Math.min(t, 5000) }),
    });
    if (this.verbose) {
      const c = this.#client;
      c.on('state', (s) => this.trace(s));
      c.on('open', ({ server }) => this.trace(`open ${server}`));
      c.on('disconnect', (e) => this.trace(`lost ${e.message}`));
    }
    return this.#client;
  }

  /** One line on stdout. */
  line(text: string): void {
    this.io.stdout(`${text}\n`);
  }

  /** One JSON document on stdout (for --json). */
  printJson(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A status line for humans, on stderr so that stdout stays parseable. */
  note(text: string): void {
    this.io.stderr(`dpns: ${text}\n`);
  }

  /** A --verbose line: the wall-clock time to the millisecond, then the event. */
  trace(event: string): void {
    if (this.verbose) this.note(`${new Date().toISOString()} ${event}`);
  }

  async close(): Promise<void> {
    await this.#client?.close();
  }
}

/** --server (repeatable) beats DPNS_SERVERS beats the default; each checked as HOST:PORT. */
function serverList(argv: Argv, env: NodeJS.ProcessEnv): string[] {
  const flags = stringList(argv, 'server')?.flatMap((s) => s.split(','));
  const fromEnv = env.DPNS_SERVERS?.split(',');
  const list = (flags ?? fromEnv ?? [DEFAULT_SERVER]).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new UsageError('no name server given (--server HOST:PORT or DPNS_SERVERS)');
  for (const s of list) checkLocally(() => parseEndpoint(s));
  return list;
}
