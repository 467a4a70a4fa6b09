import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most files spend their time waiting (the Earth Engine client paces its requests, emulator clocks),
    // not computing: three at once on two cores takes the suite from ~13 to ~5 minutes.
    maxWorkers: 3,
    reporters: ['default'],
  },
});
