// Inference speed of the exported models next to dfer's own forward pass, on the same random clips in one process:
// dfer (eval mode, on --backend), the ONNX export in onnxruntime-node (CPU, --threads intra-op threads) and the
// TensorFlow.js graph model (tfjs' graph executor on the same backend, as the web page runs it). Clips/s from the
// median of --steps timed batches after one warm-up; ratios against dfer measured in the same round.
// Usage: npm run bench:export -- [--preset paper] [--batch 8] [--steps 5] [--rounds 2] [--backend native] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (p: string) => import(new URL(`../dist/src/${p}`, import.meta.url).href);
const { useBackend, tf } = await dist('backend.js');
const { createConfig } = await dist('config.js');
const { createModel, forward } = await dist('model/network.js');
const { saveCheckpoint } = await dist('model/checkpoint.js');
const { exportModel } = await dist('export/export.js');
const { loadGraphModelSync } = await import('@tensorflow/tfjs-converter');
const ortModule = await import('onnxruntime-node');
const ort = (ortModule as { default?: typeof ortModule }).default ?? ortModule; // CommonJS: see src/export/onnx-runtime.ts
const { readFileSync } = await import('node:fs');

const argv = process.argv.slice(2);
const flag = (name: string, d: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : d;
};
const PRESET = flag('preset', 'paper');
const BATCH = Number(flag('batch', '8'));
const STEPS = Number(flag('steps', '5'));
const ROUNDS = Number(flag('rounds', '2'));
const THREADS = Number(flag('threads', String(cpus().length)));
const backend = await useBackend(flag('backend', 'auto'));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(step: () => Promise<void>): Promise<number> {
  await step(); // warm-up: kernels compiled, buffers allocated
  const seconds: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    await step();
    seconds.push((performance.now() - t0) / 1000);
  }
  return BATCH / median(seconds);
}

const work = mkdtempSync(join(tmpdir(), 'dfer-bench-export-'));
try {
  const model = createModel(createConfig(PRESET), 1);
  const ckpt = join(work, 'model');
  await saveCheckpoint(ckpt, model);
  await exportModel({ checkpoint: ckpt, format: 'onnx', out: join(work, 'model.onnx'), verify: false });
  await exportModel({ checkpoint: ckpt, format: 'tfjs', out: join(work, 'web'), verify: false });
  const c = model.config;
  const clips = tf.randomUniform([BATCH, c.frames, 3, c.imageSize, c.imageSize], 0, 1, 'float32', 3);
  const session = await ort.InferenceSession.create(join(work, 'model.onnx'), { intraOpNumThreads: THREADS });
  const ortInput = new ort.Tensor('float32', (await clips.data()) as Float32Array, clips.shape);
  const modelJson = JSON.parse(readFileSync(join(work, 'web', 'model.json'), 'utf8'));
  const shards = Buffer.concat(
    modelJson.weightsManifest[0].paths.map((p: string) => readFileSync(join(work, 'web', p))),
  );
  const graph = loadGraphModelSync([
    modelJson,
    shards.buffer.slice(shards.byteOffset, shards.byteOffset + shards.length),
  ]);

  const rows: Record<string, number[]> = { dfer: [], onnxruntime: [], 'tfjs graph model': [] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.dfer.push(
      await time(async () => {
        const logits = tf.tidy(() => forward(model, clips, { training: false }).logits);
        await logits.data();
        logits.dispose();
      }),
    );
    rows.onnxruntime.push(
      await time(async () => {
        await session.run({ clips: ortInput });
      }),
    );
    rows['tfjs graph model'].push(
      await time(async () => {
        const out = graph.execute({ clips }, ['logits', 'features']) as import('@tensorflow/tfjs-core').Tensor[];
        await out[0].data();
        tf.dispose(out);
      }),
    );
  }
  const ratio = (k: string) => median(rows[k].map((v, i) => v / rows.dfer[i]));
  const table = Object.keys(rows).map((k) => ({
    runtime: k,
    clipsPerSecond: median(rows[k]),
    vsDfer: ratio(k),
    rounds: rows[k],
  }));
  if (argv.includes('--json'))
    console.log(JSON.stringify({ preset: PRESET, batch: BATCH, backend, threads: THREADS, table }));
  else {
    console.log(
      `${PRESET} preset, batch ${BATCH}, inference; dfer and the tfjs graph model on ${backend}, onnxruntime-node on ${THREADS} threads; median of ${STEPS} steps, ${ROUNDS} round(s):`,
    );
    for (const t of table)
      console.log(
        `  ${t.runtime.padEnd(17)} ${t.clipsPerSecond.toFixed(1).padStart(6)} clips/s  ${t.vsDfer.toFixed(2)}x dfer  (rounds: ${t.rounds.map((v) => v.toFixed(1)).join(', ')})`,
      );
  }
  session.release();
  graph.dispose();
} finally {
  rmSync(work, { recursive: true, force: true });
}
