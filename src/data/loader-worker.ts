// Loader worker: renders clip jobs off the main thread (the training step blocks it for seconds at a time).
import { parentPort } from 'node:worker_threads';
import { renderClip, type ClipJob } from './clip-render.js';
import { StoreError } from './store.js';

parentPort!.on('message', async (msg: { seq: number; job: ClipJob }) => {
  try {
    const data = await renderClip(msg.job);
    parentPort!.postMessage({ seq: msg.seq, data }, [data.buffer as ArrayBuffer]);
  } catch (err) {
    // A damaged clip stays a StoreError across the thread boundary (the main thread names the clip and its repair).
    parentPort!.postMessage({ seq: msg.seq, error: (err as Error).message, store: err instanceof StoreError });
  }
});
