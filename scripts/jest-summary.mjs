#!/usr/bin/env node
// Runs jest (ESM mode) with a JSON result file and ends with the line CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(mkdtempSync(join(tmpdir(), 'dfer-jest-')), 'result.json');
const jestBin = join('node_modules', 'jest', 'bin', 'jest.js');
const res = spawnSync(process.execPath, ['--experimental-vm-modules', '--no-warnings', jestBin, '--json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (!existsSync(out)) {
  console.log('0 passed, 1 failed');
  process.exit(res.status || 1);
}
const r = JSON.parse(readFileSync(out, 'utf8'));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
console.log(`${r.numPassedTests} passed, ${failed} failed, ${r.numPendingTests} skipped`);
process.exit(failed > 0 || res.status !== 0 ? 1 : 0);
