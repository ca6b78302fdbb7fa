// A miniature MAFW release on disk in the real layout: "Train & Test Set"/single/no_caption/set_{1..5}/{train,test}.txt
// with CRLF `00025.mp4 anger` lines, Labels/single-set.xlsx (written by write-excel-file; columns clip, the 11 classes,
// single_label 1..11 on Sheet1) and, on request, tiny real videos in data/clips/<id>.mp4 (made with ffmpeg).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import writeXlsxFile from 'write-excel-file/node';
import { MAFW_CLASSES } from '../../src/data/classes.js';
import { findFfmpeg } from '../../src/video/ffmpeg.js';

export interface MafwTreeClip {
  /** The clip's 5-digit number as the release writes it ("00025"). */
  id: string;
  /** The label the split lists give it (a MAFW class name, or anything, to test bad rows). */
  label: string;
  /**
   * What single-set.xlsx says: default the list's label as its 1-based index; another value (a number or a string) to
   * make the two disagree; null to leave the clip out of the spreadsheet.
   */
  sheet?: number | string | null;
}

export interface MafwTreeOptions {
  /** The folds whose lists are written (default 1..5); the others are left out. */
  folds?: number[];
  /** Write the split lists at all (default true). */
  lists?: boolean;
  /** Write Labels/single-set.xlsx (default true). */
  sheet?: boolean;
  /** Extra spreadsheet rows (clips in no list), as [clip cell, single_label]. */
  sheetOnly?: [string | number, number][];
  /** Write a 1-second 64x64 test video for every clip (default false; the annotation reader never opens them). */
  videos?: boolean;
}

export interface MafwTree {
  root: string;
  /** "Train & Test Set" */
  sets: string;
  /** "Train & Test Set"/single/no_caption */
  listDir: string;
  labels: string;
  clips: string;
}

/** Clip k (0-based) is in the test list of fold (k % 5) + 1 and in the train list of the other four, in given order. */
export async function makeMafwTree(root: string, clips: MafwTreeClip[], opts: MafwTreeOptions = {}): Promise<MafwTree> {
  const sets = join(root, 'Train & Test Set');
  const listDir = join(sets, 'single', 'no_caption');
  const tree: MafwTree = {
    root,
    sets,
    listDir,
    labels: join(root, 'Labels', 'single-set.xlsx'),
    clips: join(root, 'data', 'clips'),
  };
  if (opts.lists ?? true) {
    for (const fold of opts.folds ?? [1, 2, 3, 4, 5]) {
      const dir = join(listDir, `set_${fold}`);
      mkdirSync(dir, { recursive: true });
      const lines = (test: boolean) =>
        clips.filter((_, k) => (k % 5 === fold - 1) === test).map((c) => `${c.id}.mp4 ${c.label}\r\n`);
      writeFileSync(join(dir, 'train.txt'), lines(false).join(''));
      writeFileSync(join(dir, 'test.txt'), lines(true).join(''));
    }
  }
  if (opts.sheet ?? true) {
    mkdirSync(join(root, 'Labels'), { recursive: true });
    // Row 1 is the header; each row has the clip's file name, a column per class (values made up here: 3 for the
    // labelled class; the reader does not use them) and single_label, MAFW's 1-based class number.
    const rows: (string | number)[][] = [['clip', ...MAFW_CLASSES, 'single_label']];
    for (const c of clips) {
      const index = MAFW_CLASSES.indexOf(c.label as (typeof MAFW_CLASSES)[number]) + 1;
      const single = c.sheet === undefined ? index : c.sheet;
      if (single === null) continue;
      rows.push([`${c.id}.mp4`, ...MAFW_CLASSES.map((_, i) => (i + 1 === index ? 3 : 0)), single]);
    }
    for (const [clip, single] of opts.sheetOnly ?? []) rows.push([clip, ...MAFW_CLASSES.map(() => 0), single]);
    await writeXlsxFile(rows, { sheet: 'Sheet1' }).toFile(tree.labels);
  }
  if (opts.videos) {
    const ffmpeg = findFfmpeg().found?.path;
    if (!ffmpeg) throw new Error('makeMafwTree: videos requested but no ffmpeg found');
    mkdirSync(tree.clips, { recursive: true });
    for (const c of clips) {
      const args = [
        '-v',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=64x64:rate=10',
        '-t',
        '1',
        '-pix_fmt',
        'yuv420p',
        join(tree.clips, `${c.id}.mp4`),
      ];
      const r = spawnSync(ffmpeg, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`makeMafwTree: ffmpeg failed for ${c.id}: ${r.stderr}`);
    }
  }
  return tree;
}
