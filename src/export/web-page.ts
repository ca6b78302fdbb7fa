// The example page beside a TensorFlow.js export: index.html classifies one clip in the browser (WebGPU where the
// browser has it, else wasm), with TensorFlow.js' own browser bundles copied in beside it, so that the folder works
// offline from any static web server. The page is plain HTML and one script: a starting point to copy, not a framework.
import { readFileSync } from 'node:fs';
import type { ModelConfig } from '../config.js';
import { packageFile } from '../package-files.js';

/** The browser runtime: the tfjs union bundle (core, converter, cpu, webgl) and the wasm and WebGPU backends. */
const RUNTIME: { pkg: string; files: string[] }[] = [
  { pkg: '@tensorflow/tfjs', files: ['tf.min.js'] },
  {
    pkg: '@tensorflow/tfjs-backend-wasm',
    files: [
      'tf-backend-wasm.min.js',
      'tfjs-backend-wasm.wasm',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
    ],
  },
  { pkg: '@tensorflow/tfjs-backend-webgpu', files: ['tf-backend-webgpu.min.js'] },
];

function runtimeFiles(): { name: string; data: Uint8Array }[] {
  return RUNTIME.flatMap(({ pkg, files }) =>
    files.map((name) => ({ name, data: readFileSync(packageFile(pkg, `dist/${name}`)) })),
  );
}

/** What the page needs to know of the model; the rest is in model.json. */
function pageModel(config: ModelConfig) {
  return { classes: config.classes, frames: config.frames, imageSize: config.imageSize };
}

const STYLE = `
  :root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #59636e; --bar: #0969da; --line: #d1d9e0; }
  @media (prefers-color-scheme: dark) {
    :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --bar: #4493f8; --line: #3d444d; }
  }
  body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .muted { color: var(--muted); }
  #drop { border: 2px dashed var(--line); border-radius: 8px; padding: 1rem; margin: 1rem 0; }
  #drop.over { border-color: var(--bar); }
  #frames { display: flex; flex-wrap: wrap; gap: 2px; margin: 0.5rem 0; }
  #frames canvas { width: 40px; height: 40px; image-rendering: pixelated; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: 0.15rem 0.4rem; }
  td.p { width: 60%; }
  .bar { background: var(--bar); height: 0.8rem; border-radius: 2px; }
  tr.top td { font-weight: 600; }
  code { font-size: 0.9em; }
`;

/**
 * The page's script. Frames: T images are taken as they are (sorted by name); more or fewer are sampled evenly
 * (frame floor((i + 0.5) n / T)); a video is sampled at T evenly spaced times. Each frame is centre-cropped to a square
 * and drawn at the model's size. window.dfer exposes the same steps to scripts (and to dfer's own browser test).
 */
const SCRIPT = `
const model = JSON.parse(document.getElementById('dfer-model').textContent);
const $ = (id) => document.getElementById(id);
const status = (text) => ($('status').textContent = text);

function pickBackend() {
  const asked = new URLSearchParams(location.search).get('backend');
  if (asked) return asked;
  return navigator.gpu ? 'webgpu' : 'wasm';
}

async function start() {
  if (location.protocol === 'file:') {
    throw new Error('browsers do not let a page opened from a file load its model: serve this folder, e.g. ' +
      'python3 -m http.server -d ' + decodeURIComponent(location.pathname.replace(/\\/[^/]*$/, '')) + ' 8000, then open http://localhost:8000/');
  }
  tf.wasm.setWasmPaths(new URL('./', location.href).href); // the .wasm files beside this page
  let backend = pickBackend();
  if (!(await tf.setBackend(backend))) {
    backend = 'wasm';
    await tf.setBackend(backend);
  }
  await tf.ready();
  // An absolute URL: from a relative one, TensorFlow.js would look for the weight shards at the server's root.
  const graph = await tf.loadGraphModel(new URL('model.json', location.href).href);
  $('backend').textContent = tf.getBackend();
  status('Ready: choose the frames of one clip (' + model.frames + ' images) or a video.');
  return graph;
}

/** n items -> T indices, evenly spaced. */
const evenly = (n, T) => Array.from({ length: T }, (_, i) => Math.min(n - 1, Math.floor(((i + 0.5) * n) / T)));

function drawSquare(source, width, height) {
  const size = model.imageSize;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const side = Math.min(width, height);
  ctx.drawImage(source, (width - side) / 2, (height - side) / 2, side, side, 0, 0, size, size);
  return canvas;
}

async function framesFromImages(files) {
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const picked = evenly(sorted.length, model.frames).map((i) => sorted[i]);
  const canvases = [];
  for (const file of picked) {
    const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    canvases.push(drawSquare(bitmap, bitmap.width, bitmap.height));
    bitmap.close();
  }
  return canvases;
}

async function framesFromVideo(file) {
  const video = document.createElement('video');
  video.muted = true;
  video.src = URL.createObjectURL(file);
  await new Promise((ok, fail) => { video.onloadedmetadata = ok; video.onerror = () => fail(new Error('cannot decode ' + file.name)); });
  const canvases = [];
  for (let i = 0; i < model.frames; i++) {
    video.currentTime = ((i + 0.5) * video.duration) / model.frames;
    await new Promise((ok) => (video.onseeked = ok));
    canvases.push(drawSquare(video, video.videoWidth, video.videoHeight));
  }
  URL.revokeObjectURL(video.src);
  return canvases;
}

/** T canvases -> (1, T, 3, H, W) float32 in [0, 1], the layout dfer predict takes. */
function toClip(canvases) {
  const size = model.imageSize;
  const plane = size * size;
  const data = new Float32Array(canvases.length * 3 * plane);
  canvases.forEach((canvas, t) => {
    const rgba = canvas.getContext('2d').getImageData(0, 0, size, size).data;
    for (let p = 0; p < plane; p++)
      for (let c = 0; c < 3; c++) data[(t * 3 + c) * plane + p] = rgba[4 * p + c] / 255;
  });
  return tf.tensor(data, [1, canvases.length, 3, size, size]);
}

async function classify(graph, canvases) {
  const clip = toClip(canvases);
  const [logits, features] = graph.execute({ clips: clip }, ['logits', 'features']);
  const probs = tf.softmax(logits);
  const result = {
    backend: tf.getBackend(),
    logits: Array.from(await logits.data()),
    probabilities: Array.from(await probs.data()),
    features: features.shape,
  };
  tf.dispose([clip, logits, features, probs]);
  const best = result.probabilities.indexOf(Math.max(...result.probabilities));
  result.label = model.classes[best];
  return result;
}

function show(canvases, result) {
  $('frames').replaceChildren(...canvases);
  const order = result.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]);
  $('result').replaceChildren(...order.map(([p, i], rank) => {
    const row = document.createElement('tr');
    if (rank === 0) row.className = 'top';
    row.innerHTML = '<td></td><td class="p"><div class="bar"></div></td><td></td>';
    row.cells[0].textContent = model.classes[i];
    row.cells[1].firstChild.style.width = (100 * p).toFixed(1) + '%';
    row.cells[2].textContent = (100 * p).toFixed(1) + '%';
    return row;
  }));
}

const ready = start();
window.dfer = {
  ready,
  model,
  last: null,
  async classifyFiles(files) {
    const graph = await ready;
    document.body.dataset.state = 'running';
    const list = [...files];
    const video = list.find((f) => f.type.startsWith('video/'));
    const canvases = video ? await framesFromVideo(video) : await framesFromImages(list);
    status('Classifying ' + (video ? video.name : list.length + ' frames') + '...');
    const result = await classify(graph, canvases);
    show(canvases, result);
    status(result.label + ' (' + (100 * Math.max(...result.probabilities)).toFixed(1) + '%)');
    this.last = result;
    document.body.dataset.state = 'done';
    return result;
  },
};
const run = (files) => window.dfer.classifyFiles(files).catch(fail);
function fail(err) {
  status(err.message);
  document.body.dataset.state = 'error';
  console.error(err);
}
ready.catch(fail);
$('files').addEventListener('change', (e) => run(e.target.files));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); run(e.dataTransfer.files); });
`;

function indexHtml(config: ModelConfig): string {
  const info = pageModel(config);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dfer: the facial expression of a clip</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script src="tf.min.js"></script>
<script src="tf-backend-wasm.min.js"></script>
<script src="tf-backend-webgpu.min.js"></script>
</head>
<body>
<h1>The facial expression of a clip</h1>
<p class="muted">A dfer model (${info.classes.length} classes, clips of ${info.frames} frames at ${info.imageSize}&times;${info.imageSize})
running in this browser with TensorFlow.js (backend: <span id="backend">loading</span>). Nothing leaves the page.</p>
<div id="drop">
  <p>Choose the ${info.frames} frames of one face clip (images, taken in name order), or a video; or drop them here.</p>
  <input type="file" id="files" accept="image/*,video/*" multiple>
</div>
<p id="status" role="status">Loading the model...</p>
<div id="frames"></div>
<table id="result"></table>
<p class="muted">Frames are centre-cropped to a square and scaled to ${info.imageSize}&times;${info.imageSize}; for the numbers
<code>dfer predict</code> gives, pass frames already aligned and cropped as <code>dfer prepare</code> writes them.
Add <code>?backend=wasm</code> (or webgpu, webgl, cpu) to the address to choose the backend.</p>
<script type="application/json" id="dfer-model">${JSON.stringify(info).replace(/</g, '\\u003c')}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export function webPageFiles(config: ModelConfig): { name: string; data: Uint8Array | string }[] {
  return [{ name: 'index.html', data: indexHtml(config) }, ...runtimeFiles()];
}
