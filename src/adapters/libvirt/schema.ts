// The libvirt driver's tables, as a schema component of its own (store/components.ts).
import type { SchemaComponent } from '../../store/components.js';

// libvirt_domains: the definition kanri last gave or read of each VM it manages through
// libvirt, so that a VM can be defined again elsewhere when its server is gone (failover),
// and the volumes kanri cloned for it, which go when the VM is deleted (and nothing else).
const V1 = `
CREATE TABLE libvirt_domains (
  machine_id INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  server_id  INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  domain     TEXT NOT NULL,
  uuid       TEXT,
  xml        TEXT NOT NULL,
  volumes    TEXT NOT NULL DEFAULT '[]',
  updated_at TEXT NOT NULL
);
CREATE INDEX libvirt_domains_server ON libvirt_domains(server_id);
`;

export const COMPONENT: SchemaComponent = { name: 'libvirt', migrations: [V1] };
