// Fencing's own table, as a schema component (store/components.ts): which machines a
// takeover waits on until they are known to be off, and who confirmed it, when.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE fencing_waits (
  machine_id   INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  job_id       INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  since        TEXT NOT NULL,
  reason       TEXT NOT NULL,       -- why the machine could not be confirmed off
  confirmed_by TEXT,                -- kanri machine confirm-off: the operator
  confirmed_at TEXT
);
CREATE INDEX fencing_waits_job ON fencing_waits(job_id);
`;

export const COMPONENT: SchemaComponent = { name: 'fencing', migrations: [V1] };
