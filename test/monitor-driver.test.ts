// The monitor interface of real machines (issue 21): a group that names only real drivers
// (`drivers: { power: ipmi, deploy: local }`, no monitor driver) activates a machine: the
// monitor steps are kanri's own monitor (driver `kanri`, the default), and "Get and update
// machine information" reads the product name from the BMC's FRU (ipmi_sim) or the System
// model of a Redfish service (DMTF mockup), keeping a name whose automatic update is off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import { run } from './support/cli.js';
import { fixtureStore, queryAll } from './support/store.js';
import { openStore } from '../src/open-store.js';
import { bindInterface, driverNameFor } from '../src/adapters/registry.js';
import { machineRef } from '../src/engine/refs.js';
import { makeCerts, type Certs, type Peer, redfishPeersMissing, startMockup } from './support/redfish.js';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const havePeers = requirePeer('ipmi_sim', 'monitor driver') && requirePeer('ipmitool', 'monitor driver');
const redfishMissing = redfishPeersMissing();
if (redfishMissing) skipReason('monitor driver: Redfish inventory', redfishMissing);

const YAML = `
kanri: 1
settings:
  ipmi.on_wait_s: "15"
  ipmi.soft_off_wait_s: "15"
groups:
  - name: Real
    type: physical
    drivers: { power: ipmi, deploy: local }
    models: [{ name: M }]
    host_settings:
      - { host: real01, nics: [{ addresses: [{ ip: 10.9.1.11, netmask: 255.255.255.0 }] }] }
      - { host: real02, nics: [{ addresses: [{ ip: 10.9.1.12, netmask: 255.255.255.0 }] }] }
    pool: [r1, r2]
machines:
  - { name: r1, kind: physical, power: off, mgmt_address: 10.9.1.101 }
  - { name: r2, kind: physical, power: off, hw_model: Kept, hw_model_auto: false }
  - { name: rf1, kind: physical, power: off }
`;

describe.runIf(havePeers)('the monitor interface of real machines (kanri monitor driver)', () => {
  let rack: SimRack;
  let db: string;

  beforeAll(async () => {
    rack = await startSims(2, { power: 'off' });
    db = fixtureStore(YAML);
    for (const [i, name] of ['r1', 'r2'].entries()) {
      const b = rack.bmcs[i]!;
      const r = run('dscli', ['createServer', name, 'mgmt=ipmi', 'address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${b.passwordFile('admin')}`], { db });
      expect(r.code, r.err).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await rack?.stop();
  });

  it('a group naming no monitor driver gets kanri, never sim; a VM gets its vm driver', () => {
    const s = openStore(db);
    try {
      const g = (s.prepare("SELECT id FROM groups WHERE name = 'Real'").get() as { id: number }).id;
      const r1 = (s.prepare("SELECT id FROM machines WHERE name = 'r1'").get() as { id: number }).id;
      expect(driverNameFor(s, r1, g, 'monitor')).toBe('kanri');
      expect(driverNameFor(s, null, g, 'monitor')).toBe('kanri');
      // Nothing is invented for the interfaces that have no real default.
      expect(driverNameFor(s, r1, g, 'vlan')).toBeUndefined();
    } finally {
      s.close();
    }
  });

  it('pvmutl add activates a machine of a group with drivers { power: ipmi, deploy: local }; the model comes from the FRU', async () => {
    const r = run('pvmutl', ['add', 'Real'], { db });
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(queryAll(db, "SELECT m.name, m.hw_model_name, m.power_state, h.host_name FROM machines m JOIN host_settings h ON h.id = m.host_setting_id WHERE m.name = 'r1'"))
      .toEqual([{ name: 'r1', hw_model_name: 'Express5800/R120h', power_state: 'on', host_name: 'real01' }]);
    // The BMC itself says the machine is on, and its FRU names the same product.
    expect((await rack.bmcs[0]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is on');
    expect((await rack.bmcs[0]!.ipmitool(['fru', 'print', '0'])).stdout).toMatch(/Product Name\s+:\s+Express5800\/R120h/);
    const steps = queryAll<{ name: string; output: string }>(db, "SELECT s.name, s.output FROM job_steps s JOIN jobs j ON j.id = s.job_id WHERE j.id = 1 AND s.name IN ('Register to ESMPRO/ServerManager', 'Get and update machine information') ORDER BY s.job_id, s.seq");
    expect(steps.map((s) => s.name)).toEqual(['Register to ESMPRO/ServerManager', 'Get and update machine information']);
    expect(steps[0]!.output).toMatch(/r1: watched by kanri monitor \(polling and traps of its ipmi controller at 127\.0\.0\.1\)/);
  }, 90_000);

  it('a machine whose model name is not updated automatically keeps it (hw_model_auto: false)', async () => {
    const r = run('pvmutl', ['add', 'Real'], { db });
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(queryAll(db, "SELECT hw_model_name, power_state FROM machines WHERE name = 'r2'")).toEqual([{ hw_model_name: 'Kept', power_state: 'on' }]);
    expect((await rack.bmcs[1]!.ipmitool(['chassis', 'power', 'status'])).stdout.trim()).toBe('Chassis Power is on');
  }, 90_000);

  describe.runIf(!redfishMissing)('Redfish', () => {
    let certs: Certs;
    let mockup: Peer;
    beforeAll(async () => {
      certs = makeCerts();
      mockup = await startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key });
    }, 60_000);
    afterAll(async () => { await mockup?.stop(); });

    it("the inventory of a Redfish machine is its System's model, read through the redfish driver", async () => {
      const pw = join(mkdtempSync(join(tmpdir(), 'kanri-pw-')), 'pw');
      writeFileSync(pw, 'Mockup-Pass-93\n', { mode: 0o600 });
      const r = run('dscli', ['createServer', 'rf1', 'mgmt=redfish', 'address=127.0.0.1', `port=${mockup.port}`, 'user=admin', `password_file=${pw}`, `ca_file=${certs.caCert}`], { db });
      expect(r.code, r.err).toBe(0);
      // What the service itself says, read over HTTPS without kanri.
      const sys = JSON.parse(await (await import('./support/redfish.js')).httpsRequest(mockup.port, 'GET', '/redfish/v1/Systems/437XR1138R2', certs.caCert).then((a) => a.body)) as { Model: string };
      const s = openStore(db);
      try {
        const id = (s.prepare("SELECT id FROM machines WHERE name = 'rf1'").get() as { id: number }).id;
        const mon = await bindInterface(s, 'kanri', 'monitor');
        const lines: string[] = [];
        const inv = await mon.inventory({ db: s, signal: new AbortController().signal, log: (l) => lines.push(l) }, machineRef(s, id));
        expect(inv).toEqual({ hwModel: sys.Model });
        expect(lines.join('\n')).toMatch(/rf1: redfish inventory read/);
      } finally {
        s.close();
      }
    }, 60_000);
  });
});
