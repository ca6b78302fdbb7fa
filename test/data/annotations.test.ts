import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DFEW_CLASSES } from '../../src/config.js';
import { AnnotationError, detectFormat, readAnnotations, type Annotations } from '../../src/data/annotations.js';
import { SHARED } from '../helpers/golden.js';

const here = dirname(fileURLToPath(import.meta.url));
const FIX = resolve(here, '..', '..', 'fixtures', 'annotations');
const LISTS = join(SHARED, 'datasets', 'dfew-annotation');
const DFEW = join(FIX, 'dfew');
const FERV = join(FIX, 'ferv39k');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-annotations-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A file under a fresh temporary folder (parents created). */
function write(rel: string, text: string): string {
  const file = join(tmp, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

const byId = (a: Annotations) => new Map(a.clips.map((c) => [c.id, c]));
const issueLines = (a: Annotations) => a.issues.map((i) => `${i.file.split(/[\\/]/).pop()}:${i.line ?? '-'}`);
const classCounts = (a: Annotations, ids: string[]) => {
  const m = byId(a);
  const n = a.classes.map(() => 0);
  for (const id of ids) n[m.get(id)!.label]++;
  return n;
};

describe('the official DFEW 5-fold lists (shared/datasets/dfew-annotation)', () => {
  let a: Annotations;
  beforeAll(() => {
    a = readAnnotations(LISTS);
  });

  test('detected as lists; all ten files parse without an issue', () => {
    expect(detectFormat(LISTS)).toBe('list');
    expect(a.format).toBe('list');
    expect(a.classes).toEqual([...DFEW_CLASSES]);
    expect(a.issues).toEqual([]);
  });

  test('fold sizes 9356/2341, 9356/2341, 9357/2340, 9358/2339, 9361/2336; 11,697 clips', () => {
    const sizes = Object.entries(a.folds).map(([k, f]) => [k, f.train.length, f.test.length]);
    expect(sizes).toEqual([
      ['1', 9356, 2341],
      ['2', 9356, 2341],
      ['3', 9357, 2340],
      ['4', 9358, 2339],
      ['5', 9361, 2336],
    ]);
    expect(a.clips.length).toBe(11697);
    expect(new Set(a.clips.map((c) => c.id)).size).toBe(11697);
    for (const f of Object.values(a.folds)) expect(f.train.length + f.test.length).toBe(11697);
  });

  test('every clip is a test clip in exactly one fold', () => {
    const times = new Map<string, number>();
    for (const f of Object.values(a.folds)) for (const id of f.test) times.set(id, (times.get(id) ?? 0) + 1);
    expect(times.size).toBe(11697);
    expect([...times.values()].every((n) => n === 1)).toBe(true);
  });

  test('CRLF lines: ids are the 5-digit folder names, nothing carries a \\r', () => {
    expect(readFileSync(join(LISTS, 'set_1_test.txt'), 'latin1')).toContain('\r\n');
    const first = a.clips[0];
    expect(first).toMatchObject({
      id: '02522',
      label: 5,
      listedFrames: 66,
      source: { kind: 'frames', dir: join(LISTS, 'dataset', '02522') },
    });
    expect(first.origin).toBe(`${join(LISTS, 'set_1_train.txt')}:1`);
    expect(a.clips.every((c) => /^\d{5}$/.test(c.id) && Number.isInteger(c.listedFrames))).toBe(true);
  });

  test('fold-1 class counts agree with DATASETS.md (happiness..fear)', () => {
    expect(classCounts(a, a.folds['1'].test)).toEqual([489, 379, 534, 435, 294, 29, 181]);
    expect(classCounts(a, a.folds['1'].train)).toEqual([1956, 1515, 2135, 1738, 1175, 116, 721]);
  });

  test('fold 1 lists 11 train and 3 test clips with fewer than 16 frames (what the official loader drops)', () => {
    const m = byId(a);
    const short = (ids: string[]) => ids.filter((id) => m.get(id)!.listedFrames! < 16);
    expect(short(a.folds['1'].train).length).toBe(11);
    expect(short(a.folds['1'].test).length).toBe(3);
    expect(Math.min(...a.clips.map((c) => c.listedFrames!))).toBe(11);
  });

  test('folds 2-5 list those 14 clips with 16 frames, and 03376 with 150 instead of 148 in set_2_test', () => {
    const first = byId(a); // each clip's first listing is in fold 1
    const differ = new Map<string, string[]>();
    for (let k = 2; k <= 5; k++) {
      for (const split of ['train', 'test']) {
        const one = readAnnotations(join(LISTS, `set_${k}_${split}.txt`));
        expect(one.folds['1'][split as 'train' | 'test'].length).toBe(one.clips.length);
        expect(one.clips.filter((c) => c.listedFrames! < 16)).toEqual([]);
        for (const c of one.clips) {
          const f1 = first.get(c.id)!;
          expect(c.label).toBe(f1.label);
          if (c.listedFrames !== f1.listedFrames)
            differ.set(c.id, [...(differ.get(c.id) ?? []), `${k}${split}:${f1.listedFrames}->${c.listedFrames}`]);
        }
      }
    }
    expect(differ.size).toBe(15);
    const short = [...differ.keys()].filter((id) => first.get(id)!.listedFrames! < 16);
    expect(short.length).toBe(14);
    expect(differ.get('03376')).toEqual(['2test:148->150']);
  });

  test('a single list is fold "1", its split from its name', () => {
    const test1 = readAnnotations(join(LISTS, 'set_1_test.txt'));
    expect(Object.keys(test1.folds)).toEqual(['1']);
    expect(test1.folds['1']).toEqual({ train: [], test: a.folds['1'].test });
    const train3 = readAnnotations(join(LISTS, 'set_3_train.txt'), { root: '/data/DFEW/Clip/clip_224x224' });
    expect(train3.folds['1'].train).toEqual(a.folds['3'].train);
    expect(train3.clips[0].source).toEqual({
      kind: 'frames',
      dir: join('/data/DFEW/Clip/clip_224x224', 'dataset', train3.clips[0].id),
    });
  });

  // (Its speed, ~0.3 s for the ten lists, is a benchmark's business, not a test's: timed assertions fail on a busy
  // machine.)
});

describe('dfew: the release CSVs (EmoLabel_DataSplit)', () => {
  test('five folds; unpadded ids padded; BOM, CRLF and the blank line handled', () => {
    const a = readAnnotations(DFEW);
    expect(a.format).toBe('dfew');
    expect(a.classes).toEqual([...DFEW_CLASSES]);
    expect(Object.keys(a.folds)).toEqual(['1', '2', '3', '4', '5']);
    expect(a.folds['1']).toEqual({
      train: ['00003', '00004', '00005', '00006', '00007', '00008'],
      test: ['00001', '00002'],
    });
    expect(a.folds['3']).toEqual({
      train: ['00001', '00002', '00003', '00004', '00007', '00008', '00009', '00010'],
      test: ['00005', '00006'],
    });
    expect(a.clips.map((c) => c.id)).toEqual([
      '00003',
      '00004',
      '00005',
      '00006',
      '00007',
      '00008',
      '00001',
      '00002',
      '00009',
      '00010',
    ]);
    const c3 = byId(a).get('00003')!;
    const set1 = join(DFEW, 'EmoLabel_DataSplit', 'train(single-labeled)', 'set_1.csv');
    expect(c3).toEqual({
      id: '00003',
      label: 2,
      source: { kind: 'frames', dir: join(DFEW, 'Clip', 'clip_224x224', '00003') },
      origin: `${set1}:2`,
    });
    // labels 1..7 -> 0..6: clip i has DFEW label ((i - 1) % 7) + 1
    for (const c of a.clips) expect(c.label).toBe((Number(c.id) - 1) % 7);
    expect(byId(a).get('00005')!.origin).toBe(`${set1}:5`); // the blank line 4 still counts
  });

  test('the unknown label and the row with too many fields are issues naming file and line', () => {
    const a = readAnnotations(DFEW);
    expect(issueLines(a)).toEqual(['set_1.csv:9', 'set_1.csv:10']);
    expect(a.issues[0].reason).toMatch(/unknown label "8".*1\.\.7/);
    expect(a.issues[1].reason).toMatch(/expected 2 fields \(video_name,label\), found 3/);
    expect(a.issues[0].file).toBe(join(DFEW, 'EmoLabel_DataSplit', 'train(single-labeled)', 'set_1.csv'));
  });

  test('frames: 16-frame copy, original videos; root moves the clips', () => {
    const f16 = readAnnotations(DFEW, { frames: 'clip_224x224_16f' });
    expect(f16.clips[0].source).toEqual({ kind: 'frames', dir: join(DFEW, 'Clip', 'clip_224x224_16f', '00003') });
    const vid = readAnnotations(DFEW, { frames: 'original', root: '/mnt/DFEW' });
    expect(vid.clips[0].source).toEqual({ kind: 'video', file: join('/mnt/DFEW', 'Clip', 'original', '00003.mp4') });
    expect(() => readAnnotations(DFEW, { frames: 'clip_112' as never })).toThrow(/unknown DFEW frames "clip_112"/);
  });

  test('the EmoLabel_DataSplit folder itself is accepted as the source', () => {
    const a = readAnnotations(join(DFEW, 'EmoLabel_DataSplit'));
    expect(a.format).toBe('dfew');
    expect(a.clips[0].source).toEqual({ kind: 'frames', dir: join(DFEW, 'Clip', 'clip_224x224', '00003') });
  });

  test('a --classes list: DFEW labels are mapped by name, classes it lacks become issues', () => {
    const a = readAnnotations(DFEW, { classes: ['Fear', 'happy', 'sad', 'neutral', 'angry', 'surprised'] });
    expect(a.classes).toEqual(['Fear', 'happy', 'sad', 'neutral', 'angry', 'surprised']);
    const m = byId(a);
    expect(m.get('00001')!.label).toBe(1); // happiness -> happy
    expect(m.get('00007')!.label).toBe(0); // fear -> Fear
    expect(m.has('00006')).toBe(false); // disgust: not a class
    expect(a.issues.filter((i) => /\(disgust\) is not one of the classes/.test(i.reason)).length).toBe(5);
  });

  test('unpadded ids everywhere, a re-saved file without its header, a missing fold', () => {
    const root = join(tmp, 'dfew-resaved');
    write('dfew-resaved/EmoLabel_DataSplit/train(single-labeled)/set_1.csv', '1,1\n2,2\n12345,3\n');
    write('dfew-resaved/EmoLabel_DataSplit/test(single-labeled)/set_1.csv', 'video_name,label\n00003.0,3\n');
    write('dfew-resaved/EmoLabel_DataSplit/train(single-labeled)/set_2.csv', 'video_name,label\n3,3\n');
    const a = readAnnotations(root);
    expect(a.folds).toEqual({ '1': { train: ['00001', '00002', '12345'], test: ['00003'] } });
    expect(a.issues.map((i) => i.reason)).toEqual([
      'missing: fold 2 has no test list, so fold 2 is skipped',
      'missing: fold 3 has no train or test list, so fold 3 is skipped',
      'missing: fold 4 has no train or test list, so fold 4 is skipped',
      'missing: fold 5 has no train or test list, so fold 5 is skipped',
    ]);
  });

  test('duplicates within a list, train/test overlap, conflicting labels, bad ids', () => {
    const root = join(tmp, 'dfew-dups');
    write(
      'dfew-dups/EmoLabel_DataSplit/train(single-labeled)/set_1.csv',
      'video_name,label\n1,1\n00001,1\n2,2\nabc,1\n"4",4\n',
    );
    write('dfew-dups/EmoLabel_DataSplit/test(single-labeled)/set_1.csv', 'video_name,label\n00002,2\n3,3\n');
    write('dfew-dups/EmoLabel_DataSplit/train(single-labeled)/set_2.csv', 'video_name,label\n3,5\n1,1\n');
    write('dfew-dups/EmoLabel_DataSplit/test(single-labeled)/set_2.csv', 'video_name,label\n2,2\n');
    const a = readAnnotations(root);
    expect(a.folds['1']).toEqual({ train: ['00001', '00002', '00004'], test: ['00003'] });
    expect(a.folds['2']).toEqual({ train: ['00001'], test: ['00002'] });
    const reasons = a.issues
      .filter((i) => i.line !== undefined)
      .map((i) => `${i.file.split('/').slice(-2).join('/')}:${i.line} ${i.reason}`);
    expect(reasons).toEqual([
      expect.stringMatching(
        /^train\(single-labeled\)\/set_1\.csv:3 duplicate of clip 00001 in fold 1 train \(first at .*set_1\.csv:2; first kept\)$/,
      ),
      expect.stringMatching(/^train\(single-labeled\)\/set_1\.csv:5 clip id "abc" is not a DFEW clip number$/),
      expect.stringMatching(
        /^test\(single-labeled\)\/set_1\.csv:2 clip 00002 is in both train and test of fold 1 \(already in train at .*set_1\.csv:4; kept there only\)$/,
      ),
      expect.stringMatching(
        /^train\(single-labeled\)\/set_2\.csv:2 clip 00003 is labelled surprise here but neutral at .*test\(single-labeled\)\/set_1\.csv:3 \(first kept\)$/,
      ),
    ]);
  });
});

describe('ferv39k: 4_setups/All_scenes lists', () => {
  test('paths and label names; ids Scene_Emotion_clip; one fold', () => {
    const a = readAnnotations(FERV);
    expect(a.format).toBe('ferv39k');
    expect(a.issues).toEqual([]);
    expect(a.folds).toEqual({
      '1': {
        train: [
          'Action_Happy_0001',
          'Action_Sad_0010',
          'Argue_Angry_0002',
          'DailyLife_Neutral_0007',
          'Crime_Fear_0003',
          'Talkshow_Surprise_0004',
          'War_Disgust_0005',
        ],
        test: ['Action_Happy_0002', 'Speech_Sad_0001', 'School_Neutral_0011'],
      },
    });
    const m = byId(a);
    expect(m.get('Action_Sad_0010')).toEqual({
      id: 'Action_Sad_0010',
      label: 1,
      source: { kind: 'frames', dir: join(FERV, '2_ClipsforFaceCrop', 'Action', 'Sad', '0010') },
      origin: `${join(FERV, '4_setups', 'All_scenes', 'train_All.csv')}:2`,
    });
    expect(a.clips.map((c) => DFEW_CLASSES[c.label])).toEqual([
      'happiness',
      'sadness',
      'anger',
      'neutral',
      'fear',
      'surprise',
      'disgust',
      'happiness',
      'sadness',
      'neutral',
    ]);
    expect(readAnnotations(FERV, { root: '/data/FERV39k' }).clips[0].source).toEqual({
      kind: 'frames',
      dir: '/data/FERV39k/2_ClipsforFaceCrop/Action/Happy/0001',
    });
  });

  test('labels are names only; bad lines are issues; CRLF and BOM handled', () => {
    write(
      'ferv/4_setups/All_scenes/train_All.csv',
      '\ufeffAction/Happy/0001 Happy\r\nAction/Sad/0002 1\r\n\r\nAction/Sad/0003\r\nAction/Sad/0004 Sad extra\r\nAction/Contempt/0005 Contempt\r\nAction/Sad/0006 sad\r\n',
    );
    write('ferv/4_setups/All_scenes/test_All.csv', 'Action/Happy/0007 Happy\n');
    const a = readAnnotations(join(tmp, 'ferv'));
    expect(a.folds['1'].train).toEqual(['Action_Happy_0001', 'Action_Sad_0006']);
    expect(issueLines(a)).toEqual(['train_All.csv:2', 'train_All.csv:4', 'train_All.csv:5', 'train_All.csv:6']);
    expect(a.issues[0].reason).toMatch(/unknown label "1" \(FERV39k labels are a class name/);
    expect(a.issues[1].reason).toMatch(/expected 2 space-separated fields/);
  });

  test('the All_scenes folder as source; a missing test list is an issue', () => {
    const a = readAnnotations(join(FERV, '4_setups', 'All_scenes'));
    expect(a.clips[0].source).toEqual({
      kind: 'frames',
      dir: join(FERV, '2_ClipsforFaceCrop', 'Action', 'Happy', '0001'),
    });
    write('ferv-half/4_setups/All_scenes/train_All.csv', 'Action/Happy/0001 Happy\n');
    const half = readAnnotations(join(tmp, 'ferv-half'));
    expect(half.folds['1'].test).toEqual([]);
    expect(half.issues).toEqual([
      {
        file: join(tmp, 'ferv-half', '4_setups', 'All_scenes', 'test_All.csv'),
        reason: expect.stringMatching(/^missing/),
      },
    ]);
  });
});

describe('list: <frame dir> <frames> <label> lines', () => {
  const L = join(FIX, 'list');

  test('folds from set_<k>_<split>.txt names; listedFrames kept; every bad row an issue', () => {
    const a = readAnnotations(L);
    expect(a.format).toBe('list');
    expect(a.clips.map((c) => [c.id, c.label, c.listedFrames])).toEqual([
      ['00001', 0, 40],
      ['00002', 1, 12],
      ['00006', 1, 16],
      ['00007', 2, 20],
      ['00003', 2, 25],
    ]);
    expect(a.folds).toEqual({
      '1': { train: ['00001', '00002', '00006'], test: ['00007'] },
      '2': { train: ['00003', '00001'], test: ['00006'] },
    });
    expect(byId(a).get('00006')!.source).toEqual({ kind: 'frames', dir: join(L, 'dataset', '00006') });
    const reasons = a.issues.map((i) => `${i.file.split('/').pop()}:${i.line} ${i.reason}`);
    expect(reasons).toEqual([
      'set_1_train.txt:3 frame count "abc" is not a non-negative integer',
      'set_1_train.txt:4 expected 3 space-separated fields (frame folder, frame count, label), found 2',
      expect.stringMatching(/^set_1_train\.txt:5 unknown label "9" \(expected 0\.\.6 or a class name/),
      expect.stringMatching(
        /^set_1_train\.txt:6 duplicate of clip 00001 in fold 1 train \(first at .*set_1_train\.txt:1; first kept\)$/,
      ),
      expect.stringMatching(/^set_1_test\.txt:2 clip 00002 is in both train and test of fold 1/),
      expect.stringMatching(/^set_2_train\.txt:1 clip 00007 is labelled anger here but neutral at .*set_1_test\.txt:1/),
      expect.stringMatching(
        /^set_2_test\.txt:2 clip id "00006" \(.*other\/00006\) is already used by .*dataset\/00006 \(.*set_1_train\.txt:8\); ids must be unique$/,
      ),
    ]);
  });

  test('root, tabs, backslashes, trailing slashes, names as labels', () => {
    const f = write('lists/my_test_list.txt', 'clips\\a\\ 16 happy\nclips/b/\t20\tSad\n/abs/c  8  6\n');
    const a = readAnnotations(f, { root: '/data' });
    expect(a.folds['1'].test).toEqual(['a', 'b', 'c']);
    expect(a.clips.map((c) => [c.source, c.label])).toEqual([
      [{ kind: 'frames', dir: '/data/clips/a' }, 0],
      [{ kind: 'frames', dir: '/data/clips/b' }, 1],
      [{ kind: 'frames', dir: '/abs/c' }, 6],
    ]);
    expect(readAnnotations(f).clips[0].source).toEqual({ kind: 'frames', dir: join(tmp, 'lists', 'clips', 'a') });
  });

  test('a folder of train/test lists without set_<k> names is fold "1"', () => {
    write('plain/train.txt', 'x/1 10 0\n');
    write('plain/test.txt', 'x/2 10 1\n');
    write('plain/notes.md', 'not a list\n');
    expect(detectFormat(join(tmp, 'plain'))).toBe('list');
    expect(readAnnotations(join(tmp, 'plain')).folds).toEqual({ '1': { train: ['1'], test: ['2'] } });
  });
});

describe('csv: path,label[,split][,fold]', () => {
  const C = join(FIX, 'csv');

  test('names, indices and variants; frame folders and videos; split and fold columns with defaults', () => {
    const a = readAnnotations(join(C, 'clips.csv'));
    expect(a.format).toBe('csv');
    expect(a.clips.map((c) => [c.id, DFEW_CLASSES[c.label], c.source])).toEqual([
      ['frames_a', 'happiness', { kind: 'frames', dir: join(C, 'frames', 'a') }],
      ['frames_b', 'sadness', { kind: 'frames', dir: join(C, 'frames', 'b') }],
      ['frames_c', 'neutral', { kind: 'frames', dir: join(C, 'frames', 'c') }],
      ['videos_d', 'anger', { kind: 'video', file: join(C, 'videos', 'd.mp4') }],
      ['videos_e', 'surprise', { kind: 'video', file: join(C, 'videos', 'e.AVI') }],
      ['media_clip_c', 'disgust', { kind: 'video', file: join(C, 'media', 'clip_c.vid') }],
      ['frames_f', 'fear', { kind: 'frames', dir: join(C, 'frames', 'f') }],
    ]);
    expect(a.folds).toEqual({
      '1': { train: ['frames_a', 'frames_b', 'frames_f'], test: ['frames_c', 'videos_d'] },
      '2': { train: ['videos_e'], test: ['media_clip_c', 'frames_a'] },
    });
    expect(a.issues).toEqual([]);
    expect(a.clips[0].origin).toBe(`${join(C, 'clips.csv')}:2`);
  });

  test('a --classes list and indices against it; root', () => {
    const f = write('csv/c.csv', 'PATH,label\nv/1.mkv,0\nv/2.webm,cat\nv/3.mov,Dogs\nv/4.mov,2\n');
    const a = readAnnotations(f, { classes: ['cat', 'dogs'], root: '/videos' });
    expect(a.classes).toEqual(['cat', 'dogs']);
    expect(a.clips.map((c) => [c.id, c.label, c.source])).toEqual([
      ['v_1', 0, { kind: 'video', file: '/videos/v/1.mkv' }],
      ['v_2', 0, { kind: 'video', file: '/videos/v/2.webm' }],
      ['v_3', 1, { kind: 'video', file: '/videos/v/3.mov' }],
    ]);
    expect(issueLines(a)).toEqual(['c.csv:5']);
    expect(a.issues[0].reason).toBe('unknown label "2" (expected 0..1 or a class name (cat, dogs))');
  });

  test('bad rows: field counts, labels, splits, duplicates, quoting; BOM, CRLF, semicolons', () => {
    const text = [
      '\ufeffpath;label;split;fold',
      'a;happy;train;1',
      'b;happy;train',
      'c;nope;test;1',
      'd;sad;val;1',
      '',
      'a;happy;train;1',
      'a;happy;test;1',
      '"e;1";2;test;01',
      ';;;',
      'f;3;TEST;1',
    ].join('\r\n');
    const a = readAnnotations(write('csv/bad.csv', text));
    expect(a.folds).toEqual({ '1': { train: ['a'], test: ['e;1', 'f'] } });
    expect(a.clips.find((c) => c.id === 'e;1')!.label).toBe(2);
    expect(a.issues.map((i) => [i.line, i.reason])).toEqual([
      [3, 'expected 4 fields (path,label,split,fold), found 3'],
      [4, expect.stringMatching(/^unknown label "nope"/)],
      [5, 'split "val" is not train or test'],
      [7, expect.stringMatching(/^duplicate of clip a in fold 1 train/)],
      [8, expect.stringMatching(/^clip a is in both train and test of fold 1/)],
    ]);
  });

  test('a header without path and label is an AnnotationError that says what to pass', () => {
    expect(() => readAnnotations(write('csv/noheader.csv', 'file,emotion\nx,happy\n'))).toThrow(
      /has header "file,emotion": expected a header row with columns path,label/,
    );
    const dfewFile = join(DFEW, 'EmoLabel_DataSplit', 'train(single-labeled)', 'set_2.csv');
    expect(() => readAnnotations(dfewFile)).toThrow(/looks like a DFEW split file: pass the DFEW root/);
    const fervFile = join(FERV, '4_setups', 'All_scenes', 'train_All.csv');
    expect(() => readAnnotations(fervFile)).toThrow(/looks like a space-separated list/);
  });
});

describe('detectFormat and fatal errors', () => {
  test('auto-detection from layouts and extensions', () => {
    expect(detectFormat(DFEW)).toBe('dfew');
    expect(detectFormat(join(DFEW, 'EmoLabel_DataSplit'))).toBe('dfew');
    expect(detectFormat(FERV)).toBe('ferv39k');
    expect(detectFormat(join(FERV, '4_setups'))).toBe('ferv39k');
    expect(detectFormat(join(FIX, 'list'))).toBe('list');
    expect(detectFormat(join(FIX, 'list', 'set_1_test.txt'))).toBe('list');
    expect(detectFormat(join(FIX, 'csv', 'clips.csv'))).toBe('csv');
  });

  test('undetectable, missing, empty: one-line AnnotationErrors naming the path', () => {
    mkdirSync(join(tmp, 'nothing'), { recursive: true });
    const cases: [() => unknown, RegExp][] = [
      [
        () => detectFormat(join(tmp, 'nothing')),
        /cannot tell the annotation format of .*nothing: looked for EmoLabel_DataSplit\/.*4_setups\/All_scenes\/train_All\.csv.*set_<k>_train\.txt.*pass --format/,
      ],
      [() => readAnnotations(join(tmp, 'missing')), /annotation source not found: .*missing \(check the path/],
      [
        () => readAnnotations(join(tmp, 'nothing'), { format: 'dfew' }),
        /no DFEW split lists in .*nothing: expected EmoLabel_DataSplit\/train\(single-labeled\)\/set_1\.csv/,
      ],
      [
        () => readAnnotations(join(tmp, 'nothing'), { format: 'ferv39k' }),
        /no FERV39k setup lists in .*nothing: expected 4_setups\/All_scenes\/train_All\.csv/,
      ],
      [
        () => readAnnotations(join(tmp, 'nothing'), { format: 'list' }),
        /no annotation lists in .*nothing: expected set_<k>_train\.txt/,
      ],
      [() => readAnnotations(join(tmp, 'nothing'), { format: 'csv' }), /csv format needs a CSV file/],
      [
        () => readAnnotations(FERV, { format: 'xml' as never }),
        /unknown annotation format "xml": expected dfew, ferv39k, list, csv/,
      ],
      [
        () => readAnnotations(write('empty/set_1_train.txt', '\r\n\r\n')),
        /annotation list .*set_1_train\.txt is empty/,
      ],
      [() => readAnnotations(write('empty.csv', '\ufeff')), /CSV .*empty\.csv is empty/],
      [() => readAnnotations(write('headeronly.csv', 'path,label\n')), /no usable clips in .*headeronly\.csv/],
      [
        () => readAnnotations(write('bad/set_1_train.txt', 'a 1\nb x 2\n')),
        /no usable clips in .*set_1_train\.txt \(list format, 2 row\(s\) skipped\); first problem: .*set_1_train\.txt:1 expected 3/,
      ],
      [() => readAnnotations(FERV, { classes: ['a', 'A'] }), /classes: "A" repeats "a"/],
      [() => readAnnotations(FERV, { classes: [] }), /classes is empty/],
    ];
    for (const [fn, re] of cases) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AnnotationError);
      expect((err as Error).message).toMatch(re);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  test('a DFEW split file with only its header, an empty one, and split folders without lists', () => {
    write('dfew-empty/EmoLabel_DataSplit/train(single-labeled)/set_1.csv', 'video_name,label\r\n');
    write('dfew-empty/EmoLabel_DataSplit/test(single-labeled)/set_1.csv', '00001,1\n');
    expect(() => readAnnotations(join(tmp, 'dfew-empty'))).toThrow(
      /DFEW split list .*set_1\.csv has a header but no clips/,
    );
    write('dfew-empty/EmoLabel_DataSplit/train(single-labeled)/set_1.csv', '');
    expect(() => readAnnotations(join(tmp, 'dfew-empty'))).toThrow(/DFEW split list .*set_1\.csv is empty/);
    mkdirSync(join(tmp, 'dfew-none', 'EmoLabel_DataSplit', 'train(single-labeled)'), { recursive: true });
    expect(() => readAnnotations(join(tmp, 'dfew-none'))).toThrow(
      /no DFEW split lists in .*EmoLabel_DataSplit: expected train\(single-labeled\)\/set_1\.csv/,
    );
  });
});
