// The fused native BatchNorm/LayerNorm training kernels against the composite versions on the cpu backend: outputs,
// gradients w.r.t. input, gamma and beta, and BatchNorm's running statistics.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { batchNorm, layerNorm } from '../../src/model/ops.js';
import { describeNative, expectSameOnBoth, rand, weightedSum } from '../helpers/native.js';

describeNative('fused native normalisation', () => {
  test('on the native backend, training-mode BatchNorm and LayerNorm run the fused kernels', async () => {
    await useBackend('native');
    const x = tf.randomNormal([4, 6]);
    const bn = {
      gamma: tf.ones([6]) as tf.Tensor1D,
      beta: tf.zeros([6]) as tf.Tensor1D,
      runningMean: tf.variable(tf.zeros([6])),
      runningVar: tf.variable(tf.ones([6])),
    };
    const { kernelNames } = await tf.profile(() => {
      tf.dispose([batchNorm(x, bn, true), layerNorm(x, bn.gamma, bn.beta)]);
    });
    expect(kernelNames).toEqual(expect.arrayContaining(['DferBatchNormTrain', 'DferBnRunningStats', 'DferLayerNorm']));
    expect(kernelNames).not.toContain('Sum'); // no composite statistics
    tf.dispose([x, ...Object.values(bn)]);
  });

  test.each([
    { name: 'NHWC activations', shape: [3, 7, 5, 6] },
    { name: 'large enough to run threaded', shape: [4, 33, 17, 24] },
    { name: 'rank 2 (rows, channels)', shape: [11, 9] },
    { name: 'rank 5', shape: [2, 3, 4, 5, 8] },
  ])(
    'BatchNorm, $name: y, dx, dgamma, dbeta and running stats equal the composite version (with and without ReLU)',
    async ({ shape }) => {
      for (const relu of [false, true]) await checkBatchNorm(shape, relu);
    },
  );

  test('evaluation-mode BatchNorm (running statistics), with and without ReLU', async () => {
    const c = 24;
    await expectSameOnBoth(
      [rand([4, 9, 7, c], 7, 3), rand([c], 8), rand([c], 9), rand([c], 10), rand([c], 11)],
      (x, gamma, beta, rm, rv) => {
        const bn = {
          gamma: gamma as tf.Tensor1D,
          beta: beta as tf.Tensor1D,
          runningMean: tf.variable(rm),
          runningVar: tf.variable(tf.add(tf.abs(rv), 0.5)),
        };
        const out = [batchNorm(x, bn, false), batchNorm(x, bn, false, { relu: true })];
        tf.dispose([bn.runningMean, bn.runningVar]);
        return out;
      },
      1e-6,
    );
  });
});

async function checkBatchNorm(shape: number[], relu: boolean) {
  {
    const c = shape[shape.length - 1];
    await expectSameOnBoth(
      [rand(shape, 1, 3), rand([c], 2), rand([c], 3)],
      (x, gamma, beta) => {
        const bn = {
          gamma: gamma as tf.Tensor1D,
          beta: beta as tf.Tensor1D,
          runningMean: tf.variable(tf.zeros([c])),
          runningVar: tf.variable(tf.ones([c])),
        };
        // Shift the input so the mean is far from 0: the variance must still be exact.
        const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          weightedSum(
            batchNorm(tf.add(xi, 5), { ...bn, gamma: g as tf.Tensor1D, beta: b as tf.Tensor1D }, true, { relu }),
          );
        const y = batchNorm(tf.add(x, 5), bn, true, { relu });
        const grads = tf.grads(f)([x, gamma, beta]);
        const stats = [bn.runningMean.clone(), bn.runningVar.clone()];
        bn.runningMean.dispose();
        bn.runningVar.dispose();
        return [y, ...grads, ...stats];
      },
      2e-5,
    );
  }
}

describeNative('fused native LayerNorm', () => {
  test.each([
    { name: 'tokens', shape: [2, 17, 32] },
    { name: 'large, odd feature size', shape: [64, 9, 129] },
  ])('LayerNorm, $name: y, dx, dgamma and dbeta equal the composite version', async ({ shape }) => {
    const d = shape[shape.length - 1];
    await expectSameOnBoth(
      [rand(shape, 4, 2), rand([d], 5), rand([d], 6)],
      (x, gamma, beta) => {
        const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => weightedSum(layerNorm(xi, g, b));
        return [layerNorm(x, gamma, beta), ...tf.grads(f)([x, gamma, beta])];
      },
      2e-5,
    );
  });
});
