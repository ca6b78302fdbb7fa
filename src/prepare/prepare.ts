// `dfer prepare`: annotations + frames/videos in, a prepared set out (see store.ts for the format).
// Atomic and resumable: every finished clip is one atomically written file plus a journal line, so an interrupted run
// continues where it stopped; the manifest, the only thing readers open, is written last.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { DiskFullError, removeStaleTemporaries, writeFileAtomic } from '../atomic.js';
import { LockBusyError, lockDirectory } from '../lock.js';
import { decodeVideoFrames } from '../video/decode.js';
import { readAnnotationsAsync, type AnnotatedClip, type Annotations, type SourceFormat } from '../data/annotations.js';
import { FaceDetector } from '../faces/client.js';
import { cropFaces, detectionFrames, FACE_SOURCE_SIDE, type FaceStats } from '../faces/crop.js';
import { encodeJpeg, listFrameFiles, readImage, type Frame } from '../data/images.js';
import { detectDamagedFrames } from '../data/quality.js';
import {
  datasetOfFormat,
  newManifest,
  type DatasetKind,
  writeClip,
  writeManifest,
  type Manifest,
  type PreparedClip,
  type PrepareSettings,
} from '../data/store.js';
import { DferError } from '../errors.js';

export interface PrepareOptions {
  source: string;
  out: string;
  format?: SourceFormat;
  frames?: 'clip_224x224' | 'clip_224x224_16f' | 'original';
  root?: string;
  classes?: string[];
  settings: PrepareSettings;
  /** Fail on the first skipped clip or annotation problem instead of reporting and going on. */
  strict: boolean;
  /** Clips decoded at once (default: the machine's cores). */
  jobs?: number;
  ffmpeg?: string;
  /** The dataset behind the clips (default: from the format; lists and CSVs are custom). */
  dataset?: DatasetKind;
}

export interface PrepareIssue {
  file: string;
  line?: number;
  clip?: string;
  reason: string;
}

export type PrepareEvent =
  | { type: 'start'; total: number; resumed: number; out: string }
  | { type: 'clip'; id: string; done: number; total: number; skipped: boolean }
  | { type: 'issue'; issue: PrepareIssue }
  | { type: 'done'; manifest: Manifest };

export interface PrepareResult {
  manifest: Manifest;
  issues: PrepareIssue[];
  resumed: number;
  /** Listed-count disagreements, padded and damaged clips: reported, not skipped. */
  notes: { countMismatch: number; padded: number; damaged: number };
}

export class PrepareError extends DferError {}

type JournalLine = { clip: PreparedClip } | { skipped: { id: string; origin?: string; reason: string } };

const SETTINGS_FILE = 'prepare.json';
const JOURNAL = 'journal.jsonl';

/** Everything that decides the prepared bytes; a resumed run must match it. */
function runIdentity(o: PrepareOptions, a: Annotations) {
  return {
    source: resolve(o.source),
    root: o.root ? resolve(o.root) : null,
    format: a.format,
    frames: o.frames ?? null,
    classes: a.classes,
    settings: o.settings,
  };
}

function readJournal(path: string): JournalLine[] {
  if (!existsSync(path)) return [];
  const lines: JournalLine[] = [];
  for (const text of readFileSync(path, 'utf8').split('\n')) {
    if (!text.trim()) continue;
    try {
      lines.push(JSON.parse(text));
    } catch {
      // the last line of a killed run may be half-written: that clip is simply prepared again
    }
  }
  return lines;
}

/** The clip's frames: centre squares at the stored size, or, to find faces in, whole pictures (FACE_SOURCE_SIDE). */
async function loadFrames(
  clip: AnnotatedClip,
  o: PrepareOptions,
  issues: PrepareIssue[],
  whole: boolean,
): Promise<Frame[]> {
  const size = whole ? FACE_SOURCE_SIDE : o.settings.size;
  if (clip.source.kind === 'video') {
    const frames: Frame[] = [];
    for await (const f of decodeVideoFrames(clip.source.file, {
      size,
      fit: whole ? 'contain' : 'cover',
      ffmpeg: o.ffmpeg,
    }))
      frames.push(f);
    return frames;
  }
  const { frames: files, ignored } = listFrameFiles(clip.source.dir);
  if (ignored.length)
    issues.push({
      file: clip.source.dir,
      clip: clip.id,
      reason: `${ignored.length} non-image file(s) ignored, e.g. ${ignored[0]}`,
    });
  return Promise.all(files.map((f) => readImage(f, size, whole ? 'contain' : 'cover')));
}

/** The clip's frames as aligned face crops; a clip whose face coverage is too low is skipped with its numbers. */
async function faceFrames(
  frames: Frame[],
  where: string,
  o: PrepareOptions,
  detector: FaceDetector,
): Promise<{ frames: Frame[]; stats: FaceStats }> {
  const faces = o.settings.faces!;
  const crops = await cropFaces(frames, detector, { size: o.settings.size, detectEvery: faces.detectEvery });
  if (!crops)
    throw new Error(
      `${where}: no face found in ${detectionFrames(frames.length, faces.detectEvery).filter(Boolean).length} checked frames`,
    );
  const s = crops.stats;
  if (s.coverage < faces.minCoverage) {
    throw new Error(
      `${where}: a face in ${s.found} of ${s.checked} checked frames (${(100 * s.coverage).toFixed(0)}%), below --min-face-coverage ${faces.minCoverage}`,
    );
  }
  return crops;
}

/**
 * Per-clip expression intensity, when the source ships it: `metadata.csv` beside a DFEW-layout tree with columns
 * video_name and intensity (what `dfer synth` writes). Real DFEW has none; eval then skips the intensity report.
 */
export function readIntensities(source: string): Map<string, number> {
  const file = join(source, 'metadata.csv');
  const out = new Map<string, number>();
  if (!existsSync(file)) return out;
  const rows = parseCsv(readFileSync(file), { columns: true, bom: true, skip_empty_lines: true, trim: true }) as Record<
    string,
    string
  >[];
  for (const r of rows) {
    const v = Number(r.intensity);
    if (r.video_name !== undefined && Number.isFinite(v)) out.set(r.video_name.padStart(5, '0'), v);
  }
  return out;
}

/** Prepare one clip; returns its manifest record, or throws with the reason it must be skipped. */
async function prepareClip(
  clip: AnnotatedClip,
  o: PrepareOptions,
  issues: PrepareIssue[],
  intensity: number | undefined,
  detector: FaceDetector | null,
): Promise<PreparedClip> {
  const s = o.settings;
  let frames = await loadFrames(clip, o, issues, detector !== null);
  const where = clip.source.kind === 'video' ? clip.source.file : clip.source.dir;
  if (frames.length === 0) throw new Error(`${where}: no frames`);

  if (clip.listedFrames !== undefined && clip.listedFrames !== frames.length) {
    issues.push({
      file: where,
      clip: clip.id,
      reason: `listed with ${clip.listedFrames} frames, ${frames.length} found on disk (using ${frames.length})`,
    });
  }
  if (frames.length < s.minFrames)
    throw new Error(`${where}: ${frames.length} frames, fewer than --min-frames ${s.minFrames}`);
  // Damage is judged on the frames as decoded (an aligned crop's replicated border would look like a flat block).
  const damaged = detectDamagedFrames(frames).map((d) => d.index);
  if (damaged.length) {
    issues.push({
      file: where,
      clip: clip.id,
      reason: `${damaged.length} of ${frames.length} frames are mostly one flat colour (damaged?), e.g. frame ${damaged[0]}`,
    });
  }
  let faces: FaceStats | undefined;
  if (detector) ({ frames, stats: faces } = await faceFrames(frames, where, o, detector));
  const sourceFrames = frames.length;
  while (frames.length < s.frames) frames.push(frames[frames.length - 1]); // pad short clips with the last frame
  const jpegs = await Promise.all(frames.map((f) => encodeJpeg(f, s.quality)));
  const written = writeClip(o.out, clip.id, jpegs, s.size, s.size);
  return {
    id: clip.id,
    label: clip.label,
    frames: frames.length,
    sourceFrames,
    ...(clip.listedFrames !== undefined ? { listedFrames: clip.listedFrames } : {}),
    padded: frames.length - sourceFrames,
    source: where,
    ...written,
    ...(damaged.length ? { damaged } : {}),
    ...(faces
      ? { faces: { checked: faces.checked, found: faces.found, filled: faces.filled, jitter: faces.jitter.smoothed } }
      : {}),
    ...(intensity !== undefined ? { intensity } : {}),
  };
}

export async function prepareDataset(
  o: PrepareOptions,
  emit: (e: PrepareEvent) => void = () => {},
): Promise<PrepareResult> {
  const annotations = await readAnnotationsAsync(o.source, {
    format: o.format,
    frames: o.frames,
    root: o.root,
    classes: o.classes,
  });
  const intensities = annotations.format === 'dfew' ? readIntensities(o.source) : new Map<string, number>();
  const issues: PrepareIssue[] = annotations.issues.map((i) => ({ ...i }));
  if (o.strict && issues.length)
    throw new PrepareError(
      `${issues[0].file}${issues[0].line ? `:${issues[0].line}` : ''}: ${issues[0].reason} (--strict)`,
    );

  mkdirSync(o.out, { recursive: true });
  const lock = await lockDirectory(o.out); // also clears the top level's leftover temporaries
  try {
    removeStaleTemporaries(join(o.out, 'clips'));
    return await prepareInLockedDir(o, annotations, intensities, issues, emit, () => lock.assertHeld());
  } finally {
    lock.release();
  }
}

async function prepareInLockedDir(
  o: PrepareOptions,
  annotations: Annotations,
  intensities: Map<string, number>,
  issues: PrepareIssue[],
  emit: (e: PrepareEvent) => void,
  assertHeld: () => void,
): Promise<PrepareResult> {
  const identity = runIdentity(o, annotations);
  const settingsPath = join(o.out, SETTINGS_FILE);
  if (existsSync(settingsPath)) {
    // A set prepared before --root was recorded had none.
    const before = { root: null, ...JSON.parse(readFileSync(settingsPath, 'utf8')) };
    const changed = Object.keys(identity).filter(
      (k) => JSON.stringify(before[k]) !== JSON.stringify(identity[k as keyof typeof identity]),
    );
    if (changed.length) {
      throw new PrepareError(
        `${o.out}: was prepared with other ${changed.join(', ')}; choose another --out or delete it`,
      );
    }
  }
  writeFileAtomic(settingsPath, JSON.stringify(identity, null, 1) + '\n');

  // Resume: finished clips are kept; every clip skipped before is tried again (its source may have been fixed, the
  // disk emptied), and so is a finished clip whose file is gone.
  const journalPath = join(o.out, JOURNAL);
  const done = new Map<string, JournalLine>();
  for (const line of readJournal(journalPath)) {
    if (!('clip' in line) || !existsSync(join(o.out, line.clip.file))) continue;
    done.set(line.clip.id, line);
  }
  const todo = annotations.clips.filter((c) => !done.has(c.id));
  const total = annotations.clips.length;
  const resumed = done.size;
  emit({ type: 'start', total, resumed, out: o.out });

  let finished = resumed;
  let failure: Error | undefined;
  const record = (line: JournalLine) => {
    assertHeld();
    appendFileSync(journalPath, JSON.stringify(line) + '\n');
    const id = 'clip' in line ? line.clip.id : line.skipped.id;
    done.set(id, line);
    emit({ type: 'clip', id, done: ++finished, total, skipped: 'skipped' in line });
  };
  const queue = [...todo];
  // One detector (a worker thread) for every clip: its models load once.
  const detector = o.settings.faces && todo.length ? new FaceDetector() : null;
  /** One clip's journal line: prepared, or skipped with its reason. A full disk or a lost lock throws: they stop the
   * whole run (resumably), as --strict does on any problem. */
  const attempt = async (clip: AnnotatedClip, clipIssues: PrepareIssue[]): Promise<JournalLine> => {
    try {
      return { clip: await prepareClip(clip, o, clipIssues, intensities.get(clip.id), detector) };
    } catch (err) {
      if (err instanceof DiskFullError || err instanceof LockBusyError) throw err;
      const reason = (err as Error).message;
      clipIssues.push({ file: clip.origin, clip: clip.id, reason: `skipped: ${reason}` });
      if (o.strict) throw new PrepareError(`clip ${clip.id} (${clip.origin}): ${reason} (--strict)`);
      return { skipped: { id: clip.id, origin: clip.origin, reason } };
    }
  };
  const worker = async () => {
    for (let clip = queue.shift(); clip && !failure; clip = queue.shift()) {
      const clipIssues: PrepareIssue[] = [];
      try {
        record(await attempt(clip, clipIssues));
      } catch (err) {
        failure ??= err as Error; // the other workers stop at their next clip; nothing is written after this
      } finally {
        for (const issue of clipIssues) {
          issues.push(issue);
          emit({ type: 'issue', issue });
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs ?? availableParallelism()) }, worker));
  } finally {
    await detector?.close();
  }
  if (failure) throw failure;

  // The manifest: clips in annotation order, folds restricted to what was prepared.
  const clips: PreparedClip[] = [];
  const skipped: Manifest['skipped'] = [];
  for (const c of annotations.clips) {
    const line = done.get(c.id)!;
    if ('clip' in line) clips.push(line.clip);
    else skipped.push(line.skipped);
  }
  // Rows of the annotation files that could not be read are skipped clips too.
  for (const i of annotations.issues.filter((x) => x.dropped)) {
    const where = `${i.file}${i.line ? `:${i.line}` : ''}`;
    skipped.push({ id: where, origin: where, reason: `row not read: ${i.reason}` });
  }
  const kept = new Set(clips.map((c) => c.id));
  const folds = Object.fromEntries(
    Object.entries(annotations.folds).map(([k, f]) => [
      k,
      { train: f.train.filter((id) => kept.has(id)), test: f.test.filter((id) => kept.has(id)) },
    ]),
  );
  const manifest = newManifest({
    source: { path: resolve(o.source), format: annotations.format, ...(o.frames ? { frames: o.frames } : {}) },
    // A tree written by dfer synth has DFEW's layout but is not DFEW: its synth.json says so.
    dataset:
      o.dataset ??
      (annotations.format === 'dfew' && existsSync(join(o.source, 'synth.json'))
        ? 'synthetic'
        : datasetOfFormat(annotations.format)),
    classes: annotations.classes,
    settings: o.settings,
    clips,
    folds,
    skipped,
  });
  if (!clips.length) {
    writeFileAtomic(join(o.out, 'prepare-report.json'), JSON.stringify({ issues, skipped }, null, 1) + '\n');
    const first = skipped[0];
    throw new PrepareError(
      `every clip was skipped, so nothing was prepared${first ? ` (first: ${first.origin ?? first.id}: ${first.reason})` : ''}; see ${join(o.out, 'prepare-report.json')}`,
    );
  }
  writeManifest(o.out, manifest);
  const notes = {
    countMismatch: clips.filter((c) => c.listedFrames !== undefined && c.listedFrames !== c.sourceFrames).length,
    padded: clips.filter((c) => c.padded > 0).length,
    damaged: clips.filter((c) => c.damaged?.length).length,
  };
  // Face coverage per clip (--faces detect): what the detector saw, how much was filled in, how steady the crops are.
  const faces = clips.filter((c) => c.faces).map((c) => ({ id: c.id, ...c.faces! }));
  writeFileAtomic(
    join(o.out, 'prepare-report.json'),
    JSON.stringify({ issues, notes, counts: manifest.counts, ...(faces.length ? { faces } : {}) }, null, 1) + '\n',
  );
  emit({ type: 'done', manifest });
  return { manifest, issues, resumed, notes };
}
