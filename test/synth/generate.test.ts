import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAnnotations } from '../../src/data/annotations.js';
import { prepareDataset } from '../../src/prepare/prepare.js';
import { DFEW_CLASSES } from '../../src/config.js';
import { generateSynth, SynthError } from '../../src/synth/generate.js';
import { hashTree, tinyOptions, workDir } from './helpers.js';

let work: string;
let first: string;
let firstHash: string;
beforeAll(async () => {
  work = workDir('gen');
  first = join(work, 'a');
  await generateSynth(tinyOptions(first));
  firstHash = hashTree(first);
});

test('same seed -> byte-identical tree (whatever --jobs); another seed -> another tree', async () => {
  const again = join(work, 'b');
  const events: string[] = [];
  const r = await generateSynth(tinyOptions(again, { jobs: 1 }), (e) => events.push(e.type));
  expect(hashTree(again)).toBe(firstHash);
  expect(events[0]).toBe('start');
  expect(events.filter((e) => e === 'clip')).toHaveLength(14);
  expect(events.at(-1)).toBe('done');
  expect(r.resumed).toBe(0);
  const other = join(work, 'c');
  await generateSynth(tinyOptions(other, { seed: 2 }));
  expect(hashTree(other)).not.toBe(firstHash);
});

test('DFEW layout: 5 folds, every clip in one test split, read by the DFEW parser with zero issues', () => {
  const a = readAnnotations(first);
  expect(a.format).toBe('dfew');
  expect(a.issues).toEqual([]);
  expect(a.clips).toHaveLength(14);
  expect(Object.keys(a.folds)).toEqual(['1', '2', '3', '4', '5']);
  const tests = Object.values(a.folds).flatMap((f) => f.test);
  expect(tests.sort()).toEqual(a.clips.map((c) => c.id).sort());
  for (const f of Object.values(a.folds)) expect(f.train.length + f.test.length).toBe(14);
  // frames numbered from 1
  const dir = join(first, 'Clip', 'clip_224x224', '00001');
  const names = readdirSync(dir);
  expect(names).toContain('1.jpg');
  expect(names).not.toContain('0.jpg');
  // metadata.csv: one row per clip, labels as in the split lists, intensity in (0, 1]
  const [head, ...rows] = readFileSync(join(first, 'metadata.csv'), 'utf8').trim().split('\n');
  expect(head.startsWith('video_name,label,intensity,')).toBe(true);
  expect(rows).toHaveLength(14);
  const label = new Map(a.clips.map((c) => [c.id, c.label]));
  for (const row of rows) {
    const [id, lab, intensity, cls] = row.split(',');
    expect(Number(lab) - 1).toBe(label.get(id));
    expect(DFEW_CLASSES[Number(lab) - 1]).toBe(cls);
    expect(Number(intensity)).toBeGreaterThan(0);
    expect(Number(intensity)).toBeLessThanOrEqual(1);
    expect(readdirSync(join(first, 'Clip', 'clip_224x224', id)).length).toBe(
      Number(row.split(',')[head.split(',').indexOf('frames')]),
    );
  }
});

test('balanced: 2 clips per class; prepare reads the tree with zero skipped clips', async () => {
  const src = join(work, 'bal');
  const r = await generateSynth(tinyOptions(src, { balanced: true }));
  expect(r.perClass).toEqual([2, 2, 2, 2, 2, 2, 2]);
  expect(r.folds.map((f) => f.test).reduce((a, b) => a + b, 0)).toBe(14);
  const prepared = await prepareDataset({
    source: src,
    out: join(work, 'bal-prepared'),
    settings: { size: 32, quality: 90, frames: 16, minFrames: 0 },
    strict: true,
    jobs: 2,
  });
  expect(prepared.manifest.source.format).toBe('dfew');
  expect(prepared.manifest.counts).toMatchObject({ clips: 14, skipped: 0, perClass: [2, 2, 2, 2, 2, 2, 2] });
  expect(prepared.issues).toEqual([]);
  expect(prepared.notes.damaged).toBe(0);
});

test('an interrupted run leaves no split lists; the same command finishes it to the same bytes', async () => {
  const out = join(work, 'resume');
  await generateSynth(tinyOptions(out));
  // What a kill mid-run leaves: clips 00003 and 00009 not renamed yet (a temp folder), no annotation files.
  rmSync(join(out, 'EmoLabel_DataSplit'), { recursive: true });
  rmSync(join(out, 'metadata.csv'));
  for (const id of ['00003', '00009']) rmSync(join(out, 'Clip', 'clip_224x224', id), { recursive: true });
  const stale = join(out, 'Clip', 'clip_224x224', '00003.tmp-12345');
  mkdirSync(stale);
  writeFileSync(join(stale, '1.jpg'), 'half a jpeg');
  expect(() => readAnnotations(out)).toThrow(/no DFEW split lists|cannot tell/);
  const r = await generateSynth(tinyOptions(out));
  expect(r.resumed).toBe(12);
  expect(existsSync(stale)).toBe(false);
  expect(hashTree(out)).toBe(firstHash);
});

test('refuses an --out holding something else, or a synthetic set made with other options', async () => {
  const foreign = join(work, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  await expect(generateSynth(tinyOptions(foreign))).rejects.toThrow(SynthError);
  await expect(generateSynth(tinyOptions(first, { size: 48 }))).rejects.toThrow(/other settings/);
  await expect(generateSynth(tinyOptions(join(work, 'bad'), { minFrames: 30, maxFrames: 20 }))).rejects.toThrow(
    SynthError,
  );
  expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
});
