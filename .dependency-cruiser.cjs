// The layers of src/ and the direction imports run (docs/architecture.md): a module imports its
// own layer and those below it, never one above, and nothing imports in a circle. Type-only
// imports count too. `npm test` runs it (test/architecture.test.ts), with fixtures that prove each
// rule is caught.
//
//   cli → runtime (and demo) → streams, adapters, sim → format → ports → machines → policy → config
//   (errors.ts, the error classes, may be imported from anywhere)
const LAYERS = [
  ['cli', ['cli']],
  ['runtime', ['runtime', 'demo']],
  ['the shell', ['streams', 'adapters', 'sim']],
  ['format', ['format']],
  ['ports', ['ports']],
  ['machines', ['machines']],
  ['policy', ['policy']],
  ['config', ['config']],
];
const folders = (names) => `^src/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: the modules can no longer be read, tested or moved one at a time',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...LAYERS.slice(1).map(([layer, names], i) => {
      const above = LAYERS.slice(0, i + 1).flatMap(([, n]) => n);
      return {
        name: `${layer}-imports-up`,
        severity: 'error',
        comment: `${layer} (${names.join(', ')}) imports from a layer above it (${above.join(', ')}): imports run one way, down`,
        from: { path: folders(names) },
        to: { path: folders(above) },
      };
    }),
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
