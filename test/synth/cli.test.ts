// dfer synth as a user runs it: the built CLI (worker threads), --json, exit codes, --videos.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { countVideoFrames } from '../../src/video/decode.js';
import { findFfmpeg } from '../../src/video/ffmpeg.js';
import { generateSynth } from '../../src/synth/generate.js';
import { prepareDataset } from '../../src/prepare/prepare.js';
import { dfer, json } from '../cli/run.js';
import { hashTree, tinyOptions, workDir } from './helpers.js';

const TINY = ['--clips', '14', '--size', '32', '--min-frames', '20', '--max-frames', '22'];
let work: string;
beforeAll(() => {
  work = workDir('cli');
});

test('dfer synth --json: the result on stdout, progress lines on stderr; worker threads write the same bytes', async () => {
  const out = join(work, 'cli');
  const r = await dfer(['synth', '--out', out, ...TINY, '--jobs', '2', '--json']);
  expect(r.code).toBe(0);
  const res = json<{
    clips: number;
    perClass: number[];
    folds: { test: number }[];
    lowIntensity: { below025: number };
  }>(r);
  expect(res.clips).toBe(14);
  expect(res.folds.map((f) => f.test).reduce((a, b) => a + b, 0)).toBe(14);
  expect(
    r.stderr
      .trim()
      .split('\n')
      .every((l) => JSON.parse(l).type),
  ).toBe(true);
  // The same options through the core in this thread (no workers under jest) give the same tree.
  const inThread = join(work, 'in-thread');
  await generateSynth(tinyOptions(inThread));
  expect(hashTree(out)).toBe(hashTree(inThread));
});

test('dfer synth: an --out holding other files is bad input (exit 3, one line); a bad flag is a usage error', async () => {
  const busy = join(work, 'busy');
  mkdirSync(busy);
  writeFileSync(join(busy, 'x'), 'x');
  const r = await dfer(['synth', '--out', busy, ...TINY]);
  expect(r.code).toBe(3);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^dfer synth: error: .*not a dfer synth output/);
  const usage = await dfer(['synth', '--out', join(work, 'u'), '--intensity', 'abc']);
  expect(usage.code).toBe(2);
  expect(existsSync(join(work, 'u'))).toBe(false);
});

const ffmpeg = findFfmpeg().found;
(ffmpeg ? test : test.skip)(
  '--videos: Clip/original/<id>.mp4 with every frame, read by prepare --frames original',
  async () => {
    const out = join(work, 'videos');
    const r = await generateSynth(tinyOptions(out, { clips: 7, balanced: true, videos: true }));
    expect(r.videos).toBe(true);
    for (const id of ['00001', '00007']) {
      const file = join(out, 'Clip', 'original', `${id}.mp4`);
      expect(await countVideoFrames(file)).toBe(readFrames(out, id));
    }
    const prepared = await prepareDataset({
      source: out,
      out: join(work, 'videos-prepared'),
      frames: 'original',
      settings: { size: 32, quality: 90, frames: 16, minFrames: 0 },
      strict: true,
      jobs: 2,
    });
    expect(prepared.manifest.counts).toMatchObject({ clips: 7, skipped: 0 });
    // the videos are deterministic too (single-threaded, bit-exact encoding)
    const again = join(work, 'videos-again');
    await generateSynth(tinyOptions(again, { clips: 7, balanced: true, videos: true }));
    expect(hashTree(again)).toBe(hashTree(out));
  },
);

const readFrames = (out: string, id: string) => readdirSync(join(out, 'Clip', 'clip_224x224', id)).length;
