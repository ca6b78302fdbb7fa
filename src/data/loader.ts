// Training/eval batches from a prepared set: sampling (U x V) + augmentation, shuffled per epoch by seed, rendered
// ahead of time in worker threads so the model does not wait. Every clip's randomness is derived from
// (seed, epoch, position), so batches are identical whatever the number of workers, and an epoch can resume at any
// batch.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mixSeed, Rng } from '../random.js';
import { drawAugment, identityAugment, type AugmentSettings } from './augment.js';
import { renderClip, type ClipJob } from './clip-render.js';
import { sampleFrameIndices, type SampleMode, type SamplingSpec } from './sampling.js';
import { clipReadError, StoreError, type PreparedSet } from './store.js';

export interface LoaderOptions {
  set: PreparedSet;
  ids: string[];
  mode: SampleMode; // train: random sampling, augmentation and shuffling; test: middle frames, resize only
  sampling: SamplingSpec;
  augment: AugmentSettings | null; // null: no augmentation even in train mode
  size: number; // model input side
  batchSize: number;
  seed: number;
  epoch: number;
  dropLast: boolean; // the official code drops the last incomplete training batch
  /** Batch index to start at (resume mid-epoch). */
  startBatch?: number;
  /** Worker threads (0: render in this thread). Default: the machine's cores, when the compiled worker exists. */
  workers?: number;
  /** Batches rendered ahead. */
  prefetch?: number;
}

export interface Batch {
  index: number;
  ids: string[];
  labels: Int32Array;
  /** (B, T, size, size, 3) floats in [0, 1]. */
  clips: Float32Array;
  shape: [number, number, number, number, number];
}

/** The epoch's clip order: shuffled by (seed, epoch) in train mode, as listed in test mode. */
export function epochOrder(ids: string[], mode: SampleMode, seed: number, epoch: number): string[] {
  return mode === 'train' ? new Rng(mixSeed(seed, epoch)).shuffle([...ids]) : [...ids];
}

export function batchCount(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/** The render job of the clip at `position` of the epoch. */
export function clipJob(o: LoaderOptions, id: string, position: number): ClipJob {
  const clip = o.set.clip(id);
  const rng = new Rng(mixSeed(o.seed, o.epoch, position, 0x5eed));
  const side = o.set.manifest.settings.size;
  return {
    path: join(o.set.dir, clip.file),
    indices: sampleFrameIndices(clip.frames, o.mode, o.sampling, rng),
    augment: o.mode === 'train' && o.augment ? drawAugment(rng, side, side, o.augment) : identityAugment(side, side),
    size: o.size,
  };
}

const WORKER_FILE = fileURLToPath(new URL('./loader-worker.js', import.meta.url));

/** Renders jobs on worker threads, or in this thread when there are none. */
class RenderPool {
  private workers: Worker[] = [];
  private pending = new Map<number, { resolve: (d: Float32Array) => void; reject: (e: Error) => void }>();
  private seq = 0;

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const w = new Worker(WORKER_FILE);
      w.on('message', (m: { seq: number; data?: Float32Array; error?: string; store?: boolean }) => {
        const p = this.pending.get(m.seq);
        this.pending.delete(m.seq);
        if (m.error) p?.reject(m.store ? new StoreError(m.error) : new Error(m.error));
        else p?.resolve(m.data!);
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(w);
    }
  }

  render(job: ClipJob): Promise<Float32Array> {
    if (!this.workers.length) return renderClip(job);
    const seq = this.seq++;
    const worker = this.workers[seq % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.postMessage({ seq, job });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers = [];
  }
}

export function defaultWorkers(): number {
  return existsSync(WORKER_FILE) ? Math.max(1, Math.min(availableParallelism(), 4)) : 0;
}

/** Batches of one epoch, rendered `prefetch` batches ahead. */
export async function* loadBatches(o: LoaderOptions): AsyncGenerator<Batch> {
  const order = epochOrder(o.ids, o.mode, o.seed, o.epoch);
  const total = batchCount(order.length, o.batchSize, o.dropLast);
  const pool = new RenderPool(o.workers ?? defaultWorkers());
  const T = o.sampling.u * o.sampling.v;
  const per = T * o.size * o.size * 3;
  const start = (b: number) => {
    const ids = order.slice(b * o.batchSize, (b + 1) * o.batchSize);
    const data = Promise.all(
      ids.map((id, i) => {
        const job = clipJob(o, id, b * o.batchSize + i);
        return pool.render(job).catch((err) => {
          throw clipReadError(id, job.path, err);
        });
      }),
    );
    data.catch(() => {}); // a prefetched batch may fail before it is awaited: its error surfaces when it is
    return { ids, data };
  };
  const ahead: ReturnType<typeof start>[] = [];
  let next = o.startBatch ?? 0;
  try {
    while (ahead.length || next < total) {
      while (next < total && ahead.length <= (o.prefetch ?? 2)) ahead.push(start(next++));
      const current = ahead.shift()!;
      const parts = await current.data;
      const clips = new Float32Array(parts.length * per);
      parts.forEach((p, i) => clips.set(p, i * per));
      yield {
        index: next - ahead.length - 1,
        ids: current.ids,
        labels: Int32Array.from(current.ids, (id) => o.set.clip(id).label),
        clips,
        shape: [parts.length, T, o.size, o.size, 3],
      };
    }
  } finally {
    // Let rejected prefetches settle quietly before the workers go.
    await Promise.allSettled(ahead.map((a) => a.data));
    await pool.close();
  }
}
