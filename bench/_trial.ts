import { useBackend, tf } from '../src/backend.js';
import { createConfig } from '../src/config.js';
import { createModel, forward } from '../src/model/network.js';
import { Sgd, OFFICIAL_SGD } from '../src/train/optim.js';
import { trainStep } from '../src/train/step.js';
const [be, preset, mode, b] = process.argv.slice(2);
await useBackend(be as any);
const c = createConfig(preset as any); const m = createModel(c, 0); const sgd = new Sgd(OFFICIAL_SGD);
const B = +b; const x = tf.randomUniform([B, 16, 3, c.imageSize, c.imageSize]) as tf.Tensor5D;
const y = tf.randomUniform([B], 0, 7, 'int32') as tf.Tensor1D;
for (let i = 0; i < 2; i++) { const t = performance.now();
 if (mode === 'train') trainStep(m, sgd, x, y, 0.001, { lambda: 0.1, ial: true }); else tf.tidy(() => forward(m, x, { training: false }).logits.dataSync());
 console.log(be, preset, mode, B, i, ((performance.now() - t) / 1000).toFixed(2), 's', tf.memory().numTensors, process.resourceUsage().maxRSS); }
