// ESLint (flat config): the recommended rules of ESLint and typescript-eslint (syntactic ones:
// the type-checked set would type-check the project a second time), a line-length limit and
// limits that flag functions too long or too branchy to read at once. `npm run lint`.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Node's globals that the plain-JavaScript build and test scripts (scripts/*.mjs) use.
const nodeGlobals = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'fetch', 'AbortController', 'structuredClone'].map(
    (name) => [name, 'readonly'],
  ),
);

// A string or template literal of 40 characters or more: a quote, 40 characters other than that
// quote (or escaped), the same quote. (Read on the line's text, so approximate.)
const LONG_LITERAL = String.raw`(['"\x60])(?:(?!\1)[^\\]|\\.){40,}\1`;

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'models/', 'test-artifacts/', '.vscode-test/', 'media/', 'test/fixtures/', '**/*.min.js'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: nodeGlobals },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // 160 characters a line, comments included; a line may run over only to hold a URL, a regular
      // expression or a long literal, which cutting would make harder to read and to search for.
      'max-len': ['error', { code: 160, tabWidth: 2, ignoreUrls: true, ignoreRegExpLiterals: true, ignorePattern: LONG_LITERAL }],
      // A function should be read at once: 70 lines of code (blank lines and comments not counted),
      // 20 paths through it.
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true, IIFEs: true }],
      complexity: ['error', { max: 20 }],
      // `_name` marks a parameter or binding kept for its position (the compiler's noUnused* allow it too).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // A test file is a list of test() calls, each one function: a test's length is its scenario's.
    files: ['test/**/*.ts'],
    rules: { 'max-lines-per-function': 'off' },
  },
);
