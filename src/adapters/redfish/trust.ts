// Trust in a Redfish controller's TLS certificate, always decided by an administrator:
// a CA file that must have signed it (and whose name must match the address), or the
// SHA-256 fingerprint of the certificate itself, pinned with `kanri redfish trust`.
// Nothing is trusted on first use; `verify=off` turns verification off only when set
// explicitly. The decision is taken on the finished handshake, before a single byte of
// a request (credentials included) is written to the connection.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { DriverError } from '../types.js';
import { certFingerprint } from './fingerprint.js';

export interface Trust {
  /** False only by the explicit setting verify=off. */
  verify: boolean;
  /** The pinned fingerprint (normalised), if any. */
  fingerprint?: string;
  /** The CA file that must have signed the certificate, if any. */
  ca?: { path: string; pem: Buffer };
}

/** Reads a CA file (PEM); a problem is a configuration error naming the file. */
export function readCaFile(path: string, machine: string): { path: string; pem: Buffer } {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    throw new DriverError(`${machine}: cannot read the CA file ${path} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`, { layer: 'configuration' });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new DriverError(`${machine}: the CA file ${path} holds no PEM certificate`, { layer: 'configuration' });
  return { path, pem };
}

/** How the certificate is trusted, for messages. */
export function trustText(t: Trust): string {
  if (!t.verify) return 'certificate NOT verified (verify=off)';
  const parts: string[] = [];
  if (t.fingerprint) parts.push(`certificate pinned ${t.fingerprint}`);
  if (t.ca) parts.push(`certificate signed by ${t.ca.path}`);
  return parts.length ? parts.join(', ') : 'certificate verified against the system CAs';
}

const certError = (machine: string, detail: string): DriverError =>
  new DriverError(`${machine}: certificate error: ${detail}`, { layer: 'certificate', detail });

/**
 * The verdict on a finished handshake: undefined when the certificate is trusted, else
 * the error that refuses it, naming the certificate's fingerprint and how to trust it.
 */
export function judge(sock: TLSSocket, t: Trust, where: string, machine: string): DriverError | undefined {
  if (!t.verify) return undefined;
  // The X509Certificate form: the object of getPeerCertificate() decodes every field first.
  const cert = sock.getPeerX509Certificate();
  if (!cert) return certError(machine, `${where} presented no certificate`);
  const fp = certFingerprint(cert.raw);
  const how = `check it on the controller, then run kanri redfish trust ${machine} --fingerprint ${fp}, or set its CA file (dscli setServer ${machine} ca_file=PATH)`;
  if (t.fingerprint && fp !== t.fingerprint) {
    return certError(machine, `the certificate of ${where} has fingerprint ${fp}, not the pinned ${t.fingerprint}; refusing to connect (the controller's certificate was replaced, or someone is intercepting the connection). ${how}`);
  }
  if ((t.ca || !t.fingerprint) && !sock.authorized) {
    const why = String(sock.authorizationError ?? 'not verified');
    return certError(machine, `the certificate of ${where} is not trusted (${why}${t.ca ? ` with ${t.ca.path}` : ''}); its fingerprint is ${fp}; ${how}`);
  }
  return undefined;
}

export interface OfferedCertificate {
  fingerprint: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Whether the system CAs would accept it for this address (a reason when not). */
  verdict: string;
}

/** Connects, takes the certificate the controller offers and closes, sending nothing. */
export function fetchCertificate(host: string, port: number, timeoutMs: number, ca?: Buffer): Promise<OfferedCertificate> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) });
    let done = false;
    const finish = (err?: Error, v?: OfferedCertificate): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(v!);
    };
    const timer = setTimeout(() => finish(new DriverError(`no TLS handshake with ${where} within ${Math.round(timeoutMs / 1000)} s`, { layer: 'network' })), timeoutMs);
    sock.once('secureConnect', () => {
      const c = sock.getPeerCertificate();
      if (!c?.raw) return finish(new DriverError(`${where} presented no certificate`, { layer: 'certificate' }));
      let subject = '', issuer = '';
      try {
        const x = new X509Certificate(c.raw);
        subject = x.subject.replace(/\n/g, ', ');
        issuer = x.issuer.replace(/\n/g, ', ');
      } catch {
        // Only the descriptive fields are lost.
      }
      finish(undefined, {
        fingerprint: certFingerprint(c.raw), subject, issuer, validFrom: c.valid_from, validTo: c.valid_to,
        verdict: sock.authorized ? 'trusted by the CAs given' : String(sock.authorizationError ?? 'not verified'),
      });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => finish(new DriverError(`cannot connect to ${where}: ${e.code ?? e.message}`, { layer: 'network' })));
  });
}
