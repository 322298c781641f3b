import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Peers (ipmi_sim instances, sshd …) and CLI processes are heavy on a 2-core machine.
    maxWorkers: 2,
  },
});
