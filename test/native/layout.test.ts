// Native data-movement kernels (one strided copy, native/src/layout.cc) against tfjs' cpu kernels: transpose, slice,
// strided slice, reverse, tile, pad, mirror pad, concat, split, stack and unstack, on ranks 1 to 6, odd shapes,
// negative axes, batch 1, float32 and int32, and through the gradients that call these kernels. Copies move bits, so
// kernel outputs must equal the cpu's exactly; gradients go through other kernels too and get the usual tolerance.
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

/** Deterministic int32 input with values in [-scale, scale]. */
const ints =
  (shape: number[], seed: number, scale = 50): Input =>
  () =>
    tf.tidy(() => tf.cast(tf.round(tf.randomUniform(shape, -scale, scale, 'float32', seed)), 'int32'));

/** The first element where two arrays differ (Object.is: NaN equals NaN, 0 differs from -0), if any. */
function firstDifference(actual: Float32Array, expected: Float32Array) {
  if (actual.length !== expected.length) return { length: actual.length, expected: expected.length };
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) return { index: i, actual: actual[i], expected: expected[i] };
  }
  return undefined;
}

/** Native outputs equal to the cpu's element for element, same shapes. */
async function expectIdentical(inputs: Input[], f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  const { cpu, native } = await onBoth(inputs, f);
  expect(native.map((t) => t.shape)).toEqual(cpu.map((t) => t.shape));
  native.forEach((t, i) => expect(firstDifference(t.data, cpu[i].data)).toBeUndefined());
}

/** d/dx of sum(op(x) * w) for a fixed non-uniform w, so every output element gets its own gradient. */
function gradThrough(op: (x: tf.Tensor) => tf.Tensor) {
  return (x: tf.Tensor) => {
    const f = (a: tf.Tensor) => {
      const y = op(a);
      return weightedSum(y);
    };
    return [op(x), tf.grad(f)(x)];
  };
}

describeNative('native layout kernels', () => {
  test('the native backend runs its own Transpose kernel, which calls the native copy', async () => {
    await useBackend('native');
    expect(tf.getBackend()).toBe('native');
    expect(tf.getKernel('Transpose', 'native')!.kernelFunc).not.toBe(tf.getKernel('Transpose', 'cpu')!.kernelFunc);
    const calls = await countCalls('stridedCopy', async () => {
      await useBackend('native');
      const y = tf.transpose(tf.ones([2, 3, 4]), [2, 0, 1]);
      y.dataSync();
      y.dispose();
    });
    expect(calls).toBe(1);
  });

  // One representative case per kernel: the native copy must run (no silent fallback to the cpu kernel).
  test.each([
    ['Transpose', (x: tf.Tensor) => tf.transpose(x, [0, 3, 1, 2])],
    ['Slice', (x: tf.Tensor) => tf.slice(x, [0, 1, 0, 1], [-1, 2, 3, 2])],
    ['StridedSlice', (x: tf.Tensor) => tf.stridedSlice(x, [0, 0, 0, 0], [2, 5, 4, 3], [1, 2, 1, 1])],
    ['Reverse', (x: tf.Tensor) => tf.reverse(x, [1, 3])],
    ['Tile', (x: tf.Tensor) => tf.tile(x, [1, 2, 1, 3])],
    [
      'PadV2',
      (x: tf.Tensor) =>
        tf.pad(
          x,
          [
            [0, 0],
            [1, 1],
            [2, 0],
            [0, 1],
          ],
          3,
        ),
    ],
    [
      'MirrorPad',
      (x: tf.Tensor) =>
        tf.mirrorPad(
          x,
          [
            [0, 0],
            [1, 1],
            [2, 0],
            [0, 1],
          ],
          'reflect',
        ),
    ],
    ['Concat', (x: tf.Tensor) => tf.concat([x, x], 2)],
    ['SplitV', (x: tf.Tensor) => tf.split(x, [1, 2], 3)[1]],
    ['Pack', (x: tf.Tensor) => tf.stack([x, x], 1)],
    ['Unpack', (x: tf.Tensor) => tf.unstack(x, 2)[1]],
  ] as const)('%s runs natively', async (_name, op) => {
    const calls = await countCalls('stridedCopy', async () => {
      await useBackend('native');
      const x = tf.randomUniform([2, 5, 4, 3], -1, 1, 'float32', 1);
      const y = op(x);
      y.dataSync();
      tf.dispose([x, y]);
    });
    expect(calls).toBeGreaterThan(0);
  });

  test('int32 stays int32, bool falls back to the cpu kernel', async () => {
    await useBackend('native');
    const x = tf.tensor(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      [2, 3],
      'int32',
    );
    const y = tf.transpose(x);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    const b = tf.tensor(
      [
        [true, false, true],
        [false, false, true],
      ],
      [2, 3],
      'bool',
    );
    const calls = await countCalls('stridedCopy', async () => {
      const t = tf.transpose(b);
      expect(t.dtype).toBe('bool');
      expect(Array.from(t.dataSync())).toEqual([1, 0, 0, 0, 1, 1]);
      t.dispose();
    });
    expect(calls).toBe(0);
    tf.dispose([x, y, b]);
  });

  // A contiguous slice is a view into its input's buffer (an offset typed array): copies must start at its offset.
  test('inputs that are views into a larger buffer', async () => {
    await expectIdentical([rand([4, 5, 6], 60), ints([4, 5, 6], 61)], (x, i) => {
      const [vx, vi] = [tf.slice(x, [2, 0, 0], [2, 5, 6]), tf.slice(i, [1, 0, 0], [3, 5, 6])];
      return [
        tf.transpose(vx, [2, 1, 0]),
        tf.reverse(vi, 1),
        tf.concat([vx, tf.slice(x, [3, 0, 0], [1, 5, 6])], 0),
        tf.pad(
          vi,
          [
            [1, 0],
            [0, 1],
            [2, 2],
          ],
          9,
        ),
      ];
    });
  });

  describe('Transpose', () => {
    test.each([
      { shape: [7], perm: [0] },
      { shape: [5, 9], perm: [1, 0] },
      { shape: [3, 17, 33], perm: [2, 0, 1] },
      { shape: [2, 5, 7, 3], perm: [0, 3, 1, 2] },
      { shape: [1, 9, 11, 6], perm: [0, 2, 3, 1] },
      { shape: [2, 3, 4, 5, 6], perm: [4, 2, 0, 3, 1] },
      { shape: [2, 3, 1, 5, 2, 3], perm: [5, 4, 3, 2, 1, 0] },
      { shape: [4, 1, 6], perm: [0, 1, 2] },
      { shape: [64, 70, 9], perm: [1, 0, 2] }, // above the parallel threshold
      { shape: [3, 130, 120], perm: [0, 2, 1] }, // tiled, parallel
    ])('$shape by $perm: float32 and int32', async ({ shape, perm }) => {
      await expectIdentical([rand(shape, 1), ints(shape, 2)], (x, i) => [tf.transpose(x, perm), tf.transpose(i, perm)]);
    });
    test('gradient', async () => {
      await expectSameOnBoth(
        [rand([2, 5, 7, 3], 3)],
        gradThrough((x) => tf.transpose(x, [0, 3, 1, 2])),
      );
    });
  });

  describe('Slice', () => {
    test.each([
      { shape: [9], begin: [2], size: [5] },
      { shape: [6, 7], begin: [1, 2], size: [4, -1] },
      { shape: [5, 6, 7], begin: [0, 1, 3], size: [5, 4, 2] },
      { shape: [1, 9, 10, 4], begin: [0, 1, 1, 0], size: [1, 7, 8, 4] },
      { shape: [3, 4, 5, 6, 7], begin: [1, 0, 2, 1, 3], size: [2, 4, 2, 5, 4] },
      { shape: [2, 3, 4, 3, 2, 5], begin: [1, 1, 0, 1, 0, 2], size: [1, 2, 4, 1, 2, 3] },
      { shape: [4, 6, 8], begin: [1, 0, 0], size: [2, 6, 8] }, // contiguous: the cpu kernel's view
      { shape: [128, 28, 28], begin: [0, 0, 7], size: [-1, -1, 14] }, // parallel
    ])('$shape from $begin size $size: float32 and int32', async ({ shape, begin, size }) => {
      await expectIdentical([rand(shape, 4), ints(shape, 5)], (x, i) => [
        tf.slice(x, begin, size),
        tf.slice(i, begin, size),
      ]);
    });
    test('gradient (a pad)', async () => {
      await expectSameOnBoth(
        [rand([3, 6, 7, 2], 6)],
        gradThrough((x) => tf.slice(x, [1, 1, 2, 0], [2, 4, 3, 2])),
      );
    });
  });

  describe('StridedSlice', () => {
    type Case = { name: string; shape: number[]; begin: number[]; end: number[]; strides: number[]; masks?: number[] };
    test.each<Case>([
      { name: 'stride 2', shape: [9, 8], begin: [1, 0], end: [8, 7], strides: [2, 3] },
      { name: 'negative strides', shape: [6, 7, 5], begin: [5, -1, 4], end: [0, 0, 0], strides: [-1, -2, -1] },
      {
        name: 'begin and end masks',
        shape: [5, 6, 7],
        begin: [9, 1, 9],
        end: [0, 5, 0],
        strides: [1, 2, 2],
        masks: [0b101, 0b101],
      },
      { name: 'simple slice, stride 1', shape: [4, 6, 5], begin: [1, 2, 0], end: [3, 5, 4], strides: [1, 1, 1] },
      {
        name: 'shrink axis',
        shape: [4, 6, 5],
        begin: [2, 1, 0],
        end: [3, 5, 5],
        strides: [1, 1, 1],
        masks: [0, 0, 0, 0, 0b001],
      },
      {
        name: 'new axis',
        shape: [4, 6],
        begin: [0, 1, 0],
        end: [4, 1, 6],
        strides: [1, 1, 2],
        masks: [0, 0, 0, 0b010, 0],
      },
      { name: 'ellipsis', shape: [3, 4, 5, 6], begin: [0, 1], end: [0, 6], strides: [1, 2], masks: [0, 0, 0b01, 0, 0] },
      {
        name: 'rank 6',
        shape: [2, 3, 4, 3, 2, 5],
        begin: [0, 2, 3, 0, 1, 4],
        end: [2, 0, 0, 3, 2, 0],
        strides: [1, -1, -2, 2, 1, -3],
      },
      { name: 'identity', shape: [3, 4], begin: [0, 0], end: [3, 4], strides: [1, 1] },
    ])('$name: float32 and int32', async ({ shape, begin, end, strides, masks = [] }) => {
      const [bm = 0, em = 0, ellipsis = 0, newAxis = 0, shrink = 0] = masks;
      const op = (t: tf.Tensor) => tf.stridedSlice(t, begin, end, strides, bm, em, ellipsis, newAxis, shrink);
      await expectIdentical([rand(shape, 7), ints(shape, 8)], (x, i) => [op(x), op(i)]);
    });
    // tfjs' cpu kernel indexes x with too few coordinates here and fails; the native kernel leaves this case to it.
    test('shrink axis with strides: falls back to the cpu kernel (and its error)', async () => {
      for (const backend of ['cpu', 'native'] as const) {
        await useBackend(backend);
        const x = tf.zeros([4, 6, 5]);
        expect(() => tf.stridedSlice(x, [2, 0, 1], [3, 6, 5], [1, 2, 2], 0, 0, 0, 0, 0b001)).toThrow(/out of range/);
        x.dispose();
      }
    });
  });

  describe('Reverse', () => {
    test.each([
      { shape: [9], axes: [0] },
      { shape: [5, 7], axes: [-1] },
      { shape: [4, 5, 6], axes: [0, 2] },
      { shape: [1, 6, 7, 3], axes: [1, -2] },
      { shape: [2, 3, 4, 5, 6], axes: [0, 1, 2, 3, 4] },
      { shape: [2, 3, 2, 3, 2, 5], axes: [-1, 3, 1] },
      { shape: [64, 33, 20], axes: [1] }, // parallel
    ])('$shape along $axes: float32 and int32', async ({ shape, axes }) => {
      await expectIdentical([rand(shape, 9), ints(shape, 10)], (x, i) => [tf.reverse(x, axes), tf.reverse(i, axes)]);
    });
    test('gradient', async () => {
      await expectSameOnBoth(
        [rand([3, 4, 5], 11)],
        gradThrough((x) => tf.reverse(x, [0, -1])),
      );
    });
  });

  describe('Tile', () => {
    test.each([
      { shape: [5], reps: [3] },
      { shape: [3, 4], reps: [2, 1] },
      { shape: [3, 4], reps: [1, 5] },
      { shape: [2, 3, 5], reps: [2, 3, 2] },
      { shape: [1, 4, 5, 3], reps: [2, 1, 2, 1] },
      { shape: [2, 3, 1, 2, 3], reps: [1, 2, 4, 1, 2] },
      { shape: [2, 1, 3, 1, 2, 2], reps: [2, 3, 1, 2, 1, 2] },
      { shape: [16, 1, 64], reps: [1, 49, 1] }, // broadcast-like, parallel
    ])('$shape by $reps: float32 and int32', async ({ shape, reps }) => {
      await expectIdentical([rand(shape, 12), ints(shape, 13)], (x, i) => [tf.tile(x, reps), tf.tile(i, reps)]);
    });
    test('gradient (slices)', async () => {
      await expectSameOnBoth(
        [rand([2, 3, 4], 14)],
        gradThrough((x) => tf.tile(x, [2, 1, 3])),
      );
    });
  });

  describe('PadV2', () => {
    type Case = { shape: number[]; pads: Array<[number, number]>; value: number };
    test.each<Case>([
      { shape: [7], pads: [[2, 3]], value: 0 },
      {
        shape: [5, 6],
        pads: [
          [1, 0],
          [0, 2],
        ],
        value: 1.5,
      },
      {
        shape: [3, 4, 5],
        pads: [
          [0, 0],
          [2, 2],
          [1, 3],
        ],
        value: -2,
      },
      {
        shape: [1, 9, 9, 4],
        pads: [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        value: 0,
      },
      {
        shape: [2, 3, 4, 5, 3],
        pads: [
          [1, 1],
          [0, 2],
          [3, 0],
          [1, 1],
          [0, 1],
        ],
        value: 7,
      },
      {
        shape: [2, 2, 3, 2, 2, 3],
        pads: [
          [1, 0],
          [0, 1],
          [1, 1],
          [0, 0],
          [2, 1],
          [1, 2],
        ],
        value: -1,
      },
      {
        shape: [4, 5],
        pads: [
          [0, 0],
          [0, 0],
        ],
        value: 3,
      },
      {
        shape: [32, 28, 28, 8],
        pads: [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ],
        value: 0.25,
      }, // parallel
    ])('$shape by $pads with $value: float32 and int32', async ({ shape, pads, value }) => {
      await expectIdentical([rand(shape, 15), ints(shape, 16)], (x, i) => [
        tf.pad(x, pads, value),
        tf.pad(i, pads, Math.round(value)),
      ]);
    });
    test('gradient (a slice)', async () => {
      await expectSameOnBoth(
        [rand([2, 5, 6, 3], 17)],
        gradThrough((x) =>
          tf.pad(
            x,
            [
              [0, 1],
              [1, 1],
              [2, 0],
              [0, 0],
            ],
            0.5,
          ),
        ),
      );
    });
  });

  describe('MirrorPad', () => {
    type Case = { shape: number[]; pads: Array<[number, number]>; mode: 'reflect' | 'symmetric' };
    test.each<Case>([
      { shape: [7], pads: [[3, 6]], mode: 'reflect' },
      { shape: [7], pads: [[7, 2]], mode: 'symmetric' },
      {
        shape: [5, 6],
        pads: [
          [1, 4],
          [0, 2],
        ],
        mode: 'reflect',
      },
      {
        shape: [3, 4, 5],
        pads: [
          [2, 2],
          [0, 3],
          [4, 1],
        ],
        mode: 'symmetric',
      },
      {
        shape: [1, 6, 7, 3],
        pads: [
          [0, 0],
          [2, 3],
          [3, 2],
          [0, 0],
        ],
        mode: 'reflect',
      },
      {
        shape: [2, 3, 2, 3, 2],
        pads: [
          [1, 1],
          [2, 0],
          [1, 1],
          [0, 2],
          [2, 2],
        ],
        mode: 'symmetric',
      },
    ])('$shape by $pads ($mode): float32 and int32', async ({ shape, pads, mode }) => {
      await expectIdentical([rand(shape, 18), ints(shape, 19)], (x, i) => [
        tf.mirrorPad(x, pads, mode),
        tf.mirrorPad(i, pads, mode),
      ]);
    });
    test('gradient', async () => {
      await expectSameOnBoth(
        [rand([4, 5, 3], 20)],
        gradThrough((x) =>
          tf.mirrorPad(
            x,
            [
              [1, 2],
              [3, 0],
              [0, 0],
            ],
            'reflect',
          ),
        ),
      );
    });
  });

  describe('Concat', () => {
    type Case = { shapes: number[][]; axis: number };
    test.each<Case>([
      { shapes: [[3], [5], [1]], axis: 0 },
      {
        shapes: [
          [3, 4],
          [2, 4],
        ],
        axis: 0,
      },
      {
        shapes: [
          [3, 4],
          [3, 1],
          [3, 6],
        ],
        axis: -1,
      },
      {
        shapes: [
          [2, 3, 5],
          [2, 4, 5],
        ],
        axis: 1,
      },
      {
        shapes: [
          [1, 5, 5, 3],
          [1, 5, 5, 7],
          [1, 5, 5, 2],
        ],
        axis: 3,
      },
      {
        shapes: [
          [2, 3, 4, 5, 3],
          [2, 3, 1, 5, 3],
        ],
        axis: -3,
      },
      {
        shapes: [
          [2, 2, 3, 2, 2, 3],
          [2, 2, 3, 2, 2, 1],
        ],
        axis: 5,
      },
      {
        shapes: [
          [3, 4],
          [3, 0],
          [3, 2],
        ],
        axis: 1,
      }, // an empty input
      {
        shapes: [
          [16, 28, 28, 32],
          [16, 28, 28, 32],
        ],
        axis: 3,
      }, // parallel
    ])('$shapes along $axis: float32 and int32', async ({ shapes, axis }) => {
      const specs = shapes.flatMap((s, k) => [rand(s, 21 + k), ints(s, 31 + k)]);
      await expectIdentical(specs, (...ts) => [
        tf.concat(
          ts.filter((_, k) => k % 2 === 0),
          axis,
        ),
        tf.concat(
          ts.filter((_, k) => k % 2 === 1),
          axis,
        ),
      ]);
    });
    test('gradient (a split)', async () => {
      await expectSameOnBoth([rand([2, 3, 5], 41), rand([2, 4, 5], 42)], (a, b) => {
        const f = (x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.concat([x, y], 1), tf.sin(tf.range(0, 70).reshape([2, 7, 5]))));
        return tf.grads(f)([a, b]);
      });
    });
  });

  describe('SplitV', () => {
    type Case = { shape: number[]; splits: number | number[]; axis: number };
    test.each<Case>([
      { shape: [9], splits: 3, axis: 0 },
      { shape: [4, 9], splits: [2, -1, 3], axis: 1 },
      { shape: [5, 6, 7], splits: [1, 5], axis: -2 },
      { shape: [1, 4, 4, 9], splits: [3, 3, 3], axis: 3 },
      { shape: [2, 3, 4, 5, 6], splits: 2, axis: 2 },
      { shape: [2, 3, 2, 3, 2, 6], splits: [1, 2, 3], axis: -1 },
      { shape: [6, 4], splits: [2, 4], axis: 0 }, // contiguous: the cpu kernel's views
    ])('$shape into $splits along $axis: float32 and int32', async ({ shape, splits, axis }) => {
      const copy = () => (Array.isArray(splits) ? splits.slice() : splits);
      await expectIdentical([rand(shape, 43), ints(shape, 44)], (x, i) => [
        ...tf.split(x, copy(), axis),
        ...tf.split(i, copy(), axis),
      ]);
    });
  });

  describe('Pack and Unpack', () => {
    test.each([
      { shape: [5], axis: 0 },
      { shape: [5], axis: 1 },
      { shape: [3, 4], axis: -1 },
      { shape: [2, 3, 4], axis: 1 },
      { shape: [1, 3, 4, 2], axis: -3 },
      { shape: [2, 3, 2, 3, 2], axis: 4 },
    ])('stack and unstack $shape at $axis: float32 and int32', async ({ shape, axis }) => {
      await expectIdentical([rand(shape, 45), rand(shape, 46), ints(shape, 47), ints(shape, 48)], (a, b, c, d) => {
        const stacked = tf.stack([a, b, a], axis);
        const stackedInt = tf.stack([c, d], axis);
        return [stacked, stackedInt, ...tf.unstack(stacked, axis), ...tf.unstack(stackedInt, axis)];
      });
    });
    test('gradients', async () => {
      await expectSameOnBoth([rand([3, 4], 49), rand([3, 4], 50), rand([3, 5, 4], 51)], (a, b, c) => {
        const w = tf.sin(tf.range(0, 24).reshape([3, 2, 4]));
        const gStack = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.stack([x, y], 1), w)))([a, b]);
        const gUnstack = tf.grad((x: tf.Tensor) =>
          tf.sum(tf.mul(tf.unstack(x, 1)[3], tf.cos(x.slice([0, 0, 0], [3, 1, 4]).reshape([3, 4])))),
        )(c);
        return [...gStack, gUnstack];
      });
    });
  });
});
