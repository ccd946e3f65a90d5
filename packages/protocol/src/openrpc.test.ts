import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as SchemaUtils from '@open-rpc/schema-utils-js';
import { METHOD_NAMES, isMethodName } from './methods.js';
import { NAME_PATTERN, openRpcDocument, openRpcText } from './openrpc.js';
import { isResultOf } from './result-check.js';
import { nameProblem } from './names.js';

const require = createRequire(import.meta.url);
const { validateOpenRPCDocument, parseOpenRPCDocument, MethodCallValidator } = require('@open-rpc/schema-utils-js') as typeof SchemaUtils;
const DOCS = new URL('../../../docs/', import.meta.url);

test('the generated document is valid OpenRPC and its references resolve', async () => {
  const doc = openRpcDocument() as unknown as Parameters<typeof validateOpenRPCDocument>[0];
  const valid = validateOpenRPCDocument(doc);
  assert.equal(valid, true, valid === true ? '' : valid.message);
  const parsed = await parseOpenRPCDocument(doc);
  assert.deepEqual(parsed.methods.map((m) => ('name' in m ? m.name : '')), METHOD_NAMES);
});

test('docs/openrpc.json is what the method table generates (pnpm run openrpc writes it)', () => {
  assert.ok(readFileSync(new URL('openrpc.json', DOCS), 'utf8') === openRpcText(), 'docs/openrpc.json is stale: run pnpm run openrpc');
});

/** The requests of PROTOCOL.md's ```json examples that were answered with a result, with that result. */
function answeredExamples(): { line: number; method: string; params: unknown; result: unknown }[] {
  const out: { line: number; method: string; params: unknown; result: unknown }[] = [];
  let asked = new Map<unknown, { line: number; method: string; params: unknown }>();
  let inJson = false;
  readFileSync(new URL('PROTOCOL.md', DOCS), 'utf8').split('\n').forEach((raw, i) => {
    const t = raw.trim();
    if (t.startsWith('```')) {
      inJson = !inJson && t === '```json';
      asked = new Map();
      return;
    }
    if (!inJson || !t.startsWith('{"jsonrpc"')) return;
    let msg: { id?: unknown; method?: unknown; params?: unknown; result?: unknown };
    try {
      msg = JSON.parse(t) as typeof msg;
    } catch {
      return;
    }
    if (typeof msg.method === 'string' && msg.id !== undefined) asked.set(msg.id, { line: i + 1, method: msg.method, params: msg.params });
    const req = asked.get(msg.id);
    if ('result' in msg && req !== undefined && isMethodName(req.method)) out.push({ ...req, result: msg.result });
  });
  return out;
}

test('every answered example of PROTOCOL.md fits the document: its params by OpenRPC\'s validator, its result by the table', async () => {
  const examples = answeredExamples();
  assert.ok(examples.length > 30, `found ${examples.length} answered examples`);
  const validator = new MethodCallValidator(await parseOpenRPCDocument(openRpcDocument() as never));
  const problems: string[] = [];
  for (const e of examples) {
    const p = (e.params ?? {}) as Record<string, unknown>;
    const refused = validator.validate(e.method, p);
    if (!Array.isArray(refused) || refused.length > 0) problems.push(`PROTOCOL.md:${e.line} ${e.method} params: ${JSON.stringify(refused).slice(0, 300)}`);
    if (!isResultOf(e.method as never, e.result)) problems.push(`PROTOCOL.md:${e.line} ${e.method} result does not fit the table: ${JSON.stringify(e.result).slice(0, 300)}`);
  }
  assert.deepEqual(problems, []);
});

test('the name pattern in the document is the name rule', () => {
  const re = new RegExp(NAME_PATTERN);
  const samples = ['/a', '/a/b', '/a.b/c-d_e', '/...', '/a/..b', '/.x', '/', '', 'a', '//a', '/a/', '/a/./b', '/a/../b', '/.', '/..', '/a b', '/a/.', '/é', `/${'a'.repeat(254)}`];
  for (const s of samples) assert.equal(re.test(s) && s.length <= 255, nameProblem(s) === undefined, s);
});
