// ESMPRO/AlertManager's functions (seed 000 §3.2.2, table 11, L2698-2712), as a schema
// component of their own: the command a policy rule runs (コマンド実行), destination groups
// (通報先のグループ管理: mail lists and trap destinations, chosen by event category, with a
// time window and a retry schedule for mail: スケジュール機能), and the mails waiting for
// their window or their next try.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE alert_commands (
  policy     TEXT NOT NULL COLLATE NOCASE,   -- the policy's name
  rule_event TEXT NOT NULL,                  -- the rule's event name
  argv       TEXT NOT NULL,                  -- JSON [program, argument, …]; run without a shell
  timeout_s  REAL NOT NULL,
  PRIMARY KEY (policy, rule_event)
);

CREATE TABLE alert_destinations (
  name       TEXT PRIMARY KEY,
  mails      TEXT NOT NULL DEFAULT '[]',     -- JSON [address, …]
  traps      TEXT NOT NULL DEFAULT '[]',     -- JSON [host:port, …]
  community  TEXT NOT NULL DEFAULT 'public',
  categories TEXT NOT NULL DEFAULT '[]',     -- JSON [event category, …]; empty: every event
  window     TEXT NOT NULL DEFAULT '',       -- HH:MM-HH:MM (server local time) mail may be sent in; empty: always
  retry_s    TEXT NOT NULL DEFAULT '[]'      -- JSON [seconds, …]: waits before each new try of a mail that failed
);

CREATE TABLE alert_mails (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  recipients  TEXT NOT NULL,                 -- JSON [address, …]
  subject     TEXT NOT NULL,
  body        TEXT NOT NULL,
  event_id    INTEGER,
  created_at  TEXT NOT NULL,
  not_before  TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_mails_due ON alert_mails(status, not_before);
`;

// Which monitor claimed a mail it is sending (its lease holder): with several monitors on one
// store, a mail left 'sending' goes back to the queue only when its claimer's lease is gone.
const V2 = `
ALTER TABLE alert_mails ADD COLUMN claimed_by TEXT;
`;

export const COMPONENT: SchemaComponent = { name: 'alerting', migrations: [V1, V2] };
