import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Native addons can crash worker threads; forks isolate each test file in its own process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    // The pages' browser scripts, compiled from lib/**/browser/*.ts for the tests that render a page.
    globalSetup: ['test/helpers/browserScripts.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
