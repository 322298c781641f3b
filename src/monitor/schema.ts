// The monitor's tables, as a schema component of its own (store/components.ts): what it
// received and decided, the action chains it runs and how far each got, suppression
// windows (chains that wait), what polling learnt about each controller, its counters and
// the SNMPv3 users it accepts. Everything the monitor decides is here, so that a restart
// neither loses a received event nor runs a completed action twice.
import type { SchemaComponent } from '../store/components.js';

const V1 = `
CREATE TABLE monitor_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  received_at TEXT NOT NULL,
  origin      TEXT NOT NULL,                 -- trap, poll, custom, webhook, redfish
  source      TEXT NOT NULL,                 -- notifying source (SystemMonitorEvent, …)
  event       TEXT NOT NULL,                 -- ESMDSVNT[0xC0000002], 11000006, an alarm text
  category    TEXT,
  machine_id  INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  group_id    INTEGER REFERENCES groups(id) ON DELETE SET NULL,
  sender      TEXT NOT NULL DEFAULT '',      -- the address it came from, or who raised it
  detail      TEXT NOT NULL DEFAULT '',
  state       TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'decided')),
  decision    TEXT NOT NULL DEFAULT '',
  chain_id    INTEGER
);
CREATE INDEX monitor_events_state ON monitor_events(state, id);
CREATE INDEX monitor_events_machine ON monitor_events(machine_id, id);
CREATE INDEX monitor_events_group ON monitor_events(group_id);

-- One policy rule's actions for one event; at most one chain per target runs at a time.
CREATE TABLE monitor_chains (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id      INTEGER NOT NULL REFERENCES monitor_events(id) ON DELETE CASCADE,
  target        TEXT NOT NULL,               -- machine:<id> or group:<id>
  machine_id    INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  group_id      INTEGER REFERENCES groups(id) ON DELETE SET NULL,
  policy        TEXT NOT NULL,
  rule_position INTEGER NOT NULL,
  rule_event    TEXT NOT NULL,
  category      TEXT,                        -- of the event, for its recovery
  actions       TEXT NOT NULL,               -- JSON [action id, …], run in order
  notify        INTEGER NOT NULL DEFAULT 0,  -- the rule notifies: events 502 are written
  status        TEXT NOT NULL CHECK (status IN ('waiting', 'pending', 'running', 'completed', 'failed', 'canceled', 'abandoned', 'suppressed')),
  next_action   INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL,
  wait_until    TEXT,                        -- a suppressed fault waits until then for its recovery
  started_at    TEXT,
  ended_at      TEXT,
  error         TEXT
);
CREATE INDEX monitor_chains_status ON monitor_chains(status, target);
CREATE INDEX monitor_chains_target ON monitor_chains(target, rule_position, created_at);
CREATE INDEX monitor_chains_event ON monitor_chains(event_id);
CREATE INDEX monitor_chains_machine ON monitor_chains(machine_id);
CREATE INDEX monitor_chains_group ON monitor_chains(group_id);

CREATE TABLE monitor_chain_actions (
  chain_id   INTEGER NOT NULL REFERENCES monitor_chains(id) ON DELETE CASCADE,
  idx        INTEGER NOT NULL,
  action     TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'canceled', 'skipped')),
  started_at TEXT NOT NULL,
  ended_at   TEXT,
  mgmt_id    TEXT NOT NULL DEFAULT '',       -- the job IDs (or the chain's number for store changes)
  marker     TEXT NOT NULL DEFAULT '',       -- the command its jobs carry, to find them after a restart
  detail     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (chain_id, idx)
);

CREATE TABLE monitor_poll_state (
  machine_id   INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  failures     INTEGER NOT NULL DEFAULT 0,   -- polls in a row without an answer
  inaccessible INTEGER NOT NULL DEFAULT 0,   -- ESMDSVNT[0xC0000002] was raised and not yet recovered
  sel_seen     TEXT,                         -- JSON of the SEL entries last read (NULL: no baseline yet)
  polled_at    TEXT
);

CREATE TABLE monitor_counters (
  name TEXT PRIMARY KEY,
  n    INTEGER NOT NULL DEFAULT 0
);

-- SNMPv3 users whose authPriv traps are accepted; keys only sealed (store/secrets.ts).
CREATE TABLE monitor_snmp_users (
  name          TEXT PRIMARY KEY,
  auth_protocol TEXT NOT NULL CHECK (auth_protocol IN ('md5', 'sha', 'sha224', 'sha256', 'sha384', 'sha512')),
  priv_protocol TEXT NOT NULL CHECK (priv_protocol IN ('des', 'aes', 'aes256b', 'aes256r')),
  auth_key      TEXT NOT NULL,
  priv_key      TEXT NOT NULL
);
`;

// The monitor's lease (one monitor per manager on a store: lease.ts) and the SNMPv3 engines'
// clocks (snmp-replay.ts). Portable SQL: a PostgreSQL store with several managers keeps one
// lease row per manager.
const V2 = `
CREATE TABLE monitor_lease (
  manager      TEXT PRIMARY KEY,           -- the manager whose monitor holds it ('default' on SQLite)
  holder       TEXT NOT NULL,              -- host, process and a random token of the holder
  taken_at     TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL               -- without a heartbeat by then, another monitor may take it
);

CREATE TABLE monitor_snmp_engines (
  engine_id TEXT PRIMARY KEY,              -- hex
  boots     INTEGER NOT NULL,
  time      INTEGER NOT NULL,              -- the engine's time when seen_at
  seen_at   TEXT NOT NULL
);
`;

// Several monitors on one store (managers sharing a PostgreSQL store; docs/architecture.md):
// - dedup_key: what the sender sent, digested (intake.ts), so that the same trap, Redfish
//   event or alert received by two monitors is one event: the second insert does nothing;
// - runner: the lease holder that runs a chain, so that a monitor taking over recovers only
//   the chains of monitors whose lease is gone, never those another live monitor runs;
// - polled_by, polls: which manager's monitor polled the machine last and how many polls in
//   a row it did (the hash ring gives each machine one poller: ring.ts);
// - monitor_alert_keys: the same for the alert list (dscli_alerts, a core table this
//   component does not change): an alert whose key is here was listed by another monitor.
const V3 = `
ALTER TABLE monitor_events ADD COLUMN dedup_key TEXT;
CREATE UNIQUE INDEX monitor_events_dedup ON monitor_events(dedup_key);
ALTER TABLE monitor_chains ADD COLUMN runner TEXT;
ALTER TABLE monitor_poll_state ADD COLUMN polled_by TEXT;
ALTER TABLE monitor_poll_state ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;

CREATE TABLE monitor_alert_keys (
  dedup_key TEXT PRIMARY KEY,               -- digest of what the sender sent (alerts.ts)
  seen_at   TEXT NOT NULL                   -- kept for a day: a duplicate arrives within seconds
);
CREATE INDEX monitor_alert_keys_seen ON monitor_alert_keys(seen_at);
`;

export const COMPONENT: SchemaComponent = { name: 'monitor', migrations: [V1, V2, V3] };
