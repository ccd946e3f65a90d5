// Mutation testing of the pure code (docs/TESTING.md, "Mutation testing"): `pnpm run mutation`.
//
// Stryker switches every mutant into the TypeScript sources of its sandbox at once;
// scripts/mutation-build.mjs transpiles them to dist/, and the tap runner runs the compiled unit
// tests of the mutated files there, one `node` process per test file. Coverage is per test file:
// each mutant is tried only against the files that reached it.

/** The mutated files: the three areas whose score docs/TESTING.md reports. */
const MUTATE = [
  // Names, patterns, proofs and the parsing of untrusted input.
  'packages/protocol/src/{names,glob,proofs,tickets,ed25519,validate}.ts',
  // The registry state machine and the rules that plan its ops.
  'packages/nameserver/src/registry/*.ts',
  '!packages/nameserver/src/registry/*.test.ts',
  // The server's cluster code without sockets, timers or disk: its configuration, the role gate, the
  // frames' guard and snapshot chunks (the rules themselves are the cluster core's, checked by the simulator).
  'packages/nameserver/src/cluster/{cluster-config,gate,peer-transport}.ts',
];

/** The unit tests that may kill them: fast, no sockets; never the e2e suite. */
const TESTS = [
  'packages/protocol/dist/*.test.js',
  'packages/nameserver/dist/registry/*.test.js',
  'packages/nameserver/dist/cluster/{cluster-config,gate,peer-transport}.test.js',
];

export default {
  testRunner: 'tap',
  plugins: ['@stryker-mutator/tap-runner', './scripts/stryker-ignore-logs.mjs'],
  ignorers: ['log-statements'],
  tap: {
    testFiles: TESTS,
    nodeArgs: ['--test-reporter=tap', '-r', '{{hookFile}}', '{{testFile}}'],
    forceBail: true,
  },
  coverageAnalysis: 'perTest',
  mutate: MUTATE,
  buildCommand: 'node scripts/mutation-build.mjs',
  // Only the two packages are copied into the sandbox (their dist/ too, so Stryker knows the test
  // files it is told about); the build rewrites dist/ there from the mutated sources.
  ignorePatterns: ['/*', '!/package.json', '!/scripts', '!/packages', '/packages/*', '!/packages/protocol', '!/packages/cluster-core', '!/packages/nameserver'],
  // Two cores: one test process each.
  concurrency: 2,
  // Past the usual time of the covering test files; an endless loop is cut off after this.
  timeoutMS: 4000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
