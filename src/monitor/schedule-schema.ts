// Scheduled operations (seed 000 L1159, L1269: スケジュール運転), as a schema component of
// their own (store/components.ts): each schedule, and one row per due time the monitor
// handled — run, or missed. The row's key (schedule, due time) is the claim: a due time
// is taken by one monitor in one transaction, so that two never run it twice.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE schedules (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  group_id      INTEGER REFERENCES groups(id) ON DELETE SET NULL,  -- NULL: the group was removed; runs fail saying so
  group_path    TEXT NOT NULL,                 -- as it was named, for the listing
  operation     TEXT NOT NULL CHECK (operation IN ('poweron', 'shutdown', 'reboot')),
  cron          TEXT NOT NULL,
  run_late      INTEGER NOT NULL DEFAULT 0,    -- 1: after a restart, the last missed run runs late (once)
  created_at    TEXT NOT NULL,
  created_by    TEXT NOT NULL DEFAULT '',
  checked_until TEXT NOT NULL                  -- due times up to here were handled (run or missed)
);
CREATE INDEX schedules_group ON schedules(group_id);

CREATE TABLE schedule_runs (
  schedule_id INTEGER NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
  due_at      TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'canceled', 'missed', 'interrupted')),
  late        INTEGER NOT NULL DEFAULT 0,      -- it ran after its time (run_late)
  started_at  TEXT,
  ended_at    TEXT,
  jobs        TEXT NOT NULL DEFAULT '',
  detail      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (schedule_id, due_at)
);
CREATE INDEX schedule_runs_status ON schedule_runs(status);
`;

// Several monitors on one store (managers sharing a PostgreSQL store): runner, the lease
// holder of the monitor that runs a due time (lease.ts), so that a monitor taking over marks
// interrupted only the runs of monitors whose lease is gone, never those a live one runs.
const V2 = `
ALTER TABLE schedule_runs ADD COLUMN runner TEXT;
`;

// A schedule's time zone (an IANA name), recorded when it is added: its cron expression is
// read in it on every monitor, whatever the monitor's own TZ, so that managers in other zones
// find the same instants due. NULL: a schedule added before V3, read as it was then, in the
// local zone of the monitor that looks (its zone was never recorded, and no process can know
// which one its author meant); kanri schedule list shows it as 'local'.
const V3 = `
ALTER TABLE schedules ADD COLUMN time_zone TEXT;
`;

export const COMPONENT: SchemaComponent = { name: 'schedules', migrations: [V1, V2, V3] };
