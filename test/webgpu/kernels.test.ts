// dfer's WebGPU kernels against the cpu backend, on the inputs that broke the stock ones. With the stock kernels
// (DFER_WEBGPU_STOCK_KERNELS=1 leaves the replacements out) the Pad, MaxPoolGrad and transposed split-K tests fail;
// the other split-K layouts happened to be right on lavapipe and guard the replacement.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { wouldSplitK } from '../../src/webgpu/kernels/matmul.js';
import { mergePadAxes, padStages } from '../../src/webgpu/kernels/pad.js';
import { kernelError } from '../../src/webgpu/census.js';
import { requireWebGpu } from '../helpers/webgpu.js';

beforeAll(async () => {
  await requireWebGpu();
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
    expect(mergePadAxes([2, 15, 4, 4, 8], [[0, 0], [1, 0], [0, 0], [0, 0], [0, 0]])).toEqual({ shape: [2, 15 * 4 * 4 * 8], pads: [[0, 0], [128, 0]] });
    expect(mergePadAxes([3, 4, 1, 5, 1, 6], [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]])).toEqual({ shape: [12, 5, 6], pads: [[0, 0], [0, 5], [0, 6]] });
    expect(mergePadAxes([2, 2, 2, 2, 2], [[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]])).toBeNull();
    expect(padStages([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0]])).toEqual([
      [[1, 0], [1, 0], [1, 0], [0, 0], [0, 0]],
      [[0, 0], [0, 0], [0, 0], [1, 0], [1, 0]],
    ]);
  });

  test.each([
    ['rank 5, one padded axis', [2, 15, 4, 4, 8], [[0, 0], [1, 0], [0, 0], [0, 0], [0, 0]]],
    ['rank 5, every axis padded', [2, 3, 4, 3, 2], [[1, 0], [0, 2], [1, 1], [2, 0], [0, 1]]],
    ['rank 6, the zero-dilation of conv gradients', [3, 4, 1, 5, 1, 6], [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]],
  ] as const)('%s', async (_, shape, pads) => {
    const err = await compare(() => [rand([...shape], 3)], (x) => tf.pad(x, pads.map((p) => [...p]) as Array<[number, number]>, 0.5));
    expect(err).toBeLessThan(1e-6);
  });

  test('its gradient: slicing a rank-5 tensor', async () => {
    const err = await compare(
      () => [rand([2, 6, 4, 4, 8], 4)],
      (x) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, [0, 1, 0, 0, 0], [2, 5, 4, 4, 8]), tf.range(0, 5 * 4 * 4 * 8).reshape([5, 4, 4, 8]))))(x),
    );
    expect(err).toBeLessThan(1e-6);
  });
});

test('MaxPoolGrad sends a tied window\'s gradient to its first maximum, as PyTorch does (ReLU zeros tie)', async () => {
  const err = await compare(
    () => [tf.relu(rand([2, 9, 9, 4], 5)), rand([2, 5, 5, 4], 6)],
    (x, dy) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 3, 2, 1), dy)))(x),
  );
  expect(err).toBeLessThan(1e-6);
});

describe('BatchMatMul with a long inner dimension (the transformer\'s to_out gradient)', () => {
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
    const err = await compare(() => [rand([...a], 7), rand([...b], 8)], (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb));
    expect(err).toBeLessThan(1e-5);
  });
});
