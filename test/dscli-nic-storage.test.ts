// dscli getNicList / getStorageList against sushy-tools (storage and drives from its
// configuration), DMTF's mockup (EthernetInterfaces, SimpleStorage) and ipmi_sim (the
// BMC's own LAN channel); and kanri monitor seeing a mockup drive go Critical by polling:
// the catalogue's disk event, once.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dscli } from './support/dscli.js';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { startMonitor, type RunningMonitor } from './support/monitor.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, httpsRequest, makeCerts, MOCKUP_DIR, type Peer, redfishPeersMissing, startMockup, startSushy } from './support/redfish.js';
import { until } from './support/until.js';
import { fixtureStore, queryAll, tempDir } from './support/store.js';

const SUITE = 'dscli network interfaces and storage';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('openssl', SUITE) && requirePeer('ipmi_sim', SUITE);

const PW = 'Peer-Pass-7781';
// The libvirt test driver's default domain "test".
const TEST_UUID = '6695eb01-f6a4-8304-79aa-97f2502e193f';

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let sushy: Peer, mockup: Peer;
  let rack: SimRack;
  let db: string;
  let mon: RunningMonitor | undefined;

  beforeAll(async () => {
    certs = makeCerts();
    [sushy, mockup, rack] = await Promise.all([
      startSushy({
        cert: certs.caSigned.cert, key: certs.caSigned.key, users: { admin: PW }, config: [
          `SUSHY_EMULATOR_STORAGE = {'${TEST_UUID}': [{'Id': '1', 'Name': 'Local Storage Controller', 'StorageControllers': [{'MemberId': '0', 'Name': 'Contoso Integrated RAID', 'SpeedGbps': 12}], 'Drives': ['32ADF365C6C1B7BD']}]}`,
          `SUSHY_EMULATOR_DRIVES = {('${TEST_UUID}', '1'): [{'Id': '32ADF365C6C1B7BD', 'Name': 'Drive Sample', 'CapacityBytes': 899527000000, 'Protocol': 'SAS'}]}`,
        ],
      }),
      startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key }),
      startSims(1, { rich: false }),
    ]);
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, PW + '\n', { mode: 0o600 });
    db = fixtureStore(`
kanri: 1
settings:
  monitor.listen: "127.0.0.1:0"
  monitor.poll_s: "1"
  monitor.poll_timeout_s: "5"
`);
    for (const [name, port, extra] of [['su', sushy.port, ['auth=basic']], ['mo', mockup.port, []]] as const) {
      expect(dscli(db, ['createServer', name, 'mgmt=redfish', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`, `ca_file=${certs.caCert}`, ...extra]).code).toBe(0);
    }
    const b = rack.bmcs[0]!;
    expect(dscli(db, ['createServer', 'bmc1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${b.passwordFile('admin')}`]).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await mon?.stop();
    await Promise.all([sushy?.stop(), mockup?.stop(), rack?.stop()]);
  });

  it('getNicList: EthernetInterfaces with MAC, speed, link, addresses and health; a BMC its LAN channel', () => {
    const r = dscli(db, ['getNicList', 'mo', 'su', 'bmc1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '==> mo <==',
      '12446A3B0411 | Ethernet Interface | 12:44:6A:3B:04:11 | 1000 Mb/s | LinkUp | 192.168.0.10 | OK',
      '12446A3B8890 | Ethernet Interface | AA:BB:CC:DD:EE:00 | 1000 Mb/s | LinkUp | 192.168.0.11 | OK',
      'VLAN1 | Ethernet Interface | 12:44:6A:3B:04:11 | 1000 Mb/s | LinkUp | 192.168.150.236 | OK',
      'ToManager | Host Ethernet Interface | AA:BB:CC:DD:EE:FE | 100 Mb/s | - | 192.168.20.56 | OK',
      '',
      '==> su <==',
      expect.stringMatching(/^\S+ \| VNIC \S+ \| ([0-9a-f]{2}:){5}[0-9a-f]{2} \| - \| - \| - \| OK$/),
      '',
      '==> bmc1 <==',
      expect.stringMatching(/^bmc-lan1 \| BMC LAN channel 1 \| \S+ \| - \| - \| \S+ \| -$/),
      '',
    ]);
    const j = JSON.parse(dscli(db, ['getNicList', 'mo', '--json']).out.split('\n')[0]!);
    expect(j).toEqual({ target: 'mo', id: '12446A3B0411', name: 'Ethernet Interface', mac: '12:44:6A:3B:04:11', speed_mbps: 1000, link: 'LinkUp', enabled: null, ipv4: ['192.168.0.10'], health: 'OK' });
  });

  it('getStorageList: controllers, drives (and volumes) with capacity and health; SimpleStorage on older services', () => {
    const r = dscli(db, ['getStorageList', 'su', 'mo']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe([
      '==> su <==',
      'controller | 1/0 | Contoso Integrated RAID | - | - | OK | Enabled',
      'drive | 1/32ADF365C6C1B7BD | Drive Sample | 899.5 GB | HDD | OK | Enabled',
      '',
      '==> mo <==',
      'controller | 1/1 | Simple Storage Controller | - | - | OK | Enabled',
      'drive | 1/0 | SATA Bay 1 | 8000 GB | - | OK | Enabled',
      'drive | 1/1 | SATA Bay 2 | 4000 GB | - | Warning | Enabled',
      'drive | 1/2 | SATA Bay 3 | - | - | - | Absent',
      'drive | 1/3 | SATA Bay 4 | - | - | - | Absent',
      '',
    ].join('\n'));
    expect(dscli(db, ['getStorageList', 'bmc1']).code).toBe(6);
  });

  it('a drive that goes Critical, seen by polling, is the catalogue disk event, once', async () => {
    mon = await startMonitor(db);
    const moId = (queryAll<{ id: number }>(db, "SELECT id FROM machines WHERE name = 'mo'")[0]!).id;
    await until('the baseline', () => queryAll(db, "SELECT 1 FROM monitor_disk_health WHERE machine_id = ? AND item = 'drive:1/1'", moId).length === 1);
    // The drive that was already Warning at the baseline raised nothing.
    expect(queryAll(db, "SELECT count(*) AS n FROM monitor_events WHERE event LIKE 'ESMDiskArray%'")).toEqual([{ n: 0 }]);
    const file = join(MOCKUP_DIR, 'public-rackmount1', 'Systems', '437XR1138R2', 'SimpleStorage', '1', 'index.json');
    const devices = JSON.parse(readFileSync(file, 'utf8')).Devices;
    devices[0].Status.Health = 'Critical';
    const a = await httpsRequest(mockup.port, 'PATCH', '/redfish/v1/Systems/437XR1138R2/SimpleStorage/1', certs.caCert, { Devices: devices });
    expect(a.status).toBe(204);
    const ev = await until('the disk event', () => queryAll<{ event: string; category: string; detail: string }>(db,
      'SELECT event, category, detail FROM monitor_events WHERE machine_id = ? AND event LIKE ?', moId, 'ESMDiskArray%')[0], 30_000);
    expect(ev).toEqual({ event: 'ESMDiskArray[0xC00403F3]', category: 'ハードディスク交換障害', detail: 'drive 1/0 SATA Bay 1: health OK -> Critical' });
    expect(dscli(db, ['getStorageList', 'mo']).out).toContain('drive | 1/0 | SATA Bay 1 | 8000 GB | - | Critical | Enabled\n');
    // Later polls see the same health: nothing more.
    await until('the next polls', () => queryAll(db, "SELECT 1 FROM monitor_disk_health WHERE machine_id = ? AND item = 'drive:1/0' AND health = 'Critical'", moId).length === 1);
    const polled = queryAll<{ polled_at: string }>(db, 'SELECT polled_at FROM monitor_poll_state WHERE machine_id = ?', moId)[0]!.polled_at;
    await until('two more polls', () => queryAll<{ polled_at: string }>(db, 'SELECT polled_at FROM monitor_poll_state WHERE machine_id = ?', moId)[0]!.polled_at > polled && Date.now() > Date.parse(polled) + 2500);
    expect(queryAll(db, "SELECT count(*) AS n FROM monitor_events WHERE event LIKE 'ESMDiskArray%'")).toEqual([{ n: 1 }]);
  }, 90_000);
});
