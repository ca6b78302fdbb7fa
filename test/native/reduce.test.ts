// Native reductions (native/src/reduce.cc) against tfjs' cpu kernels: Sum, Mean, Max, Min, Prod over every layout
// (last axis, all but the last, the middle axes, everything, non-adjacent axes), number and array axes, negative
// axes, keepDims, batch 1, large tensors (parallel paths), gradients, the accuracy of long sums, Softmax, NaN, and
// int32 inputs (which fall back to the cpu kernels).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { reduceLayout } from '../../src/native/kernels/reduce.js';
import { describeNative, expectSameOnBoth, onBoth, rand } from '../helpers/native.js';

type Reducer = (x: tf.Tensor, axis?: number | number[], keepDims?: boolean) => tf.Tensor;
const reducers: { name: string; f: Reducer; tol: number }[] = [
  // Sums accumulate in double on both sides, in a different order: equal up to the final rounding.
  { name: 'Sum', f: tf.sum, tol: 1e-6 },
  // tfjs divides every value by the count before summing, the native kernel divides the sum.
  { name: 'Mean', f: tf.mean, tol: 1e-6 },
  { name: 'Max', f: tf.max, tol: 1e-12 },
  { name: 'Min', f: tf.min, tol: 1e-12 },
  { name: 'Prod', f: tf.prod, tol: 1e-6 },
];

const layouts: { name: string; shape: number[]; axis?: number | number[]; keepDims?: boolean }[] = [
  { name: 'all axes (no axis attr)', shape: [3, 5, 7] },
  { name: 'all axes, large', shape: [6, 20, 20, 40] },
  { name: 'last axis', shape: [4, 6, 37], axis: -1 },
  { name: 'last axis, large, keepDims', shape: [64, 30, 50], axis: 2, keepDims: true },
  { name: 'last axis, few long rows', shape: [3, 60000], axis: 1 },
  { name: 'all but the last (BatchNorm per channel)', shape: [2, 5, 7, 13], axis: [0, 1, 2] },
  { name: 'all but the last, large', shape: [8, 16, 14, 14, 16], axis: [0, 1, 2, 3] },
  { name: 'all but the last, keepDims, batch 1', shape: [1, 9, 9, 24], axis: [0, 1, 2], keepDims: true },
  { name: 'axis 0 of a wide matrix (few rows, many columns)', shape: [3, 50000], axis: 0 },
  { name: 'middle axes (spatial mean)', shape: [3, 6, 5, 11], axis: [1, 2] },
  { name: 'middle axes, large', shape: [32, 14, 14, 32], axis: [1, 2] },
  { name: 'middle axes, batch 1, large', shape: [1, 28, 28, 64], axis: [1, 2] },
  { name: 'middle axis, negative, keepDims', shape: [4, 9, 6], axis: -2, keepDims: true },
  { name: 'non-adjacent axes [0, 2]', shape: [4, 5, 6, 7], axis: [0, 2] },
  { name: 'non-adjacent axes [1, 3], large, keepDims', shape: [6, 30, 20, 25], axis: [1, 3], keepDims: true },
  { name: 'non-adjacent axes [0, 2, 4], rank 5', shape: [3, 4, 5, 2, 6], axis: [0, -3, -1] },
  { name: 'axis 0 only, rank 5', shape: [5, 2, 3, 4, 3], axis: 0 },
  { name: 'reduced axes of size 1', shape: [4, 1, 5], axis: 1 },
  { name: 'size-1 axes mixed in', shape: [1, 6, 1, 7, 1], axis: [0, 3, 4] },
  { name: 'a single value', shape: [1, 1], axis: [0, 1] },
  { name: 'unsorted axes', shape: [4, 5, 6], axis: [2, 0] },
];

describeNative('native reduce: the native kernels really run', () => {
  test('the native backend is active and its kernels are not the cpu ones', async () => {
    await useBackend('native');
    expect(tf.getBackend()).toBe('native');
    for (const name of ['Sum', 'Mean', 'Max', 'Min', 'Softmax']) {
      expect(tf.getKernel(name, 'native')!.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    }
  });

  test('the reduce layout merges axes as documented', () => {
    expect(reduceLayout([8, 14, 14, 64], [0, 1, 2])).toEqual({ dims: [1568, 64], reduced: [1, 0] });
    expect(reduceLayout([8, 14, 14, 64], [1, 2])).toEqual({ dims: [8, 196, 64], reduced: [0, 1, 0] });
    expect(reduceLayout([8, 1, 14, 64], [3])).toEqual({ dims: [112, 64], reduced: [0, 1] });
    expect(reduceLayout([4, 5, 6, 7], [0, 2])).toEqual({ dims: [4, 5, 6, 7], reduced: [1, 0, 1, 0] });
    expect(reduceLayout([1, 1], [0, 1])).toEqual({ dims: [], reduced: [] });
  });
});

describeNative('native reductions', () => {
  const cases = reducers.flatMap((r) =>
    layouts.map((l) => ({ ...r, layout: l.name, shape: l.shape, axis: l.axis, keepDims: l.keepDims })),
  );
  test.each(cases)('$name, $layout', async ({ f, shape, axis, keepDims, tol, name }) => {
    // Prod of many values in [-1, 1] underflows to 0 on both sides; values near 1 keep it meaningful.
    const input =
      name === 'Prod' ? () => tf.add(tf.randomUniform(shape, -0.01, 0.01, 'float32', 5), 1) : rand(shape, 5, 3);
    await expectSameOnBoth([input], (x) => f(x, axis, keepDims), tol);
  });

  test.each(reducers.filter((r) => r.name !== 'Prod'))(
    '$name: gradients (sum of squares) over per-channel, spatial and last axes',
    async ({ f }) => {
      for (const axis of [[0, 1, 2], [1, 2], -1, [0, 2]]) {
        await expectSameOnBoth(
          [rand([3, 6, 5, 8], 6)],
          (x) => {
            const g = tf.grad((p: tf.Tensor) => tf.sum(tf.square(f(p, axis))))(x);
            return [f(x, axis), g];
          },
          1e-5,
        );
      }
    },
  );

  test('long sums are accurate: 10^5 and 10^6 terms with a large mean, against a float64 reference', async () => {
    for (const n of [100000, 1000000]) {
      const make = () => tf.add(tf.randomUniform([n], -1, 1, 'float32', 8), 1000);
      const { cpu, native } = await onBoth([make], (x) => [
        tf.sum(x),
        tf.mean(x),
        tf.sum(tf.reshape(x, [n / 100, 100]), 0),
      ]);
      // The cpu kernel is itself a float64 sum rounded once: the native result must be the same float32 value.
      expect(native[0].data[0]).toBe(cpu[0].data[0]);
      expect(Math.abs(native[1].data[0] - cpu[1].data[0])).toBeLessThanOrEqual(2 ** -23 * Math.abs(cpu[1].data[0]));
      expect(Array.from(native[2].data)).toEqual(Array.from(cpu[2].data));
    }
  });

  test('BatchNorm-style statistics (mean, centred sum of squares) per channel of a large NHWC tensor', async () => {
    await expectSameOnBoth(
      [rand([16, 14, 14, 48], 7, 5)],
      (x) => {
        const mean = tf.div(tf.sum(x, [0, 1, 2]), 16 * 14 * 14);
        const variance = tf.div(tf.sum(tf.square(tf.sub(x, mean)), [0, 1, 2]), 16 * 14 * 14);
        return [mean, variance];
      },
      1e-6,
    );
  });

  test('NaN propagates through Max and Min, infinities are kept', async () => {
    const x = (): tf.Tensor =>
      tf.tensor([
        [1, NaN, 3],
        [-Infinity, -Infinity, -Infinity],
        [Infinity, 2, NaN],
        [5, 4, 6],
      ]);
    const { cpu, native } = await onBoth([x], (t) => [
      tf.max(t, 1),
      tf.min(t, 1),
      tf.max(t, 0),
      tf.min(t, 0),
      tf.sum(t, 1),
      tf.max(t),
    ]);
    cpu.forEach((c, i) => expect(Array.from(native[i].data)).toEqual(Array.from(c.data)));
  });

  test('int32 and bool inputs fall back to the cpu kernels', async () => {
    const ints = (): tf.Tensor =>
      tf.tensor(
        [
          [1, -2, 3],
          [4, 5, -6],
        ],
        undefined,
        'int32',
      );
    const { cpu, native } = await onBoth([ints], (a) => {
      const outs = [tf.sum(a, 1), tf.max(a, 0), tf.min(a), tf.prod(a, 1), tf.sum(tf.greater(a, 0), 1)];
      outs.forEach((t) => expect(t.dtype).toBe('int32'));
      return [...outs, tf.mean(a, 0)];
    });
    cpu.forEach((c, i) => expect(Array.from(native[i].data)).toEqual(Array.from(c.data)));
  });

  test('an empty axis list is the identity (falls back)', async () => {
    await expectSameOnBoth([rand([3, 4], 1)], (x) => [tf.sum(x, []), tf.max(x, [])], 1e-12);
  });
});

describeNative('native softmax', () => {
  test.each([
    { name: 'attention scores [b, h, n, n]', shape: [2, 4, 17, 17] },
    { name: 'logits, batch 1', shape: [1, 7] },
    { name: 'large, many rows (parallel)', shape: [64, 8, 9, 16] },
    { name: 'long rows', shape: [3, 50000] },
    { name: 'rank 1', shape: [33] },
  ])('$name: values and the gradient', async ({ shape }) => {
    await expectSameOnBoth(
      [rand(shape, 9, 8)],
      (x) => {
        const w = tf.sin(tf.range(0, x.size).reshape(x.shape));
        const g = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.softmax(p), w)))(x);
        return [tf.softmax(x), g, tf.logSoftmax(x)];
      },
      1e-5,
    );
  });

  test('extreme logits do not overflow, NaN stays NaN', async () => {
    const x = (): tf.Tensor =>
      tf.tensor([
        [1000, 0, -1000],
        [88, 89, 90],
        [NaN, 1, 2],
        [-1e30, -1e30, -1e30],
      ]);
    const { cpu, native } = await onBoth([x], (t) => tf.softmax(t));
    const c = Array.from(cpu[0].data);
    Array.from(native[0].data).forEach((v, i) => {
      if (Number.isNaN(c[i])) expect(v).toBeNaN();
      else expect(Math.abs(v - c[i])).toBeLessThan(1e-6);
    });
  });
});
