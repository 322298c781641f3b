// The SNMP trap receiver (net-snmp's Receiver): v1 and v2c traps with an accepted community,
// v3 traps of configured USM users (authPriv only). Each accepted trap is forwarded
// (forwarding.ts), recorded as an alert (dscli getAlertList) and classified:
//  - an IPMI Platform Event Trap (enterprise 1.3.6.1.4.1.3183.1.1) is decoded (ipmi/pet.ts)
//    and matched to its machine by system GUID, then the trap's agent address, then the
//    sender's address (each only when exactly one machine has it): a BMC event of the catalogue;
//  - another trap whose enterprise monitor.trap_sources maps to a catalogue source is the
//    event Source[0x<specific trap>] of the machine at the agent / sender address;
//  - anything else is an unclassified alert: recorded and counted, never dropped silently.
// A datagram that is not a trap for us (bad BER, wrong community, unknown user) is counted
// and ignored; nothing a sender can send stops the receiver: net-snmp's message handler runs
// inside a guard, and what it would send back (an InformRequest's Response, a v3 discovery
// Report) goes only to a peer we know (a machine's registered address or a relay of
// monitor.trap_relays) and only when it encodes — otherwise it is counted (unanswered) and
// dropped: a spoofed source gets nothing reflected, an out-of-range msgID or request-id
// (net-snmp's encoder throws on them) stops nothing.
//
// Spoofing: a v1/v2c trap (a community is no secret) is taken only from the address the
// machine is registered at (BMC, management or OS address), or from a relay listed in
// monitor.trap_relays (then its payload — PET GUID, agent address — names the machine);
// monitor.trap_any_source on takes them from anywhere, as before. A v3 trap is authenticated;
// its engine boots and time are checked against what that engine sent before (RFC 3414
// §3.2 step 7, a 150 s window) and a datagram seen already is refused: a captured trap
// replayed is not taken (snmp-replay.ts).
//
// Several monitors (managers on one PostgreSQL store) may each receive the same trap (a relay
// or a BMC sending to both): its event carries a deduplication key made of what the sender
// sent (trapContent: v3 the engine, its boots and time and the msgID; v1/v2c the PDU's fields
// and varbinds, with the copy's number among identical ones), so that the store keeps it once.
// Its alert carries the same key, and only the monitor whose receipt lists the alert (the one
// that claimed the key: alerts.ts) forwards the trap, so that a destination gets it once; a
// trap without a key (nothing to tell copies apart by) is forwarded by whoever received it.
// On SQLite (one monitor per store) a trap is forwarded at once, without waiting for the store;
// on PostgreSQL forwarding waits with the alert for a busy store, and an alert the full queue
// drops (alerts.ts, MAX_PENDING) is not forwarded either.
import { createSocket } from 'node:dgram';
import snmp, { type Notification, type Pdu, type Receiver, type User } from 'net-snmp';
import type { Db } from '../store/db.js';
import { configGeneration } from '../store/generation.js';
import { PET_ENTERPRISE_OID, PET_VARBIND_OID, decodePetSpecificTrap, decodePetVarbind } from '../ipmi/pet.js';
import { openSecret } from '../store/secrets.js';
import { bmcEvent } from './catalogue.js';
import { type Intake, Occurrences } from './intake.js';
import type { Forwarder } from './forwarding.js';
import type { Alerts } from './alerts.js';
import type { Counters } from './counters.js';
import { isPostgresStore } from '../store/tables.js';
import { monitorSetting, parseHostPort } from './settings.js';
import { ReplayGuard, usmTimeliness } from './snmp-replay.js';
import { printable } from '../util/peer-gate.js';

const TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';

export interface SnmpUser { name: string; auth_protocol: string; priv_protocol: string; auth_key: string; priv_key: string }

export const snmpUserPurpose = (name: string, which: 'auth' | 'priv'): string => `monitor-snmp-user:${name}:${which}`;

function users(db: Db): User[] {
  const rows = db.prepare('SELECT name, auth_protocol, priv_protocol, auth_key, priv_key FROM monitor_snmp_users ORDER BY name').all() as SnmpUser[];
  return rows.map((u) => ({
    name: u.name, level: snmp.SecurityLevel.authPriv!,
    authProtocol: snmp.AuthProtocols[u.auth_protocol]!, authKey: openSecret(db, u.auth_key, snmpUserPurpose(u.name, 'auth')),
    privProtocol: snmp.PrivProtocols[u.priv_protocol]!, privKey: openSecret(db, u.priv_key, snmpUserPurpose(u.name, 'priv')),
  }));
}

/** monitor.trap_sources: 'OID=Source Name;OID=Source Name'. */
export function trapSources(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const m = /^\s*\.?([0-9]+(?:\.[0-9]+)+)\s*=\s*(.+?)\s*$/.exec(part);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

interface MachineHit { id: number; name: string }

/** A varbind's value as text, the same on every receiver. */
const valueText = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('hex') : String(v));

/**
 * What a trap says, as text, for its deduplication key: the same on every monitor that
 * receives it. v3: the sending engine's ID, boots and time and the msgID name one message
 * (a replay of it is refused by snmp-replay.ts anyway). v1/v2c: every field of the PDU but
 * the community and request ID (a sender may use another per destination) with its
 * varbinds, sysUpTime among them, so two traps sent at two instants differ.
 */
export function trapContent(pdu: Pdu, raw: Buffer | undefined, v3: boolean): string | undefined {
  if (v3) {
    if (!raw) return undefined;
    try {
      const t = usmTimeliness(raw);
      return `v3 ${t.engineId} ${t.boots} ${t.time} ${t.msgId}`;
    } catch {
      return undefined;
    }
  }
  const vbs = pdu.varbinds.map((v) => `${v.oid}=${v.type}:${valueText(v.value)}`).join(' ');
  return pdu.type === snmp.PduType.Trap
    ? `v1 ${pdu.enterprise ?? ''} ${pdu.agentAddr ?? ''} ${pdu.generic ?? ''} ${pdu.specific ?? ''} ${pdu.upTime ?? ''} ${vbs}`
    : `v2 ${pdu.type} ${vbs}`;
}


/**
 * The receiver's view of the managed machines: by GUID, BMC address, other addresses, held
 * in memory and read again when the configuration generation changes (looked at once a second
 * at most), so that a trap costs no query to match.
 */
class MachineIndex {
  private byUuid = new Map<string, MachineHit | null>();
  private byBmc = new Map<string, MachineHit | null>();
  private byOther = new Map<string, MachineHit | null>();
  private generation = -1;
  private checkedAt = 0;

  constructor(private readonly db: Db) {}

  private fresh(): void {
    const now = Date.now();
    if (now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    const g = configGeneration(this.db);
    if (g === this.generation) return;
    this.generation = g;
    // An address or GUID two machines share matches neither (null).
    const put = (m: Map<string, MachineHit | null>, k: string | null, v: MachineHit): void => {
      if (!k) return;
      m.set(k, m.has(k) ? null : v);
    };
    this.byUuid = new Map();
    this.byBmc = new Map();
    this.byOther = new Map();
    const rows = this.db.prepare('SELECT id, name, uuid, bmc_address, mgmt_address, os_address FROM machines').all() as
      Array<MachineHit & { uuid: string | null; bmc_address: string | null; mgmt_address: string | null; os_address: string | null }>;
    for (const r of rows) {
      const hit = { id: r.id, name: r.name };
      put(this.byUuid, r.uuid ? r.uuid.replace(/-/g, '').toLowerCase() : null, hit);
      put(this.byBmc, r.bmc_address, hit);
      put(this.byOther, r.mgmt_address, hit);
      if (r.os_address !== r.mgmt_address) put(this.byOther, r.os_address, hit);
    }
  }

  guid(g: string): MachineHit | undefined {
    this.fresh();
    return this.byUuid.get(g.replace(/-/g, '').toLowerCase()) ?? undefined;
  }

  /** Whether a machine is registered at this address (BMC, management or OS address). */
  known(a: string): boolean {
    this.fresh();
    return this.byBmc.has(a) || this.byOther.has(a);
  }

  address(a: string | undefined): MachineHit | undefined {
    if (!a || a === '0.0.0.0') return undefined;
    this.fresh();
    if (this.byBmc.has(a)) return this.byBmc.get(a) ?? undefined;
    return this.byOther.get(a) ?? undefined;
  }
}

export interface TrapReceiverDeps {
  db: Db;
  intake: Intake;
  forwarder: Forwarder;
  alerts: Alerts;
  counters: Counters;
  log: (line: string) => void;
}

export class TrapReceiver {
  private receiver: Receiver | undefined;
  private raw: Buffer | undefined;
  private sources = new Map<string, string>();
  private machines: MachineIndex;
  private suppressedLog = 0;
  private logTimer: NodeJS.Timeout | undefined;
  private relays = new Set<string>();
  private anySource = false;
  private replay: ReplayGuard;
  private readonly copies = new Occurrences();
  /** Whether other managers' monitors may receive the same traps (a PostgreSQL store): forwarding waits for the claim. */
  private readonly shared: boolean;
  /** The address the receiver is bound to (port 0 in the setting: the port the system chose). */
  address: { host: string; port: number } | undefined;

  constructor(private readonly d: TrapReceiverDeps) {
    this.machines = new MachineIndex(d.db);
    this.replay = new ReplayGuard(d.db);
    this.shared = isPostgresStore(d.db);
  }

  private readSettings(): void {
    const { db } = this.d;
    this.sources = trapSources(monitorSetting(db, 'monitor.trap_sources'));
    this.machines = new MachineIndex(db);
    this.relays = new Set(monitorSetting(db, 'monitor.trap_relays').split(',').map((x) => x.trim()).filter(Boolean));
    this.anySource = /^(1|true|yes|on)$/i.test(monitorSetting(db, 'monitor.trap_any_source'));
  }

  /** Whether the receiver may send to this address (a Response or a Report): only to a peer we know. */
  private mayAnswer(address: string): boolean {
    const a = address.replace(/^::ffff:/, '');
    return this.relays.has(a) || this.machines.known(a);
  }

  /** net-snmp's send, guarded: to known peers only, and what does not encode is dropped. */
  private answer(message: { toBuffer(): Buffer }, rinfo: { address: string; port: number }, socket: { send(b: Buffer, o: number, l: number, p: number, a: string, cb: (e: Error | null) => void): void }): void {
    if (!this.mayAnswer(rinfo.address)) {
      this.d.counters.add('unanswered');
      return;
    }
    let buf: Buffer;
    try {
      buf = message.toBuffer();
    } catch (e) {
      this.d.counters.add('unanswered');
      this.noted(rinfo.address, `an answer that does not encode was not sent: ${(e as Error).message}`);
      return;
    }
    socket.send(buf, 0, buf.length, rinfo.port, rinfo.address, () => undefined);
  }

  /** A guarded failure inside net-snmp's handling of one datagram: counted, logged (throttled), never thrown. */
  private guardFailed(e: unknown, rinfo: { address?: string } | undefined): void {
    this.d.counters.add('malformed');
    this.noted(rinfo?.address ?? '?', `datagram not processed: ${(e as Error)?.message ?? String(e)}`);
  }

  private listenText = '';

  /**
   * SIGHUP: communities, users, trap sources and machines are read again; the socket stays
   * bound unless monitor.listen changed (a trap in between is not lost).
   */
  async reload(): Promise<void> {
    const { db } = this.d;
    if (!this.receiver || monitorSetting(db, 'monitor.listen') !== this.listenText) {
      await this.close();
      return this.start();
    }
    this.readSettings();
    this.authorize(this.receiver);
  }

  private authorize(r: Receiver): void {
    const { db } = this.d;
    const auth = r.getAuthorizer();
    // Opened before anything is replaced: a key file that cannot be read leaves the receiver
    // as it was (the reload is reported as failed) rather than with no community at all.
    const communities = monitorSetting(db, 'monitor.communities').split(',').map((x) => x.trim()).filter(Boolean);
    const v3 = users(db);
    for (const c of [...auth.getCommunities()]) auth.deleteCommunity(c);
    for (const u of [...auth.getUsers()]) auth.deleteUser(u.name);
    for (const c of communities) auth.addCommunity(c);
    for (const u of v3) auth.addUser(u);
  }

  /** Binds monitor.listen with the configured communities and users; rejects when it cannot bind. */
  async start(): Promise<void> {
    const { db } = this.d;
    this.listenText = monitorSetting(db, 'monitor.listen');
    const listen = parseHostPort(this.listenText);
    if (!listen) throw new Error(`monitor.listen '${monitorSetting(db, 'monitor.listen')}' is not address:port`);
    this.readSettings();
    // net-snmp takes port 0 for "the default" (162); its socket is bound through this module
    // instead, so that the configured port (0 too: any free one) is the one bound, and so that
    // the datagram is kept before net-snmp decodes it (its 'message' listener hands the decoded
    // trap to the callback synchronously; this one runs first, for forwarding it unchanged).
    const dgramModule = {
      createSocket: (type: 'udp4' | 'udp6') => {
        const s = createSocket(type);
        const bind = s.bind.bind(s) as (port: number, address?: string) => void;
        (s as unknown as { bind: (p: number, a?: string) => void }).bind = (_p, a) => bind(listen.port, a ?? undefined);
        const ours = (buf: Buffer): void => {
          this.raw = buf;
          this.d.counters.add('datagrams');
        };
        s.on('message', ours);
        // net-snmp's own handler runs inside a guard: nothing it throws on a datagram reaches the loop.
        const on = s.on.bind(s) as (ev: string, fn: (...a: unknown[]) => void) => typeof s;
        (s as unknown as { on: typeof on }).on = (ev, fn) => (ev !== 'message' ? on(ev, fn) : on(ev, (...a: unknown[]) => {
          try {
            fn(...a);
          } catch (e) {
            this.guardFailed(e, a[1] as { address?: string });
          }
        }));
        return s;
      },
    };
    const r = snmp.createReceiver({ port: listen.port || 162, address: listen.host, transport: listen.host.includes(':') ? 'udp6' : 'udp4', includeAuthentication: true, dgramModule }, (err, n) => {
      const raw = this.raw;
      this.raw = undefined;
      try {
        if (err) this.rejected(err);
        else if (n) this.accepted(n, raw);
      } catch (e) {
        // A bug in classification must not stop the receiver: count it and go on.
        this.d.counters.add('errors');
        this.d.log(`trap from ${n?.rinfo.address ?? '?'}: not processed: ${(e as Error).message}`);
      }
    });
    (r.listener as unknown as { send: TrapReceiver['answer'] }).send = (m, ri, so) => this.answer(m, ri, so);
    this.authorize(r);
    const sock = Object.values(r.listener.sockets)[0]!;
    await new Promise<void>((res, rej) => {
      sock.once('listening', () => res());
      // Name the setting to change: the socket's own text says neither where it came from nor what to do.
      sock.once('error', (e: NodeJS.ErrnoException) => rej(new Error(`cannot listen on ${this.listenText} (setting monitor.listen): ${e.message}${bindAdvice(e.code)}`)));
    });
    // A burst waits in the socket while the loop writes to the store: ask for 8 MiB, and take
    // the largest the system allows (net.core.rmem_max) when that is refused.
    for (let size = 8 << 20; size >= 256 << 10; size >>= 1) {
      try {
        sock.setRecvBufferSize(size);
        break;
      } catch {
        // above net.core.rmem_max: try half
      }
    }
    const a = sock.address();
    this.address = { host: a.address, port: a.port };
    this.receiver = r;
  }

  async close(): Promise<void> {
    const r = this.receiver;
    this.receiver = undefined;
    if (this.logTimer) clearTimeout(this.logTimer);
    if (!r) return;
    await new Promise<void>((res) => {
      try {
        r.close(() => res());
      } catch {
        res();
      }
    });
  }

  private rejected(err: Error & { rinfo?: { address: string; port: number } }): void {
    const m = String(err?.message ?? err);
    const kind = /community/i.test(m) ? 'wrong_community' : /user|authenticat|digest|privacy|decrypt/i.test(m) ? 'rejected_v3' : 'malformed';
    this.d.counters.add(kind);
    this.noted(err?.rinfo?.address ?? '?', m);
  }

  private lastNote = { from: '', what: '' };

  /** Junk can arrive by the thousand: one line a second says how much was ignored, and the last one's sender. */
  private noted(from: string, what: string): void {
    this.suppressedLog++;
    this.lastNote = { from, what };
    if (!this.logTimer) {
      this.logTimer = setTimeout(() => {
        this.logTimer = undefined;
        this.d.log(`ignored ${this.suppressedLog} datagram(s) (last from ${this.lastNote.from}: ${printable(this.lastNote.what.split('\n')[0]!, 120)})`);
        this.suppressedLog = 0;
      }, 1000);
      this.logTimer.unref();
    }
  }

  private accepted(n: Notification, raw: Buffer | undefined): void {
    const { pdu, rinfo } = n;
    const v3 = pdu.user !== undefined && pdu.community === undefined;
    const sender = rinfo.address.replace(/^::ffff:/, '');
    if (v3) {
      const why = raw ? this.replay.check(raw) : 'no datagram';
      if (why) {
        this.d.counters.add('replayed_v3');
        this.noted(sender, `v3 trap refused: ${why}`);
        return;
      }
    }
    // A v1/v2c trap from an address no machine is registered at, and not a relay: refused (a community is no secret).
    const relay = v3 || this.anySource || this.relays.has(sender);
    if (!relay && !this.machines.known(sender)) {
      this.d.counters.add('unknown_sender');
      this.noted(sender, 'v1/v2c trap from an address no machine is registered at (monitor.trap_relays, monitor.trap_any_source)');
      return;
    }
    this.d.counters.add('traps');
    const forwarding = this.forwarding(pdu, raw, v3);
    let forward: ((listed: boolean) => void) | undefined;
    if (forwarding && !this.shared) forwarding();
    else if (forwarding) forward = (listed) => (listed ? forwarding() : this.d.counters.add('forwarded_elsewhere'));
    // v1: enterprise + specific; v2c/v3: snmpTrapOID, enterprise.0.specific for a converted v1 trap (RFC 3584 §3.1).
    let enterprise: string;
    let specific: number;
    let agent: string | undefined;
    if (pdu.type === snmp.PduType.Trap) {
      enterprise = pdu.enterprise ?? '';
      specific = (pdu.specific ?? 0) >>> 0;
      agent = pdu.agentAddr;
    } else {
      const oid = String(pdu.varbinds.find((v) => v.oid === TRAP_OID)?.value ?? '');
      const m = /^(.*)\.0\.(\d+)$/.exec(oid);
      enterprise = m ? m[1]! : oid;
      specific = m ? Number(m[2]) >>> 0 : 0;
    }
    const content = trapContent(pdu, raw, v3);
    const key = content === undefined ? undefined : v3 ? content : `${content} #${this.copies.next(content)}`;
    if (enterprise === PET_ENTERPRISE_OID) return this.pet(pdu, specific, relay ? agent : undefined, sender, relay, key, forward);
    const source = this.sources.get(enterprise);
    // From a machine's own address the sender is the machine; only a relay's payload may name another.
    const machine = relay ? this.machines.address(agent) ?? this.machines.address(sender) : this.machines.address(sender);
    if (source) {
      const event = `${source}[0x${specific.toString(16).toUpperCase().padStart(8, '0')}]`;
      this.d.alerts.add({ machineId: machine?.id ?? null, source: sender, kind: 'snmp', severity: 'information', event, message: describe(pdu), ...alertKey(machine, sender, key) }, forward);
      if (!machine) return this.unknownSource(sender, event);
      this.receive(event, machine, sender, describe(pdu), key);
      return;
    }
    this.d.counters.add('unclassified');
    this.d.alerts.add({ machineId: machine?.id ?? null, source: sender, kind: 'unclassified', severity: 'unknown', event: enterprise ? `${enterprise}.${specific}` : '', message: describe(pdu), ...alertKey(machine, sender, key) }, forward);
    this.d.log(`unclassified trap from ${sender}${machine ? ` (${machine.name})` : ''}: ${enterprise || '?'} specific ${specific}`);
  }

  /** What forwards this trap to the destinations (dscli setTrapForward); undefined when there are none. */
  private forwarding(pdu: Pdu, raw: Buffer | undefined, v3: boolean): (() => void) | undefined {
    const f = this.d.forwarder;
    if (f.count === 0) return undefined;
    if (!v3 && raw) return () => f.forwardRaw(raw);
    if (pdu.type === snmp.PduType.Trap) return undefined;
    const oid = String(pdu.varbinds.find((v) => v.oid === TRAP_OID)?.value ?? '');
    const varbinds = pdu.varbinds.filter((v) => v.oid !== TRAP_OID && v.oid !== '1.3.6.1.2.1.1.3.0');
    return () => f.notify(oid, varbinds);
  }

  private pet(pdu: Pdu, specific: number, agent: string | undefined, sender: string, relay: boolean, key: string | undefined, forward: ((listed: boolean) => void) | undefined): void {
    const vb = pdu.varbinds.find((v) => v.oid === PET_VARBIND_OID);
    const pet = Buffer.isBuffer(vb?.value) ? decodePetVarbind(vb.value) : undefined;
    const t = decodePetSpecificTrap(specific);
    const event = bmcEvent(t.sensorType, t.eventType, t.offset, t.direction === 'deassertion');
    const machine = relay
      ? (pet ? this.machines.guid(pet.guid) : undefined) ?? this.machines.address(agent) ?? this.machines.address(sender)
      : this.machines.address(sender);
    const text = `${t.sensorTypeName}: ${t.text}${t.direction === 'deassertion' ? ' (deasserted)' : ''}${pet ? ` sensor ${pet.sensorNumber} severity ${pet.severity}` : ''}`;
    this.d.alerts.add({ machineId: machine?.id ?? null, source: sender, kind: 'pet', severity: pet?.severity ?? 'unspecified', event, message: text, ...alertKey(machine, sender, key) }, forward);
    if (!machine) return this.unknownSource(sender, `${event}${pet ? ` GUID ${pet.guid}` : ''}`);
    this.receive(event, machine, sender, `PET ${text}${pet ? ` GUID ${pet.guid} sequence ${pet.sequence}` : ''}`, key);
  }

  private unknownSource(sender: string, what: string): void {
    this.d.counters.add('unknown_source');
    this.d.log(`trap from ${sender} matches no managed machine: ${what}`);
  }

  private receive(event: string, machine: MachineHit, sender: string, detail: string, key: string | undefined): void {
    const r = this.d.intake.receive({ source: 'SystemMonitorEvent', event, machineId: machine.id, origin: 'trap', sender, detail, ...(key ? { dedupKey: `trap ${machine.id} ${key}` } : {}) });
    if (!r.ok) this.d.log(`trap from ${sender} for ${machine.name} not taken: ${r.reason}`);
  }
}

/** An alert's deduplication key: the trap's, with the machine it is about (or, for none, its sender). */
function alertKey(machine: MachineHit | undefined, sender: string, key: string | undefined): { dedupKey?: string } {
  return key ? { dedupKey: `alert ${machine ? `machine ${machine.id}` : `from ${sender}`} ${key}` } : {};
}

/** What to do when monitor.listen cannot be bound. */
function bindAdvice(code: string | undefined): string {
  if (code === 'EACCES') return '; a port below 1024 needs root or CAP_NET_BIND_SERVICE: choose another with kanri settings set monitor.listen 0.0.0.0:1162';
  if (code === 'EADDRINUSE') return '; another program receives traps there (snmptrapd?): stop it, or choose another address with kanri settings set monitor.listen';
  if (code === 'EADDRNOTAVAIL') return '; no interface of this host has that address: kanri settings set monitor.listen ADDRESS:PORT';
  return '';
}

/** A trap's varbinds as text, bounded, for the alert list. */
function describe(pdu: Pdu): string {
  const parts = pdu.varbinds.filter((v) => v.oid !== '1.3.6.1.2.1.1.3.0' && v.oid !== TRAP_OID).slice(0, 8).map((v) => {
    const val = Buffer.isBuffer(v.value) ? (/^[\x20-\x7e]*$/.test(v.value.toString('latin1')) ? v.value.toString('latin1') : v.value.toString('hex')) : String(v.value);
    return `${v.oid}=${val.slice(0, 200)}`;
  });
  return parts.join(' ').slice(0, 1000) || '(no varbinds)';
}

