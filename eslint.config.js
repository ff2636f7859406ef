// ESLint: the recommended rules of ESLint and typescript-eslint, and two house rules — machines and
// policy stay free of I/O, clocks, timers, the environment and randomness (DESIGN.md, rule 1); and
// no file in src/ runs over 400 lines nor any function over 80 (issue 17), so each job stays small
// enough to read in one sitting. test/lint.test.ts proves each forbidden form is caught, with a
// fixture each.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** The pure core: machines and policy (and the lint fixtures that prove the rules catch each form). */
const MACHINES = ['src/machines/**/*.ts', 'test/fixtures/lint/**/*.ts'];
const PURE = [...MACHINES, 'src/policy/**/*.ts'];
/** Where the size limits hold (and the lint fixtures that prove they fire). */
const SIZED = ['src/**/*.ts', 'test/fixtures/lint/**/*.ts'];
const CLOCK_SYNTAX = [
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'machines read time from the event (event.now)',
  },
  { selector: "CallExpression[callee.name='Date']", message: 'machines read time from the event (event.now)' },
];

export default tseslint.config(
  // The lint fixtures break the rules on purpose: test/lint.test.ts lints them (ignore: false).
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'test/fixtures/lint/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-empty-function': 'off',
    },
  },
  {
    // Physical lines, as `wc -l` counts them: a comment or a blank line is still a line to read.
    files: SIZED,
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
    },
  },

  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    files: PURE,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              allowTypeImports: true,
              group: [
                'node:*',
                'fs',
                'child_process',
                'crypto',
                'perf_hooks',
                'timers',
                'execa',
                'better-sqlite3',
                'chokidar',
                'pino',
                '../adapters/*',
                '../runtime/*',
                '../streams/*',
              ],
              message: 'machines and policy do no I/O: name an intent instead',
            },
          ],
        },
      ],
      // Clocks, timers, the environment and randomness come in with the events (DESIGN.md rule 1).
      'no-restricted-globals': [
        'error',
        ...[
          'setTimeout',
          'setInterval',
          'setImmediate',
          'clearTimeout',
          'clearInterval',
          'clearImmediate',
          'queueMicrotask',
        ].map((name) => ({
          name,
          message: 'machines keep deadlines in context and act on the events that come (no timers)',
        })),
        {
          name: 'process',
          message: 'machines and policy read nothing of the process: the config and the events carry it',
        },
        { name: 'performance', message: 'machines read time from the event (event.now)' },
        { name: 'crypto', message: 'ids and seeds come stamped with the event' },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'machines read time from the event (event.now)' },
        { object: 'Math', property: 'random', message: 'randomness comes from the stamped seed (policy/prng.ts)' },
        { object: 'globalThis', message: 'machines and policy reach nothing global' },
      ],
      'no-restricted-syntax': ['error', ...CLOCK_SYNTAX],
    },
  },
  {
    // XState delays and invoked actors are not restored from a persisted snapshot (DESIGN.md,
    // pitfalls): in machine configs, neither key. (Repeats the clock rules: a rule's options here
    // replace those above.)
    files: MACHINES,
    rules: {
      'no-restricted-syntax': [
        'error',
        ...CLOCK_SYNTAX,
        {
          selector: "Property[key.name='after']",
          message: 'no XState after: delays: keep the deadline in context and act on TICK/WAKE',
        },
        {
          selector: "Property[key.name='invoke']",
          message: 'no invoked actors: a restored snapshot would start them again; name an intent',
        },
      ],
    },
  },
);
