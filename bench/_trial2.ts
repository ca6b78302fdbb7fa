import { useBackend, tf } from '../src/backend.js';
import { createConfig } from '../src/config.js';
import { createModel } from '../src/model/network.js';
import { Sgd, OFFICIAL_SGD } from '../src/train/optim.js';
import { trainStep } from '../src/train/step.js';
const [preset, b] = process.argv.slice(2);
await useBackend('wasm');
const be = tf.backend() as any;
console.log('threads', be.wasm._get_threads_count?.(), 'heap', be.wasm.HEAPU8.length);
const c = createConfig(preset); const m = createModel(c, 0); const sgd = new Sgd(OFFICIAL_SGD);
const B = +b; const x = tf.randomUniform([B, 16, 3, c.imageSize, c.imageSize]) as tf.Tensor5D;
const y = tf.randomUniform([B], 0, 7, 'int32') as tf.Tensor1D;
for (let i = 0; i < 2; i++) { const t = performance.now();
 try { trainStep(m, sgd, x, y, 0.001, { lambda: 0.1, ial: true }); } catch (e) { console.log('caught', (e as Error).message, 'heap', be.wasm.HEAPU8.length, ((performance.now() - t) / 1000).toFixed(2)); process.exit(3); }
 console.log(preset, B, i, ((performance.now() - t) / 1000).toFixed(2), 's', tf.memory().numTensors, process.resourceUsage().maxRSS, 'heap', be.wasm.HEAPU8.length); }
