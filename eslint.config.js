// ESLint: the recommended rules of ESLint and typescript-eslint, and one house rule —
// machines and policy stay free of I/O, clocks and randomness (DESIGN.md, rule 1).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    files: ['src/machines/**/*.ts', 'src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ allowTypeImports: true, group: ['node:*', 'fs', 'child_process', 'execa', 'better-sqlite3', 'chokidar', 'pino', '../adapters/*', '../runtime/*', '../streams/*'], message: 'machines and policy do no I/O: name an intent instead' }] }],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'machines read time from the event (event.now)' },
        { object: 'Math', property: 'random', message: 'randomness comes from the stamped seed (policy/prng.ts)' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'machines read time from the event (event.now)' }],
    },
  },
);
