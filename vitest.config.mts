import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for what a page or a process will show; 1 s (vitest's default) is too short on a
    // busy 2-core CI machine, and a poll that succeeds returns at once anyway.
    expect: { poll: { timeout: 10_000 } },
    pool: 'forks',
    // Most files spend their time waiting (the Earth Engine client paces its requests, emulator clocks),
    // not computing: three at once on two cores takes the suite from ~13 to ~5 minutes.
    maxWorkers: 3,
    reporters: ['default'],
  },
});
