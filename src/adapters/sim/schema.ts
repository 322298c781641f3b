// The sim driver's tables, as a schema component of its own: its migrations are
// numbered separately from the core schema (store/components.ts).
import type { SchemaComponent } from '../../store/components.js';

// Stores made before the sim driver had its own component got these tables from core
// migration 2; the IF NOT EXISTS lets the component adopt them with their data.
const V1 = `
CREATE TABLE IF NOT EXISTS sim_power (
  machine_id INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  state      TEXT NOT NULL CHECK (state IN ('on', 'off', 'suspended'))
);
CREATE TABLE IF NOT EXISTS sim_vlan_ports (
  vlan       TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  PRIMARY KEY (vlan, machine_id)
);
CREATE TABLE IF NOT EXISTS sim_lb_members (
  lb_group   TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  address    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (lb_group, machine_id)
);
CREATE TABLE IF NOT EXISTS sim_volumes (
  volume     TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  PRIMARY KEY (volume, machine_id)
);
CREATE TABLE IF NOT EXISTS sim_installed (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  software   TEXT NOT NULL,
  version    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (machine_id, seq)
);
CREATE TABLE IF NOT EXISTS sim_registrations (
  system     TEXT NOT NULL CHECK (system IN ('dpm', 'monitor')),
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  address    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (system, machine_id)
);
CREATE TABLE IF NOT EXISTS sim_faults (
  id        INTEGER PRIMARY KEY,
  machine   TEXT NOT NULL COLLATE NOCASE,
  operation TEXT NOT NULL,
  remaining INTEGER CHECK (remaining IS NULL OR remaining > 0),
  message   TEXT NOT NULL DEFAULT ''
);
`;

// Indexes for the foreign keys to machines: deleting a machine looks its sim rows up.
const V2 = `
CREATE INDEX sim_vlan_ports_machine ON sim_vlan_ports(machine_id);
CREATE INDEX sim_lb_members_machine ON sim_lb_members(machine_id);
CREATE INDEX sim_volumes_machine ON sim_volumes(machine_id);
CREATE INDEX sim_registrations_machine ON sim_registrations(machine_id);
`;

export const COMPONENT: SchemaComponent = { name: 'sim', migrations: [V1, V2] };
