// Redfish events in the monitor's intake. The redfish driver's HTTPS listener
// (adapters/redfish/events.ts) accepts deliveries of subscribed controllers only; each
// record becomes an alert (dscli getAlertList) and, when it is about a component the
// catalogue knows, the same BMC[0x…] event a Platform Event Trap of that fault would be —
// so one policy rule ("CPU障害 → replace") covers a BMC and an iLO alike.
//
// Which component: the resource the event is about (OriginOfCondition: …/Processors/…,
// …/Memory/…, …/Drives/…, …/Thermal, …/Fans, …/PowerSupplies), else the MessageId. Which
// fault: the severity (MessageSeverity, or the older Severity): Critical is the failure,
// Warning the predictive or non-critical form, OK the recovery (a deassertion, as a BMC
// sends when the condition clears).
//
// A controller subscribed by several managers' monitors delivers each event to each: the
// record's EventId (with its controller, time, origin and message) is its event's
// deduplication key, so the store keeps it once (intake.ts); a record without an EventId has
// none. Its alert is listed once too: its key is the whole record with its copy number, as a
// trap's (so a controller repeating a record still lists each copy, as with one monitor).
import { type EventListener, type RedfishEvent, listenerOptionsFrom, startEventListener } from '../adapters/redfish/events.js';
import { str } from '../adapters/redfish/session.js';
import type { Db } from '../store/db.js';
import { settingText } from '../adapters/setting-reader.js';
import { REDFISH_SETTINGS } from '../adapters/redfish/spec.js';
import type { Alerts } from './alerts.js';
import { bmcEvent } from './catalogue.js';
import type { Counters } from './counters.js';
import { type Intake, Occurrences } from './intake.js';

const THRESHOLD = 0x01;
const SENSOR_SPECIFIC = 0x6f;

/** Per component: sensor type, event type, and the offsets of a critical and a warning report. */
const COMPONENTS: ReadonlyArray<{ name: string; path: RegExp; words: RegExp; sensorType: number; eventType: number; critical: number; warning: number }> = [
  // IERR; automatically throttled
  { name: 'processor', path: /\/Processors(\/|$)/i, words: /processor|cpu/i, sensorType: 0x07, eventType: SENSOR_SPECIFIC, critical: 0x00, warning: 0x0a },
  // uncorrectable ECC; correctable ECC
  { name: 'memory', path: /\/Memory(\/|$)/i, words: /memory|dimm|ecc/i, sensorType: 0x0c, eventType: SENSOR_SPECIFIC, critical: 0x01, warning: 0x00 },
  // drive fault; predictive failure
  { name: 'drive', path: /\/(Drives|Storage|SimpleStorage)(\/|$)/i, words: /drive|disk/i, sensorType: 0x0d, eventType: SENSOR_SPECIFIC, critical: 0x01, warning: 0x02 },
  // power supply failure detected; predictive failure
  { name: 'power supply', path: /\/(PowerSupplies|PowerSubsystem)(\/|$)/i, words: /power ?supply|psu/i, sensorType: 0x08, eventType: SENSOR_SPECIFIC, critical: 0x01, warning: 0x02 },
  // lower critical going low; lower non-critical going low
  { name: 'fan', path: /\/(Fans|ThermalSubsystem\/Fans)(\/|$)|#Fans/i, words: /fan/i, sensorType: 0x04, eventType: THRESHOLD, critical: 0x02, warning: 0x00 },
  // upper critical going high; upper non-critical going high
  { name: 'temperature', path: /\/(Thermal|Temperatures|ThermalSubsystem)(\/|$)|#Temperatures/i, words: /temp|thermal/i, sensorType: 0x01, eventType: THRESHOLD, critical: 0x09, warning: 0x07 },
];

/** The record's severity, lower case: MessageSeverity, else the deprecated Severity. */
const severityOf = (e: RedfishEvent): string => (str(e.raw, 'MessageSeverity') ?? e.severity ?? 'unknown').toLowerCase();

/** The catalogue event of a Redfish event record, or undefined when no component or severity says what it is. */
export function catalogueEventOf(e: RedfishEvent): string | undefined {
  const severity = severityOf(e);
  if (severity !== 'critical' && severity !== 'warning' && severity !== 'ok') return undefined;
  const origin = e.origin ?? '';
  const c = COMPONENTS.find((k) => k.path.test(origin)) ?? COMPONENTS.find((k) => k.words.test(e.messageId ?? ''));
  if (!c) return undefined;
  const offset = severity === 'warning' ? c.warning : c.critical;
  return bmcEvent(c.sensorType, c.eventType, offset, severity === 'ok');
}

/** What names one record of one controller wherever it is delivered; undefined without an EventId. */
export function redfishEventKey(e: RedfishEvent): string | undefined {
  const id = str(e.raw, 'EventId');
  return id ? `redfish ${e.machineId} ${id} ${e.time ?? ''} ${e.origin ?? ''} ${e.messageId ?? ''}` : undefined;
}

const clip = (s: string | null, n: number): string => (s ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, n);

export interface RedfishIntakeParts { db: Db; intake: Intake; alerts: Alerts; counters: Counters; log(line: string): void }

/** The listener as a part of the monitor: started when its certificate and key are set. */
export class RedfishIntake {
  private listener: EventListener | undefined;
  private configured = '';
  private readonly copies = new Occurrences();
  address: { host: string; port: number } | undefined;

  constructor(private readonly d: RedfishIntakeParts) {}

  private settingsText(): string {
    return ['listener_cert', 'listener_key', 'listener_address', 'listener_port', 'event_destination']
      .map((k) => settingText(this.d.db, REDFISH_SETTINGS, `redfish.${k}`) ?? '').join('\u0000');
  }

  async start(): Promise<void> {
    this.configured = this.settingsText();
    if (!settingText(this.d.db, REDFISH_SETTINGS, 'redfish.listener_cert') && !settingText(this.d.db, REDFISH_SETTINGS, 'redfish.listener_key')) return;
    const o = listenerOptionsFrom(this.d.db, (e) => this.take(e), this.d.log);
    this.listener = await startEventListener(o);
    this.address = { host: o.host, port: this.listener.port };
  }

  /** SIGHUP: a changed listener setting restarts the listener; otherwise it keeps running. */
  async reload(): Promise<void> {
    if (this.settingsText() === this.configured) return;
    await this.close();
    await this.start();
  }

  async close(): Promise<void> {
    const l = this.listener;
    this.listener = undefined;
    this.address = undefined;
    await l?.close();
  }

  /** The alert's key: the controller, the record as it was sent, and the copy's number among identical ones. */
  private alertKey(e: RedfishEvent): string {
    const content = `${e.machineId} ${JSON.stringify(e.raw)}`;
    return `alert redfish ${content} #${this.copies.next(content)}`;
  }

  /** Takes one record; resolves true once what it became (alert, event) is committed. */
  private take(e: RedfishEvent): Promise<boolean> {
    const event = catalogueEventOf(e);
    const severity = severityOf(e);
    const text = `Redfish ${clip(e.messageId, 120) || '-'}: ${clip(e.message, 400)}${e.origin ? ` (${clip(e.origin, 200)})` : ''}`;
    const alert = this.d.alerts.add({ machineId: e.machineId, source: e.source, kind: event ? 'redfish' : 'unclassified', severity, event: event ?? clip(e.messageId, 120), message: text, dedupKey: this.alertKey(e) });
    if (!event) {
      this.d.counters.add('unclassified');
      this.d.log(`unclassified Redfish event of ${e.machine}: ${clip(e.messageId, 120) || '-'} ${clip(severity, 20)}${e.origin ? ` ${clip(e.origin, 200)}` : ''}`);
      return alert.written();
    }
    const key = redfishEventKey(e);
    const r = this.d.intake.receive({
      source: 'SystemMonitorEvent', event, machineId: e.machineId, origin: 'redfish', sender: e.source,
      detail: `${text}${e.eventId ? ` EventId ${clip(e.eventId, 64)}` : ''}`, ...(key ? { dedupKey: key } : {}),
    });
    if (!r.ok) {
      this.d.log(`Redfish event of ${e.machine} not taken: ${r.reason}`);
      // Refused for what it says (not for the store): the alert is its record.
      return r.busy ? Promise.resolve(false) : alert.written();
    }
    return Promise.all([alert.written(), r.written()]).then(([a, b]) => a && b);
  }
}
