// Where kanri serve listens, and whether that needs HTTPS: every address that is not
// loopback does (a bearer token must never cross a network in clear text).
import { readFileSync } from 'node:fs';
import { parseHostPort } from '../monitor/settings.js';

export interface Listen { host: string; port: number; tls?: { cert: Buffer; key: Buffer } }

export function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost';
}

/** The listen address and TLS material, or the reason the server must not start. */
export function listenPlan(listen: string, certPath: string, keyPath: string): Listen | string {
  const hp = parseHostPort(listen);
  if (!hp) return `serve.listen must be address:port, not '${listen}'`;
  if (!certPath !== !keyPath) return 'serve.tls_cert and serve.tls_key go together: set both or neither';
  if (!certPath) {
    if (!isLoopback(hp.host)) return `serve.listen ${listen} is not a loopback address: set serve.tls_cert and serve.tls_key (HTTPS is required off loopback)`;
    return { host: hp.host, port: hp.port };
  }
  try {
    return { host: hp.host, port: hp.port, tls: { cert: readFileSync(certPath), key: readFileSync(keyPath) } };
  } catch (e) {
    return `cannot read the TLS certificate or key: ${(e as Error).message}`;
  }
}
