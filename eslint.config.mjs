// ESLint (flat config): typescript-eslint's recommended rules plus the
// type-aware ones that catch what tsc does not: promises nobody awaits or that
// land where a callback's result is ignored, switches that miss a member of a
// union, unused values. Run by `./kbflow lint` and `./kbflow test`
// (docs/testing.md). Types come from the projectService (tsconfig.json).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '.tools/**',
      'packages/db/src/generated/**',
      'packages/client/src/generated/**',
      'coverage/**',
      'dist/**',
      'bench-results/**',
      'test-artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A `default` does not count as covering a union's members: a member
      // added later is then reported instead of falling into the default.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
    },
  },
  {
    // These read the HTTP API's JSON answers without a schema (tests assert on
    // them, the CLI, eval and bench print or count them): `any` is the type of
    // such a body. Production code that parses input uses zod instead.
    files: ['test/**', '**/test/**', '**/*.test.ts', 'packages/testing/**', 'packages/cli/**', 'packages/eval/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
);
