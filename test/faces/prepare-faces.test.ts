// `dfer prepare --faces detect` on a real face video: the face in >= 95% of the checked frames, steady aligned crops,
// the damaged copy still flagged, a video without a face skipped with its reason; prepare-report.json says it all.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareDataset } from '../../src/prepare/prepare.js';
import { PreparedSet } from '../../src/data/store.js';
import { findFfmpeg } from '../../src/video/ffmpeg.js';

const SHARED = process.env.DFER_SHARED ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
const VIDEO = join(SHARED, 'fixtures', 'video');
let work: string;
beforeAll(() => (work = mkdtempSync(join(tmpdir(), 'dfer-faces-'))));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('Megamind.avi: a face in >= 95% of checked frames, crops at --size, jitter and coverage reported; a faceless video skipped', async () => {
  const noFace = join(work, 'noface.mp4');
  // A slowly changing colour gradient: a picture, but no face in it.
  execFileSync(findFfmpeg().found!.path, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'gradients=size=160x120:rate=10:speed=0.05',
    '-t',
    '2',
    '-pix_fmt',
    'yuv420p',
    noFace,
  ]);
  for (const name of ['Megamind.avi', 'Megamind_bugy.avi']) symlinkSync(join(VIDEO, name), join(work, name));
  const csv = join(work, 'videos.csv');
  writeFileSync(csv, 'path,label\nMegamind.avi,happiness\nMegamind_bugy.avi,happiness\nnoface.mp4,neutral\n');
  const out = join(work, 'set');
  const r = await prepareDataset({
    source: csv,
    out,
    settings: { size: 96, quality: 90, frames: 16, minFrames: 0, faces: { detectEvery: 5, minCoverage: 0.5 } },
    strict: false,
  });
  const [clean, bugy] = r.manifest.clips;
  expect(r.manifest.clips.map((c) => c.id)).toEqual(['Megamind', 'Megamind_bugy']);
  expect(clean.sourceFrames).toBe(270);
  // every 5th frame and the last: 55 checked
  expect(clean.faces!.checked).toBe(55);
  expect(clean.faces!.found / clean.faces!.checked).toBeGreaterThanOrEqual(0.95);
  expect(clean.faces!.jitter).toBeGreaterThan(0);
  expect(clean.faces!.jitter).toBeLessThan(0.15); // the crop moves by less than 15% of the eye distance a frame
  // Damage is judged on the decoded frames, as without --faces: the clean video has none, the damaged copy many.
  expect(clean.damaged ?? []).toHaveLength(0);
  expect(bugy.damaged!.length).toBeGreaterThan(10);
  expect(r.manifest.skipped).toEqual([
    { id: 'noface', origin: `${csv}:4`, reason: `${noFace}: no face found in 5 checked frames` },
  ]);
  const report = JSON.parse(readFileSync(join(out, 'prepare-report.json'), 'utf8'));
  expect(report.faces.map((f: { id: string }) => f.id)).toEqual(['Megamind', 'Megamind_bugy']);
  expect(r.manifest.settings.faces).toEqual({ detectEvery: 5, minCoverage: 0.5 });
  // The stored frames are the aligned crops at --size.
  const frames = await PreparedSet.open(out).readFrames('Megamind', [0, 100]);
  expect(frames.map((f) => [f.width, f.height])).toEqual([
    [96, 96],
    [96, 96],
  ]);
  expect(existsSync(join(out, 'manifest.json'))).toBe(true);
}, 300000);
