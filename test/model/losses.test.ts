import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { crossEntropy, intensityAwareLoss, totalLoss } from '../../src/model/losses.js';
import type { ForwardOutput } from '../../src/model/network.js';

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
});

const softplus = (v: number) => Math.log1p(Math.exp(v));

describe('intensity-aware loss', () => {
  test('equals -log(e^xt / (e^xt + e^xmax)) per clip, averaged', () => {
    const logits = tf.tensor2d([
      [1.0, 2.5, -0.3, 0.7, 0.1, -1.2, 0.4], // target 3: x_max is 2.5 (class 1)
      [0.2, -0.1, 3.0, 0.0, 2.9, 0.3, -0.5], // target 2 is the max; x_max = 2.9
    ]);
    const labels = tf.tensor1d([3, 2], 'int32');
    const expected = (softplus(2.5 - 0.7) + softplus(2.9 - 3.0)) / 2;
    expect(intensityAwareLoss(logits, labels).dataSync()[0]).toBeCloseTo(expected, 6);
  });

  test('is ~0 when the target logit exceeds every other by far', () => {
    const logits = tf.tensor2d([[30, 0, 0, 0, 0, 0, 0]]);
    expect(intensityAwareLoss(logits, tf.tensor1d([0], 'int32')).dataSync()[0]).toBeLessThan(1e-12);
  });

  test('gradient flows only through x_t and x_max', () => {
    const logits = tf.tensor2d([[1.0, 2.5, -0.3, 0.7, 0.1, -1.2, 0.4]]);
    const labels = tf.tensor1d([3], 'int32');
    const g = tf
      .grad((x: tf.Tensor) => intensityAwareLoss(x as tf.Tensor2D, labels))(logits)
      .dataSync();
    const p = 1 / (1 + Math.exp(-(2.5 - 0.7))); // d softplus(xmax - xt) / d xmax
    expect(g[1]).toBeCloseTo(p, 6);
    expect(g[3]).toBeCloseTo(-p, 6);
    for (const i of [0, 2, 4, 5, 6]) expect(g[i]).toBe(0);
  });
});

describe('cross-entropy and the total loss', () => {
  test('cross-entropy matches log-softmax by hand', () => {
    const row = [0.5, -1, 2, 0, 0, 0, 0.25];
    const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
    const ce = crossEntropy(tf.tensor2d([row]), tf.tensor1d([2], 'int32')).dataSync()[0];
    expect(ce).toBeCloseTo(lse - 2, 6);
  });

  const out = (): ForwardOutput => ({
    logits: tf.tensor2d([[0.1, 0.9, -0.4, 0.3, 0, 0.2, -0.1]]),
    features: tf.zeros([1, 4]) as tf.Tensor2D,
    aux2: tf.tensor2d([[1, 0, 0, 0, 0, 0, 0]]),
    aux3: tf.tensor2d([[0, 5, 0, 0, 0, 0, 0]]),
  });
  const label3 = () => tf.tensor1d([3], 'int32');

  test('total = CE + 0.05 CE(aux2) + 0 CE(aux3) + lambda IAL (official weights)', () => {
    const o = out();
    const labels = label3();
    const l = totalLoss(o, labels, createConfig('paper'), { lambda: 0.1, ial: true });
    const ce = crossEntropy(o.logits, labels).dataSync()[0];
    const aux2 = crossEntropy(o.aux2!, labels).dataSync()[0];
    const ial = intensityAwareLoss(o.logits, labels).dataSync()[0];
    expect(l.aux.dataSync()[0]).toBeCloseTo(0.05 * aux2, 6);
    expect(l.total.dataSync()[0]).toBeCloseTo(ce + 0.05 * aux2 + 0.1 * ial, 6);
  });

  test('--no-ial drops the IAL term; lambda scales it', () => {
    const o = out();
    const labels = label3();
    const paper = createConfig('paper');
    const off = totalLoss(o, labels, paper, { lambda: 0.1, ial: false });
    const l3 = totalLoss(o, labels, paper, { lambda: 0.3, ial: true });
    const ial = l3.ial.dataSync()[0];
    expect(l3.total.dataSync()[0] - off.total.dataSync()[0]).toBeCloseTo(0.3 * ial, 6);
  });
});
