// dscli getFirmwareList / updateFirmware and getBiosSettings / setBiosSettings against the
// Redfish peers: sushy-tools (libvirt test driver: its SimpleUpdate raises the system's
// BIOS version and answers with a task; its BIOS settings apply at once) and DMTF's mockup
// (FirmwareInventory; a Bios settings object whose changes wait for the next boot), and
// ipmi_sim for a BMC's firmware and boot options, cross-checked with redfishtool and ipmitool.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dscli } from './support/dscli.js';
import { startSims, type SimBmc, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, makeCerts, type Peer, redfishJson, redfishPeersMissing, startMockup, startSushy } from './support/redfish.js';
import { fixtureStore, tempDir } from './support/store.js';

const SUITE = 'dscli firmware and BIOS';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('redfishtool', SUITE) && requirePeer('openssl', SUITE) && requirePeer('ipmi_sim', SUITE) && requirePeer('ipmitool', SUITE);

const PW = 'Peer-Pass-5521';

describe.runIf(havePeers)(SUITE, () => {
  let certs: Certs;
  let sushy: Peer, mockup: Peer;
  let rack: SimRack;
  let bmc: SimBmc;
  let db: string;
  const get = (port: number, path: string) => redfishJson(port, 'admin', PW, path);

  beforeAll(async () => {
    certs = makeCerts();
    [sushy, mockup, rack] = await Promise.all([
      startSushy({ cert: certs.caSigned.cert, key: certs.caSigned.key, users: { admin: PW } }),
      startMockup({ cert: certs.caSigned.cert, key: certs.caSigned.key }),
      startSims(1, { rich: false }),
    ]);
    bmc = rack.bmcs[0]!;
    const pw = join(tempDir(), 'pw');
    writeFileSync(pw, PW + '\n', { mode: 0o600 });
    db = fixtureStore('kanri: 1\n');
    for (const [name, port, extra] of [['su', sushy.port, ['auth=basic']], ['mo', mockup.port, []]] as const) {
      expect(dscli(db, ['createServer', name, 'mgmt=redfish', 'address=127.0.0.1', `port=${port}`, 'user=admin', `password_file=${pw}`, `ca_file=${certs.caCert}`, ...extra]).code).toBe(0);
    }
    expect(dscli(db, ['createServer', 'bmc1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${bmc.port}`, 'user=admin', `password_file=${bmc.passwordFile('admin')}`]).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([sushy?.stop(), mockup?.stop(), rack?.stop()]);
  });

  it('getFirmwareList: the FirmwareInventory, else the system and manager versions; a BMC its firmware', () => {
    const r = dscli(db, ['getFirmwareList', 'mo', 'su', 'bmc1']);
    expect(r.code, r.err).toBe(0);
    expect(r.out.split('\n')).toEqual([
      '==> mo <==',
      'BMC | Contoso BMC Firmware | 1.45.455b66-rev4 | updateable | OK',
      'SS | Contoso Simple Storage Firmware | 2.50 | updateable | OK',
      'BIOS | Contoso BIOS Firmware | P79 v1.45 | updateable | OK',
      '',
      '==> su <==',
      'BIOS | system BIOS | 1.0.0 | - | -',
      expect.stringMatching(/^\S+ \| manager test-Manager \| 1\.00 \| - \| OK$/),
      '',
      '==> bmc1 <==',
      expect.stringMatching(/^BMC \| BMC firmware \| \d+\.\d+ \| - \| -$/),
      '',
    ]);
    const j = dscli(db, ['getFirmwareList', 'mo', '--json']).out.trim().split('\n').map((l) => JSON.parse(l));
    expect(j[0]).toEqual({ target: 'mo', id: 'BMC', name: 'Contoso BMC Firmware', version: '1.45.455b66-rev4', updateable: true, health: 'OK' });
  });

  it('updateFirmware: SimpleUpdate, its task followed to the end, the versions before and after', async () => {
    let r = dscli(db, ['updateFirmware', 'su', 'image=https://repo.example.test/bios-1.1.bin', 'target=system']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'su ok firmware update Completed (task /redfish/v1/TaskService/Tasks/42); BIOS 1.0.0 -> 1.1.0\n' });
    expect((await get(sushy.port, '/redfish/v1/Systems/test')).BiosVersion).toBe('1.1.0');
    // The mockup takes the action and names no task: said so, nothing claimed.
    r = dscli(db, ['updateFirmware', 'mo', 'image=https://repo.example.test/bmc.bin', 'target=BMC']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'mo ok firmware update Accepted (the service gave no task to follow)\n' });
    expect(mockup.log()).toMatch(/"POST \/redfish\/v1\/UpdateService\/Actions\/SimpleUpdate HTTP\/1\.\d" 204/);
  }, 60_000);

  it('updateFirmware refuses what it cannot do, before anything is sent', () => {
    const before = mockup.log().length;
    expect(dscli(db, ['updateFirmware', 'mo', 'image=ftp://ops:secret@repo/bmc.bin']).code).toBe(1);
    expect(dscli(db, ['updateFirmware', 'mo', 'image=not a uri']).code).toBe(1);
    expect(dscli(db, ['updateFirmware', 'mo']).code).toBe(1);
    expect(dscli(db, ['updateFirmware', 'mo', 'su', 'image=https://x.test/a.bin']).code).toBe(1);
    let r = dscli(db, ['updateFirmware', 'mo', 'image=https://x.test/a.bin', 'target=BIMC']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no firmware 'BIMC' in the inventory \(did you mean BMC\?\)/);
    expect(mockup.log().slice(before)).not.toMatch(/SimpleUpdate/);
    r = dscli(db, ['updateFirmware', 'bmc1', 'image=https://x.test/a.bin']);
    expect(r.code).toBe(6);
  });

  it('BIOS settings: pending ones said to apply at the next boot; checked against the attributes first', async () => {
    let r = dscli(db, ['getBiosSettings', 'mo']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('ProcTurboMode=Enabled (pending: Disabled, applied at the next boot)\n');
    expect(r.out).toContain('BootMode=Uefi\n');

    r = dscli(db, ['setBiosSettings', 'mo', 'PowerProfile=SysDbpm', 'ProcCoreDisable=2']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'mo ok PowerProfile=SysDbpm (pending: applied at the next boot)\nmo ok ProcCoreDisable=2 (pending: applied at the next boot)\n' });
    const settings = await get(mockup.port, '/redfish/v1/Systems/437XR1138R2/Bios/Settings');
    expect(settings.Attributes).toMatchObject({ PowerProfile: 'SysDbpm', ProcCoreDisable: 2 });
    expect((await get(mockup.port, '/redfish/v1/Systems/437XR1138R2/Bios')).Attributes).toMatchObject({ PowerProfile: 'MaxPerf', ProcCoreDisable: 0 });
    expect(dscli(db, ['getBiosSettings', 'mo']).out).toContain('PowerProfile=MaxPerf (pending: SysDbpm, applied at the next boot)\n');

    // Nothing is written when one setting is wrong.
    r = dscli(db, ['setBiosSettings', 'mo', 'PowerProfile=MaxPerf', 'ProcTurboMod=Enabled']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/the BIOS has no attribute ProcTurboMod \(did you mean ProcTurboMode\?\); nothing was changed/);
    expect(dscli(db, ['setBiosSettings', 'mo', 'ProcCoreDisable=many']).code).toBe(1);
    expect(dscli(db, ['setBiosSettings', 'mo', 'AdminPassword=hunter22']).code).toBe(1);
    expect(((await get(mockup.port, '/redfish/v1/Systems/437XR1138R2/Bios/Settings')).Attributes as Record<string, unknown>).PowerProfile).toBe('SysDbpm');

    // sushy-tools applies BIOS settings at once: said as it is.
    r = dscli(db, ['setBiosSettings', 'su', 'ProcTurboMode=Disabled']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'su ok ProcTurboMode=Disabled (applied)\n' });
    expect(((await get(sushy.port, '/redfish/v1/Systems/test/BIOS')).Attributes as Record<string, unknown>).ProcTurboMode).toBe('Disabled');
  }, 60_000);

  it('a BMC has boot options only: read, set for the next boot, cross-checked with ipmitool', async () => {
    let r = dscli(db, ['getBiosSettings', 'bmc1']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'boot_device=disk\nboot_mode=legacy\nboot_override=no\nboot_persistent=no\n' });
    r = dscli(db, ['setBiosSettings', 'bmc1', 'boot_device=pxe']);
    expect(r, r.err).toMatchObject({ code: 0, out: 'bmc1 ok boot_device=pxe (pending: applied at the next boot)\n' });
    const t = await bmc.ipmitool(['chassis', 'bootparam', 'get', '5']);
    expect(t.stdout).toMatch(/Boot Device Selector : Force PXE/);
    expect(dscli(db, ['getBiosSettings', 'bmc1']).out).toMatch(/^boot_device=pxe\n/);
    // ipmi_sim keeps the device only (in its chassis program): a UEFI flag that does not read back is a failure, not a success.
    r = dscli(db, ['setBiosSettings', 'bmc1', 'boot_mode=uefi']);
    expect(r.code).toBe(8);
    expect(r.err).toMatch(/the BMC took boot_mode=uefi but reads back legacy/);
    expect(dscli(db, ['setBiosSettings', 'bmc1', 'ProcTurboMode=Disabled']).code).toBe(1);
    expect(dscli(db, ['setBiosSettings', 'bmc1', 'boot_device=usb']).code).toBe(1);
  }, 60_000);
});
