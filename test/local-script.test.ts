// Local scripts (spec §5) run by the 'local' deploy driver: no shell, no
// arguments, the script folder as working directory, exactly the PVM_*
// environment; a timeout or a cancel kills the script with its whole process group.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/open-store.js';
import { fixtureStore, pvmutl, tempDir } from './support/store.js';
import { run } from './support/cli.js';
import { until } from './support/until.js';

function setup(timeoutS?: number): { db: string; dir: string } {
  const dir = join(tempDir(), 'scripts');
  mkdirSync(dir);
  const script = (name: string, body: string): void => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  script('envdump.sh', 'cat /proc/$$/environ > env.out\necho "$#" > args.out\npwd > pwd.out\necho dumped');
  script('fails.sh', 'echo "half done"\necho oops >&2\nexit 3');
  script('hangs.sh', 'sleep 61 &\necho $! > child.pid\necho $$ > self.pid\nsleep 62');
  const db = fixtureStore(`
kanri: 1
settings: { local_script_dir: "${dir}", sim.delay_ms: "0"${timeoutS ? `, local_script.timeout_s: "${timeoutS}"` : ''} }
software:
  - { name: envdump/<localhost>, kind: local_script, source: envdump.sh }
  - { name: fails/<localhost>, kind: local_script, source: fails.sh }
  - { name: hangs/<localhost>, kind: local_script, source: hangs.sh }
  - { name: a-scenario, kind: scenario }
groups:
  - name: G
    type: physical
    drivers: { power: sim, deploy: local, monitor: sim }
    models: [{ name: M }]
    host_settings:
      - host: web01
        nics:
          - addresses: [{ ip: 192.168.10.11, netmask: 255.255.255.0 }, { ip: 192.168.10.111, netmask: 255.255.0.0 }]
            gateways: [192.168.10.1, 192.168.10.254]
          - addresses: [{ ip: 10.10.0.11, netmask: 255.255.0.0 }]
        tags: [front, tier1]
machines:
  - name: X
    kind: physical
    uuid: 4c4c4544-0031-3010-8030-b4c04f303101
    macs: ["00:25:90:a1:01:01", "00-25-90-A1-01-02"]
    tags: [rack-a, row1, blue]
    active: { group: G, model: M, host: web01, from: common_pool }
`);
  return { db, dir };
}

function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('local scripts', () => {
  it('see exactly the PVM_* environment of spec §5 (2 NICs, 2 IPs on the first, 3 tags), no arguments, the script folder as cwd', async () => {
    const { db, dir } = setup();
    expect(await pvmutl(db, ['deploypsv', 'X', 'envdump/<localhost>'])).toEqual({ code: 0, out: '', err: '' });
    const env = Object.fromEntries(readFileSync(join(dir, 'env.out'), 'utf8').split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    expect(env).toEqual({
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      PVM_HOST_NAME: 'web01',
      PVM_HOST_UUID: '4c4c4544-0031-3010-8030-b4c04f303101',
      PVM_MACHINE_TAG_COUNT: '3',
      PVM_MACHINE_TAG_1: 'rack-a',
      PVM_MACHINE_TAG_2: 'row1',
      PVM_MACHINE_TAG_3: 'blue',
      PVM_SERVER_DEFINITION_TAG_COUNT: '2',
      PVM_SERVER_DEFINITION_TAG_1: 'front',
      PVM_SERVER_DEFINITION_TAG_2: 'tier1',
      PVM_NIC_COUNT: '2',
      PVM_MAC_ADDRESS_1: '00:25:90:A1:01:01',
      PVM_MAC_ADDRESS_H_1: '00-25-90-A1-01-01',
      PVM_MAC_ADDRESS_2: '00:25:90:A1:01:02',
      PVM_MAC_ADDRESS_H_2: '00-25-90-A1-01-02',
      PVM_IP_COUNT_1: '2',
      PVM_IP_ADDRESS_1_1: '192.168.10.11',
      PVM_NETMASK_1_1: '255.255.255.0',
      PVM_IP_ADDRESS_1_2: '192.168.10.111',
      PVM_NETMASK_1_2: '255.255.0.0',
      PVM_GATEWAY_1_1: '192.168.10.1',
      PVM_GATEWAY_1_2: '192.168.10.254',
      PVM_IP_COUNT_2: '1',
      PVM_IP_ADDRESS_2_1: '10.10.0.11',
      PVM_NETMASK_2_1: '255.255.0.0',
    });
    expect(readFileSync(join(dir, 'args.out'), 'utf8')).toBe('0\n');
    expect(readFileSync(join(dir, 'pwd.out'), 'utf8')).toBe(`${dir}\n`);
    const d = openStore(db, { readonly: true });
    expect(d.prepare('SELECT output FROM job_steps').get()).toEqual({ output: 'dumped\nenvdump/<localhost>: exit 0\n' });
    d.close();
  });

  it('a non-zero exit fails the step (exit 7) and keeps the output in the journal', async () => {
    const { db } = setup();
    const r = await pvmutl(db, ['deploypsv', 'X', 'fails/<localhost>']);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/failed at 'Distribute specified software': local script fails\/<localhost> exited 3\n$/);
    const d = openStore(db, { readonly: true });
    expect(d.prepare('SELECT status, output FROM job_steps').get()).toEqual({ status: 'failed', output: 'half done\noops\nerror: local script fails/<localhost> exited 3\n' });
    d.close();
  });

  it('a script past its timeout is killed with its children', async () => {
    const { db, dir } = setup(1);
    const t0 = Date.now();
    const r = await pvmutl(db, ['deploypsv', 'X', 'hangs/<localhost>']);
    expect(r.code).toBe(7);
    expect(r.err).toMatch(/local script hangs\/<localhost> timed out after 1 s; its process group was killed\n$/);
    expect(Date.now() - t0).toBeLessThan(6000);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    const self = Number(readFileSync(join(dir, 'self.pid'), 'utf8'));
    await until('the script and its child to be gone', () => gone(child) && gone(self), 5000, 25);
  });

  it('canceling the job kills the script and its children within a second', async () => {
    const { db, dir } = setup();
    const running = pvmutl(db, ['deploypsv', 'X', 'hangs/<localhost>']);
    await until('the script to start', () => existsSync(join(dir, 'child.pid')) && existsSync(join(dir, 'self.pid')), 5000, 25);
    const d = openStore(db);
    const { id } = d.prepare('SELECT id FROM jobs').get() as { id: number };
    d.close();
    const t0 = Date.now();
    expect((await pvmutl(db, ['ascancel', String(id)])).code).toBe(0);
    expect((await running).code).toBe(7);
    expect(Date.now() - t0).toBeLessThan(1500);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    const self = Number(readFileSync(join(dir, 'self.pid'), 'utf8'));
    await until('the script and its child to be gone', () => gone(child) && gone(self), 3000, 25);
  });

  it('the local driver refuses scenarios with a clear reason', async () => {
    const { db } = setup();
    const r = await pvmutl(db, ['deploypsv', 'X', 'a-scenario']);
    expect(r.code).toBe(7);
    expect(r.err).toContain('a-scenario is a scenario; the local driver runs only local scripts (use the ssh driver for scenarios on X)');
  });

  it('kanri software collect registers the folder’s executables as <name>/<localhost>', () => {
    const { db, dir } = setup();
    writeFileSync(join(dir, 'notes.txt'), 'not executable');
    writeFileSync(join(dir, 'new-one.bat'), '#!/bin/sh\n');
    chmodSync(join(dir, 'new-one.bat'), 0o755);
    const r = run('kanri', ['software', 'collect'], { db });
    expect(r.code).toBe(0);
    expect(r.out).toBe('envdump/<localhost> (envdump.sh)\nfails/<localhost> (fails.sh)\nhangs/<localhost> (hangs.sh)\nnew-one/<localhost> (new-one.bat)\n');
    const d = openStore(db, { readonly: true });
    expect(d.prepare("SELECT kind, source FROM software WHERE name = 'new-one/<localhost>'").get()).toEqual({ kind: 'local_script', source: 'new-one.bat' });
    d.close();
  });
});
