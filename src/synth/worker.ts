// Synth worker: renders and writes clips off the main thread (rendering is CPU-bound JavaScript).
import { parentPort } from 'node:worker_threads';
import { writeClipFiles, type ClipJob } from './clip-files.js';

parentPort!.on('message', async (msg: { seq: number; job: ClipJob }) => {
  try {
    parentPort!.postMessage({ seq: msg.seq, result: await writeClipFiles(msg.job) });
  } catch (err) {
    parentPort!.postMessage({ seq: msg.seq, error: (err as Error).message });
  }
});
