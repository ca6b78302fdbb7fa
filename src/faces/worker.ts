// Face detection worker: detectFaces on frames sent by src/faces/client.ts, in a thread of its own (its own
// TensorFlow.js, on wasm).
import { parentPort } from 'node:worker_threads';
import { detectFaces, type DetectorOptions } from './detector.js';

parentPort!.on(
  'message',
  async (m: { seq: number; width: number; height: number; data: Uint8Array; options: DetectorOptions }) => {
    try {
      parentPort!.postMessage({ seq: m.seq, faces: await detectFaces(m, m.options) });
    } catch (err) {
      parentPort!.postMessage({ seq: m.seq, error: (err as Error).message });
    }
  },
);
