// Every dataset annotation format dfer reads, parsed into one normalised form: clips (id, label, where the frames or
// the video are), folds of clip ids, and every skipped row with its file, line and reason.
// Only annotation files are read here, and directories listed to detect a layout; frames are counted by the caller.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, posix, resolve, sep } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { DFEW_CLASSES } from '../config.js';
import { AnnotationError, describeLabels, labelResolver, MAFW_CLASSES, validateClasses } from './classes.js';

export { AnnotationError };

export const SOURCE_FORMATS = ['dfew', 'ferv39k', 'list', 'csv', 'mafw'] as const;
export type SourceFormat = (typeof SOURCE_FORMATS)[number];
export const DFEW_FRAMES = ['clip_224x224', 'clip_224x224_16f', 'original'] as const;
export type DfewFrames = (typeof DFEW_FRAMES)[number];

export type ClipSource = { kind: 'frames'; dir: string } | { kind: 'video'; file: string };

export interface AnnotatedClip {
  /**
   * Unique within one Annotations. dfew: the 5-digit clip id ("00001"); ferv39k: the clip path with "/" -> "_"
   * ("Action_Sad_0010"); list: the frame folder's basename; csv: the path without a video extension, "/" -> "_";
   * mafw: the video's name without its extension ("00025").
   */
  id: string;
  /** Index into Annotations.classes. */
  label: number;
  /** Absolute path of the frame folder or the video file (not checked to exist). */
  source: ClipSource;
  /** list format: the frame count written in the list (of the clip's first listing); may disagree with the disk. */
  listedFrames?: number;
  /** "file:line" of the clip's first listing. */
  origin: string;
}

export interface AnnotationIssue {
  file: string;
  line?: number;
  reason: string;
  /** The row could not be read, so its clip is skipped. */
  dropped?: boolean;
}

export interface Annotations {
  format: SourceFormat;
  classes: string[];
  /** Unique by id, in first-seen order (folds in numeric order, train list before test list). */
  clips: AnnotatedClip[];
  /** Fold name ("1".."5") -> clip ids, in listing order. */
  folds: Record<string, { train: string[]; test: string[] }>;
  /** Every skipped row (and skipped list file), with file, line and reason. Blank lines are not issues. */
  issues: AnnotationIssue[];
}

export interface ReadOptions {
  /** Skip auto-detection. */
  format?: SourceFormat;
  /** dfew: which copy of the clips the sources point at (default clip_224x224; original = Clip/original/<id>.mp4). */
  frames?: DfewFrames;
  /**
   * Where clip paths are resolved. list: default the list's directory; csv: default the CSV's directory;
   * dfew / ferv39k: the dataset root holding Clip/ or 2_ClipsforFaceCrop/ (default: the root found from the source);
   * mafw: the MAFW root holding data/clips/, or the folder of the videos itself.
   */
  root?: string;
  /**
   * Class list labels are resolved against (default DFEW_CLASSES; MAFW_CLASSES for mafw). dfew's numeric labels and
   * mafw's names are mapped by name.
   */
  classes?: string[];
  /**
   * mafw: Labels/single-set.xlsx as readMafwLabels read it, to cross-check the split lists' labels (null: do not).
   * The spreadsheet reader is asynchronous only, so readAnnotations cannot read it itself: readAnnotationsAsync reads
   * it first, and readAnnotations without it reads the lists unchecked.
   */
  mafwLabels?: MafwLabelSheet | null;
}

type Split = 'train' | 'test';

/** Extensions ffmpeg typically reads, treated as videos in generic CSVs. */
export const VIDEO_EXTENSIONS = new Set([
  '.mp4',
  '.avi',
  '.mkv',
  '.mov',
  '.webm',
  '.mpg',
  '.mpeg',
  '.m4v',
  '.wmv',
  '.flv',
  '.3gp',
]);

// ---------------------------------------------------------------------------------------------------------------
// Layouts

const DFEW_SPLIT_DIR = 'EmoLabel_DataSplit';
const DFEW_TRAIN = 'train(single-labeled)';
const DFEW_TEST = 'test(single-labeled)';
const FERV_SETUP = join('4_setups', 'All_scenes');
const FERV_FRAMES = '2_ClipsforFaceCrop';
const LIST_NAME = /^set_(\d+)_(train|test)\.txt$/i;

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};
const entries = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** DFEW: the EmoLabel_DataSplit folder and the dataset root (holding Clip/), from the root or the split folder. */
function dfewLayout(source: string): { splitDir: string; root: string } | null {
  if (isDir(join(source, DFEW_SPLIT_DIR))) return { splitDir: join(source, DFEW_SPLIT_DIR), root: source };
  const names = entries(source);
  if (names.some((n) => /^(train|test)\(.*single.*\)$/i.test(n)))
    return { splitDir: source, root: dirname(resolve(source)) };
  return null;
}

/** The train or test folder of DFEW's split lists: `train(single-labeled)`, or a re-saved variant of the name. */
function dfewSplitFolder(splitDir: string, split: Split): string | null {
  const exact = join(splitDir, split === 'train' ? DFEW_TRAIN : DFEW_TEST);
  if (isDir(exact)) return exact;
  const re = new RegExp(`^${split}[^a-z]*single`, 'i');
  const found = entries(splitDir).find((n) => re.test(n) && isDir(join(splitDir, n)));
  return found ? join(splitDir, found) : null;
}

/** FERV39k: the All_scenes setup folder and the dataset root (holding 2_ClipsforFaceCrop/). */
function fervLayout(source: string): { setupDir: string; root: string } | null {
  if (isFile(join(source, FERV_SETUP, 'train_All.csv')) || isFile(join(source, FERV_SETUP, 'test_All.csv'))) {
    return { setupDir: join(source, FERV_SETUP), root: source };
  }
  if (isFile(join(source, 'All_scenes', 'train_All.csv')) || isFile(join(source, 'All_scenes', 'test_All.csv'))) {
    return { setupDir: join(source, 'All_scenes'), root: dirname(resolve(source)) };
  }
  if (isFile(join(source, 'train_All.csv')) || isFile(join(source, 'test_All.csv'))) {
    return { setupDir: source, root: dirname(dirname(resolve(source))) };
  }
  return null;
}

const MAFW_SETS = 'Train & Test Set';
const MAFW_LISTS = join('single', 'no_caption');
const MAFW_LABELS = join('Labels', 'single-set.xlsx');
const MAFW_CLIPS = join('data', 'clips');

/** The "Train & Test Set" folder of a MAFW root: the release's name, or a copy renamed without blanks or "&". */
function mafwSetsFolder(root: string): string | null {
  const exact = join(root, MAFW_SETS);
  if (isDir(exact)) return exact;
  const found = entries(root).find(
    (n) => /^train[\s_&-]*(and[\s_-]*)?test[\s_-]*set$/i.test(n) && isDir(join(root, n)),
  );
  return found ? join(root, found) : null;
}

/**
 * MAFW: the folder of the single-label lists without captions (set_<k>/{train,test}.txt), the dataset root (holding
 * data/clips/) and Labels/single-set.xlsx if there, from the root or from the "Train & Test Set" folder.
 */
function mafwLayout(source: string): { listDir: string; root: string; labels: string | null } | null {
  const labelsIn = (root: string) => (isFile(join(root, MAFW_LABELS)) ? join(root, MAFW_LABELS) : null);
  const sets = mafwSetsFolder(source);
  const labels = labelsIn(source);
  if (sets || labels) return { listDir: join(sets ?? join(source, MAFW_SETS), MAFW_LISTS), root: source, labels };
  if (isDir(join(source, MAFW_LISTS))) {
    const root = dirname(resolve(source));
    return { listDir: join(source, MAFW_LISTS), root, labels: labelsIn(root) };
  }
  return null;
}

/** The list files of a list-format folder: set_<k>_{train,test}.txt, else any *.txt with train/test in its name. */
function listFiles(dir: string): { file: string; fold: string; split: Split }[] {
  const names = entries(dir).sort();
  const sets = names.flatMap((n) => {
    const m = LIST_NAME.exec(n);
    return m && isFile(join(dir, n))
      ? [{ file: join(dir, n), fold: String(Number(m[1])), split: m[2].toLowerCase() as Split }]
      : [];
  });
  if (sets.length) return sets;
  return names
    .filter((n) => /\.txt$/i.test(n) && /train|test/i.test(n) && isFile(join(dir, n)))
    .map((n) => ({ file: join(dir, n), fold: '1', split: splitFromName(n) }));
}

/** A list file's split from its name: "test" in it (and not "train") means test; anything else train. */
function splitFromName(file: string): Split {
  const n = basename(file).toLowerCase();
  return n.includes('test') && !n.includes('train') ? 'test' : 'train';
}

const LOOKED_FOR =
  `${DFEW_SPLIT_DIR}/${DFEW_TRAIN}/set_<k>.csv (DFEW root), ${FERV_SETUP.replace(/\\/g, '/')}/train_All.csv (FERV39k root), ` +
  `"${MAFW_SETS}" or ${MAFW_LABELS.replace(/\\/g, '/')} (MAFW root), ` +
  'set_<k>_train.txt / set_<k>_test.txt lists (list), or a .txt list / .csv file';

function requireSource(source: string): void {
  if (typeof source !== 'string' || !source)
    throw new AnnotationError('no annotation source given: pass a dataset root, a list file or a CSV');
  if (!existsSync(source))
    throw new AnnotationError(
      `annotation source not found: ${source} (check the path; it should be a dataset root, a list file or a CSV)`,
    );
}

/** The format of an annotation source, from its layout (folders) or its extension (files). */
export function detectFormat(source: string): SourceFormat {
  requireSource(source);
  if (isFile(source)) return extname(source).toLowerCase() === '.csv' ? 'csv' : 'list';
  if (!isDir(source)) throw new AnnotationError(`annotation source is neither a file nor a folder: ${source}`);
  if (dfewLayout(source)) return 'dfew';
  if (fervLayout(source)) return 'ferv39k';
  if (mafwLayout(source)) return 'mafw';
  if (listFiles(source).length) return 'list';
  throw new AnnotationError(
    `cannot tell the annotation format of ${source}: looked for ${LOOKED_FOR}; pass --format or point at the file`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Collecting clips into folds, with every duplicate and conflict reported

interface Row {
  id: string;
  label: number;
  source: ClipSource;
  listedFrames?: number;
  fold: string;
  split: Split;
  file: string;
  line: number;
}

class Collector {
  readonly clips = new Map<string, AnnotatedClip>();
  readonly folds = new Map<string, Record<Split, Map<string, string>>>();
  readonly issues: AnnotationIssue[] = [];
  rows = 0;

  constructor(readonly classes: string[]) {}

  issue(file: string, line: number | undefined, reason: string): void {
    this.issues.push(line === undefined ? { file, reason } : { file, line, reason });
  }

  /** A row that cannot be read: its clip is skipped (counted and reported by `dfer prepare`, exit 4). */
  drop(file: string, line: number | undefined, reason: string): void {
    this.issues.push({ file, ...(line === undefined ? {} : { line }), reason, dropped: true });
  }

  fold(name: string): Record<Split, Map<string, string>> {
    let f = this.folds.get(name);
    if (!f) this.folds.set(name, (f = { train: new Map(), test: new Map() }));
    return f;
  }

  add(r: Row): void {
    this.rows++;
    const origin = `${r.file}:${r.line}`;
    const where = sourcePath(r.source);
    const prev = this.clips.get(r.id);
    if (prev) {
      if (sourcePath(prev.source) !== where) {
        return this.issue(
          r.file,
          r.line,
          `clip id "${r.id}" (${where}) is already used by ${sourcePath(prev.source)} (${prev.origin}); ids must be unique`,
        );
      }
      if (prev.label !== r.label) {
        return this.issue(
          r.file,
          r.line,
          `clip ${r.id} is labelled ${this.classes[r.label]} here but ${this.classes[prev.label]} at ${prev.origin} (first kept)`,
        );
      }
    }
    const fold = this.fold(r.fold);
    const same = fold[r.split].get(r.id);
    if (same !== undefined)
      return this.issue(
        r.file,
        r.line,
        `duplicate of clip ${r.id} in fold ${r.fold} ${r.split} (first at ${same}; first kept)`,
      );
    const other: Split = r.split === 'train' ? 'test' : 'train';
    const there = fold[other].get(r.id);
    if (there !== undefined) {
      return this.issue(
        r.file,
        r.line,
        `clip ${r.id} is in both train and test of fold ${r.fold} (already in ${other} at ${there}; kept there only)`,
      );
    }
    fold[r.split].set(r.id, origin);
    if (!prev) {
      const clip: AnnotatedClip = { id: r.id, label: r.label, source: r.source, origin };
      if (r.listedFrames !== undefined) clip.listedFrames = r.listedFrames;
      this.clips.set(r.id, clip);
    }
  }

  finish(format: SourceFormat, source: string): Annotations {
    if (this.clips.size === 0) {
      const first = this.issues.find((i) => i.line !== undefined) ?? this.issues[0];
      const eg = first
        ? `; first problem: ${first.file}${first.line !== undefined ? `:${first.line}` : ''} ${first.reason}`
        : '';
      throw new AnnotationError(
        `no usable clips in ${source} (${format} format, ${this.issues.length} row(s) skipped)${eg}`,
      );
    }
    const names = [...this.folds.keys()].sort((a, b) => foldOrder(a, b));
    const folds: Annotations['folds'] = {};
    for (const n of names) {
      const f = this.folds.get(n)!;
      folds[n] = { train: [...f.train.keys()], test: [...f.test.keys()] };
    }
    return { format, classes: this.classes, clips: [...this.clips.values()], folds, issues: this.issues };
  }
}

const sourcePath = (s: ClipSource) => (s.kind === 'frames' ? s.dir : s.file);

function foldOrder(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading files

/** A text file without its UTF-8 BOM; an AnnotationError when it cannot be read or holds nothing but blanks. */
function readText(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AnnotationError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (!text.trim()) throw new AnnotationError(`${what} ${file} is empty: re-download or regenerate it, or remove it`);
  return text;
}

/** Whitespace-separated lines: [line number, fields] of each non-blank line (CR, CRLF and LF line endings). */
function textRows(text: string): [number, string[]][] {
  const lines = text.includes('\r') ? text.split(/\r\n|\n|\r/) : text.split('\n');
  const rows: [number, string[]][] = [];
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (!t) continue;
    // One space between fields is the common case; tabs and runs of blanks take the regular expression.
    rows.push([i + 1, t.includes('  ') || t.includes('\t') ? t.split(/[ \t]+/) : t.split(' ')]);
  }
  return rows;
}

/** CSV records with their line numbers (csv-parse; BOM, CRLF, quotes). Bad quoting becomes an issue. */
function csvRows(text: string, file: string, col: Collector): [number, string[]][] {
  const firstLine = text.slice(0, text.search(/\r|\n|$/));
  const delimiter = firstLine.includes(',')
    ? ','
    : firstLine.includes(';')
      ? ';'
      : firstLine.includes('\t')
        ? '\t'
        : ',';
  const records = parseCsv(text, {
    bom: true,
    delimiter,
    info: true,
    trim: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (err) => {
      if (err) col.issue(file, (err as { lines?: number }).lines, `unreadable CSV: ${err.message}`);
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];
  // Rows of empty fields only (",," as spreadsheets save blank rows) are blank lines.
  return records.filter((r) => r.record.some((f) => f !== '')).map((r) => [r.info.lines, r.record]);
}

const show = (s: string) => JSON.stringify(s);

/** A clip path as written, normalised to forward slashes without "./" and trailing slashes. */
function cleanPath(p: string): string {
  let s = p.includes('\\') ? p.replace(/\\/g, '/') : p;
  // The common "./dataset/00001" needs no normalising (fast path: lists have ~10k lines each).
  if (s.startsWith('./')) s = s.slice(2);
  if (s.includes('//') || s.includes('./') || s.endsWith('/.') || s.endsWith('/..') || s === '..')
    s = posix.normalize(s);
  while (s.endsWith('/') && s.length > 1) s = s.slice(0, -1);
  return s === '.' ? '' : s;
}

/** An absolute path for a cleaned relative (or absolute) clip path: resolve(root, path) without its cost per row. */
function under(rootAbs: string, path: string): string {
  if (sep === '/' && !path.startsWith('/') && !path.startsWith('..'))
    return rootAbs === '/' ? `/${path}` : `${rootAbs}/${path}`;
  return resolve(rootAbs, path);
}

// ---------------------------------------------------------------------------------------------------------------
// dfew: EmoLabel_DataSplit/{train,test}(single-labeled)/set_{1..5}.csv, `video_name,label`, labels 1..7

function readDfew(source: string, opts: ReadOptions, classes: string[]): Annotations {
  const layout = dfewLayout(source);
  if (!layout) {
    throw new AnnotationError(
      `no DFEW split lists in ${source}: expected ${DFEW_SPLIT_DIR}/${DFEW_TRAIN}/set_1.csv ... (pass the DFEW root, the folder holding ${DFEW_SPLIT_DIR} and Clip)`,
    );
  }
  const frames = opts.frames ?? 'clip_224x224';
  if (!(DFEW_FRAMES as readonly string[]).includes(frames)) {
    throw new AnnotationError(`unknown DFEW frames "${frames}": expected ${DFEW_FRAMES.join(', ')}`);
  }
  const clipRoot = resolve(opts.root ?? layout.root);
  const col = new Collector(classes);
  // DFEW's labels 1..7 are its own classes; they are mapped by name onto the class list (which may differ).
  const byName = labelResolver(classes, { indices: false });
  const toClass = DFEW_CLASSES.map((c) => byName(c));
  const dirs = { train: dfewSplitFolder(layout.splitDir, 'train'), test: dfewSplitFolder(layout.splitDir, 'test') };
  let found = 0;
  for (let k = 1; k <= 5; k++) {
    const files = {
      train: dirs.train && join(dirs.train, `set_${k}.csv`),
      test: dirs.test && join(dirs.test, `set_${k}.csv`),
    };
    const have = { train: !!files.train && isFile(files.train), test: !!files.test && isFile(files.test) };
    if (have.train || have.test) found++;
    if (!have.train || !have.test) {
      const lacking = (['train', 'test'] as const).filter((s) => !have[s]);
      const path = (s: Split) =>
        files[s] ?? join(layout.splitDir, s === 'train' ? DFEW_TRAIN : DFEW_TEST, `set_${k}.csv`);
      col.issue(
        path(lacking[0]),
        undefined,
        `missing: fold ${k} has no ${lacking.join(' or ')} list, so fold ${k} is skipped`,
      );
      continue;
    }
    for (const split of ['train', 'test'] as const)
      readDfewCsv(files[split]!, String(k), split, { frames, clipRoot, toClass }, col);
  }
  if (!found) {
    throw new AnnotationError(
      `no DFEW split lists in ${layout.splitDir}: expected ${DFEW_TRAIN}/set_1.csv .. set_5.csv and ${DFEW_TEST}/set_1.csv .. set_5.csv (re-extract EmoLabel_DataSplit from the DFEW release)`,
    );
  }
  return col.finish('dfew', source);
}

const dfewLabel = labelResolver(DFEW_CLASSES, { base: 1 });

interface DfewContext {
  frames: DfewFrames;
  clipRoot: string;
  /** DFEW class index -> index into the class list (null: not in it). */
  toClass: (number | null)[];
}

function readDfewCsv(
  file: string,
  fold: string,
  split: Split,
  { frames, clipRoot, toClass }: DfewContext,
  col: Collector,
): void {
  const rows = csvRows(readText(file, 'DFEW split list'), file, col);
  let start = 0;
  // The header `video_name,label` (tools re-saving the CSVs sometimes drop it): a first row not starting with a number.
  if (rows.length && !/^\d/.test(rows[0][1][0])) start = 1;
  if (rows.length <= start)
    throw new AnnotationError(`DFEW split list ${file} has a header but no clips: re-extract it from the DFEW release`);
  for (let i = start; i < rows.length; i++) {
    const [line, f] = rows[i];
    if (f.length !== 2) {
      col.drop(file, line, `expected 2 fields (video_name,label), found ${f.length}`);
      continue;
    }
    const m = /^0*(\d+?)(\.0*)?(\.mp4)?$/i.exec(f[0]);
    if (!m) {
      col.drop(file, line, `clip id ${show(f[0])} is not a DFEW clip number`);
      continue;
    }
    const id = m[1].padStart(5, '0');
    const dfew = dfewLabel(f[1]);
    if (dfew === null) {
      col.drop(file, line, `unknown label ${show(f[1])} (DFEW labels are ${describeLabels(DFEW_CLASSES, 1)})`);
      continue;
    }
    const label = toClass[dfew];
    if (label === null) {
      col.issue(
        file,
        line,
        `label ${f[1]} (${DFEW_CLASSES[dfew]}) is not one of the classes ${col.classes.join(', ')}`,
      );
      continue;
    }
    const source: ClipSource =
      frames === 'original'
        ? { kind: 'video', file: join(clipRoot, 'Clip', 'original', `${id}.mp4`) }
        : { kind: 'frames', dir: join(clipRoot, 'Clip', frames, id) };
    col.add({ id, label, source, fold, split, file, line });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ferv39k: 4_setups/All_scenes/{train,test}_All.csv, no header, `Scene/Emotion/0010 Emotion`

function readFerv(source: string, opts: ReadOptions, classes: string[]): Annotations {
  const layout = fervLayout(source);
  if (!layout) {
    throw new AnnotationError(
      `no FERV39k setup lists in ${source}: expected ${FERV_SETUP.replace(/\\/g, '/')}/train_All.csv and test_All.csv (pass the FERV39k root, the folder holding 4_setups and ${FERV_FRAMES})`,
    );
  }
  const framesRoot = join(resolve(opts.root ?? layout.root), FERV_FRAMES);
  const col = new Collector(classes);
  const byName = labelResolver(classes, { indices: false });
  for (const split of ['train', 'test'] as const) {
    const file = join(layout.setupDir, `${split}_All.csv`);
    if (!isFile(file)) {
      col.issue(file, undefined, `missing: FERV39k has no ${split} list here, so there are no ${split} clips`);
      continue;
    }
    for (const [line, f] of textRows(readText(file, 'FERV39k setup list'))) {
      if (f.length !== 2) {
        col.drop(file, line, `expected 2 space-separated fields (Scene/Emotion/clip Emotion), found ${f.length}`);
        continue;
      }
      const path = cleanPath(f[0]);
      if (!path || path.startsWith('..') || path.startsWith('/')) {
        col.drop(file, line, `clip path ${show(f[0])} is not a Scene/Emotion/clip path`);
        continue;
      }
      // Labels are names: repositories disagree on FERV39k's indices, so numbers are refused.
      const label = byName(f[1]);
      if (label === null) {
        col.drop(file, line, `unknown label ${show(f[1])} (FERV39k labels are ${describeLabels(classes, 0, false)})`);
        continue;
      }
      col.add({
        id: path.replace(/\//g, '_'),
        label,
        source: { kind: 'frames', dir: under(framesRoot, path) },
        fold: '1',
        split,
        file,
        line,
      });
    }
  }
  return col.finish('ferv39k', source);
}

// ---------------------------------------------------------------------------------------------------------------
// list: `<frame dir> <num frames> <label 0-based>` per line

function readList(source: string, opts: ReadOptions, classes: string[]): Annotations {
  let files: { file: string; fold: string; split: Split }[];
  if (isFile(source)) files = [{ file: source, fold: '1', split: splitFromName(source) }];
  else {
    files = listFiles(source);
    if (!files.length) {
      throw new AnnotationError(
        `no annotation lists in ${source}: expected set_<k>_train.txt and set_<k>_test.txt (or pass one list file)`,
      );
    }
    files.sort((a, b) => foldOrder(a.fold, b.fold) || (a.split === b.split ? 0 : a.split === 'train' ? -1 : 1));
  }
  const col = new Collector(classes);
  const toLabel = labelResolver(classes);
  for (const { file, fold, split } of files) {
    const root = resolve(opts.root ?? dirname(file));
    // The official lists name folders ./dataset/<id> relative to their repository; when --root points at the frame
    // folders themselves (root/<id>), resolve by the folder name. Decided once per list, from its first row.
    let byName: boolean | undefined;
    const frameDir = (path: string) => {
      byName ??= !existsSync(under(root, path)) && existsSync(join(root, basename(path)));
      return byName ? join(root, basename(path)) : under(root, path);
    };
    for (const [line, f] of textRows(readText(file, 'annotation list'))) {
      if (f.length !== 3) {
        col.drop(file, line, `expected 3 space-separated fields (frame folder, frame count, label), found ${f.length}`);
        continue;
      }
      if (!/^\d+$/.test(f[1])) {
        col.drop(file, line, `frame count ${show(f[1])} is not a non-negative integer`);
        continue;
      }
      const label = toLabel(f[2]);
      if (label === null) {
        col.drop(file, line, `unknown label ${show(f[2])} (expected ${describeLabels(classes, 0)})`);
        continue;
      }
      const path = cleanPath(f[0]);
      const id = basename(path);
      if (!id || id === '.' || id === '..') {
        col.drop(file, line, `frame folder ${show(f[0])} has no name to use as the clip id`);
        continue;
      }
      col.add({
        id,
        label,
        source: { kind: 'frames', dir: frameDir(path) },
        listedFrames: Number(f[1]),
        fold,
        split,
        file,
        line,
      });
    }
  }
  return col.finish('list', source);
}

// ---------------------------------------------------------------------------------------------------------------
// csv: header `path,label[,split][,fold]`

function readGenericCsv(source: string, opts: ReadOptions, classes: string[]): Annotations {
  if (!isFile(source))
    throw new AnnotationError(`csv format needs a CSV file, but ${source} is a folder: pass the file`);
  const col = new Collector(classes);
  const rows = csvRows(readText(source, 'CSV'), source, col);
  if (!rows.length) throw new AnnotationError(`CSV ${source} has no rows`);
  const [headerLine, header] = rows[0];
  const names = header.map((h) => h.toLowerCase());
  const at = {
    path: names.indexOf('path'),
    label: names.indexOf('label'),
    split: names.indexOf('split'),
    fold: names.indexOf('fold'),
  };
  if (at.path < 0 || at.label < 0) {
    let hint = 'a header row with columns path,label and optionally split,fold';
    if (names[0] === 'video_name')
      hint += '; this looks like a DFEW split file: pass the DFEW root (the folder holding EmoLabel_DataSplit) instead';
    else if (header.length === 1 && /\S\s+\S/.test(header[0]))
      hint +=
        '; this looks like a space-separated list: FERV39k lists are read from the FERV39k root (--format ferv39k), others with --format list';
    throw new AnnotationError(`CSV ${source}:${headerLine} has header ${show(header.join(','))}: expected ${hint}`);
  }
  const root = resolve(opts.root ?? dirname(source));
  const toLabel = labelResolver(classes);
  for (let i = 1; i < rows.length; i++) {
    const [line, f] = rows[i];
    if (f.length !== header.length) {
      col.drop(source, line, `expected ${header.length} fields (${header.join(',')}), found ${f.length}`);
      continue;
    }
    const raw = f[at.path];
    const path = cleanPath(raw);
    if (!path || path === '.') {
      col.drop(source, line, 'empty path');
      continue;
    }
    const label = toLabel(f[at.label]);
    if (label === null) {
      col.drop(source, line, `unknown label ${show(f[at.label])} (expected ${describeLabels(classes, 0)})`);
      continue;
    }
    const splitRaw = at.split >= 0 ? f[at.split].toLowerCase() : '';
    if (splitRaw && splitRaw !== 'train' && splitRaw !== 'test') {
      col.drop(source, line, `split ${show(f[at.split])} is not train or test`);
      continue;
    }
    const foldRaw = at.fold >= 0 ? f[at.fold] : '';
    if (foldRaw && !/^[\w.-]+$/.test(foldRaw)) {
      col.drop(source, line, `fold ${show(foldRaw)} is not a fold name (a number like 1..5)`);
      continue;
    }
    const fold = !foldRaw ? '1' : /^\d+$/.test(foldRaw) ? String(Number(foldRaw)) : foldRaw;
    const full = under(root, path);
    const ext = posix.extname(path);
    const video = VIDEO_EXTENSIONS.has(ext.toLowerCase()) || isFile(full);
    const stem = video && ext ? path.slice(0, -ext.length) : path;
    const id = stem
      .replace(/^(\.\.\/)+/, '')
      .replace(/^\/+/, '')
      .replace(/\//g, '_');
    const src: ClipSource = video ? { kind: 'video', file: full } : { kind: 'frames', dir: full };
    col.add({ id, label, source: src, fold, split: (splitRaw || 'train') as Split, file: source, line });
  }
  return col.finish('csv', source);
}

// ---------------------------------------------------------------------------------------------------------------
// mafw: "Train & Test Set"/single/no_caption/set_{1..5}/{train,test}.txt, `00025.mp4 anger` (CRLF), no header;
// videos in data/clips/<id>.mp4; Labels/single-set.xlsx (header row: clip, a column per class, single_label 1..11)

/**
 * Labels/single-set.xlsx as readMafwLabels read it: the rows of its first sheet (rows[i] is sheet row i + 1), or why
 * it could not be read.
 */
export interface MafwLabelSheet {
  file: string;
  rows?: unknown[][];
  error?: string;
}

/**
 * Reads MAFW's Labels/single-set.xlsx with read-excel-file (asynchronous only; imported here, on first use, so that
 * commands that never read a spreadsheet do not load it). Never throws: an unreadable file is reported by the reader.
 */
export async function readMafwLabels(file: string): Promise<MafwLabelSheet> {
  try {
    const { readSheet } = await import('read-excel-file/node');
    return { file, rows: (await readSheet(file)) as unknown[][] };
  } catch (e) {
    return { file, error: (e as Error).message };
  }
}

/**
 * A MAFW clip id from a clip file name as the lists and the spreadsheet write it ("00025.mp4" -> "00025"); a bare
 * number of fewer than 5 digits (a spreadsheet that dropped the zeros) is padded. Null when it is not a file name.
 */
function mafwClipId(raw: unknown): string | null {
  let s =
    typeof raw === 'number'
      ? Number.isInteger(raw) && raw >= 0
        ? String(raw)
        : ''
      : typeof raw === 'string'
        ? raw.trim()
        : '';
  if (!s || s.includes('/') || s.includes('\\')) return null;
  const ext = extname(s);
  if (ext && VIDEO_EXTENSIONS.has(ext.toLowerCase())) s = s.slice(0, -ext.length);
  if (!s || s === '.' || s === '..') return null;
  return /^\d{1,4}$/.test(s) ? s.padStart(5, '0') : s;
}

/** Clip id -> [sheet row, MAFW class index] of single-set.xlsx; null (and an issue) when its layout is not the release's. */
function mafwSheetLabels(sheet: MafwLabelSheet, col: Collector): Map<string, [number, number]> | null {
  const file = sheet.file;
  const skip = (why: string) => {
    col.issue(file, undefined, `${why}, so the split lists' labels are not cross-checked against it`);
    return null;
  };
  if (!sheet.rows) return skip(`cannot read it (${sheet.error ?? 'unknown error'}; re-download it, or remove it)`);
  const text = (v: unknown) => (v === null || v === undefined ? '' : String(v).trim());
  // The release's header is row 1 (clip, anger, ..., disappointment, single_label); a title row above it is tolerated.
  const headerAt = sheet.rows
    .slice(0, 10)
    .findIndex((r) => Array.isArray(r) && r.some((c) => text(c).toLowerCase() === 'clip'));
  if (headerAt < 0)
    return skip(
      'has no header row with a "clip" column (the release has clip, anger, ..., disappointment, single_label)',
    );
  const header = sheet.rows[headerAt].map((c) => text(c).toLowerCase());
  const at = { clip: header.indexOf('clip'), label: header.findIndex((h) => /^single[\s_-]*label$/.test(h)) };
  if (at.label < 0) return skip(`row ${headerAt + 1} has no "single_label" column (the release's last column)`);
  const mafwLabel = labelResolver(MAFW_CLASSES, { base: 1 });
  const labels = new Map<string, [number, number]>();
  for (let i = headerAt + 1; i < sheet.rows.length; i++) {
    const r = sheet.rows[i] ?? [];
    if (!r.some((c) => text(c))) continue;
    const row = i + 1;
    const id = mafwClipId(r[at.clip]);
    if (!id) {
      col.issue(file, row, `clip ${show(text(r[at.clip]))} is not a clip file name like 00025.mp4 (row not used)`);
      continue;
    }
    const label = mafwLabel(text(r[at.label]));
    if (label === null) {
      col.issue(
        file,
        row,
        `single_label ${show(text(r[at.label]))} of clip ${id} is not ${describeLabels(MAFW_CLASSES, 1)} (row not used)`,
      );
      continue;
    }
    const prev = labels.get(id);
    if (prev) {
      col.issue(file, row, `clip ${id} is listed again (first at row ${prev[0]}; first kept)`);
      continue;
    }
    labels.set(id, [row, label]);
  }
  return labels;
}

function readMafw(source: string, opts: ReadOptions, classes: string[]): Annotations {
  const layout = mafwLayout(source);
  if (!layout) {
    throw new AnnotationError(
      `no MAFW split lists in ${source}: expected "${MAFW_SETS}"/single/no_caption/set_1/train.txt ... (pass the MAFW root, the folder holding "${MAFW_SETS}", Labels and data)`,
    );
  }
  const root = resolve(opts.root ?? layout.root);
  // The release ships its videos flat in data/clips/<id>.mp4: that is the source. DFER repos cut their own frame or
  // face folders out of them (data/frames, data/faces, clips_faces: each its own extraction), so no frame layout is
  // common to copies of MAFW; `dfer prepare` decodes the videos itself. --root names the root or the videos' folder.
  const clipsDir = opts.root && !isDir(join(root, MAFW_CLIPS)) ? root : join(root, MAFW_CLIPS);
  const col = new Collector(classes);
  const lists: { file: string; fold: string; split: Split }[] = [];
  let found = 0;
  for (let k = 1; k <= 5; k++) {
    const files = {
      train: join(layout.listDir, `set_${k}`, 'train.txt'),
      test: join(layout.listDir, `set_${k}`, 'test.txt'),
    };
    const have = { train: isFile(files.train), test: isFile(files.test) };
    if (have.train || have.test) found++;
    if (!have.train || !have.test) {
      const lacking = (['train', 'test'] as const).filter((s) => !have[s]);
      col.issue(
        files[lacking[0]],
        undefined,
        `missing: fold ${k} has no ${lacking.join(' or ')} list, so fold ${k} is skipped`,
      );
      continue;
    }
    for (const split of ['train', 'test'] as const) lists.push({ file: files[split], fold: String(k), split });
  }
  if (!found) {
    // Only the spreadsheet: refused rather than prepared without folds. The 5 folds of the lists are MAFW's protocol
    // (every published number uses them), `dfer train` and `eval` need a fold, and the lists ship in the same release
    // as the spreadsheet: preparing ~9,000 videos into a set nothing can train on, or inventing folds whose numbers
    // compare with nothing, would only move the problem to a later, costlier step.
    if (layout.labels) {
      throw new AnnotationError(
        `MAFW ${layout.labels} has the labels but there are no split lists in ${layout.listDir}: extract "${MAFW_SETS}" from the MAFW release into ${layout.root} (its set_1..set_5 are the folds dfer trains and evaluates on)`,
      );
    }
    throw new AnnotationError(
      `no MAFW split lists in ${layout.listDir}: expected set_1/train.txt .. set_5/test.txt (re-extract "${MAFW_SETS}" from the MAFW release)`,
    );
  }
  const sheet = opts.mafwLabels ? mafwSheetLabels(opts.mafwLabels, col) : null;
  // Labels are MAFW's names (numbers are refused: repositories order the 11 classes differently), mapped by name
  // onto the class list, which may be a subset such as the 7 basic classes.
  const mafwLabel = labelResolver(MAFW_CLASSES, { indices: false });
  const byName = labelResolver(classes, { indices: false });
  const toClass = MAFW_CLASSES.map((c) => byName(c));
  const listed = new Set<string>();
  for (const { file, fold, split } of lists) {
    for (const [line, f] of textRows(readText(file, 'MAFW split list'))) {
      if (f.length !== 2) {
        col.drop(file, line, `expected 2 space-separated fields (clip file, label), found ${f.length}`);
        continue;
      }
      const id = mafwClipId(f[0]);
      if (!id) {
        col.drop(file, line, `clip ${show(f[0])} is not a clip file name like 00025.mp4`);
        continue;
      }
      const mafw = mafwLabel(f[1]);
      if (mafw === null) {
        col.drop(file, line, `unknown label ${show(f[1])} (MAFW labels are ${describeLabels(MAFW_CLASSES, 0, false)})`);
        continue;
      }
      if (sheet && !listed.has(id)) {
        // Checked once per clip, at its first listing. The list wins: its labels come with the folds and are what the
        // DFER repos train and test on (MAE-DFER's and HiCMAE's MAFW loaders are built from these lists), so results
        // stay comparable with theirs.
        const there = sheet.get(id);
        if (!there)
          col.issue(
            file,
            line,
            `clip ${id} is not in ${opts.mafwLabels!.file} (kept, labelled ${MAFW_CLASSES[mafw]} as listed)`,
          );
        else if (there[1] !== mafw) {
          col.issue(
            opts.mafwLabels!.file,
            there[0],
            `clip ${id} is labelled ${MAFW_CLASSES[there[1]]} (single_label ${there[1] + 1}) here but ${MAFW_CLASSES[mafw]} in ${file}:${line}; the list's label is used`,
          );
        }
      }
      listed.add(id);
      const label = toClass[mafw];
      if (label === null) {
        col.issue(file, line, `label ${f[1]} is not one of the classes ${col.classes.join(', ')}`);
        continue;
      }
      const name = VIDEO_EXTENSIONS.has(extname(f[0]).toLowerCase()) ? f[0] : `${f[0]}.mp4`;
      col.add({ id, label, source: { kind: 'video', file: join(clipsDir, name) }, fold, split, file, line });
    }
  }
  if (sheet) {
    const unlisted = [...sheet].filter(([id]) => !listed.has(id));
    if (unlisted.length) {
      const eg = unlisted.slice(0, 3).map(([id, [row]]) => `${id} (row ${row})`);
      col.issue(
        opts.mafwLabels!.file,
        unlisted[0][1][0],
        `${unlisted.length} labelled clip(s) are in no split list, so they are not prepared: ${eg.join(', ')}${unlisted.length > 3 ? ', ...' : ''}`,
      );
    }
  }
  return col.finish('mafw', source);
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * Reads a dataset's annotations (format auto-detected unless given). Bad rows are skipped and reported in `issues`;
 * an AnnotationError is thrown for a missing source, an unknown format, missing or empty annotation files, or when
 * no row at all is usable.
 */
export function readAnnotations(source: string, opts: ReadOptions = {}): Annotations {
  requireSource(source);
  const format = opts.format ?? detectFormat(source);
  if (!(SOURCE_FORMATS as readonly string[]).includes(format)) {
    throw new AnnotationError(`unknown annotation format "${format}": expected ${SOURCE_FORMATS.join(', ')}`);
  }
  const classes = opts.classes
    ? validateClasses(opts.classes, 'classes')
    : format === 'mafw'
      ? [...MAFW_CLASSES]
      : [...DFEW_CLASSES];
  switch (format) {
    case 'dfew':
      return readDfew(source, opts, classes);
    case 'ferv39k':
      return readFerv(source, opts, classes);
    case 'list':
      return readList(source, opts, classes);
    case 'csv':
      return readGenericCsv(source, opts, classes);
    case 'mafw':
      return readMafw(source, opts, classes);
  }
}

/**
 * readAnnotations with what only an asynchronous reader can read read first: MAFW's Labels/single-set.xlsx, so that
 * the split lists' labels are cross-checked against it (`dfer prepare` reads annotations this way).
 */
export async function readAnnotationsAsync(source: string, opts: ReadOptions = {}): Promise<Annotations> {
  requireSource(source);
  const format = opts.format ?? detectFormat(source);
  if (format === 'mafw' && opts.mafwLabels === undefined) {
    const labels = mafwLayout(source)?.labels;
    if (labels) return readAnnotations(source, { ...opts, format, mafwLabels: await readMafwLabels(labels) });
  }
  return readAnnotations(source, { ...opts, format });
}
