// ESLint (flat config): the recommended rules of ESLint and typescript-eslint (syntactic ones:
// the type-checked set would type-check the project a second time), a line-length limit and
// limits that flag functions too long or too branchy to read at once. `npm run lint`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals that the plain-JavaScript build and test scripts (scripts/*.mjs) use.
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'fetch', 'AbortController', 'structuredClone'].map((name) => [name, 'readonly']),
);

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'models/', 'test-artifacts/', '.vscode-test/', 'media/', 'test/fixtures/', '**/*.min.js'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: nodeGlobals },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // 160 characters a line; a long string, template, URL or regular expression may run over
      // rather than be cut where it cannot be read (comments may not).
      'max-len': ['error', { code: 160, tabWidth: 2, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
      // A function should be read at once: 70 lines of code (blank lines and comments not counted),
      // 20 paths through it.
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true, IIFEs: true }],
      complexity: ['error', { max: 20 }],
      // `_name` marks a parameter or binding kept for its position (the compiler's noUnused* allow it too).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // A test file is a list of test() calls, each one function: a test's length is its scenario's.
    files: ['test/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
