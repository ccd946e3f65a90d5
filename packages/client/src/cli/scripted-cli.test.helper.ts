// The CLI run in-process against a scripted server (FakeServer), for the tests of commands and
// their options: the server is started before the file's tests and closed after them, logins are
// answered as admin, and each run's exit code and output are collected.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { FakeServer, type FakeConn, type FakeRequest } from '../fake-server.test.helper.js';
import { main } from './main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ScriptedCli {
  /** The scripted server (started in `before`). */
  readonly fake: FakeServer;
  /** `dpns --server <fake> ...args` with an admin token. */
  run(args: string[]): Promise<CliRun>;
  /** The params of the last `method` request the server got; fails when there was none. */
  lastParams(method: string): Record<string, unknown>;
  /** Each of `cases` exits 2 with its message on stderr, and none sends the server anything. */
  expectUsageErrors(cases: [string[], RegExp][]): Promise<void>;
}

/** Answers register.add and register.edit as a server would (an edit's entry carries the spec sent); false for other methods. */
export function answerRegister(req: FakeRequest, conn: FakeConn): boolean {
  if (req.method === 'register.add') conn.reply(req.id, { revision: 3 });
  else if (req.method === 'register.edit') {
    conn.reply(req.id, { revision: 4, entry: { kind: 'service', name: '/s', state: 'registered', since: 0, spec: { host: 'h', program: 'p', args: [], env: {}, startTimeoutMs: 10000, ...(req.params.spec as object) } } });
  } else return false;
  return true;
}

/** Registers the file's before/after hooks for a server that answers `login` as admin and everything else with `answer`. */
export function scriptedCli(answer: (req: FakeRequest, conn: FakeConn) => void): ScriptedCli {
  let started: FakeServer | undefined;
  before(async () => {
    started = await FakeServer.start((req, conn) => (req.method === 'login' ? conn.reply(req.id, { admin: true }) : answer(req, conn)));
  });
  after(async () => {
    await started?.close();
  });
  const cli: ScriptedCli = {
    get fake(): FakeServer {
      assert.ok(started !== undefined, 'the scripted server is started in before()');
      return started;
    },
    async run(args) {
      let stdout = '';
      let stderr = '';
      const code = await main(['--server', cli.fake.server, ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { DPNS_TOKEN: 't' } });
      return { code, stdout, stderr };
    },
    lastParams(method) {
      const r = cli.fake.requests.filter((q) => q.method === method).at(-1);
      assert.ok(r !== undefined, `no ${method} sent`);
      return r.params;
    },
    async expectUsageErrors(cases) {
      const sent = (): number => cli.fake.requests.filter((q) => q.method !== 'login').length;
      const before_ = sent();
      for (const [args, message] of cases) {
        const r = await cli.run(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message, args.join(' '));
      }
      assert.equal(sent(), before_);
    },
  };
  return cli;
}
