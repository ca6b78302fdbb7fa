// Native Conv2D and its gradients (oneDNN) against tfjs' cpu kernels: odd sizes, strides 1 and 2, padding modes,
// dilation, batch 1 and 1x1 filters.
import * as tf from '@tensorflow/tfjs-core';
import { describeNative, expectSameOnBoth, rand, weightedSum } from '../helpers/native.js';

type Pad = 'same' | 'valid' | number;
const cases: { name: string; x: number[]; w: number[]; stride: number; pad: Pad }[] = [
  { name: '3x3 s1 p1, odd sizes', x: [2, 9, 11, 5], w: [3, 3, 5, 7], stride: 1, pad: 1 },
  { name: '3x3 s2 p1', x: [3, 13, 10, 4], w: [3, 3, 4, 6], stride: 2, pad: 1 },
  { name: '7x7 s2 p3 stem-like, batch 1', x: [1, 23, 23, 3], w: [7, 7, 3, 8], stride: 2, pad: 3 },
  { name: '1x1 s2 downsample', x: [2, 8, 8, 6], w: [1, 1, 6, 12], stride: 2, pad: 0 },
  { name: 'same padding, even filter', x: [2, 7, 9, 3], w: [2, 4, 3, 5], stride: 1, pad: 'same' },
  { name: 'valid padding s2', x: [2, 10, 7, 3], w: [3, 2, 3, 4], stride: 2, pad: 'valid' },
];

describeNative('native conv2d', () => {
  test.each(cases)('$name: forward, dL/dx and dL/dw equal the cpu kernels', async ({ x, w, stride, pad }) => {
    await expectSameOnBoth([rand(x, 1), rand(w, 2)], (xi, wi) => {
      const f = (a: tf.Tensor, b: tf.Tensor) => {
        return weightedSum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad, 'NHWC'));
      };
      const y = tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, stride, pad, 'NHWC');
      const [gx, gw] = tf.grads(f)([xi, wi]);
      return [y, gx, gw];
    });
  });

  // tfjs has no gradient for dilated convolutions: forward only.
  test('dilation 2: forward equals the cpu kernel', async () => {
    await expectSameOnBoth([rand([1, 12, 12, 3], 1), rand([3, 3, 3, 4], 2)], (x, w) =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2),
    );
  });
});
