import { TEST_BACKEND } from '../helpers/backend.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { CheckpointError, checkpointPaths, loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.js';
import { createModel } from '../../src/model/network.js';
import { OFFICIAL_SGD, Sgd } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';

let dir: string;
beforeAll(async () => {
  await useBackend(TEST_BACKEND);
  dir = mkdtempSync(join(tmpdir(), 'dfer-ckpt-'));
});

test('save -> load restores weights, BN buffers, momentum and state exactly', async () => {
  const config = createConfig('small');
  const m = createModel(config, 3);
  const sgd = new Sgd(OFFICIAL_SGD);
  const clips = tf.randomUniform([2, 16, 3, 64, 64], 0, 1, 'float32', 1) as tf.Tensor5D;
  const labels = tf.tensor1d([1, 2], 'int32');
  await trainStep(m, sgd, clips, labels, 0.001, { lambda: 0.1, ial: true });
  const path = join(dir, 'a');
  await saveCheckpoint(path, m, { momentum: sgd.buffers, state: { epoch: 3, step: 17 } });

  const loaded = loadCheckpoint(`${path}.safetensors`, config);
  for (const name of m.params.names()) {
    expect(Array.from(loaded.model.params.get(name).dataSync())).toEqual(Array.from(m.params.get(name).dataSync()));
  }
  expect(loaded.momentum.size).toBe(m.params.trainable().length);
  const name = 's_former.layer2.0.gc.0.weight';
  expect(Array.from(loaded.momentum.get(name)!.dataSync())).toEqual(Array.from(sgd.buffers.get(name)!.dataSync()));
  expect(loaded.meta.state).toEqual({ epoch: 3, step: 17 });

  // Resuming from the checkpoint continues exactly like the uninterrupted run.
  const resumed = new Sgd(OFFICIAL_SGD);
  resumed.restore(loaded.momentum);
  await trainStep(m, sgd, clips, labels, 0.001, { lambda: 0.1, ial: true });
  await trainStep(loaded.model, resumed, clips, labels, 0.001, { lambda: 0.1, ial: true });
  expect(Array.from(loaded.model.params.get('fc_f.weight').dataSync())).toEqual(
    Array.from(m.params.get('fc_f.weight').dataSync()),
  );
  tf.dispose([clips, labels]);
  m.params.dispose();
  loaded.model.params.dispose();
});

test('a checkpoint whose config differs is refused, naming the fields', async () => {
  const m = createModel(createConfig('small', { reduction: 8 }), 1);
  const path = join(dir, 'b');
  await saveCheckpoint(path, m);
  expect(() => loadCheckpoint(path, createConfig('small'))).toThrow(/reduction: 16 -> 8/);
  m.params.dispose();
});

test('mixed-up or damaged weight files are refused', async () => {
  const m = createModel(createConfig('small'), 1);
  const path = join(dir, 'c');
  await saveCheckpoint(path, m);
  const { weights } = checkpointPaths(path);
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  expect(() => loadCheckpoint(path)).toThrow(CheckpointError);
  expect(() => loadCheckpoint(join(dir, 'missing'))).toThrow(/no such checkpoint/);
  m.params.dispose();
});
