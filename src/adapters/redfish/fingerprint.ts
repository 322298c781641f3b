// SHA-256 certificate fingerprints as kanri prints and reads them. Kept apart from the
// TLS code: the driver's declaration (spec.ts), which every command loads, checks the form.
import { createHash } from 'node:crypto';

/** A certificate's fingerprint as kanri prints it: SHA256: and the colon-separated hex of openssl x509 -fingerprint -sha256. */
export function certFingerprint(der: Buffer): string {
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return `SHA256:${hex.match(/../g)!.join(':')}`;
}

/**
 * A fingerprint as a person may give it — `SHA256:AB:CD:…`, openssl's `sha256
 * Fingerprint=AB:CD:…`, or 64 hex digits with or without colons — normalised; undefined
 * when it is not one.
 */
export function normaliseCertFingerprint(text: string): string | undefined {
  const t = text.trim().replace(/^sha-?256\s*(fingerprint)?\s*[:=]?\s*/i, '');
  const hex = t.replace(/[:\s]/g, '');
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return `SHA256:${hex.toUpperCase().match(/../g)!.join(':')}`;
}

export function fingerprintProblem(raw: string): string | undefined {
  return normaliseCertFingerprint(raw) ? undefined : `must be a SHA-256 certificate fingerprint (SHA256:AB:CD:… as kanri redfish trust prints it, or 64 hex digits), not '${raw}'`;
}
