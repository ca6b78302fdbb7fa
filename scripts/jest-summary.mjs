#!/usr/bin/env node
// Runs jest (ESM mode) with a JSON result file and ends with the line CI reads: "N passed, N failed, N skipped".
//
//   node scripts/jest-summary.mjs [--passes native,wasm] [jest args...]
//
// With --passes the whole suite runs once per backend path, each line prefixed by the pass, and the final line sums
// them. `webgpu`: DFER_TEST_BACKEND=webgpu on whatever adapter Dawn finds (lavapipe in CI), a chosen set of files
// (a missing adapter fails it).
// `native`: DFER_TEST_BACKEND=native with DFER_NATIVE=require (a missing engine fails the pass instead of
// skipping its tests), and recycled buffers poisoned with NaN. `wasm`: DFER_TEST_BACKEND=wasm with DFER_NATIVE=0, as on a machine without oneDNN.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PASS_ENV = {
  native: { DFER_TEST_BACKEND: 'native', DFER_NATIVE: 'require', DFER_NATIVE_POOL_POISON: '1' },
  wasm: { DFER_TEST_BACKEND: 'wasm', DFER_NATIVE: '0' },
  webgpu: { DFER_TEST_BACKEND: 'webgpu' },
};
// The WebGPU pass runs on Mesa's lavapipe in CI (a Vulkan driver on the CPU: correct, and slow), so it runs the files
// that exercise the GPU path rather than the whole suite: golden parity, the kernel census and WebGPU's own tests,
// and train/resume through the CLI. The other passes leave test/webgpu out.
const PASS_FILES = {
  webgpu: ['test/webgpu/', 'test/model/parity.test.ts', 'test/cli/train.test.ts'],
};
// Without --passes (`npm test`), as in the native and wasm passes, test/webgpu is left out: it needs an adapter. The
// real Slurm cluster test runs in the native pass only: the executor does not depend on the backend.
const PASS_IGNORE = {
  native: ['/test/webgpu/'],
  wasm: ['/test/webgpu/', '/test/cluster/slurm.test.ts'],
  null: ['/test/webgpu/'],
};

let args = process.argv.slice(2);
let passes = [null];
const at = args.indexOf('--passes');
if (at >= 0) {
  passes = (args[at + 1] ?? '').split(',').filter(Boolean);
  args = [...args.slice(0, at), ...args.slice(at + 2)];
  const unknown = passes.filter((p) => !PASS_ENV[p]);
  if (unknown.length || !passes.length) {
    console.error(
      `--passes: expected a list of ${Object.keys(PASS_ENV).join(', ')} (got ${unknown.join(', ') || 'nothing'})`,
    );
    process.exit(2);
  }
}

const jestBin = join('node_modules', 'jest', 'bin', 'jest.js');
function runPass(pass) {
  const out = join(mkdtempSync(join(tmpdir(), 'dfer-jest-')), 'result.json');
  if (pass)
    console.log(
      `\n=== test pass: ${pass} (${Object.entries(PASS_ENV[pass])
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}) ===`,
    );
  const scope = [
    ...(PASS_FILES[pass] ?? []),
    ...(PASS_IGNORE[String(pass)] ?? []).map((p) => `--testPathIgnorePatterns=${p}`),
  ];
  const res = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', '--no-warnings', jestBin, '--json', `--outputFile=${out}`, ...args, ...scope],
    {
      stdio: 'inherit',
      env: { ...process.env, ...(pass ? PASS_ENV[pass] : {}) },
    },
  );
  if (!existsSync(out)) return { passed: 0, failed: 1, skipped: 0, ok: false };
  const r = JSON.parse(readFileSync(out, 'utf8'));
  const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  return { passed: r.numPassedTests, failed, skipped: r.numPendingTests, ok: failed === 0 && res.status === 0 };
}

const results = passes.map((p) => ({ pass: p, ...runPass(p) }));
const line = (r) => `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`;
if (passes[0] !== null) for (const r of results) console.log(`pass ${r.pass}: ${line(r)}`);
const total = results.reduce(
  (t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);
console.log(line(total));
process.exit(results.every((r) => r.ok) ? 0 : 1);
