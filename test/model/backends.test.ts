// The pure-JS cpu backend and wasm compute the same small-preset network (the paper preset is covered by the golden
// parity test on wasm; on cpu a paper-size backward pass takes minutes).
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { totalLoss } from '../../src/model/losses.js';
import { createModel, forward, type Model } from '../../src/model/network.js';
import { relError } from '../helpers/golden.js';

function run(model: Model) {
  const clips = tf.randomUniform([1, 16, 3, 64, 64], 0, 1, 'float32', 42) as tf.Tensor5D;
  const labels = tf.tensor1d([4], 'int32');
  const evalLogits = tf.tidy(() => forward(model, clips, { training: false }).logits.dataSync());
  const { value, grads } = tf.variableGrads(
    () => totalLoss(forward(model, clips, { training: true }), labels, model.config, { lambda: 0.1, ial: true }).total,
    model.params.trainable(),
  );
  const pick = (name: string) =>
    Object.entries(grads)
      .find(([k]) => model.params.nameOf(k) === name)![1]
      .dataSync();
  const result = {
    evalLogits,
    loss: value.dataSync(),
    gradStem: pick('s_former.conv1.0.weight'),
    gradGca: pick('s_former.layer2.0.gc.0.weight'),
    gradFc: pick('fc_f.weight'),
  };
  tf.dispose([value, ...Object.values(grads), clips, labels]);
  return result;
}

test('cpu and wasm agree on the small preset: eval logits, loss and gradients', async () => {
  const results = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    const model = createModel(createConfig('small'), 21); // same seed -> same weights on either backend
    results.push(run(model));
    model.params.dispose();
  }
  const [cpu, wasm] = results;
  expect(relError(wasm.evalLogits, cpu.evalLogits)).toBeLessThan(1e-4);
  expect(relError(wasm.loss, cpu.loss)).toBeLessThan(1e-4);
  expect(relError(wasm.gradFc, cpu.gradFc)).toBeLessThan(1e-3);
  expect(relError(wasm.gradGca, cpu.gradGca)).toBeLessThan(1e-2);
  expect(relError(wasm.gradStem, cpu.gradStem)).toBeLessThan(1e-2);
});
