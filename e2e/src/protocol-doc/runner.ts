// Runs one section of PROTOCOL.md against a fresh name server: its setup, then each block in
// document order, each request sent as written (proofs made anew for this connection) and each
// answer, notification or frame held to the doc by shape (harness/shape-match.ts).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adminProof, ADMIN_METHODS, identifySignature, newOwnerKey, type MethodName } from '@dpns/protocol';
import {
  ECHO_SERVICE, freePort, makeTempDir, startAgentProcess, startServerProcess, type AgentProcess, type ServerProcess,
} from '../harness/index.js';
import { isObject, type DocBlock, type DocLine } from '../harness/doc-examples.js';
import { RawConnection } from '../harness/raw-conn.js';
import { shapeDiff, VOLATILE_EVERYWHERE } from '../harness/shape-match.js';
import { AS_SENT, type BlockHook, type SectionCtx, type SectionScript } from './script.js';

/** What running a section found. */
export interface SectionOutcome {
  /** Documents of the doc held to what the server sent. */
  checked: number;
  /** One entry per mismatch or failure: where in the doc, what it says, what the server said. */
  problems: string[];
  /** Hooks whose snippet matched no block of the section (the doc moved on without the script). */
  unusedHooks: string[];
}

/** Runs `script` over `blocks` (the section's blocks, minus the unchecked ones). */
export async function runSection(script: SectionScript, blocks: readonly DocBlock[]): Promise<SectionOutcome> {
  const outcome: SectionOutcome = { checked: 0, problems: [], unusedHooks: [] };
  const used = new Set<BlockHook>();
  const ctx = await openSection(script);
  try {
    try {
      await script.setup?.(ctx);
    } catch (e) {
      outcome.problems.push(`§${script.section} setup failed: ${(e as Error).message}`);
      return outcome;
    }
    for (const block of blocks) {
      const hooks = (script.hooks ?? []).filter((h) => block.text.includes(h.match));
      if (hooks.length > 1) {
        outcome.problems.push(`§${script.section} (PROTOCOL.md:${block.line}): ${hooks.length} hooks match this block`);
        continue;
      }
      const hook = hooks[0];
      if (hook !== undefined) used.add(hook);
      try {
        await runBlock(ctx, script, block, hook, outcome);
      } catch (e) {
        outcome.problems.push(`§${script.section} (PROTOCOL.md:${block.line}) ${snippet(block.text)}\n    failed: ${(e as Error).message}`);
      }
    }
    outcome.unusedHooks = (script.hooks ?? []).filter((h) => !used.has(h)).map((h) => `§${script.section}: ${h.match}`);
    return outcome;
  } finally {
    await ctx.closeAll();
  }
}

async function runBlock(ctx: OpenSection, script: SectionScript, block: DocBlock, hook: BlockHook | undefined, outcome: SectionOutcome): Promise<void> {
  await hook?.before?.(ctx);
  const volatile = new Set([...VOLATILE_EVERYWHERE, ...(script.volatile ?? []), ...(hook?.volatile ?? [])]);
  for (const k of script.exact ?? []) volatile.delete(k);
  const docs = block.docs.map((d) => ({ ...d, value: JSON.parse(substitute(ctx.subst, d.text)) as unknown }));
  const compare = (doc: DocLine & { value: unknown }, got: unknown): void => {
    if (got === AS_SENT) return;
    outcome.checked += 1;
    const view = hook?.view ?? ((v: unknown) => v);
    for (const p of shapeDiff(view(doc.value), view(got), { volatile })) {
      outcome.problems.push(`§${script.section} (PROTOCOL.md:${doc.line}) ${snippet(doc.text)}\n    ${p}\n    server: ${snippet(JSON.stringify(got), 600)}`);
    }
  };
  if (docs.length === 0 && hook?.produce === undefined) throw new Error('the block is not JSON (a fragment): list it as unchecked');
  if (hook?.produce !== undefined) {
    const got = await hook.produce(ctx, docs.map((d) => d.value));
    if (got.length !== docs.length) throw new Error(`the script produced ${got.length} messages for ${docs.length} documents`);
    docs.forEach((d, i) => compare(d, got[i]));
    return;
  }
  for (let i = 0; i < docs.length; i++) {
    const req = docs[i];
    const res = docs[i + 1];
    if (req === undefined) break;
    const paired = res !== undefined && (
      (req.kind === 'request' && res.kind === 'response' && isObject(req.value) && isObject(res.value) && Object.is(req.value.id, res.value.id)) ||
      (req.kind === 'batch-request' && res.kind === 'batch-response'));
    if (!paired) throw new Error(`line ${req.line} is a ${req.kind} with no answer after it: give the block a hook that produces it, or list it as unchecked`);
    const conn = await ctx.conn(hook?.conn ?? connFor(req.value));
    if (req.kind === 'batch-request') {
      conn.send(req.value);
      compare(res, await conn.batchAnswer(30_000));
    } else {
      const base = rewrite(req.value as Record<string, unknown>, conn, ctx.ns);
      const sent = hook?.rewrite?.(base, conn, ctx) ?? base;
      conn.send(sent);
      compare(res, await conn.answer(sent.id, 30_000));
    }
    i += 1;
  }
}

/** Admin methods and static advertisements go on the admin connection; the rest on "client". */
function connFor(req: unknown): string {
  if (!isObject(req)) return 'client';
  const params = isObject(req.params) ? req.params : {};
  return ADMIN_METHODS.has(req.method as MethodName) || params.static === true ? 'admin' : 'client';
}

/**
 * The doc's request with its proofs made anew: a proof over the nonce of the connection the
 * doc was captured on is no proof on ours. A proof of zeros is a deliberately wrong one, kept.
 */
function rewrite(req: Record<string, unknown>, conn: RawConnection, ns: ServerProcess): Record<string, unknown> {
  const params = isObject(req.params) ? req.params : undefined;
  if (params === undefined) return req;
  const real = (v: unknown): boolean => typeof v === 'string' && /^[0-9a-f]{64,}$/.test(v) && !/^0+$/.test(v);
  if (req.method === 'login' && real(params.proof)) {
    return { ...req, params: { ...params, proof: adminProof(ns.token, conn.nonce) } };
  }
  if (req.method === 'identify' && real(params.signature)) {
    const key = newOwnerKey();
    return { ...req, params: { ...params, publicKey: key.publicKey, signature: identifySignature(key, conn.nonce) } };
  }
  return req;
}

export function substitute(subst: ReadonlyMap<string, string>, text: string): string {
  let out = text;
  for (const [from, to] of subst) out = out.split(from).join(to);
  return out;
}

function snippet(text: string, max = 160): string {
  const one = text.replace(/\s*\n\s*/g, ' ');
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

interface OpenSection extends SectionCtx {
  closeAll(): Promise<void>;
}

/** Starts the section's server (and agent), and gives its scripts their helpers. */
async function openSection(script: SectionScript): Promise<OpenSection> {
  const dir = makeTempDir('dpns-doc-');
  const agentPort = script.agent === undefined ? undefined : await freePort();
  const ns = await startServerProcess({
    args: ['--log-level', 'error', ...(agentPort === undefined ? [] : ['--agent-port', String(agentPort)]), ...(script.args ?? [])],
  });
  const conns = new Map<string, Promise<RawConnection>>();
  let agent: AgentProcess | undefined;
  const agentOpts = (trustedKeys: string[]): Parameters<typeof startAgentProcess>[0] => ({
    trustedKeys, allow: { echo: ECHO_SERVICE, ...script.agent }, port: agentPort ?? 0, stateDir: join(dir, 'agent-state'),
  });
  if (script.agent !== undefined) {
    agent = await startAgentProcess({ ...agentOpts([ns.publicKey]), enroll: { url: ns.url, token: ns.token, host: '127.0.0.1' } });
  }
  let setupIds = 0;
  const ctx: OpenSection = {
    ns,
    get agent() {
      return agent;
    },
    dir,
    subst: new Map([['ws://127.0.0.1:7700', ns.url]]),
    conn(name) {
      let c = conns.get(name);
      if (c === undefined) {
        c = RawConnection.open(ns.url).then(async (conn) => {
          if (name === 'admin') {
            const a = await conn.request('login-admin', 'login', { proof: adminProof(ns.token, conn.nonce) });
            if (!('result' in a)) throw new Error(`admin login refused: ${JSON.stringify(a)}`);
          }
          return conn;
        });
        conns.set(name, c);
      }
      return c;
    },
    async drop(name) {
      const c = conns.get(name);
      conns.delete(name);
      if (c !== undefined) await (await c).close();
    },
    async call(conn, method, params, timeoutMs) {
      const a = await (await ctx.conn(conn)).request(`setup-${++setupIds}`, method, params, timeoutMs ?? 30_000);
      if ('error' in a || !('result' in a)) throw new Error(`setup ${method} ${JSON.stringify(params)} on "${conn}" failed: ${JSON.stringify(a.error)}`);
      return (isObject(a.result) ? a.result : {});
    },
    async until(name, ok, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await ctx.call('poll', 'serviceState', { pattern: name });
        const entry = Array.isArray(r.entries) ? r.entries.find((e) => isObject(e) && e.name === name) as Record<string, unknown> | undefined : undefined;
        if (ok(entry)) return entry;
        if (Date.now() > deadline) throw new Error(`${name} did not reach the expected state within ${timeoutMs} ms: ${JSON.stringify(entry)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async restartAgent(opts = {}) {
      await agent?.kill('SIGTERM');
      agent = await startAgentProcess(agentOpts(opts.trustedKeys ?? [ns.publicKey]));
    },
    async stopAgent() {
      await agent?.kill('SIGTERM');
    },
    async closeAll() {
      await Promise.all([...conns.values()].map(async (c) => (await c.catch(() => undefined))?.close()));
      conns.clear();
      await ns.kill('SIGKILL');
      await agent?.kill('SIGKILL');
      await killLaunched(join(dir, 'agent-state', 'ledger.json'));
    },
  };
  return ctx;
}

/** Launched services are detached from their agent on purpose; end the ones its ledger still lists. */
async function killLaunched(ledgerPath: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(ledgerPath, 'utf8');
  } catch {
    return;
  }
  const ledger = JSON.parse(text) as { entries?: { pgid?: number }[] };
  for (const e of ledger.entries ?? []) {
    if (typeof e.pgid !== 'number') continue;
    try {
      process.kill(-e.pgid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
