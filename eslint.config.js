// ESLint for the TypeScript of src/, test/ and scripts/: eslint's and typescript-eslint's recommended
// sets, type-aware (one TypeScript program through the project service), tuned to the code's style.
// The import layering of src/ is checked by test/unit/layers.test.ts, not here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'fixtures/', 'templates/', '.cores/', 'report/'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Typed-array reads in hot loops are asserted non-null on purpose (noUncheckedIndexedAccess).
      '@typescript-eslint/no-non-null-assertion': 'off',
      // As tsc's noUnusedLocals/noUnusedParameters: a `_` name is unused on purpose (a skipped parameter or
      // a destructured field left out); the rule still finds what tsc does not (a variable only written).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Imports: one statement per module (a separate `import type` line is allowed), types imported as types.
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // node:test's test()/describe() return promises that the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      // `const enum` values are kept in typed-array columns (a Uint8Array of kinds) and compared as numbers.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
