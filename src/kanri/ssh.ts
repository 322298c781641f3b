// Placeholder until the SSH scenario driver lands.
export async function sshTrust(_db: string, _machine: string, _opts: { fingerprint?: string; yes?: boolean }): Promise<number> {
  process.stderr.write('kanri: ssh trust is not available in this build\n');
  return 1;
}
export function sshForget(_db: string, _machine: string): number {
  process.stderr.write('kanri: ssh forget is not available in this build\n');
  return 1;
}
export function sshKnown(_db: string): number {
  return 0;
}
