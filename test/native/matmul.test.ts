// Native BatchMatMul (oneDNN) against tfjs' cpu kernel: transposes, batch broadcasting, rank 2 and 4, batch 1.
import * as tf from '@tensorflow/tfjs-core';
import { describeNative, expectSameOnBoth, rand } from '../helpers/native.js';

const cases: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { name: 'rank 2', a: [7, 5], b: [5, 3], ta: false, tb: false },
  { name: 'rank 3, transpose b (attention q k^T)', a: [4, 9, 16], b: [4, 9, 16], ta: false, tb: true },
  { name: 'rank 3, transpose a', a: [3, 6, 5], b: [3, 6, 4], ta: true, tb: false },
  { name: 'both transposed', a: [2, 5, 7], b: [2, 3, 5], ta: true, tb: true },
  { name: 'rank 4 heads', a: [2, 4, 17, 8], b: [2, 4, 8, 17], ta: false, tb: false },
  { name: 'batch 1, vector-like', a: [1, 1, 33], b: [1, 33, 1], ta: false, tb: false },
];

describeNative('native batchMatMul', () => {
  test.each(cases)('$name: product and both gradients equal the cpu kernel', async ({ a, b, ta, tb }) => {
    await expectSameOnBoth([rand(a, 3), rand(b, 4)], (ai, bi) => {
      const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y, ta, tb)));
      const [ga, gb] = tf.grads(f)([ai, bi]);
      return [tf.matMul(ai, bi, ta, tb), ga, gb];
    });
  });

  // tfjs' gradient of a batch-broadcast matMul has the wrong shape (its own bug): forward only.
  test.each([
    { name: 'broadcast a batch of 1', a: [1, 6, 5], b: [3, 5, 4], tb: false },
    { name: 'broadcast rank 2 against rank 4', a: [6, 5], b: [2, 3, 5, 4], tb: false },
    { name: 'broadcast b, transposed', a: [2, 3, 6, 5], b: [4, 5], tb: true },
  ])('$name: product equals the cpu kernel', async ({ a, b, tb }) => {
    await expectSameOnBoth([rand(a, 5), rand(b, 6)], (ai, bi) => tf.matMul(ai, bi, false, tb));
  });
});
