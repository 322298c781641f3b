// The lab of real peers (scripts/lab.sh) for the end-to-end tests: starts it in a folder of
// its own (a random id names its namespaces, so parallel runs do not collide), registers its
// BMCs, and reads the peers themselves: ip in the machines' namespaces, ipmitool, the HAProxy
// runtime API, virsh, ovs-vsctl, tgtadm. stop() brings it down and checks nothing is left.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { run } from './cli.js';
import { requirePeer, skipReason } from './peers.js';
import { ROOT, newStoreLocation, queryAll, tempDir } from './store.js';

const LAB = join(ROOT, 'scripts', 'lab.sh');

/** Whether the lab can run here (root, every peer installed); a skip is counted, never silent. */
export function labUsable(suite: string, extra: string[] = []): boolean {
  const root = process.getuid?.() === 0;
  if (!root) skipReason(suite, 'needs root for network namespaces');
  return root && ['ipmi_sim', 'ipmitool', 'socat', 'libvirtd', 'virsh', 'haproxy', 'ovsdb-server', 'tgtd', 'snmptrapd', 'snmptrap', 'sshd', ...extra].every((c) => requirePeer(c, suite));
}

export const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8', timeout: 20_000 }).trim();

export class Lab {
  readonly dir = join(tempDir(), 'lab');
  readonly db = newStoreLocation();
  env: Record<string, string> = {};

  /**
   * lab.sh up, the store made from its data centre (lab.yaml, changed by `amend` when given),
   * its BMCs registered (standby machines stay off).
   */
  up(amend?: (yaml: string) => string): void {
    execFileSync(LAB, ['up', this.dir], { encoding: 'utf8', timeout: 120_000 });
    this.env = Object.fromEntries(readFileSync(join(this.dir, 'lab.env'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
    expect(run('kanri', ['store', 'init'], { db: this.db }).code).toBe(0);
    let yaml = join(this.dir, 'lab.yaml');
    if (amend) {
      const amended = join(this.dir, 'lab-amended.yaml');
      writeFileSync(amended, amend(readFileSync(yaml, 'utf8')));
      yaml = amended;
    }
    const a = run('kanri', ['config', 'apply', yaml], { db: this.db });
    expect(a.code, a.err).toBe(0);
    for (const line of readFileSync(join(this.dir, 'bmcs'), 'utf8').trim().split('\n')) {
      const [m, host, port, pw] = line.split(' ');
      const r = run('dscli', ['createServer', m!, 'mgmt=ipmi', `address=${host}`, `port=${port}`, 'user=admin', `password_file=${pw}`], { db: this.db });
      expect(r.code, r.err).toBe(0);
    }
    // The lab's snmptrapd is the monitor's trap-forwarding destination.
    const f = run('dscli', ['setTrapForward', '1', `127.0.0.1:${this.env.KANRI_LAB_TRAP_PORT}`, 'community=lab'], { db: this.db });
    expect(f.code, f.err).toBe(0);
  }

  /** Standby machines run (an SSH deploy reaches only a running machine) and their host keys are accepted once. */
  standBy(...machines: string[]): void {
    for (const m of machines) {
      this.bmc(m, 'chassis', 'power', 'on');
      const t = run('kanri', ['ssh', 'trust', m, '--yes'], { db: this.db });
      expect(t.code, t.err).toBe(0);
    }
  }

  /** lab.sh down, then: no namespace, no folder, no process started from the lab's folder. */
  down(): void {
    const ns = this.env.KANRI_LAB_ID ? `kanri-lab-${this.env.KANRI_LAB_ID}-` : undefined;
    execFileSync(LAB, ['down', this.dir], { encoding: 'utf8', timeout: 60_000 });
    expect(existsSync(this.dir)).toBe(false);
    if (ns) expect(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })).not.toContain(ns);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(this.dir))).toEqual([]);
  }

  pvmutl(...args: string[]): ReturnType<typeof run> {
    return run('pvmutl', args, { db: this.db });
  }

  ns(m: string): string {
    return this.env[`KANRI_LAB_${m.toUpperCase()}_NS`]!;
  }

  /** The host address of the lab network ending in `host` (10.77.N.host, inside the lab's namespaces only). */
  addr(host: number): string {
    return `${this.env.KANRI_LAB_NET}.${host}`;
  }

  /** eth0's state in the machine's namespace: UP, DOWN, … */
  link(m: string): string {
    return sh('ip', ['-n', this.ns(m), '-br', 'link', 'show', 'eth0']).split(/\s+/)[1]!;
  }

  mac(m: string): string {
    return /link\/ether (\S+)/.exec(sh('ip', ['-n', this.ns(m), 'link', 'show', 'eth0']))![1]!;
  }

  /** The IPv4 addresses of eth0 in the machine's namespace (its own lab address first). */
  addresses(m: string): string[] {
    return [...sh('ip', ['-n', this.ns(m), '-4', '-o', 'addr', 'show', 'dev', 'eth0']).matchAll(/inet (\S+)\//g)].map((x) => x[1]!);
  }

  bmc(m: string, ...args: string[]): string {
    return sh('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', this.env[`KANRI_LAB_${m.toUpperCase()}_BMC_PORT`]!, '-U', 'admin', '-f', join(this.dir, m, 'bmc-password'), '-N', '1', '-R', '2', ...args]);
  }

  /** What the machine's BMC chassis program was told, one line each (power 0|1, soft-off, reset …). */
  controlLog(m: string): string[] {
    const f = join(this.dir, m, 'control.log');
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
  }

  /** The members of HAProxy's backend `web`, read from its runtime API. */
  members(): Array<{ name: string; addr: string }> {
    const out = execFileSync('socat', ['-', `UNIX-CONNECT:${this.env.KANRI_LAB_HAPROXY_SOCKET}`], { input: 'show servers state web\n', encoding: 'utf8', timeout: 10_000 });
    return out.split('\n').filter((l) => /^\d+ web /.test(l)).map((l) => l.split(' ')).map((f) => ({ name: f[3]!, addr: f[4]! }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The VLAN tag of the machine's switch port (m<n>-eth0) in the lab's ovsdb-server, '' when it has none. */
  vlanTag(m: string): string {
    const tag = sh('ovs-vsctl', [`--db=unix:${this.env.KANRI_LAB_OVSDB_SOCKET}`, '--no-wait', '--timeout=5', 'get', 'port', `${m}-eth0`, 'tag']);
    return tag === '[]' ? '' : tag;
  }

  /** The initiators the ACL of a disk volume's iSCSI target allows, read from tgtd with tgtadm. */
  acl(volume: string): string[] {
    const out = sh('tgtadm', ['-C', this.env.KANRI_LAB_TGTD_CONTROL_PORT!, '--lld', 'iscsi', '--op', 'show', '--mode', 'target']);
    const target = `${this.env.KANRI_LAB_TARGET_PREFIX}:${volume}`;
    const acl: string[] = [];
    let cur = '';
    let inAcl = false;
    for (const line of out.split('\n')) {
      const t = /^Target \d+: (\S+)/.exec(line);
      if (t) { cur = t[1]!; inAcl = false; continue; }
      if (/^ {4}\S/.test(line)) inAcl = line.trim() === 'ACL information:';
      else if (inAcl && cur === target && line.trim()) acl.push(line.trim());
    }
    return acl.sort();
  }

  /** A machine's iSCSI initiator name (lab.yaml). */
  initiator(m: string): string {
    return `iqn.2026-01.test.kanri-lab:${m}`;
  }

  /** What the lab's snmptrapd logged. */
  traps(): string {
    const f = join(this.dir, 'traps.log');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  }

  virsh(i: number, ...args: string[]): string {
    return sh('virsh', ['-q', '-c', this.env[`KANRI_LAB_VS${i}_URI`]!, ...args]);
  }

  /** The machine holding a host setting, from the store. */
  holder(host: string): string | undefined {
    return queryAll<{ name: string }>(this.db, 'SELECT m.name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE h.host_name = ?', host)[0]?.name;
  }

  /** Who answers for an address on the lab switch: the MAC its neighbour table learns, or undefined. */
  answers(addr: string): string | undefined {
    const sw = this.env.KANRI_LAB_SWITCH_NS!;
    sh('ip', ['-n', sw, 'neigh', 'flush', 'all']);
    try {
      sh('ip', ['netns', 'exec', sw, 'ping', '-c', '1', '-W', '2', addr]);
    } catch {
      return undefined;
    }
    return /lladdr (\S+)/.exec(sh('ip', ['-n', sw, 'neigh', 'show', addr]))?.[1];
  }

  pidOf(name: string): number {
    return Number(readFileSync(join(this.dir, 'pids'), 'utf8').split('\n').find((l) => l.endsWith(` ${name}`))!.split(' ')[0]);
  }

  uuidOf(m: string): string {
    return readFileSync(join(this.dir, 'bmcs'), 'utf8').split('\n').find((l) => l.startsWith(`${m} `))!.split(' ')[4]!;
  }
}
