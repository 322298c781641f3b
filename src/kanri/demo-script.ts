// The narrated tour. Each step shows the command line an administrator would
// type, what it printed and its exit code, on a throw-away store built from
// fixtures/datacentre.yaml and served by the sim driver.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Db } from '../store/db.js';
import { openStore } from '../open-store.js';
import { readDataCentre } from '../config/validate.js';
import { applyDataCentre } from '../config/apply.js';
import { exportDataCentre } from '../config/export.js';
import { runPvmutl } from '../pvmutl/main.js';
import type { Io } from '../pvmutl/io.js';
import { formatJobId } from '../engine/plan.js';
import { injectFault, setDelay } from '../adapters/sim/state.js';
import snmp from 'net-snmp';
import { putSetting } from '../store/settings.js';
import { Monitor } from '../monitor/daemon.js';
import { PET_ENTERPRISE_OID, PET_VARBIND_OID, encodePetVarbind } from '../ipmi/pet.js';
import { policyExplain } from './monitor-cli.js';
import { packagePath } from '../util/package.js';
import { wait } from '../util/wait.js';

export const FIXTURE = packagePath('fixtures', 'datacentre.yaml');

type Write = (s: string) => void;

interface Step {
  say: string;
  /** A pvmutl command line, run and shown with its output and exit code. */
  args?: string[];
  /** Something done to the sim data centre, shown as the kanri command that does it. */
  kanri?: { line: string; run: (db: Db, write: Write) => void };
  /** The exit code this step is expected to end with (a failure the tour shows on purpose). */
  expect?: number;
  /** Runs the pvmutl command in the background while the next steps go on. */
  background?: boolean;
  /** Something that takes time (the monitor's chapter), shown as the command line given. */
  wait?: { line: string; run: (db: Db, dbPath: string, write: Write) => Promise<void> };
}

function journal(db: Db, write: Write): void {
  const job = db.prepare('SELECT id, sequence, status, error FROM jobs ORDER BY id DESC LIMIT 1').get() as { id: number; sequence: string; status: string; error: string | null };
  write(`job ${formatJobId(job.id)} ${job.sequence} ${job.status}\n`);
  for (const s of db.prepare('SELECT seq, name, tag, status, output FROM job_steps WHERE job_id = ? ORDER BY seq').all(job.id) as Array<{ seq: number; name: string; tag: string; status: string; output: string }>) {
    write(`  ${String(s.seq).padStart(2)}. [${s.tag}] ${s.name}: ${s.status}\n`);
    for (const line of s.output.split('\n').filter(Boolean)) write(`        ${line}\n`);
  }
}

// ---- the event-driven half: nobody types a pvmutl command ------------------------------------

let monitor: Monitor | undefined;

/** Resolves once the monitor has logged a line matching `re`. */
function seen(lines: string[], re: RegExp, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (lines.some((l) => re.test(l))) { clearInterval(t); resolve(); } else if (Date.now() > end) { clearInterval(t); reject(new Error(`the monitor did not log ${re} within ${timeoutMs} ms`)); }
    }, 20);
  });
}

const monitorLog: string[] = [];
const TARGET = 'px-r120-02';

const MONITOR_CHAPTER: Step[] = [
  {
    say: 'The event-driven half. The Web group\'s policy Web-N+1 replaces a machine whose CPU fails; machines of the R120h model follow their model\'s own policy, so give the model the group\'s (export, edit, apply):',
    kanri: {
      line: 'kanri config export -o dc.yaml; (policy Web-N+1 on model Shop/Web/R120h); kanri config apply dc.yaml',
      run: (db, write) => {
        const dc = exportDataCentre(db);
        dc.categories.find((c) => c.name === 'Shop')!.groups.find((g) => g.name === 'Web')!.models.find((m) => m.name === 'R120h')!.policy = 'Web-N+1';
        const { dc: valid, errors } = readDataCentre(JSON.parse(JSON.stringify(dc)));
        if (!valid) throw new Error(errors.join('; '));
        applyDataCentre(db, valid);
        // The demo's monitor takes a free loopback port for traps and does not poll; the PET it
        // is sent comes from loopback, a relay standing for the BMC (v1/v2c traps are taken only
        // from a machine's registered address or a relay).
        putSetting(db, 'monitor.listen', '127.0.0.1:0');
        putSetting(db, 'monitor.poll_s', '0');
        putSetting(db, 'monitor.trap_relays', '127.0.0.1');
        write('applied dc.yaml\n');
      },
    },
  },
  {
    say: 'Start the monitor on this store; from here on it writes one line per event and per action:',
    wait: {
      line: 'kanri monitor &',
      run: async (db, _path, write) => {
        monitor = new Monitor(db, { log: (l) => { monitorLog.push(l); write(`  [monitor] ${l}\n`); } });
        await monitor.start();
      },
    },
  },
  {
    say: `What would a CPU failure of ${TARGET} (host web02) do? policy explain changes nothing:`,
    wait: {
      line: `kanri policy explain Shop\\Web SystemMonitorEvent "BMC[0x00076F00]" --machine ${TARGET}`,
      run: async (_db, dbPath, write) => { policyExplain(dbPath, 'Shop\\Web', 'SystemMonitorEvent', 'BMC[0x00076F00]', { machine: TARGET }, (s) => write(s + '\n')); },
    },
  },
  {
    say: `${TARGET}'s BMC reports a processor failure (IERR) as an IPMI Platform Event Trap; nobody types anything now:`,
    wait: {
      line: `(the BMC of ${TARGET} sends a PET to the monitor's trap port)`,
      run: async (db, _path, write) => {
        const uuid = (db.prepare('SELECT uuid FROM machines WHERE name = ?').get(TARGET) as { uuid: string }).uuid;
        await sendPet(monitor!.traps.address!.port, uuid);
        await seen(monitorLog, /chain \d+: (completed|failed|abandoned)/, 20_000);
        write('\n');
      },
    },
  },
  { say: 'The job the policy started, step by step:', kanri: { line: 'kanri job show <last>', run: journal } },
  {
    say: 'The event log: the notification, the start and end of each action (502) and of the job (2042/2043):',
    kanri: {
      line: 'kanri events --since 1m | grep -v " 250[012] "   # without the per-software entries',
      run: (db, write) => {
        const rows = (db.prepare('SELECT time, source, event_id, type, message FROM events WHERE event_id NOT IN (2500, 2501, 2502) ORDER BY id DESC LIMIT 7').all() as Array<{ time: string; source: string; event_id: number; type: string; message: string }>).reverse();
        for (const e of rows) write(`${e.time} ${e.source} ${e.event_id} ${e.type.padEnd(11)} ${e.message}\n`);
      },
    },
  },
  {
    say: `web02 runs on the replacement now; ${TARGET} is marked failed and left the group:`,
    kanri: {
      line: `kanri machine list (web02 and ${TARGET})`,
      run: (db, write) => {
        for (const r of db.prepare(`SELECT m.name, h.host_name, m.hardware_status FROM machines m LEFT JOIN host_settings h ON h.id = m.host_setting_id
            WHERE m.name = ? OR (h.host_name = 'web02' AND m.group_id = (SELECT id FROM groups WHERE name = 'Web'))`).all(TARGET) as Array<{ name: string; host_name: string | null; hardware_status: string }>) {
          write(`${r.name}  ${r.host_name ? `Shop\\Web as ${r.host_name}` : 'not active'}  hardware=${r.hardware_status}\n`);
        }
      },
    },
  },
  {
    say: 'Stop the monitor: running policy jobs get monitor.drain_s to end; what is pending stays in the store.',
    wait: { line: 'kill -TERM %1', run: async () => { await monitor!.stop(5000); monitor = undefined; } },
  },
];

/** A PET (IPMI PET v1.0) as a BMC sends it: v1 trap, enterprise 3183.1.1, the event in the specific trap. */
async function sendPet(port: number, uuid: string): Promise<void> {
  const specific = (0x07 << 16) | (0x6f << 8) | 0x00;
  const varbind = encodePetVarbind({
    guid: Buffer.from(uuid.replace(/-/g, ''), 'hex'), sequence: 1, timestamp: Math.floor(Date.now() / 1000 - Date.UTC(1998, 0, 1) / 1000),
    eventSourceType: 0x20, severity: 0x10, sensorDevice: 0x20, sensorNumber: 1, entity: 3, entityInstance: 1, eventData: [0x00], manufacturerId: 119, systemId: 0,
  });
  const session = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: port });
  await new Promise<void>((resolve, reject) => {
    session.trap(`${PET_ENTERPRISE_OID}.${specific}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString!, value: varbind }], { agentAddr: '127.0.0.1' }, (e) => (e ? reject(e) : resolve()));
  });
  session.close();
}

const STEPS: Step[] = [
  { say: 'The shop and its infrastructure, as groups and models (highest priority first):', args: ['list', 'group'] },
  { say: 'The Web group: active machines, then the pool that scale-out and N+1 replacement draw from.', args: ['list', 'server', 'Shop\\Web'] },
  { say: 'Scale out: activate one pool machine on the next free host setting. The command waits for its job and exits 0.', args: ['add', 'Shop\\Web'] },
  { say: 'The job ran the steps of the activation table; the sim driver recorded what each step did:', kanri: { line: 'kanri job show <last>', run: journal } },
  { say: 'N+1 recovery: replace the machine behind web01 (px-r120-01) with a pool machine, which takes over host web01.', args: ['replace', 'Shop\\Web', 'web01'] },
  { say: 'web01 now runs on the replacement, and the replaced machine is back in the pool:', args: ['list', 'server', 'Shop\\Web'] },
  { say: 'Move web01 to the AP group (its machine is registered in the AP pool too):', args: ['move', 'Shop\\AP', 'Shop\\Web', 'web01'] },
  { say: 'AP has gained the machine:', args: ['list', 'server', 'Shop\\AP'] },
  { say: 'Redistribute the Web group software; differential: each machine gets only what it lacks.', args: ['deploygrp', 'Shop\\Web'] },
  { say: 'Register a new content release at the end of the Web group software (export, edit, apply):', kanri: {
    line: 'kanri config export -o dc.yaml; (add Web-Content-2 after Web-Content under Shop/Web); kanri config apply dc.yaml',
    run: (db, write) => {
      const dc = exportDataCentre(db);
      dc.software.push({ name: 'Web-Content-2', kind: 'scenario', version: '2026.12', date: '2026-12-01', source: '', description: 'December release' });
      dc.categories.find((c) => c.name === 'Shop')!.groups.find((g) => g.name === 'Web')!.software.activation.push('Web-Content-2');
      const { dc: valid, errors } = readDataCentre(JSON.parse(JSON.stringify(dc)));
      if (!valid) throw new Error(errors.join('; '));
      const { counts } = applyDataCentre(db, valid);
      write(`applied dc.yaml: ${counts.software} software\n`);
    },
  } },
  { say: '', args: ['deploygrp', 'Shop\\Web', '/seq'] },
  { say: 'The journal of the last machine shows the differential decision:', kanri: { line: 'kanri job show <last>', run: journal } },
  { say: 'Create a virtual desktop from the group template; a VM server with free capacity is chosen.', args: ['vmadd', 'Infra\\Desktops', 'vdi-new01'] },
  { say: 'Live-migrate it to another VM server on the shared datastore:', args: ['vmmigrate', 'Infra\\Desktops', 'vdi-new01', 'vms02'] },
  {
    say: 'Slow the simulated power-on down so that a job can be watched while it runs:',
    kanri: { line: 'kanri sim delay 600 --operation power-on', run: (db) => setDelay(db, 600, 'power-on') },
  },
  { say: 'Scale the Nightly batch group out, in the background…', args: ['add', 'Shop\\Batch\\Nightly'], background: true },
  { say: '…and list the running jobs with their current step from another shell:', args: ['asjob', '-s'] },
  {
    say: 'Make the next power-on of px-spare-01 fail, as a dead BMC would:',
    kanri: {
      line: 'kanri sim fail px-spare-01 power-on --times 1 --message "BMC did not answer"',
      run: (db) => { injectFault(db, 'px-spare-01', 'power-on', 1, 'BMC did not answer'); },
    },
  },
  { say: 'Activating it fails in the job: exit code 7, and the reason names the step.', args: ['add', 'Shop\\Web', 'px-spare-01'], expect: 7 },
  { say: 'The journal shows where the job stopped:', kanri: { line: 'kanri job show <last>', run: journal } },
  { say: 'A typo in a group name is exit code 3, which a job scheduler can branch on:', args: ['list', 'server', 'Shop\\Wbe'], expect: 3 },
  { say: 'A malformed command is exit code 1, with the reason on one line:', args: ['add', 'Shop\\Web', 'px-r120-03', '/c', '2'], expect: 1 },
  { say: 'Nothing is running any more:', args: ['asjob'] },
  ...MONITOR_CHAPTER,
];

export async function demo(write: Write = (s) => { process.stdout.write(s); }): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'kanri-demo-'));
  const dbPath = join(dir, 'kanri.db');
  const background: Array<Promise<number>> = [];
  try {
    const { dc, errors } = readDataCentre(parse(readFileSync(FIXTURE, 'utf8')));
    if (!dc) throw new Error(`fixture invalid: ${errors.join('; ')}`);
    const db = openStore(dbPath, { create: true });
    const { counts } = applyDataCentre(db, dc);
    write(`kanri demo: a data centre of ${counts.machines} machines in ${counts.groups} groups, served by the sim driver\n`);
    write(`(temporary store ${dbPath}, removed at the end)\n`);
    let surprises = 0;
    for (const step of STEPS) {
      write(step.say ? `\n# ${step.say}\n` : '\n');
      if (step.kanri) {
        write(`$ ${step.kanri.line}\n`);
        step.kanri.run(db, write);
        continue;
      }
      if (step.wait) {
        write(`$ ${step.wait.line}\n`);
        await step.wait.run(db, dbPath, write);
        continue;
      }
      const args = step.args!;
      write(`$ pvmutl ${args.map(quote).join(' ')}${step.background ? ' &' : ''}\n`);
      const io: Io = { out: write, err: write, ask: async () => undefined };
      const run = runPvmutl(['--db', dbPath, ...args], io).then((code) => {
        write(`[exit ${code}${step.background ? `: pvmutl ${args.join(' ')}` : ''}]\n`);
        if (code !== (step.expect ?? 0)) surprises++;
        return code;
      });
      if (step.background) {
        background.push(run);
        // Let the background job reach its slow step before the next command looks.
        await wait(300);
      } else {
        await run;
      }
    }
    await Promise.all(background);
    await monitor?.stop(5000);
    db.close();
    write(`\nEvery step ended as expected${surprises ? ` except ${surprises}` : ''}.\n`);
    return surprises === 0 ? 0 : 1;
  } finally {
    await monitor?.stop(0).catch(() => undefined);
    await Promise.allSettled(background);
    rmSync(dir, { recursive: true, force: true });
  }
}

function quote(a: string): string {
  return /^[\w\\/.:@+-]+$/.test(a) ? a : `"${a}"`;
}
