// The README's main job, end to end at a tiny size: synth -> prepare -> train -> test split, plain output.
import { TEST_BACKEND } from '../helpers/backend.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dfer, json } from './run.js';

test('dfer demo runs synth, prepare, train and eval, and says where the run is', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'dfer-demo-')), 'demo');
  const r = await dfer(['demo', '--dir', dir, '--clips', '35', '--epochs', '1', '--backend', TEST_BACKEND]);
  expect(r.code).toBe(0);
  for (const f of ['synth/metadata.csv', 'prepared/manifest.json', 'run/results.json', 'run/confusion.png']) expect(existsSync(join(dir, f))).toBe(true);
  expect(r.stdout).toMatch(/next: dfer eval/);
  // Running it again skips the finished stages and resumes the (finished) run.
  const again = await dfer(['demo', '--dir', dir, '--clips', '35', '--epochs', '1', '--backend', TEST_BACKEND, '--json']);
  expect(again.code).toBe(0);
  const lines = again.stdout.trim().split('\n');
  expect(json<{ run: string }>({ ...again, stdout: lines.at(-1)! }).run).toBe(join(dir, 'run'));
}, 600000);
