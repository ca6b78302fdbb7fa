// The annotation files of a synthetic set, as DFEW ships them plus one file of its own:
//   EmoLabel_DataSplit/train(single-labeled)/set_<k>.csv and test(single-labeled)/set_<k>.csv: `video_name,label`,
//     5-digit ids, labels 1..7 (DFEW_CLASSES order + 1); fold k tests on its own clips and trains on the rest.
//   metadata.csv: every clip's label, apex intensity, person and nuisance parameters (one row per clip, id order).
import { DFEW_CLASSES } from '../config.js';
import type { ClipSpec } from './clip.js';
import { ACTION_UNITS, apexFrame, type Identity } from './face.js';
import { FOLDS } from './plan.js';

export const SPLIT_DIR = 'EmoLabel_DataSplit';
export const SPLIT_FOLDERS = { train: 'train(single-labeled)', test: 'test(single-labeled)' } as const;
export const FRAMES_DIR = ['Clip', 'clip_224x224'] as const;
export const VIDEOS_DIR = ['Clip', 'original'] as const;
export const METADATA_FILE = 'metadata.csv';

/** The rows of fold k's train or test list, in id order. */
export function splitCsv(clips: ClipSpec[], fold: number, split: 'train' | 'test'): string {
  const rows = clips.filter((c) => (c.fold === fold) === (split === 'test')).map((c) => `${c.id},${c.classIndex + 1}`);
  return ['video_name,label', ...rows].join('\n') + '\n';
}

export const foldNumbers = () => Array.from({ length: FOLDS }, (_, k) => k + 1);

const f4 = (v: number) => v.toFixed(4);
/** A 0-based fractional frame position as a 1-based frame number (frames are named 1.jpg ...). */
const frameNo = (t: number) => (t + 1).toFixed(2);

/**
 * metadata.csv columns, in order. `video_name`, `label` (1..7) and `intensity` (apex intensity in (0, 1]) come first
 * and are what dfer reads; the rest describe the clip for analysis. Frame positions are 1-based frame numbers.
 */
export const METADATA_COLUMNS = [
  'video_name',
  'label',
  'intensity',
  'class',
  'fold', // the fold whose test split holds the clip
  'identity',
  'frames',
  'variant', // base or alt prototype (face.ts)
  'onset',
  'apex_start',
  'apex_end',
  'offset_end',
  'residual',
  'apex_frame',
  ...ACTION_UNITS.map((a) => a.toLowerCase()), // the clip's AU weights at intensity 1
  'skin_tone',
  'hair',
  'glasses',
  'pose_x',
  'pose_y',
  'pose_scale',
  'pose_roll',
  'pose_yaw',
  'drift_x',
  'drift_y',
  'drift_scale',
  'drift_roll',
  'drift_yaw',
  'brightness',
  'contrast',
  'light_gradient',
  'clutter_items',
  'occluder', // none | hand | object | strand
  'blinks',
  'talking',
  'noise',
] as const;

export function metadataCsv(clips: ClipSpec[], identities: Identity[]): string {
  const lines = [METADATA_COLUMNS.join(',')];
  for (const c of clips) {
    const id = identities[c.identity];
    const s = c.scene;
    const p = c.profile;
    const row = [
      c.id,
      String(c.classIndex + 1),
      f4(c.intensity),
      DFEW_CLASSES[c.classIndex],
      String(c.fold),
      String(c.identity),
      String(c.frames),
      c.expression.variant,
      frameNo(p.onset),
      frameNo(p.apexStart),
      frameNo(p.apexEnd),
      frameNo(p.offsetEnd),
      f4(p.residual),
      String(apexFrame(p) + 1),
      ...ACTION_UNITS.map((a) => f4(c.expression.aus[a])),
      f4(id.skinTone),
      id.hairStyle,
      id.glasses ? '1' : '0',
      f4(s.pose.x),
      f4(s.pose.y),
      f4(s.pose.scale),
      f4(s.pose.roll),
      f4(s.pose.yaw),
      f4(s.pose.drift.x),
      f4(s.pose.drift.y),
      f4(s.pose.drift.scale),
      f4(s.pose.drift.roll),
      f4(s.pose.drift.yaw),
      f4(s.lighting.brightness),
      f4(s.lighting.contrast),
      f4(s.lighting.gradient),
      String(s.background.items.length),
      s.occluder?.kind ?? 'none',
      String(s.blinks.length),
      s.talk ? '1' : '0',
      f4(s.noise),
    ];
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}
