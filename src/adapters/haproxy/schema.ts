// The haproxy driver's table, a schema component of its own (store/components.ts): the
// servers kanri registered, per runtime API and backend. HAProxy forgets servers added
// at run time when it reloads; this is what `kanri lb sync` puts back.
import type { SchemaComponent } from '../../store/components.js';

const V1 = `
CREATE TABLE haproxy_servers (
  socket     TEXT NOT NULL,                 -- the runtime API it was registered through (unix:/… or tcp:…)
  backend    TEXT NOT NULL,
  server     TEXT NOT NULL,
  machine_id INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  group_id   INTEGER REFERENCES groups(id) ON DELETE SET NULL,
  address    TEXT NOT NULL,
  port       INTEGER NOT NULL,
  -- member: registered; leaving: an unregistration started and has not finished
  state      TEXT NOT NULL CHECK (state IN ('member', 'leaving')),
  job_id     INTEGER,
  changed_at TEXT NOT NULL,
  PRIMARY KEY (socket, backend, server)
);
CREATE INDEX haproxy_servers_machine ON haproxy_servers (machine_id);
CREATE INDEX haproxy_servers_group ON haproxy_servers (group_id);
`;

export const COMPONENT: SchemaComponent = { name: 'haproxy', migrations: [V1] };
