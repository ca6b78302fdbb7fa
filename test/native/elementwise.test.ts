// Native elementwise kernels (native/src/elementwise.cc) against tfjs' cpu kernels: every binary op on every
// broadcasting layout (same shape, scalar, per-channel vector, [N,1,1,C], [1,N] vs [M,1], rank 5, batch 1), AddN,
// every unary op, their gradients, NaN handling, and int32 inputs (which fall back to the cpu kernels).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { broadcastLayout } from '../../src/native/kernels/elementwise.js';
import { describeNative, expectSameOnBoth, onBoth, rand, type Input } from '../helpers/native.js';

/** Tolerance for kernels that must match bit for bit (relError is exactly 0 then). */
const EXACT = 1e-12;

type Binary = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
const binaries: { name: string; f: Binary; positiveBase?: boolean }[] = [
  { name: 'Add', f: tf.add },
  { name: 'Sub', f: tf.sub },
  { name: 'Multiply', f: tf.mul },
  { name: 'RealDiv', f: tf.div },
  { name: 'Maximum', f: tf.maximum },
  { name: 'Minimum', f: tf.minimum },
  { name: 'SquaredDifference', f: tf.squaredDifference },
  { name: 'Pow', f: tf.pow, positiveBase: true },
];

const layouts: { name: string; a: number[]; b: number[] }[] = [
  { name: 'same shape, odd', a: [3, 5, 7, 9], b: [3, 5, 7, 9] },
  { name: 'same shape, large (parallel)', a: [4, 16, 17, 33], b: [4, 16, 17, 33] },
  { name: 'scalar right', a: [2, 9, 11, 5], b: [] },
  { name: 'scalar left', a: [], b: [2, 9, 11, 5] },
  { name: '[C] vs [N,H,W,C]', a: [2, 7, 9, 13], b: [13] },
  { name: '[C] vs [N,H,W,C], large (parallel)', a: [8, 14, 14, 64], b: [64] },
  { name: '[N,H,W,C] vs [N,1,1,C]', a: [3, 6, 5, 7], b: [3, 1, 1, 7] },
  { name: '[N,1,1,C] vs [N,H,W,C], large', a: [4, 1, 1, 32], b: [4, 24, 24, 32] },
  { name: '[1,N] vs [M,1]', a: [1, 37], b: [23, 1] },
  { name: '[M,1] vs [1,N], large', a: [300, 1], b: [1, 250] },
  { name: '[N,C] vs [N,1] (per-row)', a: [19, 31], b: [19, 1] },
  { name: 'rank 5 mixed', a: [2, 1, 4, 1, 6], b: [1, 3, 4, 5, 1] },
  { name: 'rank 5 per-channel, batch 1', a: [1, 4, 6, 6, 8], b: [1, 1, 1, 1, 8] },
  { name: 'rank 6', a: [2, 3, 1, 2, 5, 3], b: [3, 4, 2, 1, 3] },
  { name: 'leading broadcast [H,W,C] vs [N,T,H,W,C]', a: [2, 3, 5, 4, 6], b: [5, 4, 6] },
  { name: 'long rows, few of them', a: [3, 20000], b: [3, 1] },
  { name: 'a row vector against a long matrix', a: [40000], b: [2, 40000] },
  { name: 'size-1 everything', a: [1, 1], b: [1] },
];

const unaries: { name: string; f: (x: tf.Tensor) => tf.Tensor; positive?: boolean; scale?: number; grad?: boolean }[] =
  [
    { name: 'Relu', f: tf.relu, grad: true },
    { name: 'Relu6', f: tf.relu6, scale: 8, grad: true },
    { name: 'Step', f: (x) => tf.step(x, 0.3) },
    { name: 'Exp', f: tf.exp, scale: 10, grad: true },
    { name: 'Log', f: tf.log, positive: true, grad: true },
    { name: 'Sqrt', f: tf.sqrt, positive: true, grad: true },
    { name: 'Rsqrt', f: tf.rsqrt, positive: true, grad: true },
    { name: 'Square', f: tf.square, grad: true },
    { name: 'Neg', f: tf.neg, grad: true },
    { name: 'Abs', f: tf.abs, grad: true },
    { name: 'Tanh', f: tf.tanh, scale: 6, grad: true },
    { name: 'Sigmoid', f: tf.sigmoid, scale: 12, grad: true },
    { name: 'Softplus', f: tf.softplus, scale: 20, grad: true },
    { name: 'Elu', f: tf.elu, scale: 3, grad: true },
    { name: 'LeakyRelu', f: (x) => tf.leakyRelu(x, 0.15), grad: true },
    { name: 'Reciprocal', f: tf.reciprocal, positive: true, grad: true },
    { name: 'ClipByValue', f: (x) => tf.clipByValue(x, -0.3, 0.45), grad: true },
    { name: 'Log1p', f: tf.log1p, positive: true, grad: true },
    { name: 'Expm1', f: tf.expm1, scale: 3, grad: true },
    { name: 'Sign', f: tf.sign },
  ];

/** Positive inputs in [0.05, 2.05] for ops defined on them. */
const positive =
  (shape: number[], seed: number): Input =>
  () =>
    tf.add(tf.randomUniform(shape, 0, 2, 'float32', seed), 0.05);

describeNative('native elementwise: the native kernels really run', () => {
  test('the native backend is active and its kernels are not the cpu ones', async () => {
    await useBackend('native');
    expect(tf.getBackend()).toBe('native');
    for (const name of ['Add', 'Multiply', 'Relu', 'Exp', 'AddN', 'Pow']) {
      expect(tf.getKernel(name, 'native')?.kernelFunc).toBeDefined();
      expect(tf.getKernel(name, 'native')!.kernelFunc).not.toBe(tf.getKernel(name, 'cpu')!.kernelFunc);
    }
  });

  test('the broadcast layout merges axes and strides as documented', () => {
    expect(broadcastLayout([2, 3, 4, 5], [5], [2, 3, 4, 5])).toEqual({
      dims: [24, 5],
      aStrides: [5, 1],
      bStrides: [0, 1],
    });
    expect(broadcastLayout([2, 3, 4, 5], [2, 3, 4, 5], [2, 3, 4, 5])).toEqual({
      dims: [120],
      aStrides: [1],
      bStrides: [1],
    });
    expect(broadcastLayout([1, 7], [6, 1], [6, 7])).toEqual({ dims: [6, 7], aStrides: [0, 1], bStrides: [1, 0] });
    expect(broadcastLayout([3, 4, 4, 2], [3, 1, 1, 2], [3, 4, 4, 2])).toEqual({
      dims: [3, 16, 2],
      aStrides: [32, 2, 1],
      bStrides: [2, 0, 1],
    });
    expect(broadcastLayout([], [], [])).toEqual({ dims: [1], aStrides: [0], bStrides: [0] });
  });

  test('a wrong native result would be caught: the comparison fails on different values', async () => {
    const { cpu, native } = await onBoth([rand([4, 5], 1)], (x) => tf.add(x, 1));
    expect(native[0].data).toEqual(cpu[0].data);
    await expect(
      expectSameOnBoth([rand([4, 5], 1)], (x) => (tf.getBackend() === 'native' ? tf.add(x, 1e-3) : x)),
    ).rejects.toThrow();
  });
});

describeNative('native binary ops with broadcasting', () => {
  const cases = binaries.flatMap((op) => layouts.map((l) => ({ ...op, layout: l.name, a: l.a, b: l.b })));
  test.each(cases)('$name, $layout', async ({ f, a, b, positiveBase }) => {
    const ia = positiveBase ? positive(a, 11) : rand(a, 11, 2);
    const ib = positiveBase ? rand(b, 12, 3) : rand(b, 12, 2);
    // Exactly rounded ops match bit for bit; Pow goes through libm (tfjs: V8's), so within an ulp.
    await expectSameOnBoth([ia, ib], f, positiveBase ? 1e-6 : EXACT);
  });

  // tfjs' gradients of Maximum, Minimum and SquaredDifference do not reduce over broadcast axes (the cpu backend
  // fails the same way): those get same-shaped operands.
  const broadcastGrad = ['Add', 'Sub', 'Multiply', 'RealDiv'];
  test.each(binaries.filter((op) => op.name !== 'Pow'))('$name: gradients (sum of squares)', async ({ name, f }) => {
    const c = broadcastGrad.includes(name) ? [7] : [2, 5, 6, 7];
    await expectSameOnBoth(
      [rand([2, 5, 6, 7], 3), rand(c, 4)],
      (x, y) => {
        const [gx, gy] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(f(p, q))))([x, y]);
        return [f(x, y), gx, gy];
      },
      1e-5,
    );
  });

  test('Pow: gradients, integer and fractional scalar exponents (GELU cube, rsqrt gradient)', async () => {
    for (const e of [3, 2, 1.5, 0.5, -1, -2, 0, 1, 4, 2.7]) {
      await expectSameOnBoth(
        [positive([3, 70, 41], 5)],
        (x) => {
          const g = tf.grad((p: tf.Tensor) => tf.sum(tf.square(tf.pow(p, e))))(x);
          return [tf.pow(x, e), g];
        },
        1e-6,
      );
    }
    // Negative bases with integer exponents (x ** 3 in GELU sees both signs).
    await expectSameOnBoth([rand([5000], 6, 3)], (x) => [tf.pow(x, 3), tf.pow(x, 2), tf.pow(x, tf.scalar(3.0))], 1e-6);
  });

  test('special values: NaN propagates through Maximum/Minimum and Pow follows Math.pow', async () => {
    const nanish = (): tf.Tensor => tf.tensor([NaN, 1, -2, 0, Infinity, -Infinity, NaN, 3, -1, 1]);
    const other = (): tf.Tensor => tf.tensor([1, NaN, -3, -0, 2, 5, NaN, Infinity, Infinity, NaN]);
    const { cpu, native } = await onBoth([nanish, other], (a, b) => [
      tf.maximum(a, b),
      tf.minimum(a, b),
      tf.pow(a, b),
      tf.add(a, b),
      tf.div(a, b),
    ]);
    cpu.forEach((c, i) => expect(Array.from(native[i].data)).toEqual(Array.from(c.data)));
  });

  test('special values through the scalar-exponent fast paths of Pow', async () => {
    const special = (): tf.Tensor => tf.tensor([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 2, -2, 0.5, -1, 1]);
    for (const e of [0, 1, 2, 3, 4, 0.5, -1, -2, 1.5, -0.5]) {
      const { cpu, native } = await onBoth([special], (x) => tf.pow(x, e));
      expect([e, Array.from(native[0].data)]).toEqual([e, Array.from(cpu[0].data)]);
    }
  });

  test('Prelu with a per-channel alpha, and its gradient', async () => {
    await expectSameOnBoth(
      [rand([2, 6, 5, 9], 7), rand([9], 8)],
      (x, a) => {
        const [gx, ga] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.prelu(p, q))))([x, a]);
        return [tf.prelu(x, a), gx, ga];
      },
      1e-5,
    );
  });

  test('AddN of 1, 2 and 5 inputs, small and large', async () => {
    for (const shape of [
      [3, 7],
      [6, 40, 41, 5],
    ]) {
      for (const n of [1, 2, 5]) {
        const inputs = Array.from({ length: n }, (_, i) => rand(shape, 20 + i));
        await expectSameOnBoth(inputs, (...xs) => tf.addN(xs), EXACT);
      }
    }
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
    const row = (): tf.Tensor => tf.tensor([2, 3, -1], undefined, 'int32');
    const { cpu, native } = await onBoth([ints, row], (a, b) => {
      const outs = [
        tf.add(a, b),
        tf.mul(a, b),
        tf.sub(a, b),
        tf.maximum(a, b),
        tf.relu(a),
        tf.neg(a),
        tf.abs(a),
        tf.square(a),
        tf.addN([a, a]),
      ];
      outs.forEach((t) => expect(t.dtype).toBe('int32'));
      return outs;
    });
    cpu.forEach((c, i) => expect(Array.from(native[i].data)).toEqual(Array.from(c.data)));
  });

  test('a size-0 tensor falls back', async () => {
    await expectSameOnBoth([() => tf.zeros([0, 3])], (x) => [tf.add(x, tf.ones([3])), tf.relu(x)], EXACT);
  });
});

describeNative('native unary ops', () => {
  test.each(unaries)(
    '$name: values (small and large) and the gradient of sum(square(op(x)))',
    async ({ name, f, positive: pos, scale, grad }) => {
      // Transcendental ops use float32 approximations (a few ulp) or libm in double; the others are exact.
      const exact = [
        'Relu',
        'Relu6',
        'Step',
        'Square',
        'Neg',
        'Abs',
        'Sqrt',
        'Rsqrt',
        'LeakyRelu',
        'Reciprocal',
        'ClipByValue',
        'Sign',
      ];
      const tol = exact.includes(name) ? EXACT : 1e-6;
      for (const [shape, seed] of [
        [[3, 5, 7], 1],
        [[4, 16, 21, 33], 2],
        [[1, 1], 3],
      ] as [number[], number][]) {
        const input = pos ? positive(shape, seed) : rand(shape, seed, scale ?? 1);
        await expectSameOnBoth([input], f, tol);
        if (grad) {
          await expectSameOnBoth([input], (x) => tf.grad((p: tf.Tensor) => tf.sum(tf.square(f(p))))(x), 1e-5);
        }
      }
    },
  );

  test('special values: NaN, infinities and signed zeros', async () => {
    const special = (): tf.Tensor =>
      tf.tensor([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 88, 89, -88, -104, 200, -200, 6, 7, -1, 1]);
    for (const u of unaries) {
      const { cpu, native } = await onBoth([special], u.f);
      const c = Array.from(cpu[0].data);
      const n = Array.from(native[0].data);
      n.forEach((v, i) => {
        const want = c[i];
        if (Number.isNaN(want) || !Number.isFinite(want)) expect([u.name, i, v]).toEqual([u.name, i, want]);
        else expect([u.name, i, Math.abs(v - want) <= 4e-7 * Math.abs(want) + 1e-38]).toEqual([u.name, i, true]);
      });
    }
  });

  test('Exp, Sigmoid and Tanh are within 4 ulp of the cpu kernels element by element', async () => {
    const { cpu, native } = await onBoth([rand([200000], 9, 20)], (x) => [tf.exp(x), tf.sigmoid(x), tf.tanh(x)]);
    cpu.forEach((c, k) => {
      let worst = 0;
      for (let i = 0; i < c.data.length; i++) {
        if (c.data[i] === 0) continue;
        worst = Math.max(worst, Math.abs(native[k].data[i] - c.data[i]) / Math.abs(c.data[i]));
      }
      expect(worst).toBeLessThan(4 * 2 ** -23);
    });
  });

  test('Elu gradient (EluGrad kernel) and Step with NaN', async () => {
    await expectSameOnBoth(
      [rand([5, 33, 17], 4, 3)],
      (x) => tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.elu(p), tf.range(0, p.size).reshape(p.shape))))(x),
      1e-6,
    );
    const { cpu, native } = await onBoth([() => tf.tensor([NaN, -1, 0, 2])], (x) => tf.step(x, -0.5));
    expect(Array.from(native[0].data)).toEqual(Array.from(cpu[0].data));
  });
});
