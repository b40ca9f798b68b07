import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons can crash worker threads; forks isolate each test file in its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
