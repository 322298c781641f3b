// Store → data-centre description (the inverse of apply).
import type { Db } from '../store/db.js';
import { groupPathParts } from '../domain/paths.js';
import { hostRef, volumesOf } from '../engine/refs.js';
import { controllerSetting } from '../adapters/registry.js';
import { type Owner, plainDriverSettings } from '../adapters/settings.js';
import { prepared } from '../store/statements.js';
import { openSettingValue } from '../store/settings.js';
import { isSecretSetting } from './settings-catalogue.js';
import {
  type CategoryDoc, type DataCentre, type Drivers, type GroupDoc, type GroupSoftware, type HostSoftware,
  type Interface, type MachineDoc, type SlotSoftware, canonical,
} from './document.js';

type Row = Record<string, any>;

interface Registration { owner: string; timing: 'activation' | 'standby'; slot: 'before_group' | 'distribution' | 'after_group'; name: string }

function registrations(db: Db): Map<string, Registration[]> {
  const rows = prepared(db, 
    `SELECT r.machine_id, r.host_setting_id, r.model_id, r.group_id, r.timing, r.slot, s.name
       FROM software_registrations r JOIN software s ON s.id = r.software_id
      ORDER BY r.position`,
  ).all() as Row[];
  const out = new Map<string, Registration[]>();
  for (const r of rows) {
    const owner = r.machine_id !== null ? `machine:${r.machine_id}` : r.host_setting_id !== null ? `host:${r.host_setting_id}`
      : r.model_id !== null ? `model:${r.model_id}` : `group:${r.group_id}`;
    (out.get(owner) ?? out.set(owner, []).get(owner)!).push({ owner, timing: r.timing, slot: r.slot, name: r.name });
  }
  return out;
}

function groupSoftware(regs: Registration[] = []): GroupSoftware {
  return {
    activation: regs.filter((r) => r.timing === 'activation').map((r) => r.name),
    standby: regs.filter((r) => r.timing === 'standby').map((r) => r.name),
  };
}

function hostSoftware(regs: Registration[] = [], withDistribution: boolean): HostSoftware {
  const slot = (timing: string): SlotSoftware => {
    const pick = (s: string): string[] => regs.filter((r) => r.timing === timing && r.slot === s).map((r) => r.name);
    return withDistribution
      ? { before_group: pick('before_group'), distribution: pick('distribution'), after_group: pick('after_group') }
      : { before_group: pick('before_group'), after_group: pick('after_group') };
  };
  return { activation: slot('activation'), standby: slot('standby') };
}

function driversOf(rows: Row[]): Drivers {
  const d: Drivers = {};
  for (const r of rows) d[r.interface as Interface] = r.driver;
  return d;
}

/** Sets key only when the value is present, so that absent optionals stay absent. */
function opt<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | null | undefined): void {
  if (v !== null && v !== undefined) o[k] = v;
}

export function exportDataCentre(db: Db): DataCentre {
  const withDriverSettings = (owner: Owner): { driver_settings?: Record<string, Record<string, string>> } => {
    const s = plainDriverSettings(db, owner);
    return Object.keys(s).length ? { driver_settings: s } : {};
  };
  const regs = registrations(db);
  const nameOf = (table: string, id: number | null): string | undefined =>
    id === null ? undefined : (prepared(db, `SELECT name FROM ${table} WHERE id = ?`).get(id) as Row | undefined)?.name;

  const modelPath = (modelId: number): string => {
    const m = prepared(db, 'SELECT name, group_id FROM models WHERE id = ?').get(modelId) as Row;
    return [...groupPathParts(db, m.group_id), m.name].join('/');
  };

  const group = (g: Row): GroupDoc => {
    const doc: GroupDoc = {
      name: g.name, priority: g.priority, type: g.machine_type, allow_common_pool: !!g.allow_common_pool,
      storage: !!g.storage, dpm_registration: !!g.dpm_registration, prefer_cpu_blade: !!g.prefer_cpu_blade,
      description: g.description,
      drivers: driversOf(prepared(db, 'SELECT interface, driver FROM group_drivers WHERE group_id = ? ORDER BY interface').all(g.id) as Row[]),
      ...withDriverSettings({ groupId: g.id }),
      software: groupSoftware(regs.get(`group:${g.id}`)),
      models: (prepared(db, 'SELECT * FROM models WHERE group_id = ?').all(g.id) as Row[]).map((m) => {
        const md: GroupDoc['models'][number] = {
          name: m.name, priority: m.priority, register_dpm_on_create: !!m.register_dpm_on_create,
          optimal_startup: !!m.optimal_startup, description: m.description, software: groupSoftware(regs.get(`model:${m.id}`)),
        };
        opt(md, 'policy', nameOf('policies', m.policy_id));
        opt(md, 'template', nameOf('software', m.template_id));
        if (m.vm_server_model_id !== null) md.vm_server_model = modelPath(m.vm_server_model_id);
        if (m.placement) md.placement = { high: m.load_high, target_high: m.load_target_high, target_low: m.load_target_low, low: m.load_low };
        return md;
      }),
      host_settings: (prepared(db, 'SELECT id FROM host_settings WHERE group_id = ? ORDER BY position').all(g.id) as Row[]).map((h) => {
        const ref = hostRef(db, h.id);
        return { host: ref.hostName, nics: ref.nics, tags: ref.tags, volumes: volumesOf(db, h.id), software: hostSoftware(regs.get(`host:${h.id}`), true) };
      }),
      pool: (prepared(db, 
        `SELECT m.name AS machine, md.name AS model FROM pool_members p JOIN machines m ON m.id = p.machine_id
           LEFT JOIN models md ON md.id = p.model_id WHERE p.group_id = ? ORDER BY p.position, m.name`,
      ).all(g.id) as Row[]).map((p) => (p.model === null ? { machine: p.machine } : { machine: p.machine, model: p.model })),
    };
    opt(doc, 'policy', nameOf('policies', g.policy_id));
    opt(doc, 'vlan', g.vlan);
    opt(doc, 'load_balancer', g.lb_group);
    opt(doc, 'template', nameOf('software', g.template_id));
    return doc;
  };

  const category = (c: Row): CategoryDoc => ({
    name: c.name, priority: c.priority, description: c.description,
    categories: (prepared(db, 'SELECT * FROM categories WHERE parent_id = ?').all(c.id) as Row[]).map(category),
    groups: (prepared(db, 'SELECT * FROM groups WHERE category_id = ?').all(c.id) as Row[]).map(group),
  });

  const machines: MachineDoc[] = (prepared(db, 'SELECT * FROM machines').all() as Row[]).map((m) => {
    const doc: MachineDoc = {
      name: m.name, kind: m.kind,
      macs: (prepared(db, 'SELECT mac FROM machine_macs WHERE machine_id = ? ORDER BY nic_no').all(m.id) as Row[]).map((x) => x.mac),
      hw_model_auto: !!m.hw_model_name_auto,
      tags: (prepared(db, 'SELECT tag FROM machine_tags WHERE machine_id = ? ORDER BY seq').all(m.id) as Row[]).map((t) => t.tag),
      power: m.power_state, hardware_status: m.hardware_status, management_status: m.management_status,
      maintenance: !!m.maintenance,
      datastores: (prepared(db, 'SELECT name, capacity_gb, shared FROM datastores WHERE vm_server_id = ? ORDER BY name COLLATE NOCASE').all(m.id) as Row[])
        .map((d) => (d.capacity_gb === null ? { name: d.name, shared: !!d.shared } : { name: d.name, capacity_gb: d.capacity_gb, shared: !!d.shared })),
      dpm_registered: !!m.dpm_registered,
      drivers: driversOf(prepared(db, 'SELECT interface, driver FROM machine_drivers WHERE machine_id = ? ORDER BY interface').all(m.id) as Row[]),
      ...withDriverSettings({ machineId: m.id }),
      software: hostSoftware(regs.get(`machine:${m.id}`), false),
      description: m.description,
    };
    opt(doc, 'uuid', m.uuid);
    opt(doc, 'hw_model', m.hw_model_name);
    opt(doc, 'mgmt_address', m.mgmt_address);
    opt(doc, 'datacenter', m.datacenter);
    opt(doc, 'vm_server', nameOf('machines', m.vm_server_id));
    opt(doc, 'datastore', m.datastore);
    opt(doc, 'cost', m.cost);
    opt(doc, 'capacity', m.capacity);
    opt(doc, 'os_address', m.os_address);
    opt(doc, 'ssh_user', m.ssh_user);
    opt(doc, 'ssh_port', m.ssh_port);
    opt(doc, 'ssh_key_path', m.ssh_key_path);
    if (m.mgmt_type) {
      const bmc: NonNullable<MachineDoc['bmc']> = { type: m.mgmt_type };
      opt(bmc, 'address', m.bmc_address);
      opt(bmc, 'port', m.bmc_port);
      opt(bmc, 'user', m.bmc_user);
      // No suite stored is 'auto' for a type that has the setting.
      opt(bmc, 'cipher', m.cipher_suite ?? (controllerSetting(m.mgmt_type, 'cipher') ? 'auto' : null));
      doc.bmc = bmc;
    }
    if (m.group_id !== null && m.host_setting_id !== null) {
      const h = prepared(db, 'SELECT host_name FROM host_settings WHERE id = ?').get(m.host_setting_id) as Row;
      doc.active = {
        group: groupPathParts(db, m.group_id).join('/'),
        model: nameOf('models', m.model_id) ?? '',
        host: h.host_name,
        from: m.activated_from ?? 'group_pool',
      };
      opt(doc.active, 'since', m.activated_at);
    }
    return doc;
  });

  const settings: Record<string, string> = {};
  // A secret setting in clear, as a file gives it; compactDocument leaves it out of an export
  // without --with-secrets, and apply seals it again.
  for (const s of prepared(db, 'SELECT key, value FROM settings').all() as Row[]) settings[s.key] = isSecretSetting(s.key) ? openSettingValue(db, s.key, s.value) : s.value;

  return canonical({
    kanri: 1,
    settings,
    software: (prepared(db, 'SELECT * FROM software').all() as Row[]).map((s) => {
      const doc: DataCentre['software'][number] = { name: s.name, kind: s.kind, version: s.version, date: s.content_date, source: s.source, description: s.description };
      opt(doc, 'cost', s.cost);
      return doc;
    }),
    policies: (prepared(db, 'SELECT * FROM policies').all() as Row[]).map((p) => ({
      name: p.name, description: p.description, suppression_seconds: p.suppression_seconds,
      rules: (prepared(db, 'SELECT * FROM policy_rules WHERE policy_id = ? ORDER BY position').all(p.id) as Row[]).map((r) => ({
        event: r.event_name, triggers: JSON.parse(r.triggers), action_name: r.action_name, actions: JSON.parse(r.actions),
        suppress: !!r.suppress, enabled: !!r.enabled,
      })),
    })),
    volumes: (prepared(db, 'SELECT * FROM disk_volumes').all() as Row[]).map((v) => ({
      name: v.name, array: v.array_name, kind: v.array_kind, shared: !!v.shared, description: v.description,
    })),
    categories: (prepared(db, 'SELECT * FROM categories WHERE parent_id IS NULL').all() as Row[]).map(category),
    groups: (prepared(db, 'SELECT * FROM groups WHERE category_id IS NULL').all() as Row[]).map(group),
    machines,
    users: (prepared(db, 'SELECT name, level, password_hash, disabled FROM users').all() as Row[]).map((u) => ({
      name: u.name, level: u.level, password_hash: u.password_hash, disabled: !!u.disabled,
    })),
  });
}

