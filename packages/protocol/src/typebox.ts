// TypeBox's runtime, imported from here only, so that `pnpm run build` can put it in one file:
// scripts/bundle-typebox.mjs overwrites dist/typebox.js with a bundle of these exports. Node
// loads TypeBox's 260 ES modules in about 150 ms and the one file in about 20, and every dpns
// command and daemon pays that at its start. Built by tsc alone, this file works the same, only
// slower to load. Tests import TypeBox from here too: the bundle has its own FormatRegistry.
export { FormatRegistry, Type } from '@sinclair/typebox';
export { TypeCompiler } from '@sinclair/typebox/compiler';
