// dfer ablate as a user runs it: a real 2-run grid of `dfer train` child processes on a tiny set, --json, skipping
// finished runs on a second invocation, dfer tsne on two of its runs, Ctrl-C (SIGINT) stopping a run that the next
// invocation resumes, and errors.
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
  work = mkdtempSync(join(tmpdir(), 'dfer-cli-ablate-'));
});

// As test/cli/train.test.ts: the small preset with T = U = 4 frames and batch 2, a fraction of a second per step.
const train = [
  '--data',
  () => data,
  '--preset',
  'small',
  '--u',
  '4',
  '--batch',
  '2',
  '--lr',
  '0.01',
  '--val-fraction',
  '0.25',
  '--backend',
  TEST_BACKEND,
  '--workers',
  '0',
];
const args = (out: string, ...more: string[]) => [
  'ablate',
  ...train.map((a) => (typeof a === 'function' ? a() : a)),
  '--out',
  join(work, out),
  ...more,
];

interface Cell {
  setting: string;
  values: Record<string, unknown>;
  runs: number;
  uar: number;
  war: number;
}

test('--ial --jobs 2: two runs in parallel, the table as JSON, files; run again: everything skipped, the same table', async () => {
  const r = await dfer(args('grid', '--ial', '--epochs', '1', '--jobs', '2', '--json'));
  expect(r.code).toBe(0);
  const doc = json<{ cells: Cell[]; files: string[]; complete: boolean }>(r);
  expect(doc.complete).toBe(true);
  expect(doc.cells.map((c) => [c.setting, c.values.ial, c.runs])).toEqual([
    ['no-ial', false, 1],
    ['ial', true, 1],
  ]);
  for (const c of doc.cells) {
    expect(c.uar).toBeGreaterThanOrEqual(0);
    expect(c.war).toBeLessThanOrEqual(1);
    const results = JSON.parse(readFileSync(join(work, 'grid', c.setting, 'fold1-seed1', 'results.json'), 'utf8'));
    expect(c.war).toBeCloseTo(results.metrics.war, 12);
  }
  for (const f of ['results.md', 'results.csv', 'results.json']) expect(doc.files).toContain(join(work, 'grid', f));
  // Progress: JSON lines on stderr.
  const progress = r.stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(progress.filter((p) => p.type === 'run-end').map((p) => p.status)).toEqual(['done', 'done']);

  const again = await dfer(args('grid', '--ial', '--epochs', '1', '--jobs', '2'));
  expect(again.code).toBe(0);
  expect(again.stderr).toContain('2 finished before, 0 to run');
  expect(again.stderr).not.toContain('start ');
  expect(again.stdout).toMatch(/IAL +runs +UAR \(%\) +WAR \(%\)/);
  expect(again.stdout).not.toMatch(/\x1b\[/);
  const md = readFileSync(join(work, 'grid', 'results.md'), 'utf8');
  expect(md).toContain('| IAL | runs | UAR (%) | WAR (%) |');

  // The runs are ordinary run directories: dfer tsne draws one beside the other (Fig. 4) from their own data and fold.
  const ours = join(work, 'grid', 'ial', 'fold1-seed1');
  const t = await dfer([
    'tsne',
    '-c',
    ours,
    '--compare',
    join(work, 'grid', 'no-ial', 'fold1-seed1'),
    '--backend',
    TEST_BACKEND,
    '--workers',
    '0',
    '--iterations',
    '300',
    '--json',
  ]);
  expect(t.code).toBe(0);
  const fig = json<{ maps: { name: string }[]; clips: number; files: string[] }>(t);
  expect(fig.maps.map((m) => m.name)).toEqual(['baseline', 'ours']);
  expect(fig.clips).toBe(12);
  expect(fig.files).toEqual(['png', 'svg', 'csv'].map((e) => join(ours, `tsne-fold1-test.${e}`)));
  for (const f of fig.files) expect(existsSync(f)).toBe(true);
}, 300000);

test('Ctrl-C stops the running run after saving (exit 130); the same command resumes it and finishes', async () => {
  const a = args('stop', '--epochs', '3', '--save-every', '1');
  const child = spawn(process.execPath, [BIN, ...a.slice(0)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const code = await new Promise<number | null>((done) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (/epoch 1\/3/.test(stderr) && !child.killed) child.kill('SIGINT'); // mid-run, after its first epoch
    });
    child.on('close', (c) => done(c));
  });
  expect(code).toBe(130);
  expect(stderr).toMatch(/stopped default\/fold1-seed1: saved/);
  expect(stdout).toMatch(/run the same command again/);
  const dir = join(work, 'stop', 'default', 'fold1-seed1');
  expect(existsSync(join(dir, 'results.json'))).toBe(false);
  expect(existsSync(join(dir, 'last.json'))).toBe(true);

  const again = await dfer(a);
  expect(again.code).toBe(0);
  expect(again.stderr).toMatch(/default\/fold1-seed1: resumed at epoch [1-3] step \d+/);
  expect(again.stderr).toMatch(/done default\/fold1-seed1: test UAR/);
  expect(existsSync(join(dir, 'results.json'))).toBe(true);
  expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).history).toHaveLength(3);
}, 300000);

test('bad input: one line on stderr, exit 3, before any run starts', async () => {
  const both = await dfer(args('bad', '--gca', '--attention', 'se,gca'));
  expect(both.code).toBe(3);
  expect(both.stderr.trim().split('\n')).toHaveLength(1);
  expect(both.stderr).toMatch(/give one of them/);
  const fold = await dfer(args('bad', '--ial', '--folds', '7'));
  expect(fold.code).toBe(3);
  expect(fold.stderr).toMatch(/no fold 7/);
  const type = await dfer(args('bad', '--attention', 'se,xyz'));
  expect(type.code).toBe(3);
  expect(type.stderr).toMatch(/"xyz" is not one of none, se, cbam, gca/);
  const noData = await dfer(['ablate', '--ial', '--out', join(work, 'bad'), '--json']);
  // No set named anywhere (no --data, DFER_DATA or workspace): a usage error saying what to type.
  expect(noData.code).toBe(2);
  expect(json<{ error: string }>(noData).error).toMatch(
    /no prepared set: pass --data <prepared set>, or make a workspace once with dfer init --data/,
  );
  expect(existsSync(join(work, 'bad'))).toBe(false);
}, 120000);
