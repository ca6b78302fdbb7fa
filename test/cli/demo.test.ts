// The README's main job, end to end at a tiny size: synth -> prepare -> train -> test split, plain output; the demo
// leaves a workspace (dfer.json) whose fold-1 run is the one it trained.
import { TEST_BACKEND } from '../helpers/backend.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dfer, json } from './run.js';

test('dfer demo runs synth, prepare, train and eval, makes a workspace and says where the run is', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'dfer-demo-')), 'demo');
  const r = await dfer(['demo', '--dir', dir, '--clips', '35', '--epochs', '1', '--backend', TEST_BACKEND], {
    DFER_WORKSPACE: '',
  });
  expect(r.code).toBe(0);
  for (const f of [
    'data/synth-source/metadata.csv',
    'data/synth/manifest.json',
    'runs/synth/small-fold1/results.json',
    'runs/synth/small-fold1/confusion.png',
  ]) {
    expect(existsSync(join(dir, f))).toBe(true);
  }
  expect(r.stderr).toMatch(/created the workspace .*dfer\.json: data: data\/synth, train\.preset: "small"/);
  // The engine is said first, with how to get the fast one when it is not in use.
  const engine = r.stderr.split('\n').find((l) => l.includes('engine:'))!;
  expect(engine).toMatch(
    new RegExp(
      `^dfer demo: engine: ${TEST_BACKEND === 'native' ? 'native$' : `${TEST_BACKEND} \\(the native CPU engine is .*; it trains about ten times faster here\\)$`}`,
    ),
  );
  expect(JSON.parse(readFileSync(join(dir, 'dfer.json'), 'utf8'))).toMatchObject({
    version: 1,
    data: 'data/synth',
    train: { preset: 'small', u: 8, epochs: 1 },
  });
  expect(r.stdout).toMatch(/next \(in .*\): dfer eval --fold 1/);
  // Running it again skips the finished stages, finds the finished run and changes nothing in the workspace.
  const again = await dfer(
    ['demo', '--dir', dir, '--clips', '35', '--epochs', '1', '--backend', TEST_BACKEND, '--json'],
    { DFER_WORKSPACE: '' },
  );
  expect(again.code).toBe(0);
  const lines = again.stdout.trim().split('\n');
  const result = json<{ run: string; workspace: { created: boolean; changes: string[] } }>({
    ...again,
    stdout: lines.at(-1)!,
  });
  expect(result.run).toBe(join(dir, 'runs', 'synth', 'small-fold1'));
  expect(result.workspace).toMatchObject({ created: false, changes: [] });
}, 600000);
