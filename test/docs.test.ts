// docs/commands.md is generated from the commands' own help (scripts/docs.mjs); it must say what the commands say.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

test('docs/commands.md is up to date with the commands (npm run docs regenerates it)', () => {
  // Without jest's NODE_ENV=test, under which oclif looks for the commands' TypeScript sources instead of dist/.
  const { NODE_ENV: _test, ...env } = process.env;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'docs.mjs'), '--check'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  expect([r.status, r.stderr.trim()]).toEqual([0, '']);
});
