// The schema of a store as text: every table, index and trigger in a stable order, with
// the core and component versions. The schema test compares it with a committed copy so
// that a schema change is always deliberate (scripts/schema-snapshot.mjs writes the copy).
// A PostgreSQL store's schema is read from its catalogue (columns with their types,
// collations and identity, constraints, indexes) and pinned in a copy of its own.
import type { Db } from './db.js';

export function schemaSnapshot(db: Db): string {
  const version = db.pragma('user_version', { simple: true }) as number;
  const components = db.prepare('SELECT name, version FROM schema_components ORDER BY name').all() as Array<{ name: string; version: number }>;
  const head = [`-- core schema ${version}`, ...components.map((c) => `-- component ${c.name} ${c.version}`)];
  if ((db as { dialect?: string }).dialect === 'postgresql') return [...head, ...postgresObjects(db)].join('\n') + '\n';
  const objects = db.prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as Array<{ type: string; name: string; sql: string }>;
  return [...head, ...objects.map((o) => `${o.sql.replace(/[ \t]+$/gm, '')};`)].join('\n') + '\n';
}

function postgresObjects(db: Db): string[] {
  const columns = db.prepare(`SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable, column_default AS def, collation_name AS coll, is_identity AS ident
    FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`).all() as Array<Record<string, string | null>>;
  const constraints = db.prepare(`SELECT c.conrelid::regclass::text AS t, c.conname AS name, pg_get_constraintdef(c.oid) AS def
    FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() AND c.contype <> 'n' ORDER BY 1, 2`).all() as Array<Record<string, string>>;
  const indexes = db.prepare('SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() ORDER BY tablename, indexname').all() as Array<{ def: string }>;
  const out: string[] = [];
  let table = '';
  for (const c of columns) {
    if (c.t !== table) out.push(`TABLE ${(table = c.t!)}`);
    out.push(`  ${c.c} ${c.type}${c.nullable === 'NO' ? ' NOT NULL' : ''}${c.ident === 'YES' ? ' IDENTITY' : ''}${c.coll ? ` COLLATE ${c.coll}` : ''}${c.def !== null ? ` DEFAULT ${c.def}` : ''}`);
  }
  for (const c of constraints) out.push(`CONSTRAINT ${c.t}.${c.name} ${c.def}`);
  for (const i of indexes) out.push(`${i.def};`);
  return out;
}
