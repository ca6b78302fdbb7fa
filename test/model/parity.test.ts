// Parity with the authors' official PyTorch implementation on the golden batch (paper preset, on the suite's backend:
// wasm, or the native engine with DFER_TEST_BACKEND=native).
// Tolerances follow ../shared/golden/official-gca-ial/README.md; see the note on deep gradients below.
import { TEST_BACKEND } from '../helpers/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { totalLoss, type LossParts } from '../../src/model/losses.js';
import { forward, type ForwardOutput, type Model } from '../../src/model/network.js';
import { importTorchStateDict, toTorchLayout } from '../../src/model/torch.js';
import { Sgd, OFFICIAL_SGD } from '../../src/train/optim.js';
import { cosine } from '../../src/webgpu/census.js';
import { golden, goldenTensor, relError } from '../helpers/golden.js';

let model: Model;
let evalOut: Record<string, Float32Array>;
let trainOut: Record<string, Float32Array>;
let gradsTorch: Map<string, Float32Array>;
const worst: Record<string, number> = {};
const record = (group: string, err: number) => (worst[group] = Math.max(worst[group] ?? 0, err));

// Asynchronous reads throughout: the WebGPU pass runs this file too, and a GPU backend has no synchronous read.
const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
async function readAll(ts: Record<string, tf.Tensor>): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = await read(t);
  return out;
}

beforeAll(async () => {
  await useBackend(TEST_BACKEND);
  const { weights, batch } = golden();
  model = importTorchStateDict(weights, createConfig('paper')).model;
  const clips = goldenTensor('input.clip_btchw') as tf.Tensor5D;
  const labels = tf.tensor1d(Array.from(batch.get('input.labels')!.data), 'int32');

  const evalTensors = tf.tidy(() => {
    const o = forward(model, clips, { training: false });
    return { logits: o.logits, features: o.features, aux2: o.aux2!, aux3: o.aux3! };
  });
  evalOut = await readAll(evalTensors);
  tf.dispose(Object.values(evalTensors));

  let trainTensors: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out: ForwardOutput = forward(model, clips, { training: true });
    const losses: LossParts = totalLoss(out, labels, model.config, { lambda: 0.1, ial: true });
    trainTensors = {
      logits: out.logits,
      aux2: out.aux2!,
      loss_ce: losses.ce,
      loss_ial: losses.ial,
      loss_aux: losses.aux,
      loss_total: losses.total,
    };
    for (const t of Object.values(trainTensors)) tf.keep(t);
    return losses.total;
  }, model.params.trainable());
  trainOut = await readAll(trainTensors);
  gradsTorch = new Map();
  for (const [k, g] of Object.entries(grads)) {
    const name = model.params.nameOf(k);
    const spec = model.params.specs.get(name)!;
    gradsTorch.set(name, toTorchLayout(await read(g), spec.shape, spec.layout));
  }
  tf.dispose([value, ...Object.values(grads), ...Object.values(trainTensors), clips, labels]);
}, 600000);

afterAll(() => {
  // The worst relative error per group, for the issue note.
  console.log(
    `parity worst relative error per group (${tf.getBackend()}):\n${Object.entries(worst)
      .map(([g, e]) => `  ${g}: ${e.toExponential(2)}`)
      .join('\n')}`,
  );
  model?.params.dispose();
});

const goldenData = (key: string) => golden().batch.get(key)!.data;

test.each(['logits', 'features', 'aux2', 'aux3'])('eval %s within 1e-4 of the official model', (k) => {
  const err = relError(evalOut[k], goldenData(`eval.${k}`));
  record('eval outputs', err);
  expect(err).toBeLessThan(1e-4);
});

test.each(['logits', 'aux2', 'loss_ce', 'loss_ial', 'loss_aux', 'loss_total'])('train %s within 1e-4', (k) => {
  const err = relError(trainOut[k], goldenData(`train.${k}`));
  record(k.startsWith('loss') ? 'train losses' : 'train outputs', err);
  expect(err).toBeLessThan(1e-4);
});

// Gradients of parameters near the output agree to ~1e-5. Parameters behind several training-mode BatchNorms
// (stem conv, GCA, layer4, patch embedding) are ill-conditioned in float32: perturbing the input by 1e-6 (relative)
// moves our own gradients by 5e-4..2e-2, and a few pre-activations within 5e-5 of zero flip ReLU masks between
// implementations. For those we require the direction to agree (cosine > 0.9999) and the error below 1e-2; a real
// mismatch (flatten order, BN mode, head split, IAL mask) gives cosine far from 1. Measured: 3.7e-3 (wasm), 3.6e-3
// (cpu).
const DEEP = /conv1\.0|gc\.0|fc1\.0|fc2\.0|layer4|patch_embedding/;

test.each([...golden().batch.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5)))(
  'gradient of %s matches the official backward pass',
  (name) => {
    const ours = gradsTorch.get(name)!;
    const theirs = goldenData(`grad.${name}`);
    const err = relError(ours, theirs);
    if (DEEP.test(name)) {
      record('gradients behind train-mode BN', err);
      expect(cosine(ours, theirs)).toBeGreaterThan(0.9999);
      expect(err).toBeLessThan(1e-2);
    } else {
      record('gradients near the output', err);
      expect(err).toBeLessThan(1e-3);
    }
  },
);

test('BN running statistics after the training forward (momentum 0.1, unbiased variance)', async () => {
  const bnAfter = new Map<string, Float32Array>();
  for (const key of [...golden().batch.keys()].filter((k) => k.startsWith('bn_after_train_forward.'))) {
    const name = key.slice('bn_after_train_forward.'.length);
    bnAfter.set(name, await read(model.params.get(name)));
  }
  for (const key of [...golden().batch.keys()].filter((k) => k.startsWith('bn_after_train_forward.'))) {
    const name = key.slice('bn_after_train_forward.'.length);
    const err = relError(bnAfter.get(name)!, goldenData(key));
    record('BN running stats', err);
    expect(err).toBeLessThan(1e-4);
  }
});

test('one SGD step (lr 0.001, momentum 0.9, weight decay 0.1) from the official weights', async () => {
  // Feed the official gradients to our optimiser: this isolates the optimiser's semantics from gradient noise.
  const keys = [...golden().batch.keys()]
    .filter((k) => k.startsWith('sgd_step1.'))
    .map((k) => k.slice('sgd_step1.'.length));
  expect(keys.length).toBe(4);
  const { weights } = golden();
  const fresh = importTorchStateDict(weights, createConfig('paper')).model;
  const sgd = new Sgd(OFFICIAL_SGD);
  const params = new Map(keys.map((k) => [k, fresh.params.get<tf.Variable>(k)]));
  const grads = new Map(
    keys.map((k) => {
      const spec = fresh.params.specs.get(k)!;
      const g = golden().batch.get(`grad.${k}`)!;
      // torch layout -> ours, through the same converter the importer uses
      const ours = importLayout(g.data, g.shape, spec.layout, spec.shape);
      return [k, ours] as const;
    }),
  );
  sgd.step(params, grads, OFFICIAL_SGD.lr);
  for (const k of keys) {
    const spec = fresh.params.specs.get(k)!;
    const after = toTorchLayout(await read(fresh.params.get(k)), spec.shape, spec.layout);
    const err = relError(after, goldenData(`sgd_step1.${k}`));
    record('SGD step', err);
    expect(err).toBeLessThan(1e-6);
  }
  tf.dispose([...grads.values()]);
  sgd.dispose();
  fresh.params.dispose();
});

import { fromTorchLayout } from '../../src/model/torch.js';
function importLayout(
  data: ArrayLike<number>,
  torchShape: number[],
  layout: Parameters<typeof fromTorchLayout>[2],
  shape: number[],
): tf.Tensor {
  return tf.tensor(fromTorchLayout(data, torchShape, layout), shape);
}
