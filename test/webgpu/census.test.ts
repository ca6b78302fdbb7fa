// Every kernel a training step and an evaluation of the network make, checked on WebGPU against a CPU backend: each
// distinct call (kernel, input shapes, attributes) is recorded on the CPU along WebGPU's op path, with its inputs and
// outputs, then replayed on WebGPU. The stock kernels this found wrong (rank-5 Pad, MaxPoolGrad's tie rule, split-K
// BatchMatMul) are replaced
// in src/webgpu/kernels; a kernel the backend lacks fails here with its name. Paper-preset shapes are covered by the
// golden parity test, which the webgpu pass also runs.
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, withOpPathOf } from '../../src/backend.js';
import { nativeStatus } from '../../src/native/addon.js';
import { createConfig } from '../../src/config.js';
import { FUSED, FUSED_NORM } from '../../src/fused.js';
import { createModel, forward } from '../../src/model/network.js';
import { OFFICIAL_SGD, Sgd } from '../../src/train/optim.js';
import { trainStep } from '../../src/train/step.js';
import { recordKernels, replayKernel, type KernelCall } from '../../src/webgpu/census.js';
import { requireWebGpu } from '../helpers/webgpu.js';

let calls: KernelCall[];
beforeAll(async () => {
  await requireWebGpu();
  await useBackend('webgpu'); // registers WebGPU's kernels, which decide its op path
  // Recorded on the native engine (oneDNN; tfjs' cpu kernels where it is not built) along WebGPU's op path.
  await useBackend(nativeStatus().available ? 'native' : 'cpu');
  const model = createModel(createConfig('small'), 5);
  const sgd = new Sgd(OFFICIAL_SGD);
  const clips = tf.randomUniform([2, 16, 3, 64, 64], 0, 1, 'float32', 1) as tf.Tensor5D;
  const labels = tf.tensor1d([2, 6], 'int32');
  calls = await withOpPathOf('webgpu', () =>
    recordKernels(async () => {
      await trainStep(model, sgd, clips, labels, 0.01, { lambda: 0.1, ial: true }); // creates the momentum buffers
      await trainStep(model, sgd, clips, labels, 0.01, { lambda: 0.1, ial: true }); // uses them
      tf.dispose(tf.tidy(() => tf.softmax(forward(model, clips, { training: false }).logits)));
    }),
  );
  tf.dispose([clips, labels]);
  sgd.dispose();
  model.params.dispose();
  await useBackend('webgpu');
}, 600000);

test('the census saw the network: convolutions and their gradients, pooling, matmuls, softmax', () => {
  const names = new Set(calls.map((c) => c.name));
  for (const k of [
    'Conv2D',
    'Conv2DBackpropInput',
    'Conv2DBackpropFilter',
    'MaxPool',
    'MaxPoolGrad',
    'BatchMatMul',
    'Softmax',
    'PadV2',
    ...Object.values(FUSED),
    FUSED_NORM.batchNormInfer,
  ]) {
    expect(names).toContain(k);
  }
  expect(calls.length).toBeGreaterThan(200);
});

test('every kernel call agrees with the cpu backend (1e-4 of the largest magnitude)', async () => {
  const wrong: string[] = [];
  for (const call of calls) {
    let err: number;
    try {
      err = await replayKernel(call);
    } catch (e) {
      wrong.push(`${call.key}: threw ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    if (!(err < 1e-4)) wrong.push(`${call.key}: error ${err}`);
  }
  expect(wrong).toEqual([]);
}, 600000);
