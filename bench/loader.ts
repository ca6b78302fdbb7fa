// Loader throughput: prepared clip files -> sampled, augmented float batches (decode + augment), in clips/s, next to
// the model's training clips/s from bench/throughput.ts. Uses the compiled loader (dist/) so worker threads run.
// Usage: npm run bench:loader -- [--clips 48] [--frames 60] [--batches 6] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = (p: string) => import(new URL(`../dist/src/${p}`, import.meta.url).href);
const { encodeJpeg } = await dist('data/images.js');
const { newManifest, writeClip, writeManifest, PreparedSet } = await dist('data/store.js');
const { loadBatches } = await dist('data/loader.js');
const { OFFICIAL_AUGMENT } = await dist('data/augment.js');
const { DEFAULT_SAMPLING } = await dist('data/sampling.js');
const { Rng } = await dist('random.js');

const argv = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const CLIPS = flag('clips', 48);
const FRAMES = flag('frames', 60);
const BATCHES = flag('batches', 6);
const STORED = 128;

/** A prepared set of textured frames (smooth gradients + noise: JPEG sizes like real faces at 128 px). */
async function makeSet(dir: string) {
  const rng = new Rng(1);
  const clips = [];
  for (let k = 0; k < CLIPS; k++) {
    const jpegs = [];
    for (let f = 0; f < FRAMES; f++) {
      const data = new Uint8Array(STORED * STORED * 3);
      for (let i = 0; i < data.length; i++) data[i] = (((i / 3) % STORED) + f + k * 7 + rng.int(24)) & 255;
      jpegs.push(await encodeJpeg({ width: STORED, height: STORED, data }, 90));
    }
    const id = String(k).padStart(5, '0');
    clips.push({
      id,
      label: k % 7,
      frames: FRAMES,
      sourceFrames: FRAMES,
      padded: 0,
      source: 'bench',
      ...writeClip(dir, id, jpegs, STORED, STORED),
    });
  }
  writeManifest(
    dir,
    newManifest({
      source: { path: 'bench', format: 'bench' },
      classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
      settings: { size: STORED, quality: 90, frames: 16, minFrames: 0 },
      clips,
      folds: { '1': { train: clips.map((c) => c.id), test: [] } },
      skipped: [],
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'dfer-bench-loader-'));
try {
  await makeSet(dir);
  const set = PreparedSet.open(dir);
  const ids = set.manifest.clips.map((c: { id: string }) => c.id);
  const rows = [];
  for (const size of [112, 64]) {
    for (const workers of [0, Math.min(availableParallelism(), 4)]) {
      const times: number[] = [];
      let t = performance.now();
      let n = 0;
      for await (const b of loadBatches({
        set,
        ids,
        mode: 'train',
        sampling: DEFAULT_SAMPLING,
        augment: OFFICIAL_AUGMENT,
        size,
        batchSize: 8,
        seed: 1,
        epoch: 0,
        dropLast: true,
        workers,
      })) {
        const now = performance.now();
        if (b.index > 0) times.push((now - t) / 1000); // the first batch includes worker start-up
        t = now;
        if (++n > BATCHES) break;
      }
      times.sort((a, b) => a - b);
      const med = times[Math.floor(times.length / 2)];
      rows.push({ size, workers, secondsPerBatch: med, clipsPerSecond: 8 / med });
    }
  }
  if (argv.includes('--json')) console.log(JSON.stringify(rows));
  else {
    console.log(
      `\nloader throughput: train mode (U=16 x V=1 sampling + official augmentation), batch 8, ${STORED}px JPEG clips of ${FRAMES} frames; median over ${BATCHES} batches`,
    );
    console.log('input  workers  s/batch  clips/s  vs 0 workers');
    const base = new Map(rows.filter((r) => r.workers === 0).map((r) => [r.size, r.clipsPerSecond]));
    for (const r of rows) {
      console.log(
        `${String(r.size).padStart(5)}  ${String(r.workers).padStart(7)}  ${r.secondsPerBatch.toFixed(3).padStart(7)}  ${r.clipsPerSecond.toFixed(1).padStart(7)}  ${(r.clipsPerSecond / base.get(r.size)!).toFixed(2)}x`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
