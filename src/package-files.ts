// Files of an installed npm package read by path (browser builds that dfer copies into what it writes: Vega-Lite into
// a report, TensorFlow.js into a web export). Packages' `exports` maps often hide package.json and their builds, so
// the package's folder is found from its entry point, walking up to the folder named as the package.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The path of `file` (e.g. "build/vega.min.js") inside the installed package `name` (e.g. "vega", "@scope/pkg"). */
export function packageFile(name: string, file: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || !dir.endsWith(name)) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name}: installed, but its package folder was not found`);
    dir = up;
  }
  return join(dir, file);
}
