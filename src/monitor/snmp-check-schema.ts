// Arbitrary MIB monitoring's state (seed 000 L883, L1460: 任意のMIB監視), as a schema component
// of its own: per check, whether its value is beyond its threshold and whether its agent
// answers, so that a crossing and its recovery are each raised once, across restarts.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE snmp_check_state (
  check_key   TEXT PRIMARY KEY,              -- the check as normalised text (machine, agent, OID, comparison)
  machine_id  INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  crossed     INTEGER NOT NULL DEFAULT 0,    -- kanriSnmpCheck[0xC0000001] was raised and not yet recovered
  failures    INTEGER NOT NULL DEFAULT 0,    -- polls in a row without an answer
  unanswered  INTEGER NOT NULL DEFAULT 0,    -- kanriSnmpCheck[0x80000003] was raised
  value       TEXT,
  polled_at   TEXT
);
CREATE INDEX snmp_check_state_machine ON snmp_check_state(machine_id);
`;

export const COMPONENT: SchemaComponent = { name: 'snmp-checks', migrations: [V1] };
