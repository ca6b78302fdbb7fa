import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DFEW_CLASSES } from '../../src/config.js';
import {
  AnnotationError,
  detectFormat,
  readAnnotations,
  readAnnotationsAsync,
  readMafwLabels,
  type Annotations,
} from '../../src/data/annotations.js';
import { MAFW_CLASSES } from '../../src/data/classes.js';
import { prepareDataset } from '../../src/prepare/prepare.js';
import { makeMafwTree, type MafwTree, type MafwTreeClip } from '../helpers/mafwtree.js';

// Eleven clips, one per class, with ids from the release (00025 is the example in the DFER repos' comments). Clip k is
// in the test list of fold (k % 5) + 1.
const CLIPS: MafwTreeClip[] = [
  { id: '00025', label: 'anger' },
  { id: '00028', label: 'disgust' },
  { id: '00108', label: 'fear' },
  { id: '00123', label: 'happiness' },
  { id: '00137', label: 'neutral' },
  { id: '00152', label: 'sadness' },
  { id: '00153', label: 'surprise' },
  { id: '00210', label: 'contempt' },
  { id: '00244', label: 'anxiety' },
  { id: '00262', label: 'helplessness' },
  { id: '00264', label: 'disappointment' },
];
const IDS = CLIPS.map((c) => c.id);
const testOf = (fold: number) => IDS.filter((_, k) => k % 5 === fold - 1);
const trainOf = (fold: number) => IDS.filter((_, k) => k % 5 !== fold - 1);

let tmp: string;
let clean: MafwTree;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-mafw-'));
  clean = await makeMafwTree(join(tmp, 'MAFW'), CLIPS);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const list = (t: MafwTree, fold: number, split: 'train' | 'test') => join(t.listDir, `set_${fold}`, `${split}.txt`);
const byId = (a: Annotations) => new Map(a.clips.map((c) => [c.id, c]));

describe('mafw: the MAFW release layout', () => {
  test('detected from the root, from "Train & Test Set", and from a copy renamed Train_Test_Set', async () => {
    expect(detectFormat(clean.root)).toBe('mafw');
    expect(detectFormat(clean.sets)).toBe('mafw');
    const renamed = await makeMafwTree(join(tmp, 'renamed'), CLIPS.slice(0, 5), { sheet: false });
    renameSync(renamed.sets, join(renamed.root, 'Train_Test_Set'));
    expect(detectFormat(renamed.root)).toBe('mafw');
    expect(readAnnotations(renamed.root).folds['1'].test).toEqual(['00025']);
    // Labels/single-set.xlsx alone marks a MAFW root too (and is refused below, for want of folds).
    const sheetOnly = await makeMafwTree(join(tmp, 'sheet-only-detect'), CLIPS, { lists: false });
    expect(detectFormat(sheetOnly.root)).toBe('mafw');
  });

  test('five folds from set_1..set_5, train before test; 11 clips, ids the video stems; no issues', async () => {
    const a = await readAnnotationsAsync(clean.root);
    expect(a.format).toBe('mafw');
    expect(a.issues).toEqual([]);
    expect(Object.keys(a.folds)).toEqual(['1', '2', '3', '4', '5']);
    for (let k = 1; k <= 5; k++) expect(a.folds[String(k)]).toEqual({ train: trainOf(k), test: testOf(k) });
    expect(a.folds['1'].test).toEqual(['00025', '00152', '00264']);
    expect(a.clips.length).toBe(11);
    // First-seen order: fold 1's train list, then its test list.
    expect(a.clips.map((c) => c.id)).toEqual([...trainOf(1), ...testOf(1)]);
  });

  test('the 11 MAFW classes in its order by default; labels by name; sources are data/clips/<id>.mp4', async () => {
    const a = await readAnnotationsAsync(clean.root);
    expect(a.classes).toEqual([...MAFW_CLASSES]);
    expect(a.classes).toHaveLength(11);
    expect(a.classes.slice(7)).toEqual(['contempt', 'anxiety', 'helplessness', 'disappointment']);
    const m = byId(a);
    for (const c of CLIPS) expect(a.classes[m.get(c.id)!.label]).toBe(c.label);
    expect(m.get('00025')).toEqual({
      id: '00025',
      label: 0,
      source: { kind: 'video', file: join(clean.root, 'data', 'clips', '00025.mp4') },
      origin: `${list(clean, 1, 'test')}:1`,
    });
    expect(m.get('00264')!.label).toBe(10);
    expect(m.get('00028')!.origin).toBe(`${list(clean, 1, 'train')}:1`);
    // From the "Train & Test Set" folder the root is its parent; --root may name the videos' folder itself.
    expect(byId(readAnnotations(clean.sets)).get('00108')!.source).toEqual({
      kind: 'video',
      file: join(clean.root, 'data', 'clips', '00108.mp4'),
    });
    expect(byId(readAnnotations(clean.root, { root: '/mnt/mafw/videos' })).get('00108')!.source).toEqual({
      kind: 'video',
      file: '/mnt/mafw/videos/00108.mp4',
    });
  });

  test('CRLF lines as in the release: nothing carries a \\r, every label resolves', () => {
    const raw = readFileSync(list(clean, 2, 'train'), 'latin1');
    expect(raw.startsWith('00025.mp4 anger\r\n')).toBe(true);
    expect(raw.split('\r\n').length - 1).toBe(trainOf(2).length);
    const a = readAnnotations(clean.root);
    expect(a.issues).toEqual([]);
    expect(a.clips.every((c) => /^\d{5}$/.test(c.id) && !JSON.stringify(c).includes('\\r'))).toBe(true);
  });

  test('an unknown label, a number for a label and a short row are dropped with file:line; the rest is kept', async () => {
    const t = await makeMafwTree(join(tmp, 'bad-rows'), CLIPS);
    appendFileSync(list(t, 2, 'test'), '00999.mp4 boredom\r\n00300.mp4 3\r\n00301.mp4\r\n');
    const a = await readAnnotationsAsync(t.root);
    const file = list(t, 2, 'test');
    const n = testOf(2).length;
    expect(a.issues).toEqual([
      {
        file,
        line: n + 1,
        reason: expect.stringMatching(
          /^unknown label "boredom" \(MAFW labels are a class name \(anger, disgust, .*disappointment\)\)$/,
        ),
        dropped: true,
      },
      { file, line: n + 2, reason: expect.stringMatching(/^unknown label "3"/), dropped: true },
      { file, line: n + 3, reason: 'expected 2 space-separated fields (clip file, label), found 1', dropped: true },
    ]);
    expect(a.clips.length).toBe(11);
    expect(a.folds['2'].test).toEqual(testOf(2));
  });

  test('list and spreadsheet disagree: an issue at the xlsx row naming both labels and the list line; the list wins', async () => {
    const clips = CLIPS.map((c) =>
      c.id === '00123' ? { ...c, sheet: 2 } : c.id === '00153' ? { ...c, sheet: null } : c,
    );
    const t = await makeMafwTree(join(tmp, 'disagree'), clips, {
      sheetOnly: [
        ['00777.mp4', 5],
        [999, 1],
      ],
    });
    const a = await readAnnotationsAsync(t.root);
    // 00123 is clip 3 (test in fold 4), first listed at set_1/train.txt line 3 and row 5 of the sheet; 00153 is line 5.
    expect(a.issues).toEqual([
      {
        file: t.labels,
        line: 5,
        reason: `clip 00123 is labelled disgust (single_label 2) here but happiness in ${list(t, 1, 'train')}:3; the list's label is used`,
      },
      {
        file: list(t, 1, 'train'),
        line: 5,
        reason: `clip 00153 is not in ${t.labels} (kept, labelled surprise as listed)`,
      },
      {
        file: t.labels,
        line: 12,
        reason: '2 labelled clip(s) are in no split list, so they are not prepared: 00777 (row 12), 00999 (row 13)',
      },
    ]);
    const m = byId(a);
    expect(a.classes[m.get('00123')!.label]).toBe('happiness');
    expect(m.has('00153')).toBe(true);
    expect(m.has('00777')).toBe(false);
    // Without the pre-read spreadsheet (the synchronous reader) the lists are read unchecked.
    expect(readAnnotations(t.root).issues).toEqual([]);
  });

  test('the spreadsheet really is the release layout: header row, clip file names, single_label 1..11', async () => {
    const sheet = await readMafwLabels(clean.labels);
    expect(sheet.error).toBeUndefined();
    expect(sheet.rows![0]).toEqual(['clip', ...MAFW_CLASSES, 'single_label']);
    expect(sheet.rows![0]).toHaveLength(13);
    expect(sheet.rows![1][0]).toBe('00025.mp4');
    expect(sheet.rows![1][12]).toBe(1);
    expect(sheet.rows![11][12]).toBe(11);
  });

  test('an unreadable spreadsheet or one without single_label is an issue; the lists are still read', async () => {
    const t = await makeMafwTree(join(tmp, 'bad-sheet'), CLIPS);
    writeFileSync(t.labels, 'not a spreadsheet');
    const a = await readAnnotationsAsync(t.root);
    expect(a.issues).toEqual([
      {
        file: t.labels,
        reason: expect.stringMatching(
          /^cannot read it \(.+; re-download it, or remove it\), so the split lists' labels are not cross-checked against it$/,
        ),
      },
    ]);
    expect(a.clips.length).toBe(11);
    const b = readAnnotations(t.root, {
      mafwLabels: {
        file: t.labels,
        rows: [
          ['clip', 'anger', 'label'],
          ['00025.mp4', 1, 1],
        ],
      },
    });
    expect(b.issues).toEqual([
      {
        file: t.labels,
        reason:
          'row 1 has no "single_label" column (the release\'s last column), so the split lists\' labels are not cross-checked against it',
      },
    ]);
    const c = readAnnotations(t.root, {
      mafwLabels: {
        file: t.labels,
        rows: [
          ['clip', 'single_label'],
          ['00025.mp4', 0],
          ['a/b.mp4', 1],
        ],
      },
    });
    expect(c.issues.slice(0, 2)).toEqual([
      {
        file: t.labels,
        line: 2,
        reason:
          'single_label "0" of clip 00025 is not 1..11 or a class name (anger, disgust, fear, happiness, neutral, sadness, surprise, contempt, anxiety, helplessness, disappointment) (row not used)',
      },
      { file: t.labels, line: 3, reason: 'clip "a/b.mp4" is not a clip file name like 00025.mp4 (row not used)' },
    ]);
  });

  test('a missing fold list is reported and that fold skipped', async () => {
    const t = await makeMafwTree(join(tmp, 'missing'), CLIPS, { folds: [1, 2, 3, 5] });
    unlinkSync(list(t, 3, 'test'));
    const a = await readAnnotationsAsync(t.root);
    expect(a.issues).toEqual([
      { file: list(t, 3, 'test'), reason: 'missing: fold 3 has no test list, so fold 3 is skipped' },
      { file: list(t, 4, 'train'), reason: 'missing: fold 4 has no train or test list, so fold 4 is skipped' },
    ]);
    expect(Object.keys(a.folds)).toEqual(['1', '2', '5']);
    expect(a.folds['5']).toEqual({ train: trainOf(5), test: testOf(5) });
    expect(a.clips.length).toBe(11);
  });

  test('only Labels/single-set.xlsx, no lists: refused in one line naming the folder to add', async () => {
    const t = await makeMafwTree(join(tmp, 'sheet-only'), CLIPS, { lists: false });
    const err = await readAnnotationsAsync(t.root).catch((e) => e);
    expect(err).toBeInstanceOf(AnnotationError);
    expect(err.message).not.toContain('\n');
    expect(err.message).toBe(
      `MAFW ${t.labels} has the labels but there are no split lists in ${t.listDir}: extract "Train & Test Set" from the MAFW release into ${t.root} (its set_1..set_5 are the folds dfer trains and evaluates on)`,
    );
    expect(() => readAnnotations(t.root)).toThrow(/has the labels but there are no split lists/);
    // An empty "Train & Test Set" without the spreadsheet: the lists are what is missing.
    mkdirSync(join(tmp, 'empty', 'Train & Test Set'), { recursive: true });
    expect(() => readAnnotations(join(tmp, 'empty'))).toThrow(
      /^no MAFW split lists in .*no_caption: expected set_1\/train\.txt \.\. set_5\/test\.txt \(re-extract "Train & Test Set"/,
    );
    expect(() => readAnnotations(join(tmp, 'empty', 'Train & Test Set', 'nothing'), { format: 'mafw' })).toThrow(
      /annotation source not found/,
    );
  });

  test('--classes maps MAFW names onto another class list; classes it lacks are reported, not dropped', async () => {
    const a = await readAnnotationsAsync(clean.root, { classes: [...DFEW_CLASSES] });
    expect(a.classes).toEqual([...DFEW_CLASSES]);
    const m = byId(a);
    expect(a.classes[m.get('00025')!.label]).toBe('anger');
    expect(a.classes[m.get('00123')!.label]).toBe('happiness');
    expect(a.clips.length).toBe(7);
    expect([...m.keys()].sort()).toEqual(['00025', '00028', '00108', '00123', '00137', '00152', '00153']);
    const lacking = a.issues.filter((i) => /is not one of the classes/.test(i.reason));
    expect(lacking.every((i) => !i.dropped && i.line !== undefined)).toBe(true);
    expect(lacking.length).toBe(4 * 5); // four extra classes, one clip each, listed in 5 folds
  });

  test('the unknown-format message lists mafw', () => {
    expect(() => readAnnotations(clean.root, { format: 'xml' as never })).toThrow(
      /expected dfew, ferv39k, list, csv, mafw$/,
    );
  });
});

describe('mafw through dfer prepare', () => {
  test('real tiny videos in data/clips are decoded; the spreadsheet cross-check reaches the report', async () => {
    // Five clips, so that every fold has a test clip (an empty list is refused like any empty annotation file).
    const clips = [{ ...CLIPS[0], sheet: 6 }, CLIPS[3], CLIPS[7], CLIPS[1], CLIPS[9]];
    const t = await makeMafwTree(join(tmp, 'videos'), clips, { videos: true });
    const out = join(tmp, 'prepared');
    const r = await prepareDataset({
      source: t.root,
      out,
      settings: { size: 32, quality: 90, frames: 16, minFrames: 0 },
      strict: false,
      jobs: 2,
    });
    const m = r.manifest;
    expect(m.source.format).toBe('mafw');
    expect(m.classes).toEqual([...MAFW_CLASSES]);
    expect(m.counts.clips).toBe(5);
    expect(m.skipped).toEqual([]);
    expect(m.clips.map((c) => [c.id, m.classes[c.label], c.sourceFrames, c.frames])).toEqual([
      ['00123', 'happiness', 10, 16],
      ['00210', 'contempt', 10, 16],
      ['00028', 'disgust', 10, 16],
      ['00262', 'helplessness', 10, 16],
      ['00025', 'anger', 10, 16],
    ]);
    expect(m.folds['1']).toEqual({ train: ['00123', '00210', '00028', '00262'], test: ['00025'] });
    expect(m.folds['5']).toEqual({ train: ['00025', '00123', '00210', '00028'], test: ['00262'] });
    expect(r.issues).toEqual([
      {
        file: t.labels,
        line: 2,
        reason: `clip 00025 is labelled sadness (single_label 6) here but anger in ${list(t, 1, 'test')}:1; the list's label is used`,
      },
    ]);
  });
});
