// The prepared dataset: this module owns its on-disk format.
//   <dir>/manifest.json      classes, clips (label, frame counts, source), folds, counts, settings, fingerprint
//   <dir>/clips/<id>.clip    one file per clip: header + offset table + JPEG frames (random access per frame)
//   <dir>/journal.jsonl      one line per finished (or skipped) clip while preparing: what resume reads
// Every file is written to a temporary name and renamed, so a reader never sees half of one. Memory stays bounded:
// a clip is read frame by frame from its own file, never the whole set.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { VERSION } from '../version.js';
import { decodeJpeg, type Frame } from './images.js';
import { DferError } from '../errors.js';

const MAGIC = 'DFERCLP1';
const HEADER = 24; // magic(8) + frames, width, height, reserved (u32 each)

export interface PreparedClip {
  id: string;
  label: number;
  /** Frames stored (after padding short clips to T). */
  frames: number;
  /** Frames actually found in the source (folder or video). */
  sourceFrames: number;
  /** Frame count the annotation listed, when it listed one. */
  listedFrames?: number;
  /** Frames added by repeating the last one. */
  padded: number;
  /** Source folder or video, as given. */
  source: string;
  /** Path of the clip file relative to the set's directory. */
  file: string;
  sha256: string;
  /** Indices of frames that look damaged (mostly one flat colour). */
  damaged?: number[];
  /** Apex expression intensity, when the source knows it (the synthetic benchmark). */
  intensity?: number;
  /** Prepared with --faces detect: frames the detector ran on, those with the face, frames filled in, crop jitter. */
  faces?: { checked: number; found: number; filled: number; jitter: number };
}

export interface PrepareSettings {
  size: number; // stored frame side in pixels
  quality: number; // JPEG quality
  frames: number; // T: shorter clips are padded to this many frames
  minFrames: number; // clips with fewer source frames are dropped (0: keep all)
  /** Faces detected, followed and aligned (--faces detect); absent: centre crops. */
  faces?: { detectEvery: number; minCoverage: number };
}

/** The dataset a prepared set holds, which decides its training protocol (src/train/protocols.ts). */
export const DATASET_KINDS = ['dfew', 'ferv39k', 'mafw', 'synthetic', 'custom'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

/** The dataset behind a source format: the released datasets are themselves; lists and CSVs are the user's own. */
export function datasetOfFormat(format: string): DatasetKind {
  return ['dfew', 'ferv39k', 'mafw'].includes(format) ? (format as DatasetKind) : 'custom';
}

export interface Manifest {
  format: 'dfer-prepared';
  version: 1;
  dfer: string;
  createdAt: string;
  source: { path: string; format: string; frames?: string };
  /** Absent in sets prepared before dfer 0.2: then it follows from source.format. */
  dataset?: DatasetKind;
  classes: string[];
  settings: PrepareSettings;
  clips: PreparedClip[];
  folds: Record<string, { train: string[]; test: string[] }>;
  counts: { clips: number; perClass: number[]; skipped: number };
  skipped: { id: string; origin?: string; reason: string }[];
  fingerprint: string;
}

export class StoreError extends DferError {}

const clipFileName = (id: string) => `clips/${id.replace(/[^A-Za-z0-9._-]/g, '_')}.clip`;

/** Serialise one clip: header, (offset, length) per frame, then the JPEG bytes. */
export function encodeClip(jpegs: Buffer[], width: number, height: number): Buffer {
  const table = Buffer.alloc(HEADER + 8 * jpegs.length);
  table.write(MAGIC, 0, 'ascii');
  table.writeUInt32LE(jpegs.length, 8);
  table.writeUInt32LE(width, 12);
  table.writeUInt32LE(height, 16);
  let offset = table.length;
  jpegs.forEach((j, i) => {
    table.writeUInt32LE(offset, HEADER + 8 * i);
    table.writeUInt32LE(j.length, HEADER + 8 * i + 4);
    offset += j.length;
  });
  return Buffer.concat([table, ...jpegs]);
}

/** Write a clip file atomically; returns its manifest fields. */
export function writeClip(
  dir: string,
  id: string,
  jpegs: Buffer[],
  width: number,
  height: number,
): { file: string; sha256: string } {
  const file = clipFileName(id);
  mkdirSync(join(dir, 'clips'), { recursive: true });
  const bytes = encodeClip(jpegs, width, height);
  writeFileAtomic(join(dir, file), bytes);
  return { file, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** Read frames `indices` of a clip file (each frame decoded once even if sampled several times). */
export async function readClipFrames(path: string, indices: number[]): Promise<Frame[]> {
  const fh = await open(path, 'r');
  try {
    return await readOpenClip(fh, path, indices);
  } catch (err) {
    // System errors (EMFILE, EACCES, ENOMEM) are not damage; a decoder's complaint or an impossible offset is.
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof StoreError || (typeof code === 'string' && !code.startsWith('ERR_'))) throw err;
    throw new StoreError(`${path}: damaged (${(err as Error).message.split('\n')[0]})`);
  } finally {
    await fh.close();
  }
}

async function readOpenClip(fh: Awaited<ReturnType<typeof open>>, path: string, indices: number[]): Promise<Frame[]> {
  const head = Buffer.alloc(HEADER);
  await fh.read(head, 0, HEADER, 0);
  if (head.toString('ascii', 0, 8) !== MAGIC) throw new StoreError(`${path}: not a dfer clip file`);
  const n = head.readUInt32LE(8);
  const table = Buffer.alloc(8 * n);
  await fh.read(table, 0, table.length, HEADER);
  const decoded = new Map<number, Promise<Frame>>();
  for (const i of indices) {
    if (i < 0 || i >= n) throw new StoreError(`${path}: frame ${i} out of range (clip has ${n})`);
    if (decoded.has(i)) continue;
    const offset = table.readUInt32LE(8 * i);
    const length = table.readUInt32LE(8 * i + 4);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    if (bytesRead !== length) throw new StoreError(`${path}: truncated at frame ${i}`);
    decoded.set(i, decodeJpeg(buf));
  }
  return await Promise.all(indices.map((i) => decoded.get(i)!));
}

/** The error to report for clip `id` whose file could not be read: a missing or damaged file is named with its clip
 * and how to repair it (prepare re-creates missing clips); anything else (the system, a bug) is returned as it is. */
export function clipReadError(id: string, path: string, err: unknown): unknown {
  if (!existsSync(path))
    return new StoreError(
      `clip ${id}: ${path} is missing; run the same dfer prepare again (it re-creates missing clips)`,
    );
  if (!(err instanceof StoreError)) return err;
  const why = err.message.replace(`${path}: `, '').split('\n')[0];
  return new StoreError(
    `clip ${id}: ${path} is damaged (${why}); delete it and run the same dfer prepare again (it re-creates missing clips); dfer doctor --data <set> checks every clip`,
  );
}

/** Content fingerprint: classes, storage settings, every clip's label and bytes, the folds. Order-independent. */
export function fingerprint(m: Pick<Manifest, 'classes' | 'settings' | 'clips' | 'folds'>): string {
  const clips = [...m.clips].sort((a, b) => (a.id < b.id ? -1 : 1)).map((c) => [c.id, c.label, c.frames, c.sha256]);
  const folds = Object.keys(m.folds)
    .sort()
    .map((k) => [k, [...m.folds[k].train].sort(), [...m.folds[k].test].sort()]);
  const s = m.settings;
  return createHash('sha256')
    .update(JSON.stringify([m.classes, [s.size, s.quality, s.frames, s.minFrames], clips, folds]))
    .digest('hex')
    .slice(0, 16);
}

export function writeManifest(dir: string, m: Manifest): void {
  writeFileAtomic(join(dir, 'manifest.json'), JSON.stringify(m, null, 1) + '\n');
}

export function newManifest(
  fields: Omit<Manifest, 'format' | 'version' | 'dfer' | 'createdAt' | 'fingerprint' | 'counts'>,
): Manifest {
  const perClass = new Array(fields.classes.length).fill(0);
  for (const c of fields.clips) perClass[c.label]++;
  const base = { ...fields, counts: { clips: fields.clips.length, perClass, skipped: fields.skipped.length } };
  return {
    format: 'dfer-prepared',
    version: 1,
    dfer: VERSION,
    createdAt: new Date().toISOString(),
    ...base,
    fingerprint: fingerprint(base),
  };
}

/** A prepared set opened for reading. */
export class PreparedSet {
  readonly byId: Map<string, PreparedClip>;

  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
  ) {
    this.byId = new Map(manifest.clips.map((c) => [c.id, c]));
  }

  static open(dir: string): PreparedSet {
    const path = join(dir, 'manifest.json');
    if (!existsSync(path)) {
      const hint = existsSync(join(dir, 'journal.jsonl'))
        ? ' (preparation did not finish: run dfer prepare again to resume)'
        : ' (run dfer prepare first)';
      throw new StoreError(`${dir}: not a prepared dataset, no manifest.json${hint}`);
    }
    let m: Manifest;
    try {
      m = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new StoreError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    if (m.format !== 'dfer-prepared') throw new StoreError(`${path}: not a dfer prepared-set manifest`);
    return new PreparedSet(dir, m);
  }

  /** The dataset the set holds (dfew, ferv39k, mafw, synthetic, or custom for lists and CSVs). */
  get dataset(): DatasetKind {
    return (
      this.manifest.dataset ??
      (existsSync(join(this.manifest.source.path, 'synth.json'))
        ? 'synthetic'
        : datasetOfFormat(this.manifest.source.format))
    );
  }

  clip(id: string): PreparedClip {
    const c = this.byId.get(id);
    if (!c)
      throw new StoreError(
        `${this.dir}: no clip "${id}" (the set has ${this.manifest.clips.length} clips, e.g. ${this.manifest.clips[0]?.id})`,
      );
    return c;
  }

  /** Clip ids of one split of one fold ("1".."5"). */
  split(fold: string, split: 'train' | 'test'): string[] {
    const f = this.manifest.folds[fold];
    if (!f)
      throw new StoreError(`${this.dir}: no fold ${fold} (folds: ${Object.keys(this.manifest.folds).join(', ')})`);
    return f[split].filter((id) => this.byId.has(id));
  }

  async readFrames(id: string, indices: number[]): Promise<Frame[]> {
    const path = join(this.dir, this.clip(id).file);
    return readClipFrames(path, indices).catch((err) => {
      throw clipReadError(id, path, err);
    });
  }

  /** Every clip file against the SHA-256 the manifest recorded when it was written. */
  async verify(
    onProgress?: (done: number, total: number) => void,
  ): Promise<{ clips: number; damaged: Array<{ id: string; file: string; reason: string }> }> {
    const damaged: Array<{ id: string; file: string; reason: string }> = [];
    const clips = this.manifest.clips;
    for (let i = 0; i < clips.length; i++) {
      const c = clips[i];
      const file = join(this.dir, c.file);
      if (!existsSync(file)) damaged.push({ id: c.id, file, reason: 'missing' });
      else if (
        createHash('sha256')
          .update(await readFile(file))
          .digest('hex') !== c.sha256
      )
        damaged.push({ id: c.id, file, reason: 'contents differ from the manifest (SHA-256)' });
      onProgress?.(i + 1, clips.length);
    }
    return { clips: clips.length, damaged };
  }
}
