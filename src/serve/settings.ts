// kanri serve's settings (the `settings:` section), declared here and listed by
// config/settings-catalogue.ts. Read when the server starts.
import type { SettingSpec } from '../adapters/types.js';
import type { Db } from '../store/db.js';
import { settingNumber, settingText } from '../adapters/setting-reader.js';

const g = (key: string, type: SettingSpec['type'], description: string, extra: Partial<SettingSpec> = {}): SettingSpec =>
  ({ key, scope: 'global', type, description, ...extra });

export const SERVE_SETTINGS: readonly SettingSpec[] = [
  g('serve.listen', 'string', 'address:port kanri serve listens on; any address that is not loopback needs serve.tls_cert and serve.tls_key', { default: '127.0.0.1:8484' }),
  g('serve.tls_cert', 'path', 'certificate chain (PEM) kanri serve presents over HTTPS'),
  g('serve.tls_key', 'path', 'private key (PEM) of serve.tls_cert'),
  g('serve.metrics_public', 'boolean', '/metrics answers without a token', { default: false }),
  g('serve.max_body_bytes', 'integer', 'largest request body accepted (bytes)', { default: 65536, min: 1024, max: 16777216 }),
  g('serve.rate_per_s', 'number', 'requests per second one token may make on average', { default: 50, min: 0.1, max: 1000000 }),
  g('serve.rate_burst', 'integer', 'requests one token may make at once above its rate', { default: 200, min: 1, max: 1000000 }),
  g('serve.max_concurrent', 'integer', 'requests handled at the same time; more are answered 503', { default: 64, min: 1, max: 10000 }),
  g('serve.max_connections', 'integer', 'open connections at the same time (streams included)', { default: 512, min: 1, max: 100000 }),
  g('serve.max_streams', 'integer', 'event and job streams open at the same time', { default: 64, min: 1, max: 10000 }),
  g('serve.idle_s', 'number', 'an idle keep-alive connection is closed after this long (s)', { default: 5, min: 1, max: 3600 }),
  g('serve.request_timeout_s', 'number', 'a request must be received completely within this time (s)', { default: 30, min: 1, max: 3600 }),
];

/** A serve setting as text: the stored value, else the default its declaration gives, else ''. */
export const serveSetting = (db: Db, key: string): string => settingText(db, SERVE_SETTINGS, key) ?? '';

const serveNumber = (db: Db, key: string): number => settingNumber(db, SERVE_SETTINGS, key);

export interface ServeLimits {
  maxBodyBytes: number; ratePerS: number; rateBurst: number; maxConcurrent: number; maxConnections: number; maxStreams: number;
  idleMs: number; requestTimeoutMs: number;
}

export function serveLimits(db: Db): ServeLimits {
  return {
    maxBodyBytes: serveNumber(db, 'serve.max_body_bytes'), ratePerS: serveNumber(db, 'serve.rate_per_s'), rateBurst: serveNumber(db, 'serve.rate_burst'),
    maxConcurrent: serveNumber(db, 'serve.max_concurrent'), maxConnections: serveNumber(db, 'serve.max_connections'), maxStreams: serveNumber(db, 'serve.max_streams'),
    idleMs: serveNumber(db, 'serve.idle_s') * 1000, requestTimeoutMs: serveNumber(db, 'serve.request_timeout_s') * 1000,
  };
}
