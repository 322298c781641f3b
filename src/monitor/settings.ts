// The monitor's settings (the `settings:` section; kanri monitor reads them at start and on
// SIGHUP). Declared here and listed by config/settings-catalogue.ts, so that config check
// refuses a misspelt one.
import type { Db } from '../store/db.js';
import { settingNumber, settingText } from '../adapters/setting-reader.js';
import type { SettingSpec } from '../adapters/types.js';
import { parseSnmpChecks } from './snmp-check-syntax.js';
import { parseUpsList } from './ups-syntax.js';

/** A setting's check from the parser of its text: the parser's complaint, or undefined. */
const problemOf = (parse: (text: string) => unknown) => (text: string): string | undefined => {
  try {
    parse(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
};

const g = (key: string, type: SettingSpec['type'], description: string, extra: Partial<SettingSpec> = {}): SettingSpec =>
  ({ key, scope: 'global', type, description, ...extra });

export const MONITOR_SETTINGS: readonly SettingSpec[] = [
  g('monitor.listen', 'string', 'UDP address:port the SNMP trap receiver listens on', { default: '0.0.0.0:162' }),
  g('monitor.communities', 'secret', 'SNMP v1/v2c communities accepted, comma-separated; stored sealed (kanri settings set monitor.communities < file)', { default: 'public' }),
  g('monitor.trap_relays', 'string', 'addresses (comma-separated) of SNMP relays whose v1/v2c traps are taken for any machine their payload names (PET GUID, agent address); other v1/v2c traps are taken only from a machine\'s registered address', { default: '' }),
  g('monitor.trap_any_source', 'boolean', 'take v1/v2c traps from any address and match the machine by their payload (spoofable: a community is no secret)', { default: false }),
  g('monitor.trap_sources', 'string', "enterprise OIDs of agent traps and the catalogue source each one reports, 'OID=Source;OID=Source' (specific trap = event ID)"),
  g('monitor.http_listen', 'string', 'address:port of the HTTP endpoint for custom notifications (Prometheus Alertmanager webhook); empty: off', { default: '' }),
  g('monitor.http_token_file', 'path', 'file holding the bearer token the HTTP endpoint requires (unset: none; required when it listens on anything but loopback)'),
  g('monitor.http_hardware_events', 'boolean', 'the HTTP endpoint takes hardware events (kanri_source SystemMonitorEvent) too', { default: false }),
  g('monitor.lease_s', 'number', 'the monitor\'s lease on the store: without a heartbeat for this long another monitor may take over (s)', { default: 15, min: 3, max: 600 }),
  g('monitor.events_kept', 'integer', 'decided events kept in the received-events queue (those of chains stay)', { default: 100000, min: 100 }),
  g('monitor.poll_s', 'number', 'seconds between two polls of every managed controller (0: no polling)', { default: 60, min: 0, max: 86400 }),
  g('monitor.poll_failures', 'integer', 'polls in a row without an answer before a machine is inaccessible (ESMDSVNT[0xC0000002])', { default: 3, min: 1, max: 100 }),
  g('monitor.poll_fanout', 'integer', 'controllers polled at the same time', { default: 64, min: 1, max: 1024 }),
  g('monitor.poll_timeout_s', 'number', 'deadline of one poll of one controller (s)', { default: 5, min: 0.1, max: 600 }),
  g('monitor.drain_s', 'number', 'on SIGTERM, how long running policy jobs may take to end before they are canceled (s)', { default: 30, min: 0, max: 3600 }),
  g('monitor.coalesce_s', 'number', 'the same rule for the same machine starts no new chain for this long after the last one (s)', { default: 300, min: 0, max: 86400 }),
  g('monitor.alerts_kept', 'integer', 'received alerts kept for dscli getAlertList (oldest are removed)', { default: 100000, min: 100 }),
  g('monitor.notify_oid', 'string', 'trapOID of the SNMPv2c notification a policy notification sends to the forwarding destinations', { default: '1.3.6.1.4.1.32473.502' }),
  g('monitor.schedule_grace_s', 'number', 'a scheduled operation found due at most this long ago runs; an older one was missed (run late only with kanri schedule add --run-late) (s)', { default: 60, min: 1, max: 3600 }),
  g('monitor.snmp_checks', 'string', "SNMP GETs compared with thresholds, 'MACHINE[@HOST[:PORT]] OID >|>=|<|<=|==|!= NUMBER [clear NUMBER]; …' (agent: the machine's os_address, port 161)", { default: '', check: problemOf(parseSnmpChecks) }),
  g('monitor.snmp_check_s', 'number', 'seconds between two rounds of monitor.snmp_checks (0: none)', { default: 60, min: 0, max: 86400 }),
  g('monitor.snmp_check_timeout_s', 'number', 'wait for an agent before sending a GET again (once) (s)', { default: 2, min: 0.1, max: 60 }),
  g('monitor.snmp_check_community', 'string', 'SNMP v2c read community of monitor.snmp_checks', { default: 'public' }),
  g('monitor.ups', 'string', "UPSs served by Network UPS Tools' upsd and the groups each feeds, 'UPS@HOST[:PORT] GROUP[,GROUP…]; …' (port 3493)", { default: '', check: problemOf(parseUpsList) }),
  g('monitor.ups_poll_s', 'number', 'seconds between two reads of every UPS status (0: none)', { default: 5, min: 0, max: 3600 }),
  g('monitor.ups_timeout_s', 'number', 'deadline of one read of a UPS status from upsd (s)', { default: 3, min: 0.1, max: 60 }),
  g('monitor.ups_shutdown_on', 'string', "when the UPS's groups are shut down: low-battery, or on-battery after monitor.ups_shutdown_delay_s", { default: 'low-battery', values: ['low-battery', 'on-battery'] }),
  g('monitor.ups_shutdown_delay_s', 'number', 'with ups_shutdown_on on-battery: how long on battery before the shutdown (s)', { default: 300, min: 0, max: 86400 }),
  g('monitor.ups_poweron', 'boolean', "power the UPS's groups on again when its power returns after the standard shutdown", { default: true }),
  g('mail.smtp_host', 'string', 'SMTP server for policy notifications; empty: no mail', { default: '' }),
  g('mail.smtp_port', 'integer', 'SMTP port', { default: 25, min: 1, max: 65535 }),
  g('mail.from', 'string', 'sender address of policy notification mail', { default: 'kanri@localhost' }),
  g('mail.to', 'string', 'recipients of policy notification mail, comma-separated'),
  g('mail.tls_ca', 'path', 'CA certificate (PEM) the SMTP server certificate must chain to when it offers STARTTLS; unset: the system CAs'),
  g('mail.timeout_s', 'number', 'deadline of one mail delivery (s)', { default: 10, min: 1, max: 300 }),
];

/** A monitor setting as text: the stored value, else its declared default, else ''. */
export const monitorSetting = (db: Db, key: string): string => settingText(db, MONITOR_SETTINGS, key) ?? '';

export const monitorNumber = (db: Db, key: string): number => settingNumber(db, MONITOR_SETTINGS, key);

/** host:port (IPv4, [IPv6] or a name); undefined when it is not one. */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 0 && port <= 65535 ? { host: m[1] || '0.0.0.0', port } : undefined;
}
