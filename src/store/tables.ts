// The tables of a store, on either back end (what kanri store copy moves and the tests digest).
import type { Db } from './db.js';

export const isPostgresStore = (db: Db): boolean => (db as { dialect?: string }).dialect === 'postgresql';

/** Every table of the store, by name. */
export function storeTables(db: Db): string[] {
  const sql = isPostgresStore(db)
    ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1";
  return (db.prepare(sql).all() as Array<{ name: string }>).map((r) => r.name);
}
