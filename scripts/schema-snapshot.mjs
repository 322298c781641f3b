#!/usr/bin/env node
// Prints the schema of a new store after every migration (core and components), as
// test/fixtures/schema.sql pins it. A deliberate schema change regenerates the file:
//   npm run build && node scripts/schema-snapshot.mjs > test/fixtures/schema.sql
// Given the URI of an empty PostgreSQL database it prints that back end's schema instead, as
// test/fixtures/schema-postgresql.sql pins it (test/store-postgres.test.ts prints the URI of
// one it made when the copy differs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../dist/open-store.js';
import { schemaSnapshot } from '../dist/store/schema-snapshot.js';

const dir = mkdtempSync(join(tmpdir(), 'kanri-schema-'));
try {
  const db = openStore(process.argv[2] ?? join(dir, 'kanri.db'), { create: true });
  process.stdout.write(schemaSnapshot(db));
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
