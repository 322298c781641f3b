// Schema components: parts of the store that belong to one driver (or the monitor, or
// placement) and carry their own numbered migrations (table schema_components keeps each
// one's version), so that a driver's tables are created, changed and dropped by that
// driver's schema alone. Released migrations of a component are never edited; later
// changes append. The store knows none of them: src/open-store.ts, the composition root
// above every layer, hands them in (a driver's comes with its spec).
import type { Db } from './db.js';

export interface SchemaComponent {
  name: string;
  /** migrations[n] takes the component from version n to n + 1. */
  migrations: readonly string[];
}

export function componentVersion(db: Db, name: string): number {
  const r = db.prepare('SELECT version FROM schema_components WHERE name = ?').get(name) as { version: number } | undefined;
  return r?.version ?? 0;
}

/** True when some component has migrations the store has not run (one query, no write). */
export function componentsBehind(db: Db, components: readonly SchemaComponent[]): boolean {
  const rows = db.prepare('SELECT name, version FROM schema_components').all() as Array<{ name: string; version: number }>;
  const versions = new Map(rows.map((r) => [r.name, Number(r.version)]));
  return components.some((c) => (versions.get(c.name) ?? 0) < c.migrations.length);
}

/** Runs the pending migrations of every component; call inside the store's migration transaction. */
export function migrateComponents(db: Db, components: readonly SchemaComponent[]): void {
  for (const c of components) {
    const from = componentVersion(db, c.name);
    if (from > c.migrations.length) throw new Error(`schema component ${c.name} is at version ${from}, newer than this kanri (${c.migrations.length}); upgrade kanri`);
    for (let v = from; v < c.migrations.length; v++) db.exec(c.migrations[v]!);
    if (from < c.migrations.length) {
      db.prepare('INSERT INTO schema_components (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version').run(c.name, c.migrations.length);
    }
  }
}
