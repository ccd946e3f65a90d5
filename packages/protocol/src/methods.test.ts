import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_METHODS, METHOD_NAMES, METHODS, WRITE_METHODS, parseParams, isMethodName, traitsOf } from './methods.js';
import { parseModuleParams } from './modules.js';
import { parseModuleMethod, prefixProblem, RESERVED_PREFIXES } from './module-names.js';
import { isDpnsError } from './errors.js';

test('params are parsed into typed values with defaults', () => {
  assert.deepEqual(parseParams.listServices(undefined), { pattern: '*' });
  assert.deepEqual(parseParams.watch({ pattern: '/a/*' }), { pattern: '/a/*', initial: false });
  assert.deepEqual(parseParams.advertiseService({ name: '/a', host: 'h1', port: 80 }), { name: '/a', host: 'h1', port: 80, static: false });
  const add = parseParams['register.add']({ name: '/a', spec: { host: 'h', program: '/bin/true' } });
  assert.equal(add.spec.startTimeoutMs, 10_000);
  assert.deepEqual(add.spec.args, []);
});

test('wrong types are INVALID_PARAMS naming the field, what was given and what was expected', () => {
  const bad: [keyof typeof parseParams, unknown, RegExp][] = [
    ['advertiseService', { name: '/a', host: 'h', port: '80' }, /params\.port: expected an integer from 1 to 65535, got "80"/],
    ['advertiseService', { name: '/a', host: 'h', port: 70000 }, /params\.port/],
    ['advertiseService', { name: '/a', host: 'bad host', port: 1 }, /params\.host/],
    ['listServices', [1, 2], /params: expected an object, got an array/],
    ['listServices', { pattern: '*', extra: 1 }, /unknown field "extra"/],
    ['register.add', { name: '/a', spec: { host: 'h', program: 'p', env: { 'A=B': 'x' } } }, /variable names/],
    ['register.add', { name: '/a', spec: { host: 'h', program: 'p', cwd: 'rel' } }, /absolute path/],
    ['register.edit', { name: '/a', spec: {} }, /at least one field/],
    ['login', { proof: 'zz' }, /64 lowercase hex/],
  ];
  for (const [m, p, why] of bad) {
    assert.throws(() => parseParams[m](p), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && why.test(e.message), `${m} ${JSON.stringify(p)}`);
  }
  assert.throws(() => parseParams.findServices({ pattern: '/a/../b' }), (e: unknown) => isDpnsError(e) && e.code === 'INVALID_NAME' || isDpnsError(e));
});

test('__proto__ in params is an inert unknown key, not a prototype change', () => {
  const raw = JSON.parse('{"pattern":"*","__proto__":{"admin":true}}') as unknown;
  assert.throws(() => parseParams.listServices(raw), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && /__proto__/.test(e.message));
  assert.equal(({} as Record<string, unknown>).admin, undefined);
});

test('isMethodName knows only the protocol methods', () => {
  assert.ok(isMethodName('findServices'));
  assert.ok(isMethodName('register.add'));
  assert.ok(!isMethodName('toString'));
  assert.ok(!isMethodName('__proto__'));
});

test('a pattern without wildcards is held to the name rules after unescaping', () => {
  assert.deepEqual(parseParams.findServices({ pattern: '/a\\-b' }), { pattern: '/a\\-b', launch: true });
  assert.throws(() => parseParams.findServices({ pattern: '/a/\\.\\./b' }), (e: unknown) => isDpnsError(e, 'INVALID_NAME'));
  assert.throws(() => parseParams.advertiseService({ host: 'h', port: 1 }), (e: unknown) => isDpnsError(e) && /missing/.test(e.message));
});

test('module admin params: an absolute path, or exactly one of prefix and path', () => {
  assert.deepEqual(parseParams['modules.load']({ path: '/opt/dpns/modules/dir.mjs' }), { path: '/opt/dpns/modules/dir.mjs' });
  assert.deepEqual(parseParams['modules.unload']({ prefix: 'dir' }), { prefix: 'dir' });
  assert.deepEqual(parseParams['modules.reload']({ path: '/x/y.mjs' }), { path: '/x/y.mjs' });
  assert.deepEqual(parseParams['modules.list'](undefined), {});
  const bad: [keyof typeof parseParams, unknown, RegExp][] = [
    ['modules.load', { path: 'dir.mjs' }, /absolute path/],
    ['modules.load', {}, /params\.path: expected a string/],
    ['modules.unload', { prefix: 'dir', path: '/x' }, /exactly one of prefix and path/],
    ['modules.unload', {}, /exactly one of prefix and path/],
    ['modules.reload', { prefix: 'Dir' }, /params\.prefix: a module prefix must match/],
  ];
  for (const [m, p, why] of bad) {
    assert.throws(() => parseParams[m](p), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS') && why.test(e.message), `${m} ${JSON.stringify(p)}`);
  }
});

test('every built-in method is shielded from modules: its first segment is a reserved prefix', () => {
  for (const m of Object.keys(parseParams)) {
    const first = (m.split('.')[0] as string).toLowerCase();
    assert.ok(RESERVED_PREFIXES.has(first), `${m}: add ${JSON.stringify(first)} to RESERVED_PREFIXES`);
    assert.equal(parseModuleMethod(`${first}.x`), undefined, m);
  }
  for (const p of ['ticket', 'rpc', 'hello', 'modules', 'register', 'watch']) assert.ok(prefixProblem(p)?.includes('reserved'), p);
});

test('module calls are <prefix>.<method> with a well-formed prefix and method', () => {
  assert.deepEqual(parseModuleMethod('dir.lookup'), { prefix: 'dir', method: 'lookup' });
  assert.deepEqual(parseModuleMethod('my-lb2.pick_one'), { prefix: 'my-lb2', method: 'pick_one' });
  for (const m of ['dir', '.lookup', 'dir.', 'Dir.lookup', 'dir.look.up', 'dir.__proto__x', 'dir.1x', `${'a'.repeat(33)}.x`, 'register.add', 'rpc.discover', 'watch.event']) {
    assert.equal(parseModuleMethod(m), undefined, m);
  }
  assert.deepEqual(parseModuleParams(undefined), {});
  assert.deepEqual(parseModuleParams([1]), [1]);
  assert.throws(() => parseModuleParams('x'), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS'));
  assert.throws(() => parseModuleParams(null), (e: unknown) => isDpnsError(e, 'INVALID_PARAMS'));
});

test('the method table\'s traits agree with each other', () => {
  for (const m of METHOD_NAMES) {
    const t = traitsOf(m);
    if (t.kind === 'write' || t.kind === 'launch') {
      assert.ok(WRITE_METHODS.has(m), m);
      continue;
    }
    assert.ok(!WRITE_METHODS.has(m), m);
    // The client sends over its reads connection only what a backup that serves reads answers.
    if (t.channel === 'reads') assert.notEqual(t.answeredBy, 'primary', m);
    if (t.mayLaunch !== undefined) assert.notEqual(t.answeredBy, 'any', `${m}: a launch needs the primary`);
  }
  assert.deepEqual(METHOD_NAMES.filter((m) => METHODS[m].admin), [...ADMIN_METHODS]);
});
