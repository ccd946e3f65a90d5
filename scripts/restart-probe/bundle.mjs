// The release binary's JavaScript without the executable: the release package's esbuild bundle of
// every program (dpns, dpns-nameserver, dpns-launchd), written beside OUT as dpns-program.cjs, and
// its loader (which compiles it with a code cache in ~/.cache/dpns) written to OUT; run the name server from it
// as `node OUT dpns-nameserver ...` (restart.mjs does, for a BIN ending in .cjs). Another
// checkout's bundler may be given (its packages/release/dist/build/bundle.js, after its build).
// Usage: node scripts/restart-probe/bundle.mjs OUT.cjs [BUNDLER]
const [out, bundler] = process.argv.slice(2);
if (out === undefined) {
  process.stderr.write('usage: node scripts/restart-probe/bundle.mjs OUT.cjs [BUNDLER]\n');
  process.exit(2);
}
const { bundle } = await import(bundler ?? new URL('../../packages/release/dist/build/bundle.js', import.meta.url).href);
const { bytes } = await bundle(out);
process.stdout.write(`wrote ${out} (${bytes} bytes)\n`);
