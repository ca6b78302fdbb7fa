// Which kernels a training (or inference) step spends its time in: `npm run bench:profile -- [--backend B]
// [--preset P] [--mode train|infer] [--batch N] [--top K] [--json]`. Runs one warm-up step, then one step under
// tf.profile, and prints the kernels grouped by name with their share of the summed kernel time.
import { useBackend, tf, type BackendChoice } from '../src/backend.js';
import { createConfig } from '../src/config.js';
import { createModel, forward } from '../src/model/network.js';
import { Sgd, OFFICIAL_SGD } from '../src/train/optim.js';
import { trainStep } from '../src/train/step.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const backendChoice = arg('backend', 'auto') as BackendChoice;
const preset = arg('preset', 'small');
const mode = arg('mode', 'train');
const batch = Number(arg('batch', '2'));
const top = Number(arg('top', '20'));
const json = process.argv.includes('--json');

const backend = await useBackend(backendChoice);
const config = createConfig(preset);
const model = createModel(config, 0);
const sgd = new Sgd(OFFICIAL_SGD);
const S = config.imageSize;
const clips = tf.randomUniform([batch, config.frames, 3, S, S], 0, 1, 'float32', 1) as tf.Tensor5D;
const labels = tf.randomUniform([batch], 0, config.numClasses, 'int32', 2) as tf.Tensor1D;
const step = async () => {
  if (mode === 'train') await trainStep(model, sgd, clips, labels, OFFICIAL_SGD.lr, { lambda: 0.1, ial: true });
  else {
    const logits = tf.tidy(() => forward(model, clips, { training: false }).logits);
    await logits.data();
    logits.dispose();
  }
};
await step(); // warm-up
const t0 = performance.now();
const info = await tf.profile(step);
const wall = (performance.now() - t0) / 1000;
// tf.customGrad appears as a kernel named "forward" whose time includes the kernels inside it: leave it out of the
// totals so that every millisecond is counted once.
const byName = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels.filter((k) => k.name !== 'forward')) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls += 1;
  byName.set(k.name, e);
}
const total = [...byName.values()].reduce((s, e) => s + e.ms, 0);
const rows = [...byName.entries()].sort((a, b) => b[1].ms - a[1].ms);
if (json) {
  for (const [name, e] of rows) {
    process.stdout.write(
      `${JSON.stringify({ preset, mode, batch, backend, kernel: name, ms: +e.ms.toFixed(2), calls: e.calls, share: +(e.ms / total).toFixed(4) })}\n`,
    );
  }
} else {
  process.stdout.write(
    `${backend} ${preset} ${mode} batch ${batch}: step ${wall.toFixed(2)} s wall (profiled), kernels ${(total / 1000).toFixed(2)} s\n`,
  );
  for (const [name, e] of rows.slice(0, top)) {
    process.stdout.write(
      `${name.padEnd(28)} ${(e.ms / 1000).toFixed(3).padStart(8)} s ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${String(e.calls).padStart(5)} calls\n`,
    );
  }
}
