import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { DEFAULT_SCHEDULE, learningRate, Sgd } from '../../src/train/optim.js';

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

test('SGD follows torch.optim.SGD: decay added to the gradient, buffer = d on step 1', () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const params = new Map([['w', p]]);
  const sgd = new Sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  const g1 = [0.5, 0.25];
  const g2 = [-1, 2];
  sgd.step(params, new Map([['w', tf.tensor1d(g1)]]), 0.1);
  // by hand: d = g + wd p; buf = d; p -= lr buf
  let w = [1, -2];
  let buf = w.map((v, i) => g1[i] + 0.01 * v);
  w = w.map((v, i) => v - 0.1 * buf[i]);
  expect(Array.from(p.dataSync())).toEqual(w.map((v) => expect.closeTo(v, 6)));
  sgd.step(params, new Map([['w', tf.tensor1d(g2)]]), 0.05);
  buf = buf.map((b, i) => 0.9 * b + g2[i] + 0.01 * w[i]);
  w = w.map((v, i) => v - 0.05 * buf[i]);
  expect(Array.from(p.dataSync())).toEqual(w.map((v) => expect.closeTo(v, 6)));
  sgd.dispose();
});

test('step schedule: every 7 epochs x0.5 (the code); exp and cosine', () => {
  const lr = (name: 'step' | 'exp' | 'cosine', e: number) =>
    learningRate({ ...DEFAULT_SCHEDULE, name, gamma: name === 'exp' ? 0.9 : 0.5 }, e);
  expect([0, 6, 7, 13, 14].map((e) => lr('step', e))).toEqual([0.001, 0.001, 0.0005, 0.0005, 0.00025]);
  expect(lr('exp', 2)).toBeCloseTo(0.001 * 0.81, 12);
  expect(lr('cosine', 0)).toBeCloseTo(0.001, 12);
  expect(lr('cosine', 40)).toBeCloseTo(0.0005, 12);
  expect(lr('cosine', 80)).toBeCloseTo(0, 12);
});
