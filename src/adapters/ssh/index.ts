// The ssh deploy driver: scenarios run on the machine itself over SSH (their
// source is a shell script fed to /bin/sh -s after the PVM_* variables); local
// scripts run on this server exactly as with the local driver. There is no
// deployment server behind this driver, so DPM registration only logs.
import { type Driver, type DriverContext, DriverError, type HostRef, type MachineRef, type PvmEnvironment, type SoftwareRef } from '../types.js';
import { runLocalScript } from '../local/script.js';
import { connectVerified, runShell, scenarioInput } from './session.js';
import { connectTimeoutMs, runTimeoutMs, targetFor } from './target.js';

async function runScenario(ctx: DriverContext, m: MachineRef, sw: SoftwareRef, host: HostRef | null, env: PvmEnvironment): Promise<void> {
  if (!sw.source.trim()) throw new DriverError(`scenario ${sw.name} has no script (its source is empty)`);
  const target = targetFor(ctx.db, m.id, host);
  const connectMs = connectTimeoutMs(ctx.db);
  const runMs = runTimeoutMs(ctx.db);
  ctx.signal.throwIfAborted();
  ctx.log(`${sw.name}: ${target.user}@${target.address}:${target.port}`);
  const client = await connectVerified({ db: ctx.db, target, timeoutMs: connectMs, signal: ctx.signal });
  try {
    const r = await runShell(client, scenarioInput(sw.source, env), { timeoutMs: runMs, signal: ctx.signal, log: ctx.log });
    ctx.signal.throwIfAborted();
    const on = `scenario ${sw.name} on ${m.name} (${target.address})`;
    switch (r.kind) {
      case 'exit':
        if (r.code !== 0) throw new DriverError(`${on} exited ${r.code}`);
        ctx.log(`${sw.name}: exit 0`);
        return;
      case 'signal':
        throw new DriverError(`${on} was killed by signal ${r.signal}`);
      case 'stopped':
        throw new DriverError(`${on} ${r.why === 'timeout' ? `timed out after ${Math.round(runMs / 1000)} s (setting ssh.timeout_s)` : 'was canceled'}; its remote processes were stopped and the session closed`);
      case 'lost':
        throw new DriverError(`${on}: the SSH session ended without an exit status`);
    }
  } finally {
    client.end();
  }
}

export function createSshDriver(): Driver {
  return {
    name: 'ssh',
    interfaces: {
      deploy: {
        async distribute(ctx, m, sw, host, env) {
          if (sw.kind === 'local_script') return runLocalScript(ctx, sw, env);
          if (sw.kind !== 'scenario') throw new DriverError(`${sw.name} is a ${sw.kind}; the ssh driver distributes scenarios and local scripts only`);
          await runScenario(ctx, m, sw, host, env);
        },
        async register(ctx, m) { ctx.log(`${m.name}: no deployment server to register with (ssh driver)`); },
        async unregister(ctx, m) { ctx.log(`${m.name}: no deployment server to unregister from (ssh driver)`); },
      },
    },
  };
}
