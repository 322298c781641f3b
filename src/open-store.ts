// The composition root of the store: the schema components of every layer above it —
// each driver's own (the `schema` its spec declares), the monitor's, placement's, kanri
// serve's — handed
// to src/store, which imports none of them. Every command, script and test opens a store
// here. The drivers' components are imported from their schema modules, not through the
// registry: opening a store must not load every driver's spec (and with them node:crypto,
// node:net, …) — test/architecture.test.ts checks that this list is the specs' own.
import { COMPONENT as CONSOLE } from './adapters/console-claims-schema.js';
import { COMPONENT as HAPROXY } from './adapters/haproxy/schema.js';
import { COMPONENT as LIBVIRT } from './adapters/libvirt/schema.js';
import { COMPONENT as REDFISH } from './adapters/redfish/schema.js';
import { COMPONENT as SIM } from './adapters/sim/schema.js';
import { COMPONENT as PLACEMENT } from './engine/capacity-schema.js';
import { COMPONENT as FENCING } from './engine/fencing-schema.js';
import { COMPONENT as ALERTING } from './monitor/alert-schema.js';
import { COMPONENT as DISK_HEALTH } from './monitor/disk-health.js';
import { COMPONENT as MONITOR } from './monitor/schema.js';
import { COMPONENT as SCHEDULES } from './monitor/schedule-schema.js';
import { COMPONENT as SNMP_CHECKS } from './monitor/snmp-check-schema.js';
import { COMPONENT as UPS } from './monitor/ups-schema.js';
import { COMPONENT as SERVE } from './serve/schema.js';
import type { SchemaComponent } from './store/components.js';
import { type Db, type OpenOptions, openDb } from './store/db.js';

/** The drivers' components, in DRIVER_SPECS order. */
export const DRIVER_COMPONENTS: readonly SchemaComponent[] = [SIM, REDFISH, LIBVIRT, HAPROXY];
export const SCHEMA_COMPONENTS: readonly SchemaComponent[] = [...DRIVER_COMPONENTS, MONITOR, PLACEMENT, SERVE, SCHEDULES, SNMP_CHECKS, ALERTING, UPS, CONSOLE, DISK_HEALTH, FENCING];

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
