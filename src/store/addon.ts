// Where a package's compiled addon is, found without the package's JavaScript: better-sqlite3's
// (src/store/sqlite.ts) and libpq's (src/store/libpq.ts) are named by their path, which spares
// `bindings` its search of a dozen places at every start-up.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { requireModule } from '../util/require.js';

/**
 * The addon `file` (a path inside the package `pkg`), looked for in the node_modules folders
 * require would search for the package: require.resolve would find the same file but read the
 * package's package.json on the way (measured for better-sqlite3: 0.46 ms to find it that way,
 * 0.10 ms this way; loading it then costs about 0.2 ms more, as the loader now resolves the
 * real path itself).
 */
export function addonPath(pkg: string, file: string): string | undefined {
  for (const dir of requireModule.resolve.paths(pkg) ?? []) {
    const path = join(dir, pkg, file);
    if (existsSync(path)) return path;
  }
  return undefined;
}
