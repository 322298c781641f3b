// dscli shutdownOs via=ssh: the shutdown command runs on the machine over SSH (a real
// OpenSSH sshd on loopback; its host key accepted with kanri ssh trust), then the power
// state is read from the server's controller until it is off — a Redfish controller (the
// sushy-tools emulator) and an IPMI BMC (ipmi_sim) alike. The "OS" here is a script that,
// like a halting OS, has the machine power off a moment later.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './support/cli.js';
import { dscli, lines, newStore, secretFile } from './support/dscli.js';
import { startSims, type SimRack } from './support/ipmi-sim.js';
import { requirePeer, skipReason } from './support/peers.js';
import { type Certs, curlAuthFile, makeCerts, type Peer, redfishPeersMissing, redfishtool, startSushy } from './support/redfish.js';
import { type Sshd, startSshd } from './support/sshd.js';
import { exec, queryAll, tempDir } from './support/store.js';

const SUITE = 'shutdownOs via=ssh';
const missing = redfishPeersMissing();
if (missing) skipReason(SUITE, missing);
const havePeers = !missing && requirePeer('sshd', SUITE) && requirePeer('ipmi_sim', SUITE) && requirePeer('curl', SUITE) && requirePeer('openssl', SUITE) && requirePeer('redfishtool', SUITE);

const PW = 'Sushy-Pass-52';

describe.runIf(havePeers)(SUITE, () => {
  let sshd: Sshd;
  let sushy: Peer;
  let rack: SimRack;
  let certs: Certs;
  let db: string;
  let dir: string;
  const outputs: string[] = [];
  const d = (args: string[]) => {
    const r = dscli(db, args, { timeout: 60_000 });
    outputs.push(r.out, r.err);
    return r;
  };
  /** The "OS shutdown": a script run over SSH that powers the machine off after a second, in the background. */
  const useShutdown = (body: string): void => {
    const script = join(dir, 'fake-shutdown.sh');
    writeFileSync(script, `#!/bin/sh\necho "shutting down"\n( sleep 1; ${body} ) </dev/null >/dev/null 2>&1 &\nexit 0\n`);
    chmodSync(script, 0o700);
    exec(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('ssh.shutdown_command', ?)", script);
  };
  const sushyState = async (): Promise<string> => JSON.parse((await redfishtool(sushy.port, 'admin', PW, ['Systems', '-F', 'get', '-P', 'PowerState'])).stdout).PowerState as string;

  beforeAll(async () => {
    certs = makeCerts();
    [sshd, sushy, rack] = await Promise.all([
      startSshd(),
      startSushy({ cert: certs.selfSigned.cert, key: certs.selfSigned.key, users: { admin: PW } }),
      startSims(1, { power: 'on', rich: false }),
    ]);
    dir = tempDir();
    db = newStore();
    const ssh = ['os_address=127.0.0.1', `ssh_port=${sshd.port}`, `ssh_user=${sshd.user}`, `ssh_key=${sshd.userKey}`];
    expect(d(['createServer', 'rf1', 'mgmt=redfish', 'address=127.0.0.1', `port=${sushy.port}`, 'user=admin', `password_file=${secretFile(PW)}`, `fingerprint=${certs.selfSigned.fingerprint}`, ...ssh]).code).toBe(0);
    const b = rack.bmcs[0]!;
    expect(d(['createServer', 'bmc1', 'mgmt=ipmi', 'address=127.0.0.1', `port=${b.port}`, 'user=admin', `password_file=${b.passwordFile('admin')}`, ...ssh]).code).toBe(0);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([sshd?.stop(), sushy?.stop(), rack?.stop()]);
  });

  it('an SSH host key that is not accepted is refused (4), nothing run', async () => {
    useShutdown('exit 0');
    const r = d(['shutdownOs', 'rf1', 'via=ssh', 'wait=5']);
    expect(r.code).toBe(4);
    expect(r.out).toMatch(new RegExp(`^rf1 failed certificate: host key of 127\\.0\\.0\\.1:${sshd.port} is not trusted \\(${sshd.hostFingerprint.replace(/[+/]/g, '\\$&')}\\); check it and run kanri ssh trust rf1\\n$`));
    expect(await sushyState()).toBe('On');
    const t = run('kanri', ['ssh', 'trust', 'rf1', '--fingerprint', sshd.hostFingerprint], { db });
    expect(t.code, t.err).toBe(0);
  }, 60_000);

  it('Redfish: the OS is shut down over SSH, then the controller is read until off', async () => {
    const auth = curlAuthFile(dir, 'admin', PW);
    const system = JSON.parse((await redfishtool(sushy.port, 'admin', PW, ['Systems', '-F', 'get'])).stdout)['@odata.id'] as string;
    useShutdown(`curl -sk -K ${auth} -H 'Content-Type: application/json' -d '{"ResetType":"ForceOff"}' https://127.0.0.1:${sushy.port}${system}/Actions/ComputerSystem.Reset`);
    expect(await sushyState()).toBe('On');
    const t0 = Date.now();
    let r = d(['shutdownOs', 'rf1', 'via=ssh', 'wait=20']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toBe('rf1 ok on->off\n');
    // the script waits a second: the answer came from reading the controller after that
    expect(Date.now() - t0).toBeGreaterThan(1000);
    expect(await sushyState()).toBe('Off');
    expect(queryAll(db, "SELECT last_power FROM machines WHERE name = 'rf1'")).toEqual([{ last_power: 'off' }]);
    r = d(['shutdownOs', 'rf1', 'via=ssh']);
    expect(r).toMatchObject({ code: 0, out: 'rf1 ok off (no change)\n' });
    expect(d(['powerOn', 'rf1']).code).toBe(0);
  }, 60_000);

  it('IPMI: the same for a BMC server; an OS that does not go down is 8 (verify); a failing command is 8 (os)', () => {
    expect(run('kanri', ['ssh', 'trust', 'bmc1', '--fingerprint', sshd.hostFingerprint], { db }).code).toBe(0);
    const b = rack.bmcs[0]!;
    b.writePower('on');
    useShutdown(`printf '0\\n' > ${join(b.dir, 'power')}`);
    let r = d(['shutdownOs', 'bmc1', 'via=ssh', 'wait=20', '--json']);
    expect(r.code, r.out + r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ target: 'bmc1', operation: 'shutdownOs', before: 'on', after: 'off', status: 'ok' });
    expect(b.readPower()).toBe('off');
    b.writePower('on');
    useShutdown('true');
    r = d(['shutdownOs', 'bmc1', 'via=ssh', 'wait=2']);
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/^bmc1 failed verify: ssh .*fake-shutdown\.sh sent; still on after 2 s\n$/);
    exec(db, "INSERT OR REPLACE INTO settings (key, value) VALUES ('ssh.shutdown_command', 'echo no permission >&2; exit 3')");
    r = d(['shutdownOs', 'bmc1,rf1', 'via=ssh', 'wait=2']);
    expect(r.code).toBe(8);
    expect(lines(r.out)).toEqual([
      "bmc1 failed os: 'echo no permission >&2; exit 3' exited 3 on 127.0.0.1 (no permission)",
      "rf1 failed os: 'echo no permission >&2; exit 3' exited 3 on 127.0.0.1 (no permission)",
    ]);
    // via=ssh is for shutdownOs only
    expect(d(['powerOff', 'bmc1', 'via=ssh']).code).toBe(1);
    expect(b.readPower()).toBe('on');
  }, 60_000);

  it('no password in any output', () => {
    expect(outputs.join('\n')).not.toContain(PW);
    expect(outputs.join('\n')).not.toContain('adminpass');
  });
});
