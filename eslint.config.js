// Typed lint rules: the ones that catch real bugs in async network code.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/bin/**', 'scripts/**', 'eslint.config.js', '.dpns-data/**', 'e2e/artifacts/**', '.stryker-tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'], package: 'node:test' }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // @dpns/protocol is the wire contract, and runs in a page as well as in Node: it imports no
    // Node module, no Node global and none of our packages (Node-only code is @dpns/node-kit).
    // Tests may use Node to check it.
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/*.test.helper.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: `^(node:.*|${builtinModules.join('|')})$`, message: '@dpns/protocol runs in a page too: Node-only code belongs in @dpns/node-kit.' },
          { regex: '^@dpns/', message: '@dpns/protocol depends on none of our packages; they depend on it.' },
        ],
      }],
      'no-restricted-globals': ['error',
        ...['Buffer', 'process', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'].map((name) => ({
          name, message: '@dpns/protocol runs in a page too: use bytes.ts (hex, UTF-8) or move the code to @dpns/node-kit.',
        })),
      ],
    },
  },
  {
    // The page imports what its package.json declares, never another package's files by path.
    files: ['packages/web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^\\.\\./', message: 'The page reaches other packages through the dependencies in its package.json.' }],
      }],
    },
  },
  {
    // The monitor page (packages/web) is browser code written as .tsx: the same typed rules as
    // the .ts files above (TypeScript itself checks its DOM globals, so no-undef stays off).
    files: ['packages/web/src/**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);
