import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'server/src/**/*.test.ts',
      'server/test/**/*.test.ts',
      'contracts/src/**/*.test.ts',
      'sim/src/**/*.test.ts',
      // The web app's component tests pick their DOM per file (`// @vitest-environment happy-dom`).
      'web/src/**/*.test.{ts,tsx}',
    ],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    projects: [
      // Everything listed in `include` above, with the settings above.
      { extends: true, test: { name: 'tests' } },
      // The web app end to end in real Chromium. Its global setup runs only when these files
      // do: it builds web/dist when missing or stale, or says in one line why they are skipped.
      {
        test: {
          name: 'e2e',
          include: ['web/e2e/**/*.e2e.ts'],
          globalSetup: ['web/e2e/global-setup.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
