// The engine's placement tables, as a schema component of its own (store/components.ts):
// what VM servers reported of themselves, how big each VM is, and the capacity each
// running job has claimed on a VM server for a VM it is putting there.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE vm_server_readings (
  machine_id      INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  cpus            INTEGER,
  memory_kib      INTEGER,
  free_memory_kib INTEGER,
  error           TEXT,               -- why the server could not be read (unreachable)
  read_at         TEXT NOT NULL
);
CREATE TABLE vm_sizes (
  machine_id INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  vcpus      INTEGER NOT NULL,
  memory_kib INTEGER NOT NULL,
  read_at    TEXT NOT NULL
);
-- A job that puts a VM on a server (creation, move, failover, start elsewhere) holds the
-- VM's cost and memory there until it ends, so that concurrent placements see it.
CREATE TABLE vm_claims (
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  server_id  INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  vm         TEXT NOT NULL COLLATE NOCASE,
  cost       INTEGER NOT NULL,
  memory_kib INTEGER,
  PRIMARY KEY (job_id, vm)
);
CREATE INDEX vm_claims_server ON vm_claims(server_id);
`;

export const COMPONENT: SchemaComponent = { name: 'placement', migrations: [V1] };
