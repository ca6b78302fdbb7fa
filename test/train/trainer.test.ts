import { TEST_BACKEND } from '../helpers/backend.js';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { DEFAULT_SCHEDULE, OFFICIAL_SGD } from '../../src/train/optim.js';
import { stratifiedSplit, train, type TrainOptions } from '../../src/train/trainer.js';
import type { TrainEvent } from '../../src/train/events.js';
import { makeTinySet } from '../helpers/tinyset.js';

let data: string;
let work: string;
beforeAll(async () => {
  await useBackend(TEST_BACKEND);
  data = await makeTinySet({ clips: 24, frames: 12, size: 16 });
  work = mkdtempSync(join(tmpdir(), 'dfer-train-'));
});

// A small network on tiny clips: T = 4 frames of 32 px, so a step takes a fraction of a second on wasm.
const options = (out: string, over: Partial<TrainOptions> = {}): TrainOptions => ({
  data,
  fold: '1',
  model: createConfig('small', { frames: 4, imageSize: 32 }),
  epochs: 2,
  batchSize: 2,
  optimizer: OFFICIAL_SGD,
  schedule: { ...DEFAULT_SCHEDULE, baseLr: 0.01 },
  loss: { lambda: 0.1, ial: true },
  sampling: { u: 4, v: 1, rule: 'official' },
  augment: true,
  seed: 5,
  backend: TEST_BACKEND,
  out: join(work, out),
  valFraction: 0.25,
  selectOn: 'val',
  selectMetric: 'war',
  saveEvery: 0,
  evalBatchSize: 4,
  workers: 0,
  ...over,
});

test('stratified validation split: per-class share, seeded, disjoint', () => {
  const ids = Array.from({ length: 70 }, (_, i) => `c${i}`);
  const label = (id: string) => Number(id.slice(1)) % 7;
  const a = stratifiedSplit(ids, label, 0.1, 1);
  expect(a.val).toHaveLength(7);
  expect(new Set(a.val.map(label)).size).toBe(7);
  expect(a.train.filter((id) => a.val.includes(id))).toHaveLength(0);
  expect(stratifiedSplit(ids, label, 0.1, 1)).toEqual(a);
  expect(stratifiedSplit(ids, label, 0.1, 2).val).not.toEqual(a.val);
});

test('a run writes its directory; same seed -> same metrics; a stopped run resumes to the same result', async () => {
  const events: TrainEvent[] = [];
  const start = tf.memory().numTensors;
  const a = await train(options('a'), (e) => events.push(e));
  expect(tf.memory().numTensors).toBe(start); // nothing left behind by the whole run
  for (const f of [
    'config.json',
    'metrics.jsonl',
    'last.safetensors',
    'best.json',
    'summary.json',
    'results.json',
    'test-predictions.csv',
  ]) {
    expect(existsSync(join(work, 'a', f))).toBe(true);
  }
  const config = JSON.parse(readFileSync(join(work, 'a', 'config.json'), 'utf8'));
  expect(config).toMatchObject({
    backend: TEST_BACKEND,
    dataFingerprint: expect.any(String),
    dfer: expect.any(String),
    tfjs: expect.any(String),
  });
  expect(config.train.seed).toBe(5);
  expect(events[0].type).toBe('run-start');
  expect(events.filter((e) => e.type === 'epoch-end')).toHaveLength(2);
  expect(events.at(-1)!.type).toBe('run-end');
  const steps = readFileSync(join(work, 'a', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(steps.filter((l) => l.type === 'step')).toHaveLength((2 * a.steps) / 2);

  const b = await train(options('b'));
  expect(b.test).toEqual(a.test);

  // Stop after 3 steps (as SIGINT does: the step is finished and saved), then run the same command again.
  const controller = new AbortController();
  const stopped = await train(
    options('c'),
    (e) => {
      if (e.type === 'step' && e.globalStep === 3) controller.abort();
    },
    controller.signal,
  );
  expect(stopped.interrupted).toBe(true);
  expect(stopped.steps).toBe(3);
  const resumedEvents: TrainEvent[] = [];
  const c = await train(options('c'), (e) => resumedEvents.push(e));
  expect(resumedEvents[0]).toMatchObject({ type: 'run-start', resumedFrom: { epoch: 0, step: 3 } });
  expect(c.test).toEqual(a.test);
  const summaryA = JSON.parse(readFileSync(join(work, 'a', 'summary.json'), 'utf8'));
  const summaryC = JSON.parse(readFileSync(join(work, 'c', 'summary.json'), 'utf8'));
  expect(summaryC.history).toEqual(summaryA.history);
}, 600000);

test('errors: a missing fold, another configuration in the same run directory, a non-finite loss', async () => {
  await expect(train(options('d', { fold: '9' }))).rejects.toThrow(/no fold 9/);
  await train(options('e', { epochs: 1 }));
  await expect(train(options('e', { seed: 6, epochs: 1 }))).rejects.toThrow(/another configuration/);
  await expect(train(options('f', { schedule: { ...DEFAULT_SCHEDULE, baseLr: 1e30 } }))).rejects.toThrow(
    /non-finite loss .* step/,
  );
}, 600000);
