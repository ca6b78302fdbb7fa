// The exported web model in a real browser: Debian's chromium loads the example page from a local web server, the
// test hands it the frames of a prepared clip through its file input, and the page's probabilities must equal what
// `dfer predict` prints for the same clip (on the wasm backend of TensorFlow.js, as most browsers would run it).
import { createReadStream, existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../../src/backend.js';
import { createConfig } from '../../src/config.js';
import { decodeJpeg, encodeJpeg, type Frame } from '../../src/data/images.js';
import { readClipFrames, writeClip } from '../../src/data/store.js';
import { saveCheckpoint } from '../../src/model/checkpoint.js';
import { createModel } from '../../src/model/network.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { renderClipFrames } from '../../src/synth/clip.js';
import { planDataset } from '../../src/synth/plan.js';
import { DEFAULT_KNOBS } from '../../src/synth/scene.js';
import { dfer, json, tmpDir } from '../cli/run.js';
import { TEST_BACKEND } from '../helpers/backend.js';
import { browserSuite, launchBrowser, type TestBrowser } from '../helpers/browser.js';

const FRAMES = 16;
const SIZE = 64; // the small preset
const work = tmpDir();
const SCREENSHOT = process.env.DFER_SCREENSHOTS ?? work.path;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/** A static file server over `root` (what a user runs: python3 -m http.server). */
function serve(root: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname)));
    const file = path.endsWith('/') ? join(path, 'index.html') : path;
    if (!file.startsWith(root) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

/** One synthetic face clip of FRAMES frames, prepared as dfer prepare stores it (JPEG frames in a .clip file) and read
 * back: the pixels dfer's loader gives the network. */
async function preparedClip(): Promise<Frame[]> {
  const plan = planDataset({
    clips: 7,
    seed: 5,
    balanced: true,
    minFrames: FRAMES,
    maxFrames: FRAMES,
    intensityA: 1,
    intensityB: 1,
    minIntensity: 0.8,
    knobs: DEFAULT_KNOBS,
  });
  const spec = plan.clips[0];
  const rendered = renderClipFrames(spec, plan.identities[spec.identity], SIZE);
  const jpegs = await Promise.all(rendered.map((f) => encodeJpeg(f, 92)));
  const { file } = writeClip(join(work.path, 'set'), '00001', jpegs, SIZE, SIZE);
  const frames = await readClipFrames(join(work.path, 'set', file), [...Array(FRAMES).keys()]);
  // The store's frames equal a plain decode of the JPEGs: the page is handed lossless PNGs of exactly these pixels.
  expect(Buffer.from(frames[3].data).equals(Buffer.from((await decodeJpeg(jpegs[3])).data))).toBe(true);
  return frames;
}

/** The clip as `dfer predict` takes it: (1, T, 3, H, W) in [0, 1]. */
function clipTensor(frames: Frame[]): Float32Array {
  const plane = SIZE * SIZE;
  const data = new Float32Array(FRAMES * 3 * plane);
  frames.forEach((f, t) => {
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[(t * 3 + c) * plane + p] = f.data[3 * p + c] / 255;
  });
  return data;
}

browserSuite('test/export/web-page.test.ts')('the exported web model in chromium', () => {
  let browser: TestBrowser;
  let gpuBrowser: TestBrowser;
  let server: Server;
  let pngs: string[];
  let cli: { label: string; probabilities: number[] };

  beforeAll(async () => {
    await useBackend(TEST_BACKEND);
    const ckpt = join(work.path, 'small');
    const model = createModel(createConfig('small'), 11);
    await saveCheckpoint(ckpt, model);
    model.params.dispose();
    const frames = await preparedClip();
    mkdirSync(join(work.path, 'frames'));
    pngs = await Promise.all(
      frames.map(async (f, t) => {
        const path = join(work.path, 'frames', `frame_${String(t).padStart(2, '0')}.png`);
        await sharp(Buffer.from(f.data), { raw: { width: SIZE, height: SIZE, channels: 3 } })
          .png()
          .toFile(path);
        return path;
      }),
    );
    const tensor = join(work.path, 'clip.safetensors');
    writeSafetensors(
      tensor,
      new Map([['input.clip_btchw', { dtype: 'F32', shape: [1, FRAMES, 3, SIZE, SIZE], data: clipTensor(frames) }]]),
    );
    const exported = await dfer(['export', ckpt, '--format', 'tfjs', '-o', join(work.path, 'web')]);
    expect(exported.code).toBe(0);
    const predicted = await dfer(['predict', '-c', ckpt, '-i', tensor, '--json', '--backend', 'wasm']);
    expect(predicted.code).toBe(0);
    cli = json<{ clips: { label: string; probabilities: number[] }[] }>(predicted).clips[0];
    server = await serve(work.path);
    browser = await launchBrowser();
    gpuBrowser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
    await gpuBrowser?.close();
    server?.close();
    work.cleanup();
  });

  // WebGPU (SwiftShader's adapter in headless chromium: slow, about half a minute of shader compilation) gives the
  // same numbers as wasm; a browser on a GPU takes the same path.
  test.each(['wasm', 'webgpu'])(
    'on %s, the page classifies the prepared clip with the probabilities of dfer predict',
    async (backend) => {
      const { port } = server.address() as AddressInfo;
      const tab = await (backend === 'webgpu' ? gpuBrowser : browser).open(
        `http://127.0.0.1:${port}/web/?backend=${backend}`,
      );
      const { page } = tab;
      await page.waitForFunction(() =>
        (window as unknown as { dfer: { ready: Promise<unknown> } }).dfer.ready.then(() => true),
      );
      await page.setInputFiles('#files', pngs);
      await page.waitForSelector('body[data-state="done"]', { timeout: 240_000 });
      const result = (await page.evaluate(() => (window as unknown as { dfer: { last: unknown } }).dfer.last)) as {
        backend: string;
        label: string;
        probabilities: number[];
      };
      await tab.screenshot(join(SCREENSHOT, `web-page-${backend}.png`));
      expect(tab.errors).toEqual([]);
      expect(result.backend).toBe(backend);
      expect(result.label).toBe(cli.label);
      result.probabilities.forEach((p, i) => expect(Math.abs(p - cli.probabilities[i])).toBeLessThan(1e-4));
      // The page shows them: one row per class, the most probable first
      const rows = await page.locator('#result tr').allTextContents();
      expect(rows).toHaveLength(7);
      expect(rows[0]).toContain(cli.label);
      await tab.close();
    },
  );

  test('opened from a file, the page says how to serve it instead of failing silently', async () => {
    const tab = await browser.open(join(work.path, 'web', 'index.html'));
    await tab.page.waitForSelector('body[data-state="error"]');
    expect(await tab.page.locator('#status').textContent()).toMatch(
      /serve this folder, e\.g\. python3 -m http\.server/,
    );
    await tab.close();
  });
});
