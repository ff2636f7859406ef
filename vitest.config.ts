import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real processes and real SQLite files: two workers keep a 2-core machine responsive.
    maxWorkers: 2,
  },
});
