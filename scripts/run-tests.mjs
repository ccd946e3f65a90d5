#!/usr/bin/env node
// Finds the compiled test files and hands them to node's own test runner.
// Node 20's `--test` takes no globs, and sh has no `**`, so the list is made here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages/protocol/dist', 'packages/nameserver/dist', 'packages/client/dist', 'packages/launchd/dist', 'e2e/dist'];
const only = process.argv.slice(2);
const files = [];
function walk(dir) {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => p.includes(o)))) files.push(p);
  }
}
roots.forEach(walk);
if (files.length === 0) {
  console.error('run-tests: no test files found; did the build run?');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
