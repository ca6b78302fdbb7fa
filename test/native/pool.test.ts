// Native 2-D pooling (native/src/pool.cc) against tfjs' cpu kernels: max and average pooling and their gradients,
// strides 1 and 2, padding 'same', 'valid', numbers and explicit, dimRoundingMode, windows over the border, batch 1,
// and ties (inputs rounded to a few values), where the max gradient must go where tfjs' cpu sends it.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import {
  countCalls,
  describeNative,
  expectSameOnBoth,
  onBoth,
  rand,
  type Input,
  weightedSum,
} from '../helpers/native.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Case = {
  name: string;
  x: number[];
  filter: [number, number];
  stride: number | [number, number];
  pad: Pad;
  rounding?: 'floor' | 'round' | 'ceil';
};

const cases: Case[] = [
  { name: 'stem: 3x3 s2 p1', x: [2, 17, 19, 8], filter: [3, 3], stride: 2, pad: 1 },
  { name: '3x3 s2 p1, batch 1, one channel', x: [1, 9, 9, 1], filter: [3, 3], stride: 2, pad: 1 },
  { name: '2x2 s2 valid, odd size', x: [2, 9, 7, 5], filter: [2, 2], stride: 2, pad: 'valid' },
  { name: '3x3 s1 same', x: [2, 8, 9, 3], filter: [3, 3], stride: 1, pad: 'same' },
  { name: '2x4 s[1,2] same (uneven padding)', x: [1, 7, 10, 6], filter: [2, 4], stride: [1, 2], pad: 'same' },
  { name: '3x2 s[2,1] valid', x: [3, 10, 6, 4], filter: [3, 2], stride: [2, 1], pad: 'valid' },
  {
    name: 'explicit padding',
    x: [2, 8, 7, 3],
    filter: [3, 3],
    stride: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { name: 'window larger than the input', x: [1, 3, 4, 2], filter: [5, 5], stride: 1, pad: 2 },
  { name: 'pad 1, dimRoundingMode ceil', x: [2, 8, 8, 3], filter: [3, 3], stride: 2, pad: 1, rounding: 'ceil' },
  { name: 'pad 0, dimRoundingMode round', x: [2, 9, 8, 3], filter: [2, 2], stride: 2, pad: 0, rounding: 'round' },
  { name: '1x1 s2 (subsampling)', x: [2, 7, 7, 4], filter: [1, 1], stride: 2, pad: 'valid' },
  { name: 'large, parallel', x: [8, 28, 28, 32], filter: [3, 3], stride: 2, pad: 1 },
];

const maxPool = (c: Case) => (x: tf.Tensor) => tf.maxPool(x as tf.Tensor4D, c.filter, c.stride, c.pad, c.rounding);
const avgPool = (c: Case) => (x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.filter, c.stride, c.pad, c.rounding);

/** The pool and d/dx of sum(pool(x) * w) for a fixed non-uniform w. */
function withGradient(pool: (x: tf.Tensor) => tf.Tensor) {
  return (x: tf.Tensor) => {
    const f = (a: tf.Tensor) => {
      const y = pool(a);
      return weightedSum(y);
    };
    return [pool(x), tf.grad(f)(x)];
  };
}

/** Values in {-2, -1.5, ..., 2}: many ties inside every window. */
const tied =
  (shape: number[], seed: number): Input =>
  () =>
    tf.tidy(() => tf.div(tf.round(tf.mul(tf.randomUniform(shape, -2, 2, 'float32', seed), 2)), 2));

describeNative('native pooling', () => {
  test('the native backend runs its own pooling kernels, which call the addon', async () => {
    await useBackend('native');
    expect(tf.getBackend()).toBe('native');
    for (const k of ['MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad']) {
      expect(tf.getKernel(k, 'native')!.kernelFunc).not.toBe(tf.getKernel(k, 'cpu')!.kernelFunc);
    }
    const x = tf.randomUniform([1, 6, 6, 2], -1, 1, 'float32', 1);
    for (const [name, pool] of [
      ['maxPool', tf.maxPool],
      ['avgPool', tf.avgPool],
    ] as const) {
      const grad = name === 'maxPool' ? 'maxPoolGrad' : 'avgPoolGrad';
      const f = (a: tf.Tensor) => tf.sum(pool(a as tf.Tensor4D, 3, 2, 1));
      expect(await countCalls(name, () => tf.dispose(f(x)))).toBe(1);
      expect(await countCalls(grad, () => tf.dispose(tf.grad(f)(x)))).toBe(1);
    }
    x.dispose();
  });

  describe.each(cases)('$name', (c) => {
    test('max pool and its gradient', async () => {
      await expectSameOnBoth([rand(c.x, 1)], withGradient(maxPool(c)));
    });
    test('max pool and its gradient with ties', async () => {
      await expectSameOnBoth([tied(c.x, 2)], withGradient(maxPool(c)));
    });
    test('average pool and its gradient', async () => {
      await expectSameOnBoth([rand(c.x, 3)], withGradient(avgPool(c)));
    });
  });

  // Exactly the cpu's values: which tied element gets the gradient, and the rounding of sums (both sum in double).
  test('ties and sums are bit-identical to the cpu kernels', async () => {
    const c = cases[0];
    const { cpu, native } = await onBoth([tied(c.x, 4), rand(c.x, 5)], (t, r) => [
      ...withGradient(maxPool(c))(t),
      ...withGradient(avgPool(c))(r),
    ]);
    native.forEach((n, i) => expect(Array.from(n.data).every((v, k) => Object.is(v, cpu[i].data[k]))).toBe(true));
  });

  // A window entirely in the padding: the cpu kernels give -Infinity (max) and NaN (average, 0/0).
  test('windows entirely in the padding', async () => {
    const pad: Pad = [
      [0, 0],
      [3, 0],
      [0, 3],
      [0, 0],
    ];
    const { cpu, native } = await onBoth([rand([1, 4, 4, 2], 6)], (x) => [
      tf.maxPool(x as tf.Tensor4D, 2, 2, pad),
      tf.avgPool(x as tf.Tensor4D, 2, 2, pad),
    ]);
    expect(Array.from(cpu[0].data)).toContain(-Infinity);
    expect(Array.from(cpu[1].data).some(Number.isNaN)).toBe(true);
    native.forEach((n, i) => {
      expect(n.shape).toEqual(cpu[i].shape);
      expect(Array.from(n.data)).toEqual(Array.from(cpu[i].data));
    });
  });

  test('NaN inputs are skipped by max pooling, as in the cpu kernel', async () => {
    await expectSameOnBoth([rand([1, 6, 6, 3], 7)], (x) => {
      const holes = tf.where(tf.greater(x, 0.5), tf.fill(x.shape, NaN), x);
      return withGradient(maxPool(cases[0]))(holes);
    });
  });

  test('int32 input falls back to the cpu kernel', async () => {
    await useBackend('native');
    const x = tf.tensor4d([1, 5, 3, 2, 8, 4, 7, 6, 9], [1, 3, 3, 1], 'int32');
    const calls = await countCalls('maxPool', () => {
      const y = tf.maxPool(x, 2, 1, 'valid');
      expect(Array.from(y.dataSync())).toEqual([8, 8, 8, 9]);
      y.dispose();
    });
    expect(calls).toBe(0);
    x.dispose();
  });
});
