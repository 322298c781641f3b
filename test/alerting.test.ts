// AlertManager's functions against real peers: a policy rule's command runs without a
// shell with the event in KANRI_EVENT_* (and nothing else of the monitor's environment),
// destination groups chosen by event category get a mail (aiosmtpd) and a v2c notification
// (snmptrapd), a group outside its time window holds its mail, a mail the server does not
// take is tried again on the group's retry schedule, a command past its timeout is killed;
// kanri policy explain shows the actions and kanri's new events.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { MailQueue, runAlertCommand, windowOpen } from '../src/monitor/alerting.js';
import { requirePeer, skipReason } from './support/peers.js';
import { run } from './support/cli.js';
import { freeUdpPort, freeTcpPort } from './support/daemon.js';
import { fixtureStore, queryAll, storeDigest, tempDir } from './support/store.js';
import { type RunningMonitor, chainEnded, startMonitor } from './support/monitor.js';
import { bodyOf, PY, type SmtpPeer, startSmtp } from './support/smtp.js';

const SUITE = 'AlertManager functions';
const haveSmtp = spawnSync(PY, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0;
if (!haveSmtp) skipReason(SUITE, 'python3-aiosmtpd not installed (run scripts/peers.sh as root)');
const havePeers = haveSmtp && requirePeer('snmptrapd', SUITE);

const yaml = (smtpPort: number): string => `
kanri: 1
settings:
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "0"
  mail.smtp_host: 127.0.0.1
  mail.smtp_port: "${smtpPort}"
  mail.from: kanri@example.test
policies:
  - name: P
    rules:
      - { event: CPU障害, triggers: [{ source: SystemMonitorEvent, category: CPU障害 }], action_name: 通報, actions: [alert-command, alert-notify] }
groups:
  - name: Lab
    type: physical
    policy: P
    drivers: { power: sim, deploy: sim, monitor: sim }
    models: [{ name: M }]
    host_settings: [{ host: lab01, nics: [{ addresses: [{ ip: 10.9.0.11, netmask: 255.255.255.0 }] }] }]
    pool: [pc-1]
machines:
  - { name: pc-1, kind: physical, power: on, active: { group: Lab, model: M, host: lab01, from: group_pool } }
`;

/** A window of an hour that does not hold `now`. */
function closedWindow(now = new Date()): string {
  const h = (now.getHours() + 2) % 24;
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(h)}:00-${p((h + 1) % 24)}:00`;
}

describe('alert commands and windows', () => {
  it('a command past its timeout is killed with its process group; a failing one says its exit', async () => {
    const ctx = { event: { id: 1, receivedAt: '', origin: 'custom' as const, source: 'SystemMonitorEvent' as const, event: 'X[0x1]', category: null, summary: '', machineId: null, groupId: null, sender: '', detail: '' }, machine: null, group: null, policy: 'P', rule: 'R' };
    const t0 = Date.now();
    await expect(runAlertCommand({ policy: 'P', rule_event: 'R', argv: ['/bin/sleep', '30'], timeout_s: 0.5 }, ctx)).rejects.toThrow(/did not end within 0\.5 s and was killed/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await expect(runAlertCommand({ policy: 'P', rule_event: 'R', argv: ['/bin/sh', '-c', 'echo nope; exit 3'], timeout_s: 5 }, ctx)).rejects.toThrow(/exited 3 \(nope\)/);
    await expect(runAlertCommand({ policy: 'P', rule_event: 'R', argv: ['/nonexistent/prog'], timeout_s: 5 }, ctx)).rejects.toThrow(/could not be started/);
  });

  it('a time window holds mail until its next opening, across midnight too', () => {
    const at = new Date(2026, 11, 6, 12, 30);
    expect(windowOpen('09:00-18:00', at)).toBe(at);
    expect(windowOpen('22:00-06:00', at)).toEqual(new Date(2026, 11, 6, 22, 0));
    expect(windowOpen('22:00-06:00', new Date(2026, 11, 6, 3, 0)).getHours()).toBe(3);
    expect(windowOpen('08:00-09:00', at)).toEqual(new Date(2026, 11, 7, 8, 0));
  });
});

describe.runIf(havePeers)(SUITE, () => {
  let smtp: SmtpPeer;
  let db: string;
  let mon: RunningMonitor;
  let trapd: ChildProcess;
  let trapdLog: string;
  let envOut: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    db = fixtureStore(yaml(smtp.port));
    const dir = tempDir();
    const trapPort = await freeUdpPort();
    const conf = join(dir, 'snmptrapd.conf');
    writeFileSync(conf, 'authCommunity log opscomm\ndisableAuthorization no\n');
    trapdLog = join(dir, 'trapd.log');
    trapd = spawn('snmptrapd', ['-f', '-n', '-M', '/dev/null', '-C', '-c', conf, '-Lf', trapdLog, '-F', 'TRAP community=%u %N.%q %v\n', `udp:127.0.0.1:${trapPort}`], { stdio: 'ignore' });
    // snmptrapd writes its version line to the log once it listens.
    for (let i = 0; i < 100 && !(existsSync(trapdLog) && /NET-SNMP version/.test(readFileSync(trapdLog, 'utf8'))); i++) await new Promise((r) => setTimeout(r, 100));
    envOut = join(dir, 'env.out');
    const script = join(dir, 'record-env');
    writeFileSync(script, `#!/bin/sh\nenv > "$1"\necho "recorded $KANRI_EVENT_NAME"\n`);
    chmodSync(script, 0o755);
    const ok = (args: string[]): void => { const r = run('kanri', args, { db }); expect(r.code, r.err).toBe(0); };
    ok(['alert', 'command', 'set', 'P', 'CPU障害', '--timeout', '10', '--', script, envOut]);
    ok(['alert', 'destination', 'add', 'ops', '--mail', 'ops@example.test,lead@example.test', '--trap', `127.0.0.1:${trapPort}`, '--community', 'opscomm', '--category', 'CPU障害']);
    ok(['alert', 'destination', 'add', 'memory', '--mail', 'mem@example.test', '--category', 'メモリ障害']);
    ok(['alert', 'destination', 'add', 'night', '--mail', 'night@example.test', '--window', closedWindow()]);
    mon = await startMonitor(db, { KANRI_SECRET_OF_MONITOR: 'must-not-leak' });
  }, 60_000);

  afterAll(async () => {
    await mon?.stop();
    trapd?.kill('SIGTERM');
    await smtp?.stop();
  });

  it('refused commands change nothing', () => {
    // The running monitor keeps its own lease, counters and poll state moving meanwhile.
    const own = ['monitor_lease', 'monitor_counters', 'monitor_poll_state'];
    const before = storeDigest(db, own);
    expect(run('kanri', ['alert', 'command', 'set', 'P', 'CPU障害', '--', 'sh', '-c', 'x'], { db })).toMatchObject({ code: 1, err: expect.stringMatching(/absolute path/) });
    expect(run('kanri', ['alert', 'command', 'set', 'Q', 'CPU障害', '--', '/bin/true'], { db })).toMatchObject({ code: 2, err: expect.stringMatching(/policy not found: Q/) });
    expect(run('kanri', ['alert', 'command', 'set', 'P', 'nope', '--', '/bin/true'], { db })).toMatchObject({ code: 2, err: expect.stringMatching(/policy P has no rule nope/) });
    expect(run('kanri', ['alert', 'destination', 'add', 'x', '--mail', 'not-an-address'], { db }).code).toBe(1);
    expect(run('kanri', ['alert', 'destination', 'add', 'x', '--trap', '127.0.0.1:1', '--window', '25:00-26:00'], { db }).code).toBe(1);
    expect(run('kanri', ['alert', 'destination', 'add', 'x', '--trap', '127.0.0.1:1', '--category', 'nothing'], { db }).code).toBe(1);
    expect(run('kanri', ['alert', 'destination', 'remove', 'x'], { db }).code).toBe(2);
    expect(storeDigest(db, own)).toBe(before);
  });

  it('policy explain shows the command and the destination groups of the category', () => {
    const r = run('kanri', ['policy', 'explain', 'Lab', 'SystemMonitorEvent', 'ESMCommonService[0xC0000451]', '--machine', 'pc-1'], { db });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/1\. alert-command 通報 \/ コマンド実行: runs \/\S+record-env \S+env\.out \(no shell; the event in KANRI_EVENT_\*; killed after 10 s\)/);
    expect(r.out).toMatch(/2\. alert-notify 通報 \/ 通報先グループへの通報 \(メール、SNMP トラップ\): destination groups night, ops:/);
    const ups = run('kanri', ['policy', 'explain', 'Lab', 'SystemMonitorEvent', 'kanriUPS[0x80000001]'], { db });
    expect(ups.out).toMatch(/^event: SystemMonitorEvent kanriUPS\[0x80000001\] \(UPS バッテリ運転 \(商用電源断\)\); category その他/);
  });

  it('an event runs the command and notifies the destination groups of its category', async () => {
    const r = run('kanri', ['event', 'raise', 'SystemMonitorEvent', 'ESMCommonService[0xC0000451]', '--machine', 'pc-1', '--detail', 'CPU 2 IERR'], { db });
    expect(r.code, r.err).toBe(0);
    expect(await chainEnded(db, 1, 20_000)).toMatchObject({ status: 'completed' });
    const env = Object.fromEntries(readFileSync(envOut, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      KANRI_EVENT_NAME: 'ESMCommonService[0xC0000451]', KANRI_EVENT_SOURCE: 'SystemMonitorEvent', KANRI_EVENT_CATEGORY: 'CPU障害', KANRI_EVENT_MACHINE: 'pc-1',
      KANRI_EVENT_GROUP: 'Lab', KANRI_EVENT_DETAIL: 'CPU 2 IERR', KANRI_EVENT_POLICY: 'P', KANRI_EVENT_RULE: 'CPU障害', KANRI_EVENT_SUMMARY: 'CPU内部エラー',
    });
    expect(Object.keys(env).filter((k) => !k.startsWith('KANRI_EVENT_')).sort()).toEqual(['LANG', 'PATH', 'PWD'].filter((k) => k in env));
    expect(readFileSync(envOut, 'utf8')).not.toMatch(/must-not-leak/);
    expect(queryAll(db, 'SELECT action, status, detail FROM monitor_chain_actions WHERE chain_id = 1 ORDER BY idx')).toEqual([
      { action: 'alert-command', status: 'completed', detail: expect.stringMatching(/record-env exited 0 \(recorded ESMCommonService\[0xC0000451\]\)/) },
      { action: 'alert-notify', status: 'completed', detail: expect.stringMatching(/night: mail to night@example\.test held until .* \(window .*\); ops: mail to ops@example\.test, lead@example\.test queued, trap to 127\.0\.0\.1:\d+/) },
    ]);
    // The mail of ops is sent by the queue; the memory group takes no CPU event; night waits for its window.
    const end = Date.now() + 20_000;
    while (smtp.messages().length < 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const mails = smtp.messages();
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatch(/^To: ops@example\.test, lead@example\.test/m);
    expect(bodyOf(mails[0]!)).toMatch(/^CPU内部エラー\r?\n\r?\nevent: SystemMonitorEvent ESMCommonService\[0xC0000451\] \(CPU障害\)\r?\nmachine: pc-1\r?\ngroup: Lab/);
    const q = queryAll<{ destination: string; status: string; not_before: string }>(db, 'SELECT destination, status, not_before FROM alert_mails ORDER BY id');
    expect(q.map((x) => [x.destination, x.status])).toEqual([['night', 'pending'], ['ops', 'sent']]);
    expect(new Date(q[0]!.not_before).getTime()).toBeGreaterThan(Date.now());
    const listed = run('kanri', ['alert', 'list', '--json'], { db }).out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(listed).toEqual([
      expect.objectContaining({ kind: 'command', policy: 'P', rule: 'CPU障害', timeout_s: 10 }),
      expect.objectContaining({ kind: 'destination', name: 'memory', pending: 0, sent: 0 }),
      expect.objectContaining({ kind: 'destination', name: 'night', pending: 1, sent: 0 }),
      expect.objectContaining({ kind: 'destination', name: 'ops', mail: 'ops@example.test,lead@example.test', categories: 'CPU障害', pending: 0, sent: 1, failed: 0 }),
    ]);
    const trapEnd = Date.now() + 10_000;
    while (!/TRAP community=opscomm/.test(readFileSync(trapdLog, 'utf8')) && Date.now() < trapEnd) await new Promise((r) => setTimeout(r, 100));
    // The notification trap of the notify action (monitor.notify_oid), UTF-8 text shown by snmptrapd in hex.
    const trap = readFileSync(trapdLog, 'utf8');
    expect(trap).toMatch(/TRAP community=opscomm .*OID: iso\.3\.6\.1\.4\.1\.32473\.502\s.*502\.2 = STRING: "pc-1"\s.*502\.3 = STRING: "Lab"\s.*502\.4 = STRING: "P"/s);
    expect(trap.replace(/\s+/g, ' ')).toContain(Buffer.from('CPU内部エラー SystemMonitorEvent').toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 '));
  }, 60_000);

  it('a mail the server does not take is tried again on the retry schedule, then given up', async () => {
    const path = fixtureStore(yaml(await freeTcpPort()));
    const w = openStore(path);
    try {
      const ins = w.prepare("INSERT INTO alert_destinations (name, mails, retry_s) VALUES (?, '[\"a@example.test\"]', ?)");
      ins.run('twice', '[1]');
      ins.run('once', '[]');
      const mail = w.prepare("INSERT INTO alert_mails (destination, recipients, subject, body, created_at, not_before, status) VALUES (?, '[\"a@example.test\"]', 's', 'b', ?, ?, 'pending')");
      const t = new Date().toISOString();
      mail.run('twice', t, t);
      mail.run('once', t, t);
      const logs: string[] = [];
      const q = new MailQueue(w, (l) => logs.push(l));
      await q.sendDue();
      expect(queryAll(path, 'SELECT destination, status, attempts FROM alert_mails ORDER BY id')).toEqual([
        { destination: 'twice', status: 'pending', attempts: 1 }, { destination: 'once', status: 'failed', attempts: 1 },
      ]);
      // The server is up by the next try.
      w.prepare("UPDATE settings SET value = ? WHERE key = 'mail.smtp_port'").run(String(smtp.port));
      const before = smtp.messages().length;
      await q.sendDue(new Date(Date.now() + 1500));
      expect(queryAll(path, "SELECT status, attempts FROM alert_mails WHERE destination = 'twice'")).toEqual([{ status: 'sent', attempts: 2 }]);
      expect(smtp.messages()).toHaveLength(before + 1);
      expect(logs.join('\n')).toMatch(/alert mail 1 to twice not delivered \(.*\); next try at/);
    } finally {
      w.close();
    }
  }, 30_000);
});
