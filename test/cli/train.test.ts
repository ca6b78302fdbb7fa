// dfer train / dfer eval as a user runs them: plain and JSON output, exact resume after SIGKILL, eval of a run
// directory, k-fold aggregation, and the errors.
import { TEST_BACKEND } from '../helpers/backend.js';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTinySet } from '../helpers/tinyset.js';
import { dfer, json } from './run.js';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js');
let data: string;
let work: string;
beforeAll(async () => {
  data = await makeTinySet({ clips: 24, frames: 12, size: 16 });
  work = mkdtempSync(join(tmpdir(), 'dfer-cli-train-'));
});

// The small preset with T = U = 4 frames, batch 2: a fraction of a second per step on wasm.
const args = (out: string) => [
  'train',
  '--data',
  data,
  '--preset',
  'small',
  '--u',
  '4',
  '--batch',
  '2',
  '--epochs',
  '2',
  '--lr',
  '0.01',
  '--val-fraction',
  '0.25',
  '--seed',
  '3',
  '--backend',
  TEST_BACKEND,
  '--workers',
  '0',
  '--out',
  join(work, out),
];

test('train --json: one JSON object per event; eval of the run directory; plain output when piped', async () => {
  const r = await dfer([...args('a'), '--json']);
  expect(r.code).toBe(0);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(events[0].type).toBe('run-start');
  expect(events.filter((e) => e.type === 'epoch-end')).toHaveLength(2);
  const end = events.at(-1);
  expect(end.type).toBe('run-end');
  expect(existsSync(join(work, 'a', 'curves-loss.png'))).toBe(true);
  expect(existsSync(join(work, 'a', 'confusion.svg'))).toBe(true);

  const e = await dfer(['eval', '--checkpoint', join(work, 'a'), '--backend', TEST_BACKEND, '--json']);
  expect(e.code).toBe(0);
  const res = json<{ uar: number; war: number; per_class: Record<string, number>; confusion: number[][] }>(e);
  const results = JSON.parse(readFileSync(join(work, 'a', 'results.json'), 'utf8'));
  expect(res.war).toBeCloseTo(results.metrics.war, 10); // the same selected weights, the same test split
  expect(Object.keys(res.per_class)).toHaveLength(7);
  const total = res.confusion.flat().reduce((a, b) => a + b, 0);
  expect(res.war).toBeCloseTo(res.confusion.reduce((a, row, i) => a + row[i], 0) / total, 10);

  const plain = await dfer(['eval', '--checkpoint', join(work, 'a'), '--backend', TEST_BACKEND]);
  expect(plain.stdout).toMatch(/UAR/);
  expect(plain.stdout).not.toMatch(/\x1b\[/); // no escape codes when not a terminal
}, 300000);

test('eval refuses to score a run on clips it trained on, naming the overlap; --allow-overlap records it', async () => {
  const leak = await dfer(['eval', '--checkpoint', join(work, 'a'), '--split', 'train', '--backend', TEST_BACKEND]);
  expect(leak.code).toBe(3);
  expect(leak.stderr).toMatch(
    /trained or selected on 12 of the 12 clips of fold 1's train split \(e\.g\. 00001, 00002, 00003\).*--allow-overlap/,
  );
  const out = join(work, 'a-train-split');
  const allowed = await dfer([
    'eval',
    '--checkpoint',
    join(work, 'a'),
    '--split',
    'train',
    '--allow-overlap',
    '--out',
    out,
    '--backend',
    TEST_BACKEND,
    '--json',
  ]);
  expect(allowed.code).toBe(0);
  expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).overlap).toEqual({
    clips: 12,
    of: 12,
    allowed: true,
  });
}, 300000);

test('a run killed with SIGKILL mid-epoch and run again ends with the same metrics as an uninterrupted one', async () => {
  const reference = await dfer([...args('ref'), '--json', '--save-every', '1']);
  expect(reference.code).toBe(0);
  const out = join(work, 'killed');
  const child = spawn(process.execPath, [BIN, ...args('killed'), '--json', '--save-every', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let buffer = '';
  await new Promise<void>((done) => {
    child.stdout.on('data', (d) => {
      buffer += d;
      const saves = buffer
        .split('\n')
        .filter((l) => l.includes('"type":"checkpoint"') && l.includes('"kind":"step"')).length;
      if (saves >= 3 && !child.killed) child.kill('SIGKILL'); // mid-epoch: step checkpoints only happen inside epochs
    });
    child.on('close', () => done());
  });
  expect(child.signalCode).toBe('SIGKILL');
  expect(existsSync(join(out, 'results.json'))).toBe(false);
  const again = await dfer([...args('killed'), '--json', '--save-every', '1']);
  expect(again.code).toBe(0);
  const start = JSON.parse(again.stdout.split('\n')[0]);
  expect(start.resumedFrom.step + start.resumedFrom.epoch).toBeGreaterThan(0);
  const a = JSON.parse(readFileSync(join(work, 'ref', 'results.json'), 'utf8'));
  const b = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  expect(b.metrics).toEqual(a.metrics);
  expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).history).toEqual(
    JSON.parse(readFileSync(join(work, 'ref', 'summary.json'), 'utf8')).history,
  );

  // One run aggregates to itself; two runs of the same fold are refused.
  const one = await dfer(['eval', '--runs', join(work, 'ref'), '--json']);
  expect(one.code).toBe(0);
  expect(json<{ mean: { war: number } }>(one).mean.war).toBeCloseTo(a.metrics.war, 10);
  const twice = await dfer(['eval', '--runs', join(work, 'ref'), join(work, 'killed')]);
  expect(twice.code).toBe(3);
  expect(twice.stderr).toMatch(/both fold 1/);
}, 600000);

test('errors: a fold the set lacks, bad input, exit 3; no set named anywhere, exit 2; each one line', async () => {
  const noFold = await dfer([...args('x'), '--fold', '7']);
  expect(noFold.code).toBe(3);
  expect(noFold.stderr.trim()).toBe(`dfer train: error: --fold 7: ${data} has only fold 1`);
  const noData = await dfer(['train', '--preset', 'small']);
  expect(noData.code).toBe(2);
  expect(noData.stderr.trim()).toMatch(
    /^dfer train: error: no prepared set: pass --data <prepared set>, or make a workspace once with dfer init --data <prepared set>/,
  );
  const noRun = await dfer(['eval', '--checkpoint', join(work, 'nothing-here'), '--data', data, '--fold', '1']);
  expect(noRun.code).toBe(3);
  expect(noRun.stderr.trim().split('\n')).toHaveLength(1);
}, 120000);
