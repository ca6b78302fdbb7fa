// The run directory's one owner: what a run is, its state, its files read back, a damaged file named.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRunDirs, RunDir, RunDirError } from '../../src/train/run-dir.js';

let tmp: string;
beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'dfer-rundir-'))));
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const touchCheckpoint = (dir: string, name: string) => {
  writeFileSync(join(dir, `${name}.json`), '{}');
  writeFileSync(join(dir, `${name}.safetensors`), '');
};

test('state: new, started (a checkpoint), finished (results.json); the selected checkpoint is best, else last', () => {
  const run = new RunDir(join(tmp, 'r'));
  expect(run.isRun()).toBe(false);
  mkdirSync(run.dir);
  run.writeConfig({
    train: {
      data: 'd',
      fold: '2',
      model: {},
      epochs: 1,
      sampling: { u: 8, v: 2, rule: 'official' },
      selectOn: 'val',
      selectMetric: 'war',
      seed: 1,
    },
  } as never);
  expect([run.isRun(), run.state(), run.selectedCheckpoint()]).toEqual([true, 'new', null]);
  touchCheckpoint(run.dir, 'last');
  expect([run.state(), run.selectedCheckpoint()]).toEqual(['started', run.last]);
  touchCheckpoint(run.dir, 'best');
  expect(run.selectedCheckpoint()).toBe(run.best);
  run.writeResults({ split: 'test', fold: '2', selectedOn: 'val', bestEpoch: 1, metrics: { uar: 0.5 } as never });
  expect(run.state()).toBe('finished');
  expect(run.readResults().metrics.uar).toBe(0.5);
  expect(run.readConfig().train.sampling).toEqual({ u: 8, v: 2, rule: 'official' });
  expect(listRunDirs(tmp).map((r) => r.dir)).toEqual([run.dir]);
});

test('metrics.jsonl: a line cut short by a kill is dropped; trimming keeps the steps up to the checkpoint', () => {
  const run = new RunDir(tmp);
  for (let s = 1; s <= 4; s++) run.appendMetrics({ type: 'step', epoch: 1, globalStep: s });
  appendFileSync(run.path('metrics'), '{"type":"step","epoch":1,"glob');
  expect(run.readMetrics().map((l) => l.globalStep)).toEqual([1, 2, 3, 4]);
  run.trimMetricsAfter(2);
  expect(run.readMetrics().map((l) => l.globalStep)).toEqual([1, 2]);
});

test('missing and damaged files are named with what to do', () => {
  const run = new RunDir(tmp);
  expect(() => run.readConfig()).toThrow(new RunDirError(`${tmp}: not a run directory (no config.json)`));
  expect(() => run.readResults()).toThrow(/no results\.json \(the run has not finished; run the same dfer train again/);
  writeFileSync(run.path('config'), '{"train": ');
  expect(() => run.readConfig()).toThrow(/config\.json: not valid JSON .*the run directory is damaged/);
});

test('a follower reads metrics.jsonl from where it stopped: whole lines only, from the start after a trim', () => {
  const run = new RunDir(join(tmp, 'r'));
  mkdirSync(run.dir);
  const file = join(run.dir, 'metrics.jsonl');
  expect(run.readMetricsSince(0)).toEqual({ lines: [], next: 0 });
  appendFileSync(file, '{"type":"epoch","epoch":1}\n{"type":"epoch","ep');
  const first = run.readMetricsSince(0);
  expect(first.lines).toEqual([{ type: 'epoch', epoch: 1 }]);
  appendFileSync(file, 'och":2}\n');
  const second = run.readMetricsSince(first.next);
  expect(second.lines).toEqual([{ type: 'epoch', epoch: 2 }]);
  expect(run.readMetricsSince(second.next).lines).toEqual([]);
  writeFileSync(file, '{"type":"epoch","epoch":1}\n'); // a resume trimmed the file below the offset
  expect(run.readMetricsSince(second.next).lines).toEqual([{ type: 'epoch', epoch: 1 }]);
});
