// The main thread's handle on face detection: a worker thread running src/faces/worker.ts (compiled), or, where there
// is no compiled worker, the detector in this thread.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Frame } from '../data/images.js';
import type { DetectedFace, DetectorOptions } from './detector.js';

export class FaceDetectorError extends Error {}

// Compiled next to this file in dist/; run from the TypeScript sources (tests), the build's copy is used.
const HERE = fileURLToPath(new URL('./worker.js', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/src/faces/worker.js', import.meta.url));
const WORKER_FILE = existsSync(HERE) ? HERE : existsSync(BUILT) ? BUILT : null;

export class FaceDetector {
  private worker: Worker | null = null;
  private pending = new Map<number, { resolve: (f: DetectedFace[]) => void; reject: (e: Error) => void }>();
  private seq = 0;

  constructor(private readonly options: DetectorOptions = {}) {
    if (!WORKER_FILE) return;
    this.worker = new Worker(WORKER_FILE);
    this.worker.on('message', (m: { seq: number; faces?: DetectedFace[]; error?: string }) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (m.error !== undefined) p?.reject(new FaceDetectorError(`face detection failed: ${m.error}`));
      else p?.resolve(m.faces!);
    });
    this.worker.on('error', (err) => {
      for (const p of this.pending.values()) p.reject(new FaceDetectorError(`face detection failed: ${err.message}`));
      this.pending.clear();
    });
  }

  async detect(frame: Frame): Promise<DetectedFace[]> {
    if (!this.worker) {
      const { detectFaces } = await import('./detector.js');
      return detectFaces(frame, this.options);
    }
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      // A copy: the caller keeps its frame (it is cropped from after detection).
      this.worker!.postMessage({
        seq,
        width: frame.width,
        height: frame.height,
        data: frame.data,
        options: this.options,
      });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}
