// An orderly OS shutdown in-band: the shutdown command run on the machine over SSH (its
// os_address, ssh_user and ssh_key_path; the host key checked against the keys accepted
// with kanri ssh trust), then the machine's power state read from its controller until
// it is off or the wait ends. Works with any power driver (ipmi, redfish, sim); the
// result is the same idempotent PowerChange as a power driver's.
import { settingText } from '../setting-reader.js';
import { SSH } from './spec.js';
import { planPower, waitForPower } from '../../util/power-action.js';
import { type CallOptions, type DriverContext, DriverError, type MachineRef, type PowerActions, type PowerChange } from '../types.js';
import { connectVerified, runShell } from './session.js';
import { connectTimeoutMs, targetFor } from './target.js';

/** The command itself returns at once (systemd schedules the shutdown): a minute is generous. */
const RUN_MS = 60_000;
const POLL_MS = 1000;

export interface SshShutdownOptions {
  /** How long to read the power state for off after the command (0: do not wait). */
  waitMs: number;
  /** Limits of each call on the controller. */
  call?: CallOptions;
}

export async function shutdownOverSsh(ctx: DriverContext, m: MachineRef, power: PowerActions, o: SshShutdownOptions): Promise<PowerChange> {
  const started = Date.now();
  // Where to log in is checked first: a registration that cannot work is said even when the machine is off.
  const target = targetFor(ctx.db, m.id, null);
  const first = await power.state(ctx, m, o.call);
  let attempts = first.attempts;
  const out: PowerChange = { action: 'soft', before: first.state, after: first.state, changed: false, attempts, elapsedMs: 0 };
  const plan = planPower('soft', first.state, false);
  if (!plan.send) {
    if (plan.note) out.note = plan.note;
    out.elapsedMs = Date.now() - started;
    return out;
  }
  const command = settingText(ctx.db, SSH.settings, 'ssh.shutdown_command')!.trim();
  // A host key that is not accepted is refused as a certificate is (layer certificate).
  const client = await connectVerified({ db: ctx.db, target, timeoutMs: connectTimeoutMs(ctx.db), signal: ctx.signal });
  const lines: string[] = [];
  try {
    ctx.log(`${m.name}: ${target.user}@${target.address}:${target.port}: ${command}`);
    const r = await runShell(client, `${command} </dev/null\nexit $?\n`, { timeoutMs: RUN_MS, signal: ctx.signal, log: (l) => { lines.push(l); ctx.log(l); } });
    const said = lines.length ? ` (${lines.slice(-1)[0]})` : '';
    if (r.kind === 'exit' && r.code !== 0) {
      throw new DriverError(`${m.name}: os error: '${command}' exited ${r.code} on ${target.address}${said}`, { layer: 'os', detail: `'${command}' exited ${r.code} on ${target.address}${said}` });
    }
    if (r.kind === 'signal') throw new DriverError(`${m.name}: os error: '${command}' was killed by signal ${r.signal}`, { layer: 'os', detail: `'${command}' was killed by signal ${r.signal}` });
    if (r.kind === 'stopped') {
      if (r.why === 'canceled') throw new DriverError(`${m.name}: canceled`, { layer: 'network', aborted: true, detail: 'canceled' });
      throw new DriverError(`${m.name}: os error: '${command}' did not return within ${RUN_MS / 1000} s`, { layer: 'os', detail: `'${command}' did not return within ${RUN_MS / 1000} s` });
    }
    // 'lost': the connection went down with the OS before the exit status came.
  } finally {
    client.end();
  }
  out.sent = `ssh ${command}`;
  out.changed = true;
  if (o.waitMs > 0) {
    const until = Date.now() + o.waitMs;
    const read = async (): Promise<PowerChange['after'] | undefined> => {
      const r = await power.state(ctx, m, o.call).catch((e: unknown) => {
        // A controller that does not answer for a moment does not end the wait.
        if (e instanceof DriverError && e.layer === 'network' && !e.aborted && Date.now() + POLL_MS < until) return undefined;
        throw e;
      });
      if (r) attempts += r.attempts;
      return r?.state;
    };
    const cancelled = (): DriverError => new DriverError('canceled while waiting for the machine to power off', { layer: 'network', aborted: true, detail: 'canceled while waiting for the machine to power off' });
    out.verified = await waitForPower(read, 'off', { waitMs: o.waitMs, pollMs: POLL_MS, signal: ctx.signal, cancelled, seen: (st) => { out.after = st; } });
  } else {
    out.note = 'shutdown command ran; the OS shuts down';
  }
  out.attempts = attempts;
  out.elapsedMs = Date.now() - started;
  return out;
}
