// A tiny prepared set written directly through the store (no decoding): clip k has frames whose pixels encode
// (clip, frame), so tests can tell which frames a batch holds.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJpeg, type Frame } from '../../src/data/images.js';
import { newManifest, writeClip, writeManifest, type PreparedClip } from '../../src/data/store.js';
import { DFEW_CLASSES } from '../../src/config.js';

/** A flat frame of one grey level: level = 6 * frame index + 5 (at most 40 frames) (so JPEG keeps it within +-2). */
export function flatFrame(size: number, level: number): Frame {
  return { width: size, height: size, data: new Uint8Array(size * size * 3).fill(level) };
}

/** `folds` (default 1): fold k tests on the k-th block of clips and trains on the rest. */
export async function makeTinySet(opts: {
  clips: number;
  frames: number;
  size?: number;
  dir?: string;
  folds?: number;
}): Promise<string> {
  const size = opts.size ?? 16;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'dfer-set-'));
  const clips: PreparedClip[] = [];
  for (let k = 0; k < opts.clips; k++) {
    const id = String(k + 1).padStart(5, '0');
    const jpegs = await Promise.all(
      Array.from({ length: opts.frames }, (_, f) => encodeJpeg(flatFrame(size, 6 * f + 5), 95)),
    );
    const written = writeClip(dir, id, jpegs, size, size);
    clips.push({
      id,
      label: k % 7,
      frames: opts.frames,
      sourceFrames: opts.frames,
      padded: 0,
      source: `gen/${id}`,
      ...written,
    });
  }
  const ids = clips.map((c) => c.id);
  const half = Math.floor(ids.length / 2);
  const m = newManifest({
    source: { path: 'generated', format: 'test' },
    classes: [...DFEW_CLASSES],
    settings: { size, quality: 95, frames: 16, minFrames: 0 },
    clips,
    folds:
      opts.folds && opts.folds > 1
        ? kFolds(ids, opts.folds)
        : { '1': { train: ids.slice(0, half), test: ids.slice(half) } },
    skipped: [],
  });
  writeManifest(dir, m);
  return dir;
}

function kFolds(ids: string[], k: number): Record<string, { train: string[]; test: string[] }> {
  const per = Math.ceil(ids.length / k);
  return Object.fromEntries(
    Array.from({ length: k }, (_, i) => {
      const test = ids.slice(i * per, (i + 1) * per);
      return [String(i + 1), { train: ids.filter((id) => !test.includes(id)), test }];
    }),
  );
}

/** `dfer train` flags for a tiny set: the small preset with U = 4 and batch 2, a fraction of a second per step. */
export function tinyTrainFlags(data: string, backend: string, epochs = 1): string[] {
  const flags = {
    data,
    preset: 'small',
    u: '4',
    batch: '2',
    lr: '0.01',
    'val-fraction': '0.25',
    backend,
    workers: '0',
    epochs: String(epochs),
  };
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]);
}
