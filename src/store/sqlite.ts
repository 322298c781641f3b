// The one place that loads SQLite (better-sqlite3), on the first open: an ES import of
// this CommonJS package costs Node's ESM translation of it at every start-up, and
// `pvmutl help` needs no store.
//
// In the bundle (CommonJS, scripts/build.mjs) `require` is the module's own and the
// bundler sees the call below: better-sqlite3's JavaScript is bundled and runs on the
// first open only, one compiled file instead of a dozen resolved and read. Under
// dist/<module>.js (ES modules) the package is required from node_modules as it is.
// Either way the addon is named by its path where the package builds it: that spares
// `bindings` its search of a dozen places, and the bundled copy, which could not find the
// addon from where it lives, needs it. Where the addon is not there, the package as it is
// finds it with `bindings`.
import type Database from 'better-sqlite3';
import { requireModule } from '../util/require.js';
import { addonPath } from './addon.js';

let loaded: { Database: typeof Database; nativeBinding?: string } | undefined;

function load(): NonNullable<typeof loaded> {
  if (!loaded) {
    const nativeBinding = addonPath('better-sqlite3', 'build/Release/better_sqlite3.node');
    const bundled = nativeBinding !== undefined && typeof require === 'function';
    loaded = { Database: (bundled ? require('better-sqlite3') : requireModule('better-sqlite3')) as typeof Database, nativeBinding };
  }
  return loaded;
}

/** A SQLite connection to `path` (better-sqlite3's options). */
export function openSqlite(path: string, options: Database.Options): Database.Database {
  const { Database: Sqlite, nativeBinding } = load();
  return new Sqlite(path, nativeBinding === undefined ? options : { ...options, nativeBinding });
}
