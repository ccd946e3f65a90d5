// The module files PROTOCOL.md's §5.21–§5.24 and §18 examples were captured with (the doc names
// them /tmp/cap/mods/*.mjs): each does exactly what the doc says of it, no more.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILES: Readonly<Record<string, string>> = {
  'probe.mjs': `export const manifest = {
  prefix: 'probe', version: '0.1.0',
  methods: {
    echo: { description: 'Answers {params} as given' },
    boom: { description: 'Throws a plain Error' },
    notjson: { description: 'Answers a BigInt' },
    spin: { description: 'Loops for ever' },
    secret: { description: 'Admin only', admin: true },
  },
};
export const handlers = {
  echo: (params) => ({ params }),
  boom: () => { throw new Error('boom'); },
  notjson: () => 1n,
  spin: () => { for (;;) { /* never answers */ } },
  secret: () => 'secret',
};
`,
  // A call that waits (to be in flight when the module goes away), and one that ends the worker.
  'probe2.mjs': `export const manifest = {
  prefix: 'probe2', version: '0.1.0',
  methods: { wait: { description: 'Answers after 3 s' }, exit: { description: 'Ends its worker with code 3' } },
};
export const handlers = {
  wait: () => new Promise((resolve) => setTimeout(() => resolve('waited'), 3000)),
  exit: () => { setTimeout(() => process.exit(3), 100); return 'exiting'; },
};
`,
  'throws.mjs': `throw new Error('this module does not load');\n`,
  'badmanifest.mjs': `export const manifest = { prefix: 'badmanifest', version: '1.0.0' };\nexport const handlers = {};\n`,
  'reserved.mjs': `export const manifest = { prefix: 'watch', version: '1.0.0', methods: { x: { description: 'x' } } };\nexport const handlers = { x: () => 1 };\n`,
  'taken.mjs': `export const manifest = { prefix: 'dir', version: '1.0.0', methods: { x: { description: 'x' } } };\nexport const handlers = { x: () => 1 };\n`,
  'initfails.mjs': `export const manifest = { prefix: 'initfails', version: '1.0.0', methods: { x: { description: 'x' } } };
export const handlers = { x: () => 1 };
export function init() { throw new Error('no database configured'); }
`,
  'slowinit.mjs': `export const manifest = { prefix: 'slowinit', version: '1.0.0', methods: { x: { description: 'x' } } };
export const handlers = { x: () => 1 };
export function init() { return new Promise((resolve) => setTimeout(resolve, 60000)); }
`,
};

/** Writes the module files into `<dir>/mods` and returns that directory. */
export function writeModuleFixtures(dir: string): string {
  const mods = join(dir, 'mods');
  mkdirSync(mods, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(mods, name), text);
  return mods;
}
