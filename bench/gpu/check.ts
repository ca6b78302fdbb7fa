// The correctness half of the GPU check (bench/gpu/run.sh): dfer's WebGPU path against a CPU reference on this
// machine's GPU, at the paper preset's shapes. Prints one JSON object (and writes it to --out).
//
// 1. The adapter, as `dfer doctor` reports it.
// 2. The kernel census: every distinct kernel call of an evaluation forward and a training step (small preset, 4 frames,
//    batch 2), recorded on tfjs' cpu backend along WebGPU's op path and replayed on WebGPU; each must agree to 1e-4 of its
//    largest magnitude.
// 3. End to end, with the golden README's tolerances: eval logits and features, the training losses and every
//    parameter's gradient on WebGPU against wasm for the same seeded weights and clips. Gradients behind several
//    train-mode BatchNorms may differ up to 1e-2 with cosine > 0.9999 (test/model/parity.test.ts says why).
// The golden batch of the authors' code is checked on WebGPU by the test suite's webgpu pass (on lavapipe in CI);
// its 92 MB do not fit in what a GPU machine is sent, so this check compares with wasm on the same machine instead.
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend, withOpPathOf } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { totalLoss } from '../../src/model/losses.js';
import { createModel, forward, type Model } from '../../src/model/network.js';
import { cosine, recordKernels, relError, replayKernel } from '../../src/webgpu/census.js';
import { probeWebGpu } from '../../src/webgpu/device.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const preset = arg('preset', 'paper');
const batch = Number(arg('batch', '2'));
const censusPreset = arg('census-preset', 'small');
const out = arg('out', '');
const DEEP = /conv1\.0|gc\.0|fc1\.0|fc2\.0|layer4|patch_embedding/;

/** Eval outputs, training losses and every gradient of a seeded model on the active backend. */
async function outputs(): Promise<Map<string, Float32Array>> {
  const config = createConfig(preset);
  const model: Model = createModel(config, 7);
  const S = config.imageSize;
  const clips = tf.randomUniform([batch, config.frames, 3, S, S], 0, 1, 'float32', 11) as tf.Tensor5D;
  const labels = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 3) % config.numClasses),
    'int32',
  );
  const res = new Map<string, Float32Array>();
  const ev = tf.tidy(() => {
    const o = forward(model, clips, { training: false });
    return { 'eval.logits': o.logits, 'eval.features': o.features };
  });
  for (const [k, t] of Object.entries(ev)) res.set(k, (await t.data()) as Float32Array);
  tf.dispose(Object.values(ev));
  let kept: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const l = totalLoss(forward(model, clips, { training: true }), labels, config, { lambda: 0.1, ial: true });
    kept = { 'loss.ce': tf.keep(l.ce), 'loss.ial': tf.keep(l.ial), 'loss.total': tf.keep(l.total) };
    return l.total;
  }, model.params.trainable());
  for (const [k, t] of Object.entries(kept)) res.set(k, (await t.data()) as Float32Array);
  for (const [k, g] of Object.entries(grads))
    res.set(`grad.${model.params.nameOf(k)}`, (await g.data()) as Float32Array);
  tf.dispose([value, clips, labels, ...Object.values(grads), ...Object.values(kept)]);
  model.params.dispose();
  return res;
}

async function main() {
  const t0 = performance.now();
  const { status } = await probeWebGpu();
  const report: Record<string, unknown> = { adapter: status.adapter, detail: status.detail, preset, batch };
  if (!status.available) {
    report.ok = false;
    return report;
  }
  await useBackend('webgpu'); // registers WebGPU's kernels, which decide its op path for the census
  // The reference: wasm (multi-threaded, float32) — the GPU machine has no oneDNN, and the pure-JS cpu is slow.
  await useBackend('wasm');
  const reference = await outputs();
  // The census records on tfjs' pure-JS cpu backend along WebGPU's op path (wasm has no Conv2DBackpropFilter kernel,
  // which WebGPU's path calls), at the census preset: the paper preset's would take minutes in single-threaded JS.
  await useBackend('cpu');
  const censusConfig = createConfig(censusPreset, { frames: 4 }); // 4 frames: every kernel, a quarter of the time
  const model = createModel(censusConfig, 7);
  const CS = censusConfig.imageSize;
  const clips = tf.randomUniform([2, censusConfig.frames, 3, CS, CS], 0, 1, 'float32', 11) as tf.Tensor5D;
  const labels = tf.tensor1d([0, 3], 'int32');
  const calls = await withOpPathOf('webgpu', () =>
    recordKernels(async () => {
      tf.dispose(tf.tidy(() => forward(model, clips, { training: false }).logits));
      const { value, grads } = tf.variableGrads(
        () =>
          totalLoss(forward(model, clips, { training: true }), labels, censusConfig, { lambda: 0.1, ial: true }).total,
        model.params.trainable(),
      );
      tf.dispose([value, ...Object.values(grads)]);
    }),
  );
  tf.dispose([clips, labels]);
  model.params.dispose();
  report.referenceSeconds = (performance.now() - t0) / 1000;

  await useBackend('webgpu');
  const t1 = performance.now();
  const wrong: string[] = [];
  for (const call of calls) {
    try {
      const err = await replayKernel(call);
      if (!(err < 1e-4)) wrong.push(`${call.key}: ${err}`);
    } catch (e) {
      wrong.push(`${call.key}: threw ${(e as Error).message.split('\n')[0]}`);
    }
  }
  report.census = { preset: censusPreset, calls: calls.length, wrong, seconds: (performance.now() - t1) / 1000 };
  const gpu = await outputs();
  const worst: Record<string, number> = {};
  const failures: string[] = [];
  for (const [k, want] of reference) {
    const got = gpu.get(k)!;
    const err = relError(got, want);
    const deep = k.startsWith('grad.') && DEEP.test(k);
    const group = k.startsWith('grad.')
      ? deep
        ? 'gradients behind train-mode BN'
        : 'gradients near the output'
      : k.split('.')[0];
    worst[group] = Math.max(worst[group] ?? 0, err);
    const ok = k.startsWith('grad.') ? (deep ? err < 1e-2 && cosine(got, want) > 0.9999 : err < 1e-3) : err < 1e-4;
    if (!ok) failures.push(`${k}: ${err.toExponential(2)}`);
  }
  report.endToEnd = { worst, failures };
  report.ok = wrong.length === 0 && failures.length === 0;
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

const report = await main();
const text = JSON.stringify(report, null, 2);
if (out) writeFileSync(out, text + '\n');
console.log(text);
process.exit(report.ok ? 0 : 1);
