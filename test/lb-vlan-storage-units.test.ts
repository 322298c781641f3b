// The pieces of the lb, vlan and storage drivers that need no peer: where a peer listens,
// numbered settings (nic<n>.port), HAProxy's listings, PortLists, tgtd's request header
// and listing, the OVSDB stream reader, and the two concurrency helpers.
import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../src/adapters/endpoint.js';
import { parseServersState, parseSessions, serverName } from '../src/adapters/haproxy/servers.js';
import { encodeRequest } from '../src/adapters/iscsi-tgt/native.js';
import { codeOfMessage, parseTargets } from '../src/adapters/iscsi-tgt/requests.js';
import { JsonSplitter } from '../src/adapters/ovsdb/jsonrpc.js';
import { declaredSetting } from '../src/adapters/settings.js';
import { hasPort, portsText, samePorts, withPort } from '../src/adapters/snmp/qbridge.js';
import { switchPortSettings } from '../src/adapters/switch-ports.js';
import { readDataCentre } from '../src/config/validate.js';
import { FreshRead } from '../src/util/fresh-read.js';
import { KeyedLock } from '../src/util/keyed-lock.js';

describe('endpoints', () => {
  it('unix paths and TCP addresses, with what is wrong named', () => {
    expect(parseEndpoint('/run/haproxy/admin.sock')).toEqual({ kind: 'unix', path: '/run/haproxy/admin.sock' });
    expect(parseEndpoint('unix:/run/openvswitch/db.sock')).toEqual({ kind: 'unix', path: '/run/openvswitch/db.sock' });
    expect(parseEndpoint('tcp:127.0.0.1:6640')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 6640 });
    expect(parseEndpoint('lb1.example:9999')).toEqual({ kind: 'tcp', host: 'lb1.example', port: 9999 });
    expect(parseEndpoint('[::1]', 6640)).toEqual({ kind: 'tcp', host: '::1', port: 6640 });
    expect(parseEndpoint('unix:run/x')).toBe("'unix:run/x': a unix socket is an absolute path (unix:/path/to/socket)");
    expect(parseEndpoint('tcp:host')).toBe("'tcp:host' needs a port (tcp:host:port)");
    expect(parseEndpoint('h:70000')).toBe("'h:70000': the port must be from 1 to 65535");
  });
});

describe('numbered settings', () => {
  const specs = switchPortSettings('a switch', 'a port', 'string');
  it('nic<n>.port stands for nic1.port … nic16.port and nothing else', () => {
    expect(declaredSetting(specs, 'nic2.port')).toMatchObject({ key: 'nic2.port', scope: 'machine' });
    expect(declaredSetting(specs, 'nic16.switch')?.key).toBe('nic16.switch');
    for (const k of ['nic0.port', 'nic17.port', 'nic02.port', 'nicx.port', 'nic.port', 'nic1.ports']) expect(declaredSetting(specs, k), k).toBeUndefined();
    expect(declaredSetting(specs, 'vid')?.key).toBe('vid');
  });

  it('a data-centre description may carry them; a wrong one is named', () => {
    const doc = (ovsdb: Record<string, string>): ReturnType<typeof readDataCentre> => readDataCentre({ kanri: 1, machines: [{ name: 'm', kind: 'physical', driver_settings: { ovsdb } }] });
    expect(doc({ 'nic1.port': 'p1', 'nic2.port': 'p2', 'nic2.switch': 'unix:/s', 'nic2.mode': 'trunk' }).errors).toEqual([]);
    expect(doc({ 'nic99.port': 'p' }).errors[0]).toMatch(/^machines\[0\]\.driver_settings\.ovsdb\.nic99\.port: unknown key \(expected one of: nic<n>\.port, nic<n>\.switch, nic<n>\.mode\)$/);
    expect(doc({ 'nic1.mode': 'hybrid' }).errors).toEqual(["machines[0].driver_settings.ovsdb.nic1.mode: must be one of access, trunk, not 'hybrid'"]);
  });
});

describe('HAProxy listings', () => {
  const state = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n'
    + '2 web 1 static1 127.0.0.1 0 5 1 1 1 1 0 0 8 0 0 0 - 9 - 0 0 - - 0\n2 web 2 m1 127.0.1.1 2 0 1 1 0 1 0 0 0 0 0 0 - 80 - 0 0 - - 0\n';
  it('servers with address, port and administrative state; a missing backend', () => {
    const s = parseServersState(state, 'web', 'x')!;
    expect([...s.values()]).toEqual([{ name: 'static1', address: '127.0.0.1', port: 9, admin: 5 }, { name: 'm1', address: '127.0.1.1', port: 80, admin: 0 }]);
    expect(parseServersState("Can't find backend.\n", 'nope', 'x')).toBeUndefined();
    expect(() => parseServersState('Unknown command', 'web', 'x')).toThrow(/answered 'show servers state web'/);
  });
  it('current sessions from show stat', () => {
    expect(parseSessions('# pxname,svname,qcur,qmax,scur,smax\nweb,m1,0,0,3,4\nweb,BACKEND,0,0,3,4\n').get('m1')).toBe(3);
  });
  it('a machine name HAProxy cannot take becomes m<id>', () => {
    expect(serverName({ id: 7, name: 'web-01.a' })).toBe('web-01.a');
    expect(serverName({ id: 7, name: 'ウェブ01' })).toBe('m7');
  });
});

describe('PortLists (RFC 4363)', () => {
  it('port 1 is the first octet\'s most significant bit; lists grow as needed; shorter lists compare by their ports', () => {
    const a = withPort(Buffer.alloc(1), 1, true);
    expect(a.toString('hex')).toBe('80');
    const b = withPort(a, 12, true);
    expect(b.toString('hex')).toBe('8010');
    expect([hasPort(b, 12), hasPort(b, 11), hasPort(b, 40)]).toEqual([true, false, false]);
    expect(portsText(withPort(b, 1, false))).toBe('12');
    expect(samePorts(Buffer.from('80', 'hex'), Buffer.from('800000', 'hex'))).toBe(true);
  });
});

describe("tgtd's management protocol", () => {
  it('the request header is struct tgtadm_req of 120 bytes, then key=value and a NUL', () => {
    const b = encodeRequest({ mode: 'target', op: 'bind', tid: 3, params: [['initiator-address', '10.0.0.1']] });
    expect(b.length).toBe(120 + 'initiator-address=10.0.0.1'.length + 1);
    expect([b.readInt32LE(0), b.readInt32LE(4), b.subarray(8, 13).toString(), b.readUInt32LE(72), b.readInt32LE(76)]).toEqual([1, 3, 'iscsi', b.length, 3]);
    expect(b.readBigUInt64LE(88)).toBe(0xffffffffffffffffn);
    expect(b.subarray(120).toString()).toBe('initiator-address=10.0.0.1\0');
    expect(encodeRequest({ mode: 'target', op: 'show' }).readInt32LE(76)).toBe(-1);
  });
  it('the target listing and tgtadm\'s words for an error', () => {
    const text = 'Target 1: iqn.x:a\n    System information:\n        Driver: iscsi\n    ACL information:\n        10.0.0.1\n        iqn.y:m1\nTarget 2: iqn.x:b\n    ACL information:\n';
    expect(parseTargets(text, 'w')).toEqual([{ tid: 1, iqn: 'iqn.x:a', acl: ['10.0.0.1', 'iqn.y:m1'] }, { tid: 2, iqn: 'iqn.x:b', acl: [] }]);
    expect(codeOfMessage('tgtadm: this access control rule already exists\n')).toBe(12);
    expect(codeOfMessage('tgtadm: this access control rule does not exist\n')).toBe(13);
    expect(codeOfMessage('something else')).toBeUndefined();
  });
});

describe('the OVSDB stream', () => {
  it('splits JSON texts sent back to back, in any chunks, with braces inside strings', () => {
    const sp = new JsonSplitter();
    const whole = '{"id":1,"result":[{"rows":[{"name":"p{1}"}]}]}{"method":"echo","params":["\\"}"],"id":"e"}';
    const got: string[] = [];
    for (let i = 0; i < whole.length; i += 7) got.push(...sp.push(whole.slice(i, i + 7)));
    expect(got.map((t) => JSON.parse(t))).toEqual([{ id: 1, result: [{ rows: [{ name: 'p{1}' }] }] }, { method: 'echo', params: ['"}'], id: 'e' }]);
  });
});

describe('concurrency helpers', () => {
  it('KeyedLock runs one holder of a key at a time, others freely', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (k: string, n: string, ms: number): Promise<void> => lock.with(k, async () => { log.push(`${n}+`); await new Promise((r) => setTimeout(r, ms)); log.push(`${n}-`); });
    await Promise.all([job('a', 'a1', 30), job('a', 'a2', 1), job('b', 'b1', 1)]);
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1-')).toBeLessThan(log.indexOf('a1-'));
    expect(lock.held('a')).toBe(false);
  });

  it('FreshRead: a caller arriving during a read gets the next one, shared with the others who arrive meanwhile', async () => {
    let n = 0;
    const r = new FreshRead(async () => { const me = ++n; await new Promise((res) => setTimeout(res, 20)); return me; });
    const first = r.fresh();
    const [second, third] = [r.fresh(), r.fresh()];
    expect(await Promise.all([first, second, third])).toEqual([1, 2, 2]);
    expect(await r.fresh()).toBe(3);
  });
});
