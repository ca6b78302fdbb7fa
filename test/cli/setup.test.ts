// npm run setup (scripts/setup.sh) on machines it cannot see here, simulated by a PATH of stubs: which system packages
// it installs, and the one line it says when it cannot (no apt-get; not root and no sudo). Dry runs: nothing installed.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'setup.sh');

/** A PATH holding only dirname, env, an `id` that answers `uid`, and the named stub commands. */
function machine(uid: number, stubs: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'dfer-setup-bin-'));
  for (const tool of ['dirname', 'env']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('id', `echo ${uid}`);
  for (const s of stubs) stub(s, 'exit 0');
  return bin;
}

const setup = (path: string) => {
  const r = spawnSync('/bin/bash', [SCRIPT], {
    env: { PATH: path, DFER_SETUP_DRY_RUN: '1', DFER_SETUP_DEMO: '0' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('as root with apt-get: installs what is missing (compiler, python3, ffmpeg), then npm ci', () => {
  const r = setup(machine(0, ['apt-get', 'npm']));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^dfer setup: installing g\+\+ make python3 (libdnnl-dev )?ffmpeg with apt-get$/m);
  expect(r.out).toMatch(
    /^\+ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g\+\+ make python3 (libdnnl-dev )?ffmpeg$/m,
  );
  expect(r.out).toMatch(/^\+ npm ci --no-audit --no-fund$/m);
});

test('not root, no sudo: one line saying what to run, then npm ci anyway', () => {
  const r = setup(machine(1000, ['apt-get', 'npm']));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(
    /^dfer setup: cannot install g\+\+ make python3 .*ffmpeg: not root and no passwordless sudo; run: sudo apt-get install -y .*; going on without them$/m,
  );
  expect(r.out).not.toMatch(/apt-get install -y -qq/);
  expect(r.out).toMatch(/^\+ npm ci/m);
});

test('with passwordless sudo: through sudo; without apt-get: one line, then npm ci', () => {
  const sudo = setup(machine(1000, ['apt-get', 'npm', 'sudo']));
  expect(sudo.out).toMatch(/^\+ sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq$/m);
  const other = setup(machine(0, ['npm']));
  expect(other.code).toBe(0);
  expect(other.out).toMatch(/^dfer setup: cannot install .*: no apt-get here; install them with your package manager/m);
});
