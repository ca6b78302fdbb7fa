// The WebGPU device as dfer sets it up: GPU errors become exceptions, synchronous reads say what to do, tensors past
// the binding limit are refused (or computed correctly where the GPU binds them), GPU memory stays flat over training,
// and `auto` never picks a CPU adapter.
import * as tf from '@tensorflow/tfjs-core';
import { probeBackends, resolveBackend, useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { createModel } from '../../src/model/network.js';
import { OFFICIAL_SGD, Sgd } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';
import { flatProgram, type WebGpuBackendLike } from '../../src/webgpu/kernels/program.js';
import {
  batchAdvice,
  GpuBufferTooLargeError,
  gpuBytesInUse,
  maxBindingBytes,
  probeWebGpu,
  WebGpuError,
} from '../../src/webgpu/device.js';
import { requireWebGpu } from '../helpers/webgpu.js';

beforeAll(async () => {
  await requireWebGpu();
  await useBackend('webgpu');
});

test('an invalid shader is an exception at the next read, not a silent zero', async () => {
  const x = tf.ones([8]);
  const broken = flatProgram({
    key: 'dferTestBroken',
    inputs: ['x'],
    outputShape: [8],
    body: 'let filter = 1; setOutputAtIndex(index, getXByOutputIndex(index));',
  });
  const out = tf
    .engine()
    .makeTensorFromTensorInfo((tf.backend() as WebGpuBackendLike).runWebGPUProgram(broken, [x], 'float32'));
  await expect(out.data()).rejects.toThrow(WebGpuError);
  // The error is reported once: the next computation reads normally.
  const ok = tf.add(x, 1);
  expect(Array.from(await ok.data())).toEqual(new Array(8).fill(2));
  tf.dispose([x, out, ok]);
});

test('a synchronous read says to read asynchronously', () => {
  // Large enough to run on the GPU (tfjs computes tiny tensors with CPU values on the CPU).
  const y = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64]));
  expect(() => y.dataSync()).toThrow(/synchronous read.*await tensor\.data\(\)/);
  y.dispose();
});

test('a tensor above the default 128 MiB binding limit: refused with the limit named, or computed correctly', async () => {
  const limit = maxBindingBytes()!;
  const elements = 40 * 2 ** 20; // 160 MiB of float32
  if (limit < elements * 4) {
    // lavapipe binds at most 128 MiB: the tensor is refused before anything is computed.
    expect(() => tf.fill([elements], 1.5)).toThrow(GpuBufferTooLargeError);
    expect(() => tf.fill([elements], 1.5)).toThrow(
      /160 MiB tensor exceeds this GPU's largest storage binding \(128 MiB/,
    );
  } else {
    // A GPU whose adapter allows more got its maximum: the whole tensor is read and written, the last element too.
    const big = tf.fill([elements], 1.5);
    const doubled = tf.mul(big, 2);
    const tail = tf.slice(doubled, [elements - 3], [3]);
    const [lo, hi] = await Promise.all([tf.min(doubled).data(), tf.max(doubled).data()]);
    expect([lo[0], hi[0]]).toEqual([3, 3]);
    expect(Array.from(await tail.data())).toEqual([3, 3, 3]);
    tf.dispose([big, doubled, tail]);
  }
});

test('a tensor too large becomes batch-size advice (the paper preset at batch 40 on 128 MiB bindings)', () => {
  // The stem's first convolution at batch 40: 640 frames of 56 x 56 x 64 float32.
  const err = new GpuBufferTooLargeError(640 * 56 * 56 * 64 * 4, 128 * 2 ** 20);
  expect(batchAdvice(err, '--batch', 40)).toBe(
    '--batch 40 needs a 490 MiB tensor, more than this GPU can bind (128 MiB); use --batch 10 or less',
  );
  expect(batchAdvice(new GpuBufferTooLargeError(300 * 2 ** 20, 128 * 2 ** 20), '--eval-batch', 2)).toMatch(
    /^one clip needs a 150 MiB tensor/,
  );
});

test('GPU memory and tensor count stay flat over training steps', async () => {
  const model = createModel(createConfig('small', { frames: 4 }), 2);
  const sgd = new Sgd(OFFICIAL_SGD);
  const clips = tf.randomUniform([2, 4, 3, 64, 64], 0, 1, 'float32', 3) as tf.Tensor5D;
  const labels = tf.tensor1d([1, 4], 'int32');
  await trainStep(model, sgd, clips, labels, 0.01, { lambda: 0.1, ial: true }); // creates the momentum buffers
  const bytes: number[] = [];
  const tensors: number[] = [];
  for (let i = 0; i < 6; i++) {
    const l = await trainStep(model, sgd, clips, labels, 0.01, { lambda: 0.1, ial: true });
    expect(Number.isFinite(l.total)).toBe(true);
    bytes.push(gpuBytesInUse()!);
    tensors.push(tf.memory().numTensors);
  }
  expect(new Set(tensors).size).toBe(1);
  expect(new Set(bytes).size).toBe(1);
  expect(bytes[0]).toBeGreaterThan(0);
  tf.dispose([clips, labels]);
  sgd.dispose();
  model.params.dispose();
}, 300000);

test('auto never picks a CPU adapter; DFER_WEBGPU_ALLOW_CPU=1 lets it', async () => {
  const { status } = await probeWebGpu();
  const probes = await probeBackends({ webgpu: 'always' });
  const webgpu = probes.find((p) => p.name === 'webgpu')!;
  expect(webgpu.available).toBe(true);
  if (status.adapter!.kind === 'cpu') {
    expect(webgpu.preferred).toBe(false);
    expect(await resolveBackend('auto')).not.toBe('webgpu');
    process.env.DFER_WEBGPU_ALLOW_CPU = '1';
    try {
      expect(await resolveBackend('auto')).toBe('webgpu');
    } finally {
      delete process.env.DFER_WEBGPU_ALLOW_CPU;
    }
  } else {
    expect(await resolveBackend('auto')).toBe('webgpu');
  }
});
