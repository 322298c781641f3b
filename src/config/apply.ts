// Data-centre description → store. Objects keep their row ids when their name
// (within its scope) is unchanged, so that jobs, history and events that refer
// to them stay attached; objects missing from the description are removed, but a
// removal that would lose state the file cannot restore only with --prune (plan.ts).
import type { Db } from '../store/db.js';
import { prepared } from '../store/statements.js';
import {
  type CategoryDoc, type DataCentre, type GroupDoc, type GroupSoftware, type HostSoftware, allGroups, stableStringify,
} from './document.js';
import { exportDataCentre } from './export.js';
import { formatJobId } from '../engine/plan.js';
import { sweepAbandoned } from '../engine/jobs.js';
import { type PlanEntry, planApply, planLine } from './plan.js';
import { replacePlainDriverSettings } from '../adapters/settings.js';
import { bumpGeneration } from '../store/generation.js';
import { sealSettingValue } from '../store/settings.js';
import { isSecretSetting } from './settings-catalogue.js';
import { foldName, namePairing } from '../domain/names.js';
import { INTERFACES } from '../adapters/types.js';
import { compareNames } from '../domain/paths.js';

export class ApplyRefused extends Error {}

type Cols = Record<string, string | number | null>;

/**
 * Makes the rows of `table` within one scope exactly `desired` (matched by
 * name, case-insensitively) and returns lower-case name → id.
 */
function syncByName(db: Db, table: string, nameCol: string, scope: { col: string; id: number | null } | null, desired: Array<{ name: string; cols: Cols }>): Map<string, number> {
  const q = (sql: string): ReturnType<typeof prepared> => prepared(db, sql);
  const where = scope === null ? '1' : scope.id === null ? `${scope.col} IS NULL` : `${scope.col} = ${Number(scope.id)}`;
  const existing = db.prepare(`SELECT id, ${nameCol} AS name FROM ${table} WHERE ${where}`).all() as Array<{ id: number; name: string }>;
  // A store may hold two names that fold alike (written before names folded as they do now):
  // the file's names pair with the store's as the plan pairs them (namePairing).
  const idOf = new Map(existing.map((e) => [e.name, e.id]));
  const pair = namePairing(idOf.keys());
  const ids = new Map<string, number>();
  const keep = new Set<number>();
  for (const d of desired) {
    const key = foldName(d.name);
    const cols: Cols = { ...d.cols, [nameCol]: d.name, ...(scope ? { [scope.col]: scope.id } : {}) };
    const names = Object.keys(cols);
    const spelling = pair(d.name);
    const id = spelling === undefined ? undefined : idOf.get(spelling);
    if (id !== undefined) {
      q(`UPDATE ${table} SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
      ids.set(key, id);
      keep.add(id);
    } else {
      const r = q(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((n) => '@' + n).join(', ')})`).run(cols);
      ids.set(key, Number(r.lastInsertRowid));
    }
  }
  const del = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
  for (const e of existing) if (!keep.has(e.id)) del.run(e.id);
  return ids;
}

const flag = (b: boolean): number => (b ? 1 : 0);

export interface ApplyResult { changed: boolean; counts: Record<string, number>; plan: PlanEntry[] }

export interface ApplyOptions {
  /** Remove also what carries state the file cannot restore. */
  prune?: boolean;
  /** Compute the plan, write nothing. */
  dryRun?: boolean;
}

/** The protected removals of a plan, as the refusal lists them. */
export function refusedRemovals(plan: PlanEntry[]): string {
  const p = plan.filter((e) => e.protect);
  return `it would remove ${p.length === 1 ? 'what' : `${p.length} things that`} the file cannot restore: ${p.map(planLine).join('; ')}; `
    + 'add them to the file, or give --prune to remove them';
}

/**
 * Accounts as the store keeps them: one the file names without a hash keeps the store's hash
 * (an export leaves hashes out unless --with-secrets); one the file does not name stays,
 * unless --prune. A new account without a hash cannot log in: refused.
 */
function withAccounts(current: DataCentre, dc: DataCentre, prune: boolean): DataCentre {
  const have = new Map(current.users.map((u) => [foldName(u.name), u]));
  const named = new Set(dc.users.map((u) => foldName(u.name)));
  const users = dc.users.map((u) => {
    if (u.password_hash) return u;
    const old = have.get(foldName(u.name));
    if (!old?.password_hash) throw new ApplyRefused(`user ${u.name} is new and has no password_hash; create it with kanri user add ${u.name}, or export with --with-secrets`);
    return { ...u, password_hash: old.password_hash };
  });
  if (!prune) users.push(...current.users.filter((u) => !named.has(foldName(u.name))));
  users.sort((a, b) => compareNames(a.name, b.name));
  return { ...dc, users };
}

/**
 * Secret settings as the store keeps them: one the file does not give keeps the store's value
 * (an export leaves them out unless --with-secrets); kanri settings unset removes it.
 */
function withSecretSettings(current: DataCentre, dc: DataCentre): DataCentre {
  const kept = Object.entries(current.settings).filter(([k]) => isSecretSetting(k) && !(k in dc.settings));
  return kept.length ? { ...dc, settings: { ...dc.settings, ...Object.fromEntries(kept) } } : dc;
}

export function applyDataCentre(db: Db, dc: DataCentre, opts: ApplyOptions = {}): ApplyResult {
  const counts = {
    categories: 0, groups: allGroups(dc).length, machines: dc.machines.length, software: dc.software.length,
    policies: dc.policies.length, users: dc.users.length,
  };
  const countCats = (cs: CategoryDoc[]): number => cs.reduce((n, c) => n + 1 + countCats(c.categories), 0);
  counts.categories = countCats(dc.categories);

  // A job whose process died is not "running": the same check every command makes.
  if (!opts.dryRun) sweepAbandoned(db);
  let changed = false;
  let plan: PlanEntry[] = [];
  const run = (): void => {
    const busy = db.prepare("SELECT id FROM jobs WHERE status IN ('running', 'held') ORDER BY id").all() as Array<{ id: number }>;
    if (busy.length && !opts.dryRun) {
      throw new ApplyRefused(`jobs are running (${busy.map((j) => formatJobId(j.id)).join(', ')}); wait for them or cancel them first`);
    }
    const current = exportDataCentre(db);
    dc = withSecretSettings(current, withAccounts(current, dc, !!opts.prune));
    if (stableStringify(current) === stableStringify(dc)) return;
    plan = planApply(db, current, dc);
    if (opts.dryRun) return;
    if (!opts.prune && plan.some((e) => e.protect)) throw new ApplyRefused(refusedRemovals(plan));
    changed = true;
    write(db, dc);
    bumpGeneration(db);
  };
  if (opts.dryRun) db.transaction(run)();
  else db.transaction(run).immediate();
  return { changed, counts, plan };
}

function write(db: Db, dc: DataCentre): void {
  // Statements are prepared once: an apply over a large store runs each of them many times.
  const q = (sql: string): ReturnType<typeof prepared> => prepared(db, sql);
  q('DELETE FROM settings').run();
  for (const [k, v] of Object.entries(dc.settings)) q('INSERT INTO settings (key, value) VALUES (?, ?)').run(k, isSecretSetting(k) ? sealSettingValue(db, k, v) : v);

  const software = syncByName(db, 'software', 'name', null, dc.software.map((s) => ({
    name: s.name, cols: { kind: s.kind, version: s.version, content_date: s.date, cost: s.cost ?? null, source: s.source, description: s.description },
  })));
  const swId = (n: string | undefined): number | null => (n === undefined ? null : software.get(foldName(n))!);

  const policies = syncByName(db, 'policies', 'name', null, dc.policies.map((p) => ({
    name: p.name, cols: { description: p.description, suppression_seconds: p.suppression_seconds },
  })));
  const policyId = (n: string | undefined): number | null => (n === undefined ? null : policies.get(foldName(n))!);
  q('DELETE FROM policy_rules').run();
  const insRule = q('INSERT INTO policy_rules (policy_id, position, event_name, triggers, action_name, actions, suppress, enabled) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const p of dc.policies) {
    p.rules.forEach((r, i) => insRule.run(policyId(p.name), i + 1, r.event, JSON.stringify(r.triggers), r.action_name, JSON.stringify(r.actions), flag(r.suppress), flag(r.enabled)));
  }

  const volumes = syncByName(db, 'disk_volumes', 'name', null, dc.volumes.map((v) => ({
    name: v.name, cols: { array_name: v.array, array_kind: v.kind, shared: flag(v.shared), description: v.description },
  })));

  // Machines first without their placement, so that groups can reference them.
  const machines = syncByName(db, 'machines', 'name', null, dc.machines.map((m) => ({
    name: m.name,
    cols: {
      kind: m.kind, uuid: m.uuid ?? null, hw_model_name: m.hw_model ?? null, hw_model_name_auto: flag(m.hw_model_auto),
      power_state: m.power, hardware_status: m.hardware_status, management_status: m.management_status,
      maintenance: flag(m.maintenance), datastore: m.datastore ?? null, datacenter: m.datacenter ?? null,
      cost: m.cost ?? null, capacity: m.capacity ?? null, dpm_registered: flag(m.dpm_registered),
      mgmt_address: m.mgmt_address ?? null, description: m.description,
      os_address: m.os_address ?? null, ssh_user: m.ssh_user ?? null, ssh_port: m.ssh_port ?? null, ssh_key_path: m.ssh_key_path ?? null,
      group_id: null, model_id: null, host_setting_id: null, activated_from: null, activated_at: null, vm_server_id: null,
      // Controllers are set in a second pass, so that two machines may swap them.
      bmc_address: null,
    },
  })));
  const machineId = (n: string): number => machines.get(foldName(n))!;

  q('DELETE FROM software_registrations').run();
  q('DELETE FROM pool_members').run();
  const insReg = q(
    `INSERT INTO software_registrations (software_id, machine_id, host_setting_id, model_id, group_id, timing, slot, position)
     VALUES (@software_id, @machine_id, @host_setting_id, @model_id, @group_id, @timing, @slot, @position)`,
  );
  type Owner = { machine_id?: number; host_setting_id?: number; model_id?: number; group_id?: number };
  const register = (owner: Owner, timing: string, slot: string, names: string[]): void => {
    names.forEach((n, i) => insReg.run({
      machine_id: null, host_setting_id: null, model_id: null, group_id: null, ...owner,
      software_id: swId(n), timing, slot, position: i + 1,
    }));
  };
  const registerGroupSoftware = (owner: Owner, s: GroupSoftware): void => {
    register(owner, 'activation', 'distribution', s.activation);
    register(owner, 'standby', 'distribution', s.standby);
  };
  const registerSlots = (owner: Owner, s: HostSoftware): void => {
    for (const timing of ['activation', 'standby'] as const) {
      for (const slot of ['before_group', 'distribution', 'after_group'] as const) register(owner, timing, slot, s[timing][slot] ?? []);
    }
  };

  const groupIds = new Map<string, number>();
  const modelIds = new Map<string, number>();
  const hostIds = new Map<string, number>();
  const pendingVsm: Array<{ model: number; path: string }> = [];

  const writeGroups = (categoryId: number | null, prefix: string[], groups: GroupDoc[]): void => {
    const ids = syncByName(db, 'groups', 'name', { col: 'category_id', id: categoryId }, groups.map((g) => ({
      name: g.name,
      cols: {
        priority: g.priority, machine_type: g.type, allow_common_pool: flag(g.allow_common_pool), policy_id: policyId(g.policy),
        storage: flag(g.storage), vlan: g.vlan ?? null, lb_group: g.load_balancer ?? null, dpm_registration: flag(g.dpm_registration),
        prefer_cpu_blade: flag(g.prefer_cpu_blade), template_id: swId(g.template), description: g.description,
      },
    })));
    for (const g of groups) {
      const gid = ids.get(foldName(g.name))!;
      const path = foldName([...prefix, g.name].join('/'));
      groupIds.set(path, gid);
      q('DELETE FROM group_drivers WHERE group_id = ?').run(gid);
      for (const i of INTERFACES) if (g.drivers[i]) q('INSERT INTO group_drivers (group_id, interface, driver) VALUES (?, ?, ?)').run(gid, i, g.drivers[i]);
      replacePlainDriverSettings(db, { groupId: gid }, g.driver_settings ?? {});
      registerGroupSoftware({ group_id: gid }, g.software);

      const models = syncByName(db, 'models', 'name', { col: 'group_id', id: gid }, g.models.map((m) => ({
        name: m.name,
        cols: {
          priority: m.priority, policy_id: policyId(m.policy), template_id: swId(m.template), vm_server_model_id: null,
          register_dpm_on_create: flag(m.register_dpm_on_create), optimal_startup: flag(m.optimal_startup),
          placement: flag(!!m.placement), load_high: m.placement?.high ?? null, load_target_high: m.placement?.target_high ?? null,
          load_target_low: m.placement?.target_low ?? null, load_low: m.placement?.low ?? null, description: m.description,
        },
      })));
      for (const m of g.models) {
        const mid = models.get(foldName(m.name))!;
        modelIds.set(`${path}/${foldName(m.name)}`, mid);
        registerGroupSoftware({ model_id: mid }, m.software);
        if (m.vm_server_model) pendingVsm.push({ model: mid, path: foldName(m.vm_server_model) });
      }

      // Positions are unique per group: park the old ones out of the way before renumbering.
      q('UPDATE host_settings SET position = -id WHERE group_id = ?').run(gid);
      const hosts = syncByName(db, 'host_settings', 'host_name', { col: 'group_id', id: gid }, g.host_settings.map((h, i) => ({ name: h.host, cols: { position: i + 1 } })));
      for (const h of g.host_settings) {
        const hid = hosts.get(foldName(h.host))!;
        hostIds.set(`${path}/${foldName(h.host)}`, hid);
        for (const t of ['host_setting_addresses', 'host_setting_gateways', 'host_setting_tags', 'host_setting_volumes']) q(`DELETE FROM ${t} WHERE host_setting_id = ?`).run(hid);
        h.nics.forEach((n, ni) => {
          n.addresses.forEach((a, ai) => q('INSERT INTO host_setting_addresses VALUES (?, ?, ?, ?, ?)').run(hid, ni + 1, ai + 1, a.ip, a.netmask));
          n.gateways.forEach((gw, gi) => q('INSERT INTO host_setting_gateways VALUES (?, ?, ?, ?)').run(hid, ni + 1, gi + 1, gw));
        });
        h.tags.forEach((t, ti) => q('INSERT INTO host_setting_tags VALUES (?, ?, ?)').run(hid, ti + 1, t));
        for (const v of h.volumes) q('INSERT INTO host_setting_volumes VALUES (?, ?)').run(hid, volumes.get(foldName(v))!);
        registerSlots({ host_setting_id: hid }, h.software);
      }
      g.pool.forEach((p, i) => {
        const model = p.model === undefined ? null : models.get(foldName(p.model))!;
        q('INSERT INTO pool_members (group_id, machine_id, model_id, position) VALUES (?, ?, ?, ?)').run(gid, machineId(p.machine), model, i + 1);
      });
    }
  };

  const writeCategories = (parentId: number | null, prefix: string[], cats: CategoryDoc[]): void => {
    const ids = syncByName(db, 'categories', 'name', { col: 'parent_id', id: parentId }, cats.map((c) => ({
      name: c.name, cols: { priority: c.priority, description: c.description },
    })));
    for (const c of cats) {
      const id = ids.get(foldName(c.name))!;
      writeCategories(id, [...prefix, c.name], c.categories);
      writeGroups(id, [...prefix, c.name], c.groups);
    }
  };
  writeCategories(null, [], dc.categories);
  writeGroups(null, [], dc.groups);
  for (const v of pendingVsm) q('UPDATE models SET vm_server_model_id = ? WHERE id = ?').run(modelIds.get(v.path)!, v.model);

  for (const t of ['machine_macs', 'machine_tags', 'machine_drivers', 'datastores']) q(`DELETE FROM ${t}`).run();
  for (const m of dc.machines) {
    const id = machineId(m.name);
    m.macs.forEach((mac, i) => q('INSERT INTO machine_macs VALUES (?, ?, ?)').run(id, i + 1, mac));
    m.tags.forEach((t, i) => q('INSERT INTO machine_tags VALUES (?, ?, ?)').run(id, i + 1, t));
    for (const i of INTERFACES) if (m.drivers[i]) q('INSERT INTO machine_drivers VALUES (?, ?, ?)').run(id, i, m.drivers[i]);
    replacePlainDriverSettings(db, { machineId: id }, m.driver_settings ?? {});
    for (const d of m.datastores) q('INSERT INTO datastores VALUES (?, ?, ?, ?)').run(id, d.name, d.capacity_gb ?? null, flag(d.shared));
    registerSlots({ machine_id: id }, m.software);
    if (m.vm_server) q('UPDATE machines SET vm_server_id = ? WHERE id = ?').run(machineId(m.vm_server), id);
    if (m.bmc) {
      q('UPDATE machines SET mgmt_type = ?, bmc_address = ?, bmc_port = ?, bmc_user = ?, cipher_suite = ? WHERE id = ?')
        .run(m.bmc.type, m.bmc.address ?? null, m.bmc.port ?? null, m.bmc.user ?? null, m.bmc.cipher === 'auto' ? null : m.bmc.cipher ?? null, id);
    } else {
      // No controller in the description: none in the store, and no password kept for it.
      q('UPDATE machines SET mgmt_type = NULL, bmc_port = NULL, bmc_user = NULL, bmc_secret = NULL, cipher_suite = NULL, bmc_probe = NULL WHERE id = ?').run(id);
    }
    if (m.active) {
      const g = foldName(m.active.group);
      q('UPDATE machines SET group_id = ?, model_id = ?, host_setting_id = ?, activated_from = ?, activated_at = ? WHERE id = ?').run(
        groupIds.get(g)!, modelIds.get(`${g}/${foldName(m.active.model)}`)!, hostIds.get(`${g}/${foldName(m.active.host)}`)!,
        m.active.from, m.active.since ?? null, id,
      );
    }
  }

  syncByName(db, 'users', 'name', null, dc.users.map((u) => ({
    name: u.name, cols: { level: u.level, password_hash: u.password_hash ?? '', disabled: flag(u.disabled), updated_at: new Date().toISOString() },
  })));
}
