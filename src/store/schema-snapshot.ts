// The schema of a store as text: every table, index and trigger in a stable order, with
// the core and component versions. The schema test compares it with a committed copy so
// that a schema change is always deliberate (scripts/schema-snapshot.mjs writes the copy).
import type { Db } from './db.js';

export function schemaSnapshot(db: Db): string {
  const version = db.pragma('user_version', { simple: true }) as number;
  const components = db.prepare('SELECT name, version FROM schema_components ORDER BY name').all() as Array<{ name: string; version: number }>;
  const objects = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string }>;
  const head = [`-- core schema ${version}`, ...components.map((c) => `-- component ${c.name} ${c.version}`)];
  return [...head, ...objects.map((o) => `${o.sql.replace(/[ \t]+$/gm, '')};`)].join('\n') + '\n';
}
