// A per-frame baseline on the synthetic benchmark: are the classes separable, and are low-intensity clips harder?
//
//   npx tsx bench/synth-baseline.ts                        # generates the default set (dfer synth defaults) in a temp dir
//   npx tsx bench/synth-baseline.ts --data DIR             # an existing `dfer synth` output
//   npx tsx bench/synth-baseline.ts --clips 600 --balanced --noise 8 ...   # any generator option (camelCase knobs too)
//
// Features: HOG (Dalal-Triggs: 8x8-px cells, 9 unsigned orientations, 2x2-cell blocks L2-normalised) of a 64x64 grey
// image, in two variants:
//   frame    the whole frame resized to 64x64 (what a model sees: the face wherever the pose put it);
//   aligned  the face cut out with its true pose (position, size, roll from the plan re-derived from synth.json) and
//            resampled to a fixed 64x64 face crop: an oracle alignment, measuring what the pixels of the face hold. Classifier: multinomial logistic regression (full-batch gradient descent with momentum, L2),
// trained on the frames around each training clip's apex (apex_frame -1..+1 from metadata.csv), tested on the apex
// frame of every test clip; all 5 folds, figures averaged over folds. Using metadata's apex frame is an oracle for
// *when* the expression peaks (a video model must find it); the figures measure what one well-chosen frame shows.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DFEW_CLASSES } from '../src/config.js';
import { generateSynth, SYNTH_DEFAULTS, type SynthOptions } from '../src/synth/generate.js';
import { planDataset, type DatasetPlan } from '../src/synth/plan.js';
import { poseAt } from '../src/synth/scene.js';

const SIDE = 64;
const CELL = 8;
const BINS = 9;

interface Row {
  id: string;
  label: number; // 0-based
  intensity: number;
  fold: number;
  frames: number;
  apex: number; // 1-based frame number
}

function readMetadata(dir: string): Row[] {
  const [head, ...lines] = readFileSync(join(dir, 'metadata.csv'), 'utf8').trim().split('\n');
  const col = head.split(',');
  const at = (name: string) => col.indexOf(name);
  return lines.map((l) => {
    const f = l.split(',');
    return {
      id: f[at('video_name')],
      label: Number(f[at('label')]) - 1,
      intensity: Number(f[at('intensity')]),
      fold: Number(f[at('fold')]),
      frames: Number(f[at('frames')]),
      apex: Number(f[at('apex_frame')]),
    };
  });
}

async function grey(file: string): Promise<Float64Array> {
  const buf = await sharp(file).resize(SIDE, SIDE, { kernel: 'lanczos3' }).greyscale().raw().toBuffer();
  return Float64Array.from(buf, (v) => v / 255);
}

/** The plan the set was generated from (synth.json holds every option that decides it). */
function replan(dir: string): DatasetPlan {
  const s = JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8'));
  return planDataset({
    clips: s.clips,
    seed: s.seed,
    balanced: s.balanced,
    minFrames: s.minFrames,
    maxFrames: s.maxFrames,
    identities: s.identities,
    intensityA: s.intensity.a,
    intensityB: s.intensity.b,
    minIntensity: s.intensity.min,
    knobs: s.knobs,
  });
}

/** The face of frame t (0-based) cut out with its true pose: face units [-1.3, 1.3] x [-1.2, 1.4] -> SIDE x SIDE. */
async function alignedGrey(file: string, plan: DatasetPlan, index: number, t: number): Promise<Float64Array> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  const spec = plan.clips[index];
  const p = poseAt(spec.scene.pose, t, spec.frames, info.width);
  const cos = Math.cos(p.angle);
  const sin = Math.sin(p.angle);
  const out = new Float64Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const u = -1.3 + (2.6 * (x + 0.5)) / SIDE;
      const v = -1.2 + (2.6 * (y + 0.5)) / SIDE;
      const px = p.tx + p.scale * (cos * u - sin * v) - 0.5;
      const py = p.ty + p.scale * (sin * u + cos * v) - 0.5;
      const x0 = Math.max(0, Math.min(info.width - 2, Math.floor(px)));
      const y0 = Math.max(0, Math.min(info.height - 2, Math.floor(py)));
      const fx = Math.max(0, Math.min(1, px - x0));
      const fy = Math.max(0, Math.min(1, py - y0));
      const at = (xx: number, yy: number) => data[yy * info.width + xx] / 255;
      out[y * SIDE + x] =
        (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) +
        fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
    }
  }
  return out;
}

/** HOG of a SIDE x SIDE grey image. */
function hog(img: Float64Array): Float64Array {
  const n = SIDE / CELL;
  const cells = new Float64Array(n * n * BINS);
  for (let y = 1; y < SIDE - 1; y++) {
    for (let x = 1; x < SIDE - 1; x++) {
      const gx = img[y * SIDE + x + 1] - img[y * SIDE + x - 1];
      const gy = img[(y + 1) * SIDE + x] - img[(y - 1) * SIDE + x];
      const mag = Math.sqrt(gx * gx + gy * gy);
      let ang = Math.atan2(gy, gx);
      if (ang < 0) ang += Math.PI;
      const pos = (ang / Math.PI) * BINS - 0.5;
      const b0 = Math.floor(pos);
      const w1 = pos - b0;
      const c = (Math.floor(y / CELL) * n + Math.floor(x / CELL)) * BINS;
      cells[c + ((b0 + BINS) % BINS)] += mag * (1 - w1);
      cells[c + ((b0 + 1) % BINS)] += mag * w1;
    }
  }
  const out = new Float64Array((n - 1) * (n - 1) * 4 * BINS);
  let o = 0;
  for (let by = 0; by < n - 1; by++) {
    for (let bx = 0; bx < n - 1; bx++) {
      const start = o;
      let ss = 1e-6;
      for (const [dy, dx] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]) {
        const c = ((by + dy) * n + bx + dx) * BINS;
        for (let k = 0; k < BINS; k++) {
          out[o] = cells[c + k];
          ss += out[o] * out[o];
          o++;
        }
      }
      const norm = Math.sqrt(ss);
      for (let i = start; i < o; i++) out[i] = Math.min(0.2, out[i] / norm); // L2-Hys clip
    }
  }
  return out;
}

/** Softmax regression: weights (D + 1) x K, trained by full-batch gradient descent with momentum. */
function trainSoftmax(
  X: Float64Array[],
  y: number[],
  K: number,
  epochs = 150,
  lr = 0.5,
  l2 = 1e-3,
): (x: Float64Array) => number[] {
  const D = X[0].length;
  const W = new Float64Array((D + 1) * K);
  const V = new Float64Array(W.length);
  const G = new Float64Array(W.length);
  // Class weights: the inverse frequency, so disgust's few clips count.
  const freq = new Array(K).fill(0);
  for (const c of y) freq[c]++;
  const cw = freq.map((f) => (f ? y.length / (K * f) : 0));
  const logits = new Float64Array(K);
  const predict = (x: Float64Array, out: Float64Array) => {
    for (let k = 0; k < K; k++) out[k] = W[D * K + k];
    for (let d = 0; d < D; d++) {
      const v = x[d];
      if (v === 0) continue;
      for (let k = 0; k < K; k++) out[k] += v * W[d * K + k];
    }
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, out[k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += out[k] = Math.exp(out[k] - m);
    for (let k = 0; k < K; k++) out[k] /= s;
  };
  for (let e = 0; e < epochs; e++) {
    G.fill(0);
    for (let i = 0; i < X.length; i++) {
      predict(X[i], logits);
      const w = cw[y[i]] / X.length;
      for (let k = 0; k < K; k++) logits[k] = (logits[k] - (k === y[i] ? 1 : 0)) * w;
      const x = X[i];
      for (let d = 0; d < D; d++) {
        const v = x[d];
        if (v === 0) continue;
        for (let k = 0; k < K; k++) G[d * K + k] += v * logits[k];
      }
      for (let k = 0; k < K; k++) G[D * K + k] += logits[k];
    }
    for (let j = 0; j < W.length; j++) {
      V[j] = 0.9 * V[j] - lr * (G[j] + (j < D * K ? l2 * W[j] : 0));
      W[j] += V[j];
    }
  }
  return (x) => {
    const out = new Float64Array(K);
    predict(x, out);
    return Array.from(out);
  };
}

function standardiser(X: Float64Array[]): (x: Float64Array) => Float64Array {
  const D = X[0].length;
  const mean = new Float64Array(D);
  const sd = new Float64Array(D);
  for (const x of X) for (let d = 0; d < D; d++) mean[d] += x[d] / X.length;
  for (const x of X) for (let d = 0; d < D; d++) sd[d] += (x[d] - mean[d]) ** 2 / X.length;
  for (let d = 0; d < D; d++) sd[d] = Math.sqrt(sd[d]) + 1e-3;
  return (x) => Float64Array.from(x, (v, d) => (v - mean[d]) / sd[d]);
}

const BIN_EDGES = [0, 0.25, 0.5, 0.75, 1.0001];
const binOf = (v: number) => BIN_EDGES.findIndex((e, i) => v >= e && v < BIN_EDGES[i + 1]);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      clips: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      balanced: { type: 'boolean' },
      intensity: { type: 'string' },
      noise: { type: 'string' },
      occlusion: { type: 'string' },
      'pose-jitter': { type: 'string' },
      folds: { type: 'string', default: '1,2,3,4,5' },
      epochs: { type: 'string', default: '150' },
    },
  });
  let dir = values.data;
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'dfer-synth-baseline-'));
    const o: SynthOptions = { ...SYNTH_DEFAULTS, out: dir, knobs: { ...SYNTH_DEFAULTS.knobs } };
    if (values.clips) o.clips = Number(values.clips);
    if (values.size) o.size = Number(values.size);
    if (values.seed) o.seed = Number(values.seed);
    if (values.balanced) o.balanced = true;
    if (values.intensity) {
      const [a, b] = values.intensity.split(',').map(Number);
      o.intensity = { ...o.intensity, a, b };
    }
    if (values.noise) o.knobs.noise = Number(values.noise);
    if (values.occlusion) o.knobs.occlusion = Number(values.occlusion);
    if (values['pose-jitter']) o.knobs.poseJitter = Number(values['pose-jitter']);
    const t0 = Date.now();
    const r = await generateSynth(o);
    console.log(
      `generated ${r.clips} clips, ${r.frames} frames at ${o.size} px in ${((Date.now() - t0) / 1000).toFixed(1)} s -> ${dir}`,
    );
  }
  const rows = readMetadata(dir);
  const plan = replan(dir);
  const frameFile = (r: Row, n: number) => join(dir!, 'Clip', 'clip_224x224', r.id, `${n}.jpg`);
  // Features of the frames around each apex (offsets -1..1, clamped to the clip), in both variants.
  const OFFSETS = [-1, 0, 1];
  const feats = { frame: new Map<string, Float64Array[]>(), aligned: new Map<string, Float64Array[]>() };
  await Promise.all(
    rows.map(async (r, i) => {
      const ns = OFFSETS.map((o) => Math.min(r.frames, Math.max(1, r.apex + o)));
      feats.frame.set(r.id, await Promise.all(ns.map(async (n) => hog(await grey(frameFile(r, n))))));
      feats.aligned.set(
        r.id,
        await Promise.all(ns.map(async (n) => hog(await alignedGrey(frameFile(r, n), plan, i, n - 1)))),
      );
    }),
  );
  for (const variant of ['frame', 'aligned'] as const) {
    console.log(
      `\n=== ${variant}: HOG of ${variant === 'frame' ? 'the whole frame' : 'the face, aligned with its true pose (oracle)'} ===`,
    );
    evaluate(rows, feats[variant], values.folds!.split(',').map(Number), Number(values.epochs), OFFSETS);
  }
}

function evaluate(
  rows: Row[],
  feats: Map<string, Float64Array[]>,
  folds: number[],
  epochs: number,
  OFFSETS: number[],
): void {
  const K = DFEW_CLASSES.length;
  const bins = BIN_EDGES.slice(0, -1).map(() => ({ correct: 0, n: 0, neutralCalls: 0 }));
  const confusion = Array.from({ length: K }, () => new Array(K).fill(0));
  const foldWar: number[] = [];
  const foldUar: number[] = [];
  for (const k of folds) {
    const train = rows.filter((r) => r.fold !== k);
    const test = rows.filter((r) => r.fold === k);
    const X = train.flatMap((r) => feats.get(r.id)!);
    const y = train.flatMap((r) => OFFSETS.map(() => r.label));
    const norm = standardiser(X);
    const model = trainSoftmax(X.map(norm), y, K, epochs);
    const hits = new Array(K).fill(0);
    const counts = new Array(K).fill(0);
    let correct = 0;
    for (const r of test) {
      const p = model(norm(feats.get(r.id)![OFFSETS.indexOf(0)]));
      const pred = p.indexOf(Math.max(...p));
      confusion[r.label][pred]++;
      counts[r.label]++;
      if (pred === r.label) {
        hits[r.label]++;
        correct++;
      }
      if (DFEW_CLASSES[r.label] !== 'neutral') {
        const b = bins[binOf(r.intensity)];
        b.n++;
        if (pred === r.label) b.correct++;
        if (DFEW_CLASSES[pred] === 'neutral') b.neutralCalls++;
      }
    }
    const present = counts.map((c, i) => [c, i]).filter(([c]) => c > 0);
    foldWar.push(correct / test.length);
    foldUar.push(present.reduce((s, [c, i]) => s + hits[i] / c, 0) / present.length);
    console.log(
      `fold ${k}: ${train.length} train clips (${X.length} frames), ${test.length} test clips: WAR ${(100 * foldWar.at(-1)!).toFixed(1)}%, UAR ${(100 * foldUar.at(-1)!).toFixed(1)}%`,
    );
  }
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  console.log(
    `mean over folds ${folds.join(',')}: WAR ${(100 * mean(foldWar)).toFixed(1)}%, UAR ${(100 * mean(foldUar)).toFixed(1)}% (chance: UAR 14.3%)`,
  );
  console.log('accuracy by apex intensity (non-neutral test clips, all folds pooled):');
  bins.forEach((b, i) =>
    console.log(
      `  [${BIN_EDGES[i].toFixed(2)}, ${Math.min(1, BIN_EDGES[i + 1]).toFixed(2)}${i === bins.length - 1 ? ']' : ')'}  ${String(b.n).padStart(4)} clips  accuracy ${b.n ? ((100 * b.correct) / b.n).toFixed(1) : '-'}%  called neutral ${b.n ? ((100 * b.neutralCalls) / b.n).toFixed(1) : '-'}%`,
    ),
  );
  console.log('confusion (rows: true, columns: predicted; all folds pooled):');
  const w = Math.max(...DFEW_CLASSES.map((c) => c.length));
  console.log(' '.repeat(w + 2) + DFEW_CLASSES.map((c) => c.slice(0, 5).padStart(6)).join(''));
  confusion.forEach((r, i) => {
    const n = r.reduce((a, b) => a + b, 0);
    console.log(
      `${DFEW_CLASSES[i].padEnd(w + 2)}${r.map((v) => String(v).padStart(6)).join('')}   recall ${n ? ((100 * r[i]) / n).toFixed(1) : '-'}%`,
    );
  });
}

await main();
