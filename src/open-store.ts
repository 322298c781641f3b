// The composition root of the store: the schema components of every layer above it —
// each driver's own (its spec's `schema`), the monitor's, placement's — handed to
// src/store, which imports none of them. Every command, script and test opens a store here.
import { DRIVER_SPECS } from './adapters/registry.js';
import { COMPONENT as PLACEMENT } from './engine/capacity-schema.js';
import { COMPONENT as MONITOR } from './monitor/schema.js';
import type { SchemaComponent } from './store/components.js';
import { type Db, type OpenOptions, openDb } from './store/db.js';

export const SCHEMA_COMPONENTS: readonly SchemaComponent[] = [...DRIVER_SPECS.flatMap((s) => (s.schema ? [s.schema] : [])), MONITOR, PLACEMENT];

export function openStore(path: string, opts: OpenOptions = {}): Db {
  return openDb(path, SCHEMA_COMPONENTS, opts);
}

/** Opens the store for one command and closes it whatever happens. */
export function withStore<T>(path: string, fn: (db: Db) => T, opts: OpenOptions = {}): T {
  const db = openStore(path, opts);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
