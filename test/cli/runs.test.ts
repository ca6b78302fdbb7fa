// dfer runs: one of each state (finished, interrupted, running, failed) under one folder, found at any depth, the
// settings that differ as columns, --sort, --where, --json (stable keys) and --csv.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDirectory, type DirLock } from '../../src/lock.js';
import { TEST_BACKEND } from '../helpers/backend.js';
import { makeTinySet, tinyTrainFlags } from '../helpers/tinyset.js';
import { dfer, json } from './run.js';

interface RunJson {
  path: string;
  state: string;
  fold: string;
  seed: number;
  preset: string;
  epochs_done: number;
  epochs_planned: number;
  best_val_uar: number | null;
  test_uar: number | null;
  test_war: number | null;
  age_seconds: number;
  settings: Record<string, unknown>;
}

let root: string;
let lock: DirLock;
beforeAll(async () => {
  const data = await makeTinySet({ clips: 24, frames: 12, size: 16 });
  root = mkdtempSync(join(tmpdir(), 'dfer-cli-runs-'));
  const train = ['train', ...tinyTrainFlags(data, TEST_BACKEND)];
  const a = await dfer([...train, '--out', join(root, 'a-finished'), '--json']);
  expect(a.code).toBe(0);
  const b = await dfer([
    ...train,
    '--no-ial',
    '--seed',
    '2',
    '--out',
    join(root, 'grid', 'b-finished-noial'),
    '--json',
  ]);
  expect(b.code).toBe(0);
  // An interrupted run: a checkpoint, no results. A running one: the same, its lock held by this (live) process.
  cpSync(join(root, 'a-finished'), join(root, 'c-interrupted'), { recursive: true });
  for (const f of ['results.json', 'summary.json', 'test-predictions.csv'])
    rmSync(join(root, 'c-interrupted', f), { force: true });
  cpSync(join(root, 'c-interrupted'), join(root, 'deeper', 'd-running'), { recursive: true });
  lock = await lockDirectory(join(root, 'deeper', 'd-running'));
  // A failed run: it died before its first checkpoint (config.json alone).
  mkdirSync(join(root, 'e-failed'));
  writeFileSync(join(root, 'e-failed', 'config.json'), readFileSync(join(root, 'a-finished', 'config.json')));
}, 300_000);
afterAll(() => lock?.release());

test('each state, found at any depth; the differing settings; --json', async () => {
  const r = await dfer(['runs', root, '--json']);
  expect(r.code).toBe(0);
  const doc = json<{ differing: string[]; runs: RunJson[] }>(r);
  expect(doc.runs.map((x) => [x.path.slice(root.length + 1), x.state])).toEqual([
    ['a-finished', 'finished'],
    ['c-interrupted', 'interrupted'],
    ['deeper/d-running', 'running'],
    ['e-failed', 'failed'],
    ['grid/b-finished-noial', 'finished'],
  ]);
  expect(doc.differing).toEqual(['loss.ial']);
  const a = doc.runs[0];
  const results = JSON.parse(readFileSync(join(root, 'a-finished', 'results.json'), 'utf8'));
  expect(a).toMatchObject({
    fold: '1',
    seed: 1,
    preset: 'small',
    epochs_done: 1,
    epochs_planned: 1,
    test_uar: results.metrics.uar,
    test_war: results.metrics.war,
  });
  expect(Object.keys(a)).toEqual([
    'path',
    'state',
    'set',
    'fold',
    'seed',
    'preset',
    'epochs_done',
    'epochs_planned',
    'best_val_uar',
    'test_uar',
    'test_war',
    'age_seconds',
    'settings',
  ]);
  expect(doc.runs[3]).toMatchObject({ state: 'failed', epochs_done: 0, test_uar: null });
  // Each run records the machine it trained on (results are comparable pair by pair only on one machine).
  const config = JSON.parse(readFileSync(join(root, 'a-finished', 'config.json'), 'utf8'));
  expect(config.machine).toMatchObject({
    host: expect.any(String),
    cpu: expect.any(String),
    cores: expect.any(Number),
  });
});

test('--where, --sort, text and CSV', async () => {
  const where = await dfer(['runs', root, '--where', 'ial=false', '--json']);
  expect(json<{ runs: RunJson[] }>(where).runs.map((x) => x.path.slice(root.length + 1))).toEqual([
    'grid/b-finished-noial',
  ]);
  const states = await dfer(['runs', root, '--where', 'state=finished', '--sort', 'test_uar', '--json']);
  const uars = json<{ runs: RunJson[] }>(states).runs.map((x) => x.test_uar!);
  expect(uars).toEqual([...uars].sort((x, y) => y - x));
  const text = await dfer(['runs', root]);
  expect(text.stdout).toMatch(/^run +state +set +fold +seed +preset +ial +epochs +val UAR +test UAR +test WAR +age$/m);
  expect(text.stdout).toMatch(/5 runs: 1 running, 2 finished, 1 interrupted, 1 failed; they differ in loss\.ial/);
  const csv = await dfer(['runs', root, '--csv']);
  expect(csv.stdout.split('\n')[0]).toBe(
    'path,state,set,fold,seed,preset,loss.ial,epochs_done,epochs_planned,best_val_uar,test_uar,test_war,age_seconds',
  );
  expect(csv.stdout.trim().split('\n')).toHaveLength(6);
  const bad = await dfer(['runs', root, '--where', 'colour=blue']);
  expect([bad.code, bad.stderr.trim()]).toEqual([
    3,
    'dfer runs: error: --where colour=blue: no run has a setting "colour"',
  ]);
  const none = await dfer(['runs', join(root, 'nowhere')]);
  expect(none.code).toBe(3);
});
