// Fencing before a takeover. The N+1 replacement gives the source machine's host setting
// (its addresses) to a pool machine; if the source is still running, two machines answer
// for one address. So the source must be known to be off first, in this order (as
// Pacemaker and Ironic do it):
//   1. its controller: ACPI shutdown, then a hard power off, each read back;
//   2. the group's fence, when it has one (`fence: vlan`, a group setting of the kanri
//      driver): the group's vlan driver confirms on the switch that the machine's ports are
//      out of the group's VLAN, so that nothing it sends reaches the group's network;
//   3. otherwise the job waits, visibly ("waiting for fencing" in kanri machine list and
//      kanri monitor status), retrying the controller, until an operator who has made sure
//      runs `kanri machine confirm-off NAME` (recorded with who and when in the event log).
// Never a silent takeover; a canceled wait leaves the pool machine untouched.
import { wait } from '../util/wait.js';
import { bindInterface, driverNameFor } from '../adapters/registry.js';
import { SettingReader } from '../adapters/setting-reader.js';
import type { MachineRef, PowerActions } from '../adapters/types.js';
import { KANRI_MONITOR } from '../adapters/kanri/spec.js';
import type { Db } from '../store/db.js';
import { whoAmI } from '../store/audit.js';
import { writeFencingEvent, writeVlanEvent } from './events.js';
import type { OpContext } from './operations.js';

export const FENCE_METHODS = ['none', 'vlan'] as const;

const reader = (c: OpContext): SettingReader => new SettingReader(c.db, KANRI_MONITOR.name, KANRI_MONITOR.settings, { groupId: c.group?.id ?? null });

const why = (e: unknown): string => (e as Error)?.message ?? String(e);

/** Step 1: the controller; true when the machine is read back off. */
async function byController(c: OpContext, p: PowerActions, m: MachineRef, shutdown: () => Promise<void>): Promise<string | undefined> {
  try {
    await shutdown();
    return undefined;
  } catch (e) {
    c.signal.throwIfAborted();
    c.log(`${m.name}: shutdown through the controller failed: ${why(e)}`);
  }
  try {
    const r = await p.act(c, m, 'off', { force: true });
    if (r.after === 'off') {
      c.log(`${m.name}: powered off hard through the controller`);
      return undefined;
    }
    return `the controller says ${r.after} after a hard power off`;
  } catch (e) {
    c.signal.throwIfAborted();
    return `the controller does not answer: ${why(e)}`;
  }
}

/** Step 2: the group's fence; true when it isolated the machine. */
async function byGroupFence(c: OpContext, m: MachineRef): Promise<boolean> {
  const method = reader(c).need('fence');
  if (method === 'none') return false;
  const group = c.side.group;
  const driver = group ? driverNameFor(c.db, m.id, group.id, 'vlan') : undefined;
  if (!group?.vlan || !driver) {
    c.log(`${m.name}: fence ${method}: the group has no VLAN or no vlan driver`);
    return false;
  }
  try {
    // Read first, send only what differs: on a port already out of the VLAN this is a confirmation.
    const changes = (await (await bindInterface(c.db, driver, 'vlan')).removePort(c, m, group.vlan)) ?? [];
    for (const ch of changes) writeVlanEvent(c.db, ch.kind, { machine: m.name, group: group.path, jobId: c.jobId, switch: ch.switch, vlan: ch.vlan, port: ch.port ?? '' });
    c.log(`${m.name}: fenced: its switch ports are out of VLAN ${group.vlan} (${driver})`);
    writeFencingEvent(c.db, 'fenced', { machine: m.name, group: group.path, jobId: c.jobId, detail: `switch ports out of VLAN ${group.vlan}` });
    return true;
  } catch (e) {
    c.signal.throwIfAborted();
    c.log(`${m.name}: fence ${method} failed: ${why(e)}`);
    return false;
  }
}

/** Step 3: wait for the controller to say off, or for an operator's confirmation. */
async function waitForConfirmation(c: OpContext, p: PowerActions, m: MachineRef, reason: string): Promise<void> {
  const r = reader(c);
  const pollMs = r.num('kanri.fence_poll_s')! * 1000;
  const retryMs = r.num('kanri.fence_retry_s')! * 1000;
  c.db.prepare(`INSERT INTO fencing_waits (machine_id, job_id, since, reason) VALUES (?, ?, ?, ?)
    ON CONFLICT (machine_id) DO UPDATE SET job_id = excluded.job_id, since = excluded.since, reason = excluded.reason, confirmed_by = NULL, confirmed_at = NULL`)
    .run(m.id, c.jobId, new Date().toISOString(), reason);
  writeFencingEvent(c.db, 'waiting', { machine: m.name, group: c.side.group?.path ?? '', jobId: c.jobId, detail: reason });
  c.log(`${m.name}: waiting for fencing (${reason}): make sure it is off, then run kanri machine confirm-off ${m.name}`);
  const done = (): void => { c.db.prepare('DELETE FROM fencing_waits WHERE machine_id = ?').run(m.id); };
  let lastTry = Date.now();
  try {
    for (;;) {
      const row = c.db.prepare('SELECT confirmed_by, confirmed_at FROM fencing_waits WHERE machine_id = ?').get(m.id) as { confirmed_by: string | null; confirmed_at: string | null } | undefined;
      if (row?.confirmed_at) {
        // Its controller never answered: the machine goes back to a pool unable to be powered
        // or read, so it is no "normal pool machine" (seed 004 L2457, L2476) and automatic
        // selection must pass it over until an operator repairs it and runs kanri machine reset.
        c.db.prepare("UPDATE machines SET management_status = 'abnormal' WHERE id = ?").run(m.id);
        c.log(`${m.name}: confirmed off by ${row.confirmed_by} at ${row.confirmed_at}; its controller does not answer: management status abnormal (kanri machine reset ${m.name} once it is repaired)`);
        return;
      }
      if (Date.now() - lastTry >= retryMs) {
        lastTry = Date.now();
        const state = await p.state(c, m).then((s) => s.state, () => 'unknown');
        if (state === 'off') {
          c.log(`${m.name}: the controller answers again: off`);
          return;
        }
      }
      await wait(pollMs, c.signal);
    }
  } finally {
    done();
  }
}

/**
 * The source machine of a takeover is off when this returns: shut down through its
 * controller, isolated by the group's fence, or confirmed off by an operator.
 */
export async function fenceOff(c: OpContext, p: PowerActions, m: MachineRef, shutdown: () => Promise<void>): Promise<void> {
  const reason = await byController(c, p, m, shutdown);
  if (reason === undefined) return;
  if (await byGroupFence(c, m)) return;
  await waitForConfirmation(c, p, m, reason);
}

/**
 * Whether the machine's controller answers a power-state read: false when it does not (or
 * reads nothing), undefined when the machine has no power driver to ask.
 */
export async function controllerAnswers(c: OpContext, m: MachineRef): Promise<boolean | undefined> {
  const driver = driverNameFor(c.db, m.id, c.side.group?.id ?? null, 'power');
  if (!driver) return undefined;
  try {
    const p = await bindInterface(c.db, driver, 'power');
    return (await p.state(c, m)).state !== 'unknown';
  } catch (e) {
    c.signal.throwIfAborted();
    c.log(`${m.name}: its controller does not answer: ${why(e)}`);
    return false;
  }
}

// ---- what operators see and do -------------------------------------------------------------------

export interface FencingWait { machine: string; jobId: number | null; since: string; reason: string }

/** The machines a takeover waits on, by machine id. */
export function fencingWaits(db: Db): Map<number, FencingWait> {
  const rows = db.prepare('SELECT f.machine_id, m.name, f.job_id, f.since, f.reason FROM fencing_waits f JOIN machines m ON m.id = f.machine_id WHERE f.confirmed_at IS NULL ORDER BY f.since')
    .all() as Array<{ machine_id: number; name: string; job_id: number | null; since: string; reason: string }>;
  return new Map(rows.map((r) => [r.machine_id, { machine: r.name, jobId: r.job_id, since: r.since, reason: r.reason }]));
}

/**
 * kanri machine confirm-off: the operator vouches that the machine is off (or cut off);
 * the waiting takeover goes on. False when no takeover waits on it.
 */
export function confirmOff(db: Db, machine: { id: number; name: string }, who = whoAmI()): { confirmedAt: string; jobId: number | null } | undefined {
  return db.transaction(() => {
    const at = new Date().toISOString();
    const w = db.prepare('SELECT job_id FROM fencing_waits WHERE machine_id = ? AND confirmed_at IS NULL').get(machine.id) as { job_id: number | null } | undefined;
    if (!w) return undefined;
    db.prepare('UPDATE fencing_waits SET confirmed_by = ?, confirmed_at = ? WHERE machine_id = ?').run(who, at, machine.id);
    writeFencingEvent(db, 'confirmed', { machine: machine.name, group: '', jobId: w.job_id, detail: `by ${who} at ${at}` });
    return { confirmedAt: at, jobId: w.job_id };
  }).immediate();
}
