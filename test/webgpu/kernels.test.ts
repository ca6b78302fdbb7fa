// dfer's WebGPU kernels against the cpu backend, on the inputs that broke the stock ones. With the stock kernels
// (DFER_WEBGPU_STOCK_KERNELS=1 leaves the replacements out) the Pad, MaxPoolGrad and transposed split-K tests fail;
// the other split-K layouts happened to be right on lavapipe and guard the replacement.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { FUSED, FUSED_NORM } from '../../src/fused.js';
import { wouldSplitK } from '../../src/webgpu/kernels/matmul.js';
import { mergePadAxes, padStages } from '../../src/webgpu/kernels/pad.js';
import { kernelError } from '../../src/webgpu/census.js';
import { requireWebGpu } from '../helpers/webgpu.js';

beforeAll(async () => {
  await requireWebGpu();
  await useBackend('webgpu'); // registers dfer's WebGPU kernels (and the cpu references of the fused ones)
});

/** f on the cpu backend and on WebGPU with the same inputs; returns the error of WebGPU's output. */
async function compare(make: () => tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor): Promise<number> {
  await useBackend('cpu');
  const inputs = make();
  const values = inputs.map((t) => ({ data: t.dataSync().slice(), shape: t.shape, dtype: t.dtype }));
  const want = tf.tidy(() => f(...inputs));
  const expected = want.dataSync().slice();
  tf.dispose([...inputs, want]);
  await useBackend('webgpu');
  const gpuInputs = values.map((v) => tf.tensor(v.data, v.shape, v.dtype));
  const got = tf.tidy(() => f(...gpuInputs));
  const err = kernelError(await got.data(), expected);
  tf.dispose([...gpuInputs, got]);
  return err;
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('Pad above rank 4 (the gradient of the frame-difference slices)', () => {
  test('axes merge into at most four groups; padded axes split into stages', () => {
    expect(
      mergePadAxes(
        [2, 15, 4, 4, 8],
        [
          [0, 0],
          [1, 0],
          [0, 0],
          [0, 0],
          [0, 0],
        ],
      ),
    ).toEqual({
      shape: [2, 15 * 4 * 4 * 8],
      pads: [
        [0, 0],
        [128, 0],
      ],
    });
    expect(
      mergePadAxes(
        [3, 4, 1, 5, 1, 6],
        [
          [0, 0],
          [0, 0],
          [0, 1],
          [0, 0],
          [0, 1],
          [0, 0],
        ],
      ),
    ).toEqual({
      shape: [12, 5, 6],
      pads: [
        [0, 0],
        [0, 5],
        [0, 6],
      ],
    });
    expect(
      mergePadAxes(
        [2, 2, 2, 2, 2],
        [
          [1, 0],
          [1, 0],
          [1, 0],
          [1, 0],
          [1, 0],
        ],
      ),
    ).toBeNull();
    expect(
      padStages([
        [1, 0],
        [1, 0],
        [1, 0],
        [1, 0],
        [1, 0],
      ]),
    ).toEqual([
      [
        [1, 0],
        [1, 0],
        [1, 0],
        [0, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [1, 0],
        [1, 0],
      ],
    ]);
  });

  test.each([
    [
      'rank 5, one padded axis',
      [2, 15, 4, 4, 8],
      [
        [0, 0],
        [1, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    ],
    [
      'rank 5, every axis padded',
      [2, 3, 4, 3, 2],
      [
        [1, 0],
        [0, 2],
        [1, 1],
        [2, 0],
        [0, 1],
      ],
    ],
    [
      'rank 6, the zero-dilation of conv gradients',
      [3, 4, 1, 5, 1, 6],
      [
        [0, 0],
        [0, 0],
        [0, 1],
        [0, 0],
        [0, 1],
        [0, 0],
      ],
    ],
  ] as const)('%s', async (_, shape, pads) => {
    const err = await compare(
      () => [rand([...shape], 3)],
      (x) => tf.pad(x, pads.map((p) => [...p]) as Array<[number, number]>, 0.5),
    );
    expect(err).toBeLessThan(1e-6);
  });

  test('its gradient: slicing a rank-5 tensor', async () => {
    const err = await compare(
      () => [rand([2, 6, 4, 4, 8], 4)],
      (x) =>
        tf.grad((t: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.slice(t, [0, 1, 0, 0, 0], [2, 5, 4, 4, 8]), tf.range(0, 5 * 4 * 4 * 8).reshape([5, 4, 4, 8])),
          ),
        )(x),
    );
    expect(err).toBeLessThan(1e-6);
  });
});

test("MaxPoolGrad sends a tied window's gradient to its first maximum, as PyTorch does (ReLU zeros tie)", async () => {
  const err = await compare(
    () => [tf.relu(rand([2, 9, 9, 4], 5)), rand([2, 5, 5, 4], 6)],
    (x, dy) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 1), dy)))(x),
  );
  expect(err).toBeLessThan(1e-6);
});

describe("BatchMatMul with a long inner dimension (the transformer's to_out gradient)", () => {
  test('is kept off the split-K program', () => {
    expect(wouldSplitK([30, 4096], [128, 4096], false, true, 64)).toBe(true);
    expect(wouldSplitK([30, 512], [128, 512], false, true, 64)).toBe(false);
    expect(wouldSplitK([4, 30, 4096], [4, 4096, 128], false, false, 64)).toBe(false); // batched: never split-K
  });
  test.each([
    [[30, 4096], [128, 4096], false, true],
    [[30, 4096], [4096, 128], false, false],
    [[4096, 30], [4096, 128], true, false],
  ] as const)('a[%j] b[%j] transposeA=%s transposeB=%s', async (a, b, ta, tb) => {
    const err = await compare(
      () => [rand([...a], 7), rand([...b], 8)],
      (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb),
    );
    expect(err).toBeLessThan(1e-5);
  });
});

describe("dfer's fused kernels (one dispatch each) against their cpu references and tfjs' composites", () => {
  const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}, output = 0) => {
    const out = tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? (tf.dispose(out.filter((_, i) => i !== output)), out[output]) : out;
  };
  const x = () => tf.mul(rand([4, 7, 5, 33], 9), 4); // GELU's range: tanh saturates past |x| ~ 4
  const cases: Array<[string, () => tf.Tensor[], (...t: tf.Tensor[]) => tf.Tensor]> = [
    ['GELU', () => [x()], (v) => run(FUSED.gelu, { x: v })],
    ['GELU gradient', () => [rand([4, 7, 5, 33], 10), x()], (dy, v) => run(FUSED.geluGrad, { dy, x: v })],
    [
      'ReLU gradient',
      () => [rand([3, 9, 9, 16], 11), tf.relu(rand([3, 9, 9, 16], 12))],
      (dy, y) => run(FUSED.reluGrad, { dy, y }),
    ],
    [
      'residual add + ReLU',
      () => [rand([3, 9, 9, 16], 13), rand([3, 9, 9, 16], 14)],
      (a, b) => run(FUSED.addRelu, { a, b }),
    ],
    [
      'SGD, first step: parameter',
      () => [rand([64, 33], 15), rand([64, 33], 16)],
      (p, g) => run(FUSED.sgdMomentum, { param: p, grad: g }, { lr: 0.01, momentum: 0.9, weightDecay: 0.1 }),
    ],
    [
      'SGD with momentum: parameter',
      () => [rand([64, 33], 15), rand([64, 33], 16), rand([64, 33], 17)],
      (p, g, b) => run(FUSED.sgdMomentum, { param: p, grad: g, buf: b }, { lr: 0.01, momentum: 0.9, weightDecay: 0.1 }),
    ],
    [
      'SGD with momentum: buffer',
      () => [rand([64, 33], 15), rand([64, 33], 16), rand([64, 33], 17)],
      (p, g, b) =>
        run(FUSED.sgdMomentum, { param: p, grad: g, buf: b }, { lr: 0.01, momentum: 0.9, weightDecay: 0.1 }, 1),
    ],
    [
      'BN running variance',
      () => [rand([40], 18), rand([40], 19), rand([40], 20), tf.abs(rand([40], 21))],
      (rm, rv, m, v) =>
        run(
          FUSED.bnRunningStats,
          { runningMean: rm, runningVar: rv, mean: m, variance: v },
          { momentum: 0.1, unbias: 1.25 },
          1,
        ),
    ],
    [
      'BatchNorm + ReLU, evaluation',
      () => [rand([2, 5, 5, 24], 22), rand([24], 23), rand([24], 24)],
      (v, s, t) => run(FUSED_NORM.batchNormInfer, { x: v, scale: s, shift: t }, { relu: true }),
    ],
  ];
  test.each(cases)('%s', async (_, make, f) => {
    expect(await compare(make, f)).toBeLessThan(2e-6);
  });

  test('the cpu references are the composites they replace', async () => {
    await useBackend('cpu');
    const v = x();
    const composite = tf.mul(
      tf.mul(0.5, v),
      tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(v, tf.mul(0.044715, tf.pow(v, 3)))))),
    );
    expect(kernelError(run(FUSED.gelu, { x: v }).dataSync(), composite.dataSync())).toBeLessThan(1e-6);
    const dGelu = tf.grad((t: tf.Tensor) =>
      tf.sum(
        tf.mul(
          0.5,
          tf.mul(t, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(t, tf.mul(0.044715, tf.pow(t, 3))))))),
        ),
      ),
    )(v);
    expect(kernelError(run(FUSED.geluGrad, { dy: tf.onesLike(v), x: v }).dataSync(), dGelu.dataSync())).toBeLessThan(
      1e-5,
    );
    const [p, g, b] = [rand([8], 1), rand([8], 2), rand([8], 3)];
    const buf1 = tf.add(tf.mul(b, 0.9), tf.add(g, tf.mul(p, 0.1)));
    expect(
      kernelError(
        run(FUSED.sgdMomentum, { param: p, grad: g, buf: b }, { lr: 0.01, momentum: 0.9, weightDecay: 0.1 }).dataSync(),
        tf.sub(p, tf.mul(buf1, 0.01)).dataSync(),
      ),
    ).toBeLessThan(1e-6);
  });
});
