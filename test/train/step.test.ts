import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { createModel } from '../../src/model/network.js';
import { OFFICIAL_SGD, Sgd } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

test('no tensor leak: numTensors is flat across 20 training steps, and back to the start after disposal', async () => {
  const start = tf.memory().numTensors;
  const m = createModel(createConfig('small'), 5);
  const sgd = new Sgd(OFFICIAL_SGD);
  const clips = tf.randomUniform([2, 16, 3, 64, 64], 0, 1, 'float32', 1) as tf.Tensor5D;
  const labels = tf.tensor1d([2, 6], 'int32');
  await trainStep(m, sgd, clips, labels, 0.001, { lambda: 0.1, ial: true }); // first step creates the momentum buffers
  const counts: number[] = [];
  for (let i = 0; i < 20; i++) {
    await trainStep(m, sgd, clips, labels, 0.001, { lambda: 0.1, ial: true });
    counts.push(tf.memory().numTensors);
  }
  expect(new Set(counts).size).toBe(1);
  tf.dispose([clips, labels]);
  sgd.dispose();
  m.params.dispose();
  expect(tf.memory().numTensors).toBe(start);
});
