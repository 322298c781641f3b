// Files that ship with the package (package.json, fixtures/), found by walking up from this
// module to the package root: the same answer whether the code runs from src/ (tests), from
// dist/<module>.js or from a chunk of the bundle under dist/bundle/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packagePath(...parts: string[]): string {
  if (root === undefined) {
    const here = dirname(fileURLToPath(import.meta.url));
    let dir = here;
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    root = existsSync(join(dir, 'package.json')) ? dir : here;
  }
  return join(root, ...parts);
}
