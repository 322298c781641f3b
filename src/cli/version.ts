// `--version` of all three names: one line, the version of the package.
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function packageVersion(): string {
  if (version === undefined) {
    try {
      version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return version;
}

export function versionLine(name: string): string {
  return name === 'kanri' ? `kanri ${packageVersion()}\n` : `${name} (kanri) ${packageVersion()}\n`;
}
