import { readFileSync } from 'node:fs';
import { configDefaults, defineConfig } from 'vitest/config';

// KANRI_TEST_STORE=postgresql runs the suite on PostgreSQL stores (test/support/store.ts), but
// for the files test/postgresql-left-out.json names, each with the reason.
const leftOut = process.env.KANRI_TEST_STORE === 'postgresql'
  ? Object.keys(JSON.parse(readFileSync(new URL('test/postgresql-left-out.json', import.meta.url), 'utf8')) as Record<string, string>)
  : [];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...leftOut],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Peers (ipmi_sim instances, sshd …) and CLI processes are heavy on a 2-core machine.
    maxWorkers: 2,
  },
});
