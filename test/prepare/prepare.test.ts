import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDataset, type PrepareOptions } from '../../src/prepare/prepare.js';
import { PreparedSet } from '../../src/data/store.js';
import { SHARED } from '../helpers/golden.js';
import { makeDfewTree, type TreeClip } from '../helpers/dfewtree.js';

const settings = { size: 32, quality: 90, frames: 16, minFrames: 0 };
const CLIPS: TreeClip[] = [
  { id: 1, label: 1, frames: 20 },
  { id: 2, label: 2, frames: 16 },
  { id: 3, label: 3, frames: 11 }, // short: padded to 16
  { id: 4, label: 4, frames: 25 },
  { id: 5, label: 5, frames: 0 }, // empty folder: skipped
  { id: 6, label: 6, frames: 18 },
  { id: 7, label: 7, frames: -1 }, // no folder: skipped
  { id: 8, label: 1, frames: 30 },
  { id: 9, label: 2, frames: 17 },
  { id: 10, label: 3, frames: 40 },
];

let root: string;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dfer-prep-'));
  root = join(work, 'DFEW');
  await makeDfewTree(root, CLIPS);
});

const opts = (out: string, over: Partial<PrepareOptions> = {}): PrepareOptions => ({
  source: root,
  out,
  settings,
  strict: false,
  jobs: 2,
  ...over,
});

test('a DFEW release: every fold kept, short clips padded, bad folders skipped and reported', async () => {
  const out = join(work, 'set-a');
  const r = await prepareDataset(opts(out));
  const m = r.manifest;
  expect(m.source.format).toBe('dfew');
  expect(m.counts.clips).toBe(8);
  expect(m.skipped.map((s) => s.id).sort()).toEqual(['00005', '00007']);
  expect(Object.keys(m.folds).sort()).toEqual(['1', '2', '3', '4', '5']);
  for (const f of Object.values(m.folds)) expect(f.train.length + f.test.length).toBe(8);
  const short = m.clips.find((c) => c.id === '00003')!;
  expect(short).toMatchObject({ sourceFrames: 11, frames: 16, padded: 5, label: 2 });
  expect(m.clips.find((c) => c.id === '00010')!.frames).toBe(40);
  expect(r.notes.padded).toBe(1);
  expect(r.issues.some((i) => i.clip === '00005' && /skipped/.test(i.reason))).toBe(true);

  // frames come back in numeric order: frame 10 (10.jpg) is not frame 2 (2.jpg)
  const set = PreparedSet.open(out);
  const [f1, f9] = await set.readFrames('00010', [1, 9]);
  expect(Math.abs(f1.data[0] - ((6 * 1 + 5 + 10) % 250))).toBeLessThanOrEqual(3);
  expect(Math.abs(f9.data[0] - ((6 * 9 + 5 + 10) % 250))).toBeLessThanOrEqual(3);
});

test('an interrupted run resumes to the same fingerprint', async () => {
  const full = await prepareDataset(opts(join(work, 'set-full')));
  const out = join(work, 'set-resume');
  await prepareDataset(opts(out));
  // Simulate a kill: no manifest yet, only 3 clips journaled, the last journal line half-written, a clip file gone.
  unlinkSync(join(out, 'manifest.json'));
  const journal = readFileSync(join(out, 'journal.jsonl'), 'utf8').trim().split('\n');
  writeFileSync(join(out, 'journal.jsonl'), journal.slice(0, 3).join('\n') + '\n');
  appendFileSync(join(out, 'journal.jsonl'), journal[3].slice(0, 20));
  const gone = JSON.parse(journal[0]);
  if ('clip' in gone) rmSync(join(out, gone.clip.file));
  expect(() => PreparedSet.open(out)).toThrow(/resume/);

  const resumed = await prepareDataset(opts(out));
  // Finished clips are kept (less the one whose file is gone); skipped ones are tried again.
  const finished = journal.slice(0, 3).filter((l) => 'clip' in JSON.parse(l)).length;
  expect(resumed.resumed).toBe(finished - ('clip' in gone ? 1 : 0));
  expect(resumed.manifest.fingerprint).toBe(full.manifest.fingerprint);
});

test('another source or other settings in the same --out are refused', async () => {
  const out = join(work, 'set-b');
  await prepareDataset(opts(out));
  await expect(prepareDataset(opts(out, { settings: { ...settings, size: 48 } }))).rejects.toThrow(/other settings/);
});

test('--strict fails on the first problem', async () => {
  await expect(prepareDataset(opts(join(work, 'set-c'), { strict: true }))).rejects.toThrow(/--strict/);
});

test('--min-frames drops short clips instead of padding them', async () => {
  const r = await prepareDataset(opts(join(work, 'set-d'), { settings: { ...settings, minFrames: 16 } }));
  expect(r.manifest.clips.map((c) => c.id)).not.toContain('00003');
  expect(r.manifest.skipped.find((s) => s.id === '00003')!.reason).toMatch(/min-frames/);
});

test('a video listed in a CSV: Megamind.avi -> 270 frames; the damaged copy is reported', async () => {
  const video = join(SHARED, 'fixtures', 'video');
  const csv = join(work, 'videos.csv');
  writeFileSync(
    csv,
    `path,label,split\n${join(video, 'Megamind.avi')},happy,train\n${join(video, 'Megamind_bugy.avi')},sad,test\n`,
  );
  const r = await prepareDataset(opts(join(work, 'set-v'), { source: csv, settings: { ...settings, size: 48 } }));
  expect(r.manifest.counts.clips).toBe(2);
  const [clean, bugy] = r.manifest.clips;
  expect(clean.sourceFrames).toBe(270);
  expect(clean.damaged ?? []).toHaveLength(0);
  expect(bugy.damaged!.length).toBeGreaterThan(10);
  expect(r.issues.some((i) => /flat colour/.test(i.reason) && i.clip === bugy.id)).toBe(true);
  expect(existsSync(join(work, 'set-v', 'prepare-report.json'))).toBe(true);
});

test('list format: listed frame counts that disagree with the disk are reported and the real count wins', async () => {
  const lists = join(work, 'lists');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(lists, { recursive: true });
  // Like the official lists: CRLF, "./dataset/<id> <count> <label 0-6>", counts that are wrong for some clips.
  writeFileSync(
    join(lists, 'set_1_train.txt'),
    './dataset/00001 20 0\r\n./dataset/00003 16 2\r\n./dataset/00004 25 3\r\n',
  );
  writeFileSync(join(lists, 'set_1_test.txt'), './dataset/00002 14 1\r\n');
  const r = await prepareDataset(
    opts(join(work, 'set-list'), { source: lists, format: 'list', root: join(root, 'Clip', 'clip_224x224') }),
  );
  expect(r.manifest.source.format).toBe('list');
  expect(r.notes.countMismatch).toBe(2);
  const c3 = r.manifest.clips.find((c) => c.id === '00003')!;
  expect(c3).toMatchObject({ listedFrames: 16, sourceFrames: 11, frames: 16, padded: 5 });
  expect(
    r.issues
      .filter((i) => /listed with/.test(i.reason))
      .map((i) => i.clip)
      .sort(),
  ).toEqual(['00002', '00003']);
  expect(r.manifest.folds['1']).toEqual({ train: ['00001', '00003', '00004'], test: ['00002'] });
});
