// Answers from peers are bounded: JSON nesting depth and size (Redfish, ovsdb), the length of
// one HAProxy runtime API answer. Each hostile peer is written here, on a unix socket; the
// reader must fail the answer, not grow without bound.
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonDepth, parsePeerJson } from '../src/util/peer-answer.js';
import { JsonSplitter } from '../src/adapters/ovsdb/jsonrpc.js';
import { RuntimeApi } from '../src/adapters/haproxy/runtime-api.js';
import { virsh } from '../src/adapters/libvirt/virsh.js';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from './support/store.js';
import { MAX_SETTING_BYTES, settingProblem } from '../src/adapters/settings.js';

const servers: Server[] = [];
afterAll(() => { for (const s of servers) s.close(); });

describe('peer answers are bounded', () => {
  it('JSON nested deeper than the bound is refused before it is parsed; strings do not count', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{{{"}]}')).toBe(3);
    const bomb = '['.repeat(5_000_000) + ']'.repeat(5_000_000);
    const before = process.memoryUsage().heapUsed;
    expect(() => parsePeerJson(bomb)).toThrow(new RegExp(`deeper than ${MAX_JSON_DEPTH}`));
    // The refusal parsed nothing: no structure of millions of arrays was built.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 << 20);
    expect(parsePeerJson('{"Members":[{"@odata.id":"/redfish/v1/Systems/1"}]}')).toEqual({ Members: [{ '@odata.id': '/redfish/v1/Systems/1' }] });
  });

  it('an OVSDB stream nested beyond the bound is refused', () => {
    const s = new JsonSplitter();
    expect(() => s.push('{"id":1,"result":' + '['.repeat(MAX_JSON_DEPTH + 5))).toThrow(/deeper than/);
    expect(new JsonSplitter().push('{"id":1,"result":[]}{"id":2')).toEqual(['{"id":1,"result":[]}']);
  });

  it('an HAProxy runtime API peer that never ends its answer: the command fails once the bound is passed', async () => {
    const path = join(tempDir(), 'haproxy.sock');
    const srv = createServer((c) => {
      c.on('error', () => undefined);
      const chunk = Buffer.alloc(1 << 20, 'x');
      // The prompt answer, then a flood without a prompt.
      c.write('\n> ');
      const flood = (): void => { while (!c.destroyed && c.write(chunk)); if (!c.destroyed) c.once('drain', flood); };
      c.once('data', flood);
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(path, () => r()));
    const api = new RuntimeApi({ kind: 'unix', path }, 30_000);
    await expect(api.command('show stat')).rejects.toThrow(/larger than \d+ MiB/);
  }, 30_000);

  it('a setting value is bounded (a 50 MB value is refused)', () => {
    expect(settingProblem({ key: 'monitor.trap_sources', scope: 'global', type: 'string', description: '' }, 'x'.repeat(50 << 20))).toBe(`must be at most ${MAX_SETTING_BYTES} bytes`);
    expect(settingProblem({ key: 'monitor.trap_sources', scope: 'global', type: 'string', description: '' }, '1.3.6.1.4.1.119=ESMDSVNT')).toBeUndefined();
  });

  it('a virsh wrapper that never answers: at the deadline it and what it started are gone', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'child.pid');
    const wrapper = join(dir, 'virsh');
    writeFileSync(wrapper, `#!/bin/sh\nsleep 300 &\necho $! > ${pidFile}\nwait\n`);
    chmodSync(wrapper, 0o755);
    await expect(virsh('test:///default', 'list', { binary: wrapper, timeoutMs: 1000 })).rejects.toThrow(/did not finish within 1 s/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = (): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const end = Date.now() + 5000;
    while (alive() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(false);
  }, 20_000);
});
