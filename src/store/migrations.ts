// Numbered schema migrations. MIGRATIONS[n] takes the store from user_version n to
// n + 1. Released migrations are never edited: later changes append a new entry.
//
// Names compare case-insensitively (spec/decisions.md): every name column is
// COLLATE NOCASE and unique within its scope.

const V1_DOMAIN = `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE categories (
  id          INTEGER PRIMARY KEY,
  parent_id   INTEGER REFERENCES categories(id) ON DELETE CASCADE,
  name        TEXT NOT NULL COLLATE NOCASE,
  priority    INTEGER NOT NULL DEFAULT 100,
  description TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX categories_name ON categories(ifnull(parent_id, 0), name);

CREATE TABLE policies (
  id                  INTEGER PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE COLLATE NOCASE,
  description         TEXT NOT NULL DEFAULT '',
  -- how long a suppressed fault waits for its recovery event (spec/events-and-policies.md §5)
  suppression_seconds INTEGER NOT NULL DEFAULT 0 CHECK (suppression_seconds >= 0)
);

CREATE TABLE policy_rules (
  id          INTEGER PRIMARY KEY,
  policy_id   INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,
  event_name  TEXT NOT NULL,
  triggers    TEXT NOT NULL,          -- JSON [{source, event} | {source, category}]
  action_name TEXT NOT NULL DEFAULT '',
  actions     TEXT NOT NULL,          -- JSON [action id, …] run in order
  suppress    INTEGER NOT NULL DEFAULT 0,
  enabled     INTEGER NOT NULL DEFAULT 1,
  UNIQUE (policy_id, position)
);

CREATE TABLE software (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  kind         TEXT NOT NULL CHECK (kind IN ('scenario', 'template', 'local_script')),
  version      TEXT NOT NULL DEFAULT '',
  -- a changed content date of distributed software forces full redistribution (§4.8)
  content_date TEXT NOT NULL DEFAULT '',
  cost         INTEGER CHECK (cost IS NULL OR cost >= 0),   -- templates: VM cost value
  source       TEXT NOT NULL DEFAULT '',                     -- script path / scenario body
  description  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE groups (
  id                INTEGER PRIMARY KEY,
  category_id       INTEGER REFERENCES categories(id) ON DELETE CASCADE,
  name              TEXT NOT NULL COLLATE NOCASE,
  priority          INTEGER NOT NULL DEFAULT 100,
  machine_type      TEXT NOT NULL CHECK (machine_type IN ('physical', 'virtual', 'vmserver')),
  allow_common_pool INTEGER NOT NULL DEFAULT 0,
  policy_id         INTEGER REFERENCES policies(id) ON DELETE SET NULL,
  storage           INTEGER NOT NULL DEFAULT 0,   -- [Storage] steps
  vlan              TEXT,                          -- [VLAN] steps: business VLAN name
  lb_group          TEXT,                          -- [LB] steps: load-balancing group
  dpm_registration  INTEGER NOT NULL DEFAULT 0,   -- register machines to the deployment server
  prefer_cpu_blade  INTEGER NOT NULL DEFAULT 0,   -- SIGMABLADE CPU-blade replacement
  template_id       INTEGER REFERENCES software(id) ON DELETE SET NULL,
  description       TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX groups_name ON groups(ifnull(category_id, 0), name);

CREATE TABLE models (
  id                     INTEGER PRIMARY KEY,
  group_id               INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  name                   TEXT NOT NULL COLLATE NOCASE,
  priority               INTEGER NOT NULL DEFAULT 100,
  policy_id              INTEGER REFERENCES policies(id) ON DELETE SET NULL,
  template_id            INTEGER REFERENCES software(id) ON DELETE SET NULL,
  vm_server_model_id     INTEGER REFERENCES models(id) ON DELETE SET NULL,
  register_dpm_on_create INTEGER NOT NULL DEFAULT 0,
  optimal_startup        INTEGER NOT NULL DEFAULT 0,
  -- VM-server models: optimal placement bounds in percent (spec §3.4)
  placement              INTEGER NOT NULL DEFAULT 0,
  load_high              INTEGER,
  load_target_high       INTEGER,
  load_target_low        INTEGER,
  load_low               INTEGER,
  description            TEXT NOT NULL DEFAULT '',
  UNIQUE (group_id, name)
);

CREATE TABLE group_drivers (
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  interface TEXT NOT NULL CHECK (interface IN ('power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor')),
  driver    TEXT NOT NULL,
  PRIMARY KEY (group_id, interface)
);

CREATE TABLE host_settings (
  id        INTEGER PRIMARY KEY,
  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,          -- definition order: "the first unused one"
  host_name TEXT NOT NULL COLLATE NOCASE,
  UNIQUE (group_id, host_name),
  UNIQUE (group_id, position)
);

CREATE TABLE host_setting_addresses (
  host_setting_id INTEGER NOT NULL REFERENCES host_settings(id) ON DELETE CASCADE,
  nic_no          INTEGER NOT NULL CHECK (nic_no >= 1),
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  address         TEXT NOT NULL,
  netmask         TEXT NOT NULL,
  PRIMARY KEY (host_setting_id, nic_no, seq)
);
CREATE INDEX host_setting_addresses_address ON host_setting_addresses(address);

CREATE TABLE host_setting_gateways (
  host_setting_id INTEGER NOT NULL REFERENCES host_settings(id) ON DELETE CASCADE,
  nic_no          INTEGER NOT NULL CHECK (nic_no >= 1),
  seq             INTEGER NOT NULL CHECK (seq >= 1),
  gateway         TEXT NOT NULL,
  PRIMARY KEY (host_setting_id, nic_no, seq)
);

CREATE TABLE host_setting_tags (
  host_setting_id INTEGER NOT NULL REFERENCES host_settings(id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  tag             TEXT NOT NULL,
  PRIMARY KEY (host_setting_id, seq)
);

CREATE TABLE disk_volumes (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  array_name  TEXT NOT NULL,
  array_kind  TEXT NOT NULL CHECK (array_kind IN ('istorage', 'symmetrix', 'clarix')),
  shared      INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE host_setting_volumes (
  host_setting_id INTEGER NOT NULL REFERENCES host_settings(id) ON DELETE CASCADE,
  volume_id       INTEGER NOT NULL REFERENCES disk_volumes(id) ON DELETE CASCADE,
  PRIMARY KEY (host_setting_id, volume_id)
);

CREATE TABLE machines (
  id                 INTEGER PRIMARY KEY,
  name               TEXT NOT NULL UNIQUE COLLATE NOCASE,
  kind               TEXT NOT NULL CHECK (kind IN ('physical', 'virtual', 'vmserver')),
  uuid               TEXT,
  hw_model_name      TEXT,               -- hardware model name, matched by common-pool rule 3
  hw_model_name_auto INTEGER NOT NULL DEFAULT 1,
  power_state        TEXT NOT NULL DEFAULT 'off' CHECK (power_state IN ('on', 'off', 'suspended', 'unknown')),
  hardware_status    TEXT NOT NULL DEFAULT 'normal' CHECK (hardware_status IN ('normal', 'degraded', 'faulted')),
  management_status  TEXT NOT NULL DEFAULT 'normal' CHECK (management_status IN ('normal', 'abnormal')),
  maintenance        INTEGER NOT NULL DEFAULT 0,
  -- active in a group (S-host) when these three are set; a host setting serves one machine
  group_id           INTEGER REFERENCES groups(id) ON DELETE SET NULL,
  model_id           INTEGER REFERENCES models(id) ON DELETE SET NULL,
  host_setting_id    INTEGER UNIQUE REFERENCES host_settings(id) ON DELETE SET NULL,
  activated_from     TEXT CHECK (activated_from IN ('group_pool', 'common_pool', 'master')),
  activated_at       TEXT,
  vm_server_id       INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  datastore          TEXT,
  datacenter         TEXT,
  cost               INTEGER CHECK (cost IS NULL OR cost >= 0),
  capacity           INTEGER CHECK (capacity IS NULL OR capacity >= 0),
  dpm_registered     INTEGER NOT NULL DEFAULT 0,
  mgmt_address       TEXT,               -- [mgmt NW] steps run only when set
  description        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX machines_group ON machines(group_id);

CREATE TABLE machine_macs (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  nic_no     INTEGER NOT NULL CHECK (nic_no >= 1),   -- 1 is the primary (management) NIC
  mac        TEXT NOT NULL UNIQUE COLLATE NOCASE,
  PRIMARY KEY (machine_id, nic_no)
);

CREATE TABLE machine_tags (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  tag        TEXT NOT NULL,
  PRIMARY KEY (machine_id, seq)
);

CREATE TABLE machine_drivers (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  interface  TEXT NOT NULL CHECK (interface IN ('power', 'deploy', 'vm', 'storage', 'vlan', 'lb', 'monitor')),
  driver     TEXT NOT NULL,
  PRIMARY KEY (machine_id, interface)
);

CREATE TABLE datastores (
  vm_server_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  name         TEXT NOT NULL COLLATE NOCASE,
  capacity_gb  INTEGER,
  shared       INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (vm_server_id, name)
);

-- A machine may stand by in the pools of several groups (spec §1.5); the row
-- stays while the machine is active so that it returns to that pool afterwards.
CREATE TABLE pool_members (
  group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  model_id   INTEGER REFERENCES models(id) ON DELETE SET NULL,
  position   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (group_id, machine_id)
);
CREATE INDEX pool_members_machine ON pool_members(machine_id);

-- Registration points × timings × slots of spec §4.4, one owner column set.
CREATE TABLE software_registrations (
  id              INTEGER PRIMARY KEY,
  software_id     INTEGER NOT NULL REFERENCES software(id) ON DELETE CASCADE,
  machine_id      INTEGER REFERENCES machines(id) ON DELETE CASCADE,
  host_setting_id INTEGER REFERENCES host_settings(id) ON DELETE CASCADE,
  model_id        INTEGER REFERENCES models(id) ON DELETE CASCADE,
  group_id        INTEGER REFERENCES groups(id) ON DELETE CASCADE,
  timing          TEXT NOT NULL CHECK (timing IN ('activation', 'standby')),
  slot            TEXT NOT NULL CHECK (slot IN ('before_group', 'distribution', 'after_group')),
  position        INTEGER NOT NULL,
  CHECK ((machine_id IS NOT NULL) + (host_setting_id IS NOT NULL) + (model_id IS NOT NULL) + (group_id IS NOT NULL) = 1),
  CHECK (machine_id IS NULL OR slot IN ('before_group', 'after_group')),
  CHECK ((model_id IS NULL AND group_id IS NULL) OR slot = 'distribution')
);
CREATE INDEX software_registrations_owner
  ON software_registrations(ifnull(machine_id, 0), ifnull(host_setting_id, 0), ifnull(model_id, 0), ifnull(group_id, 0), timing, slot, position);

CREATE TABLE distribution_history (
  machine_id    INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  software_id   INTEGER REFERENCES software(id) ON DELETE SET NULL,
  software_name TEXT NOT NULL,
  version       TEXT NOT NULL DEFAULT '',
  content_date  TEXT NOT NULL DEFAULT '',
  installed_at  TEXT NOT NULL,
  job_id        INTEGER,
  PRIMARY KEY (machine_id, seq)
);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash TEXT NOT NULL,           -- scrypt, never plain
  level         TEXT NOT NULL DEFAULT 'operator' CHECK (level IN ('administrator', 'operator')),
  disabled      INTEGER NOT NULL DEFAULT 0,
  updated_at    TEXT NOT NULL
);
`;

const V1_RUNTIME = `
CREATE TABLE jobs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  sequence         TEXT NOT NULL,
  main             INTEGER NOT NULL DEFAULT 1,   -- listed by plain 'asjob'
  parent_id        INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
  params           TEXT NOT NULL DEFAULT '{}',
  status           TEXT NOT NULL CHECK (status IN ('held', 'running', 'completed', 'failed', 'canceled', 'abandoned')),
  progress         INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  phase            TEXT NOT NULL DEFAULT '',
  origin           TEXT NOT NULL DEFAULT 'pvmutl',
  created_at       TEXT NOT NULL,
  started_at       TEXT,
  ended_at         TEXT,
  pid              INTEGER,
  heartbeat_at     TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  error            TEXT
);
CREATE INDEX jobs_status ON jobs(status);

CREATE TABLE job_steps (
  job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  name       TEXT NOT NULL,
  tag        TEXT NOT NULL,
  target     TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'canceled', 'skipped')),
  started_at TEXT NOT NULL,
  ended_at   TEXT,
  output     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, seq)
);

-- One row per reserved resource: the primary key makes double reservation impossible.
CREATE TABLE reservations (
  resource    TEXT NOT NULL CHECK (resource IN ('machine', 'host_setting', 'vm_server', 'datastore', 'group')),
  resource_id TEXT NOT NULL,
  job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  PRIMARY KEY (resource, resource_id)
);

CREATE TABLE events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  time       TEXT NOT NULL,
  source     TEXT NOT NULL,
  event_id   INTEGER NOT NULL,
  type       TEXT NOT NULL CHECK (type IN ('information', 'warning', 'error')),
  message    TEXT NOT NULL,
  machine    TEXT,
  group_path TEXT,
  job_id     INTEGER
);

-- Who changed what, when, with which result; arguments are stored with secrets redacted.
CREATE TABLE audit (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  time      TEXT NOT NULL,
  uid       INTEGER,
  user      TEXT NOT NULL,
  command   TEXT NOT NULL,
  exit_code INTEGER NOT NULL
);
`;

// The engine: what a job needs, how it ended, the Japanese event text, and the
// state the sim driver keeps for the machines it serves (adopted since by the sim
// driver's own schema component, adapters/sim/schema.ts).
const V2_ENGINE = `
ALTER TABLE jobs ADD COLUMN command TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN exit_code INTEGER;
ALTER TABLE events ADD COLUMN message_ja TEXT NOT NULL DEFAULT '';
CREATE INDEX reservations_job ON reservations(job_id);
CREATE INDEX job_steps_job ON job_steps(job_id);

CREATE TABLE sim_power (
  machine_id INTEGER PRIMARY KEY REFERENCES machines(id) ON DELETE CASCADE,
  state      TEXT NOT NULL CHECK (state IN ('on', 'off', 'suspended'))
);
CREATE TABLE sim_vlan_ports (
  vlan       TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  PRIMARY KEY (vlan, machine_id)
);
CREATE TABLE sim_lb_members (
  lb_group   TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  address    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (lb_group, machine_id)
);
CREATE TABLE sim_volumes (
  volume     TEXT NOT NULL,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  PRIMARY KEY (volume, machine_id)
);
CREATE TABLE sim_installed (
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  software   TEXT NOT NULL,
  version    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (machine_id, seq)
);
CREATE TABLE sim_registrations (
  system     TEXT NOT NULL CHECK (system IN ('dpm', 'monitor')),
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  address    TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (system, machine_id)
);
-- Failure injection: the next 'remaining' calls of an operation on a machine
-- (machine '*' = any) fail with 'message'; remaining NULL = every call.
CREATE TABLE sim_faults (
  id        INTEGER PRIMARY KEY,
  machine   TEXT NOT NULL COLLATE NOCASE,
  operation TEXT NOT NULL,
  remaining INTEGER CHECK (remaining IS NULL OR remaining > 0),
  message   TEXT NOT NULL DEFAULT ''
);
`;

// Software distribution over SSH: how kanri reaches a machine's OS, and the
// host keys an administrator accepted (never learned silently).
const V3_SSH = `
ALTER TABLE machines ADD COLUMN os_address TEXT;
ALTER TABLE machines ADD COLUMN ssh_user TEXT;
ALTER TABLE machines ADD COLUMN ssh_port INTEGER CHECK (ssh_port IS NULL OR ssh_port BETWEEN 1 AND 65535);
ALTER TABLE machines ADD COLUMN ssh_key_path TEXT;
CREATE TABLE ssh_known_hosts (
  host        TEXT NOT NULL,
  port        INTEGER NOT NULL,
  key_type    TEXT NOT NULL,
  key         TEXT NOT NULL,          -- base64 of the public host key blob
  fingerprint TEXT NOT NULL,          -- SHA256:… as ssh-keygen -l prints it
  added_at    TEXT NOT NULL,
  PRIMARY KEY (host, port, key_type)
);
`;

// dscli: a registered server is a machine with a management controller. BMC settings on
// the machine row (the password only as an AES-256-GCM sealed value, see secrets.ts),
// dscli's own server groups, received alerts and up to five trap forwarding destinations.
const V4_DSCLI = `
ALTER TABLE machines ADD COLUMN mgmt_type TEXT CHECK (mgmt_type IS NULL OR mgmt_type IN ('ipmi', 'redfish', 'sim'));
ALTER TABLE machines ADD COLUMN bmc_address TEXT;
ALTER TABLE machines ADD COLUMN bmc_port INTEGER CHECK (bmc_port IS NULL OR bmc_port BETWEEN 1 AND 65535);
ALTER TABLE machines ADD COLUMN bmc_user TEXT;
ALTER TABLE machines ADD COLUMN bmc_secret TEXT;            -- sealed, never plain
ALTER TABLE machines ADD COLUMN cipher_suite INTEGER;       -- NULL = probe (auto)
ALTER TABLE machines ADD COLUMN bmc_probe TEXT;             -- JSON of the last cipher-suite probe
ALTER TABLE machines ADD COLUMN last_power TEXT CHECK (last_power IS NULL OR last_power IN ('on', 'off', 'unknown'));
ALTER TABLE machines ADD COLUMN last_status TEXT;           -- ok / the reason of the last failure
ALTER TABLE machines ADD COLUMN last_checked_at TEXT;
ALTER TABLE machines ADD COLUMN dscli_created INTEGER NOT NULL DEFAULT 0;  -- row made by createServer
CREATE UNIQUE INDEX machines_bmc ON machines(bmc_address, bmc_port) WHERE mgmt_type IS NOT NULL AND bmc_address IS NOT NULL;

CREATE TABLE dscli_groups (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at TEXT NOT NULL
);
CREATE TABLE dscli_group_members (
  group_id   INTEGER NOT NULL REFERENCES dscli_groups(id) ON DELETE CASCADE,
  machine_id INTEGER NOT NULL REFERENCES machines(id) ON DELETE CASCADE,
  position   INTEGER NOT NULL,
  PRIMARY KEY (group_id, machine_id)
);
CREATE TABLE dscli_alerts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  time        TEXT NOT NULL,
  machine_id  INTEGER REFERENCES machines(id) ON DELETE SET NULL,
  source      TEXT NOT NULL,                   -- sender address
  kind        TEXT NOT NULL DEFAULT 'pet',     -- pet / snmp
  severity    TEXT NOT NULL DEFAULT 'information',
  event       TEXT NOT NULL DEFAULT '',
  message     TEXT NOT NULL
);
CREATE INDEX dscli_alerts_machine ON dscli_alerts(machine_id, id);
CREATE TABLE dscli_trap_forwards (
  idx       INTEGER PRIMARY KEY CHECK (idx BETWEEN 1 AND 5),
  address   TEXT NOT NULL,
  port      INTEGER NOT NULL DEFAULT 162 CHECK (port BETWEEN 1 AND 65535),
  community TEXT NOT NULL DEFAULT 'public'
);
`;

// The driver contract: settings of machines and groups for the drivers that serve them
// (one row per driver and key, shared by every interface that driver serves for the
// owner; secrets only sealed), the versions of the drivers' own schema components
// (store/components.ts), and a configuration generation that long-running processes
// compare to drop what they cached when the configuration changes.
const V5_DRIVERS = `
CREATE TABLE driver_settings (
  machine_id INTEGER REFERENCES machines(id) ON DELETE CASCADE,
  group_id   INTEGER REFERENCES groups(id) ON DELETE CASCADE,
  driver     TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  sealed     INTEGER NOT NULL DEFAULT 0 CHECK (sealed IN (0, 1)),
  CHECK ((machine_id IS NULL) <> (group_id IS NULL))
);
CREATE UNIQUE INDEX driver_settings_owner ON driver_settings(coalesce(machine_id, 0), coalesce(group_id, 0), driver, key);
CREATE INDEX driver_settings_group ON driver_settings(group_id);

CREATE TABLE schema_components (
  name    TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);

CREATE TABLE config_generation (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  n  INTEGER NOT NULL
);
INSERT INTO config_generation (id, n) VALUES (1, 0);
`;

// Every foreign key has an index led by its column: deleting a referenced row (config
// apply over a large store) looks the references up instead of scanning whole tables.
const V6_FOREIGN_KEY_INDEXES = `
CREATE INDEX categories_parent ON categories(parent_id);
CREATE INDEX groups_category ON groups(category_id);
CREATE INDEX groups_template ON groups(template_id);
CREATE INDEX groups_policy ON groups(policy_id);
CREATE INDEX models_vm_server_model ON models(vm_server_model_id);
CREATE INDEX models_template ON models(template_id);
CREATE INDEX models_policy ON models(policy_id);
CREATE INDEX host_setting_volumes_volume ON host_setting_volumes(volume_id);
CREATE INDEX machines_vm_server ON machines(vm_server_id);
CREATE INDEX machines_model ON machines(model_id);
CREATE INDEX pool_members_model ON pool_members(model_id);
CREATE INDEX software_registrations_group ON software_registrations(group_id);
CREATE INDEX software_registrations_model ON software_registrations(model_id);
CREATE INDEX software_registrations_host_setting ON software_registrations(host_setting_id);
CREATE INDEX software_registrations_machine ON software_registrations(machine_id);
CREATE INDEX software_registrations_software ON software_registrations(software_id);
CREATE INDEX distribution_history_software ON distribution_history(software_id);
CREATE INDEX jobs_parent ON jobs(parent_id);
CREATE INDEX dscli_group_members_machine ON dscli_group_members(machine_id);
CREATE INDEX driver_settings_machine ON driver_settings(machine_id);
`;

// Which key seals this store's secrets, told without giving it: an HMAC of a fixed label
// under the key (store/key-check.ts). Every manager sharing the store compares its key file
// with it, so that a manager with another key refuses to start instead of sealing secrets
// that the others cannot open. One row at most; none until the first key is recorded.
const V7_KEY_CHECK = `
CREATE TABLE key_check (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  value       TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
`;

// Several managers on one store: every process that owns work (a command running jobs, a
// daemon) keeps a row with a heartbeat and a lease (engine/managers.ts), and a job names the
// manager and the process that own it, so that any manager can tell a dead owner's jobs
// (engine/jobs.ts, sweepAbandoned) where a pid means nothing (another host, a container).
const V8_MANAGERS = `
CREATE TABLE managers (
  owner        TEXT PRIMARY KEY,   -- the process: host, pid, pid namespace, boot, token
  manager      TEXT NOT NULL,      -- KANRI_MANAGER, default the host name
  role         TEXT NOT NULL CHECK (role IN ('cli', 'monitor', 'serve')),
  started_at   TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL       -- without a heartbeat by then, its jobs are abandoned
);
CREATE INDEX managers_manager ON managers(manager);
ALTER TABLE jobs ADD COLUMN manager TEXT;
ALTER TABLE jobs ADD COLUMN owner TEXT;
CREATE INDEX jobs_owner ON jobs(owner);
`;

// Names fold alike on both back ends (domain/names.ts, foldName): compatibility forms, kana and
// ignorable code points as a name column's collation on PostgreSQL folds them. Nothing changes
// in the tables; the step is there so that a PostgreSQL store already at version 8 runs the
// prelude again (store/db.ts runs it only when a migration is due), which replaces kfold().
const V9_NAME_FOLDING = `
-- kfold() folds as foldName() does (the PostgreSQL prelude)
`;

export const MIGRATIONS: readonly string[] = [V1_DOMAIN + V1_RUNTIME, V2_ENGINE, V3_SSH, V4_DSCLI, V5_DRIVERS, V6_FOREIGN_KEY_INDEXES, V7_KEY_CHECK, V8_MANAGERS, V9_NAME_FOLDING];
