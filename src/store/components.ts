// Schema components: parts of the store that belong to one driver (or the monitor) and carry their own
// numbered migrations (table schema_components keeps each one's version), so that a
// driver's tables are created, changed and dropped by that driver's schema alone.
// Released migrations of a component are never edited; later changes append.
import type { Db } from './db.js';
import { COMPONENT as HAPROXY } from '../adapters/haproxy/schema.js';
import { COMPONENT as SIM } from '../adapters/sim/schema.js';
import { COMPONENT as REDFISH } from '../adapters/redfish/schema.js';
import { COMPONENT as LIBVIRT } from '../adapters/libvirt/schema.js';
import { COMPONENT as PLACEMENT } from '../engine/capacity-schema.js';
import { COMPONENT as MONITOR } from '../monitor/schema.js';
import { COMPONENT as FENCING } from '../engine/fencing-schema.js';
import { COMPONENT as SCHEDULES } from '../monitor/schedule-schema.js';
import { COMPONENT as SNMP_CHECKS } from '../monitor/snmp-check-schema.js';
import { COMPONENT as ALERTING } from '../monitor/alert-schema.js';
import { COMPONENT as UPS } from '../monitor/ups-schema.js';
import { COMPONENT as SERVE } from '../serve/schema.js';
import { COMPONENT as CONSOLE } from '../adapters/console-claims.js';
import { COMPONENT as DISK_HEALTH } from '../monitor/disk-health.js';

export interface SchemaComponent {
  name: string;
  /** migrations[n] takes the component from version n to n + 1. */
  migrations: readonly string[];
}

export const COMPONENTS: readonly SchemaComponent[] = [SIM, MONITOR, LIBVIRT, PLACEMENT, HAPROXY, REDFISH, SERVE, SCHEDULES, SNMP_CHECKS, ALERTING, UPS, CONSOLE, DISK_HEALTH, FENCING];

export function componentVersion(db: Db, name: string): number {
  const r = db.prepare('SELECT version FROM schema_components WHERE name = ?').get(name) as { version: number } | undefined;
  return r?.version ?? 0;
}

/** True when some component has migrations the store has not run (checked without a write). */
export function componentsBehind(db: Db): boolean {
  return COMPONENTS.some((c) => componentVersion(db, c.name) < c.migrations.length);
}

/** Runs the pending migrations of every component; call inside the store's migration transaction. */
export function migrateComponents(db: Db): void {
  for (const c of COMPONENTS) {
    const from = componentVersion(db, c.name);
    if (from > c.migrations.length) throw new Error(`schema component ${c.name} is at version ${from}, newer than this kanri (${c.migrations.length}); upgrade kanri`);
    for (let v = from; v < c.migrations.length; v++) db.exec(c.migrations[v]!);
    if (from < c.migrations.length) {
      db.prepare('INSERT INTO schema_components (name, version) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET version = excluded.version').run(c.name, c.migrations.length);
    }
  }
}
