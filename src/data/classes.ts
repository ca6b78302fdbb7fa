// Class names and labels as datasets write them: names in any case and in their usual variants, or indices.
import { DFEW_CLASSES } from '../config.js';
import { DferError } from '../errors.js';

export { DFEW_CLASSES };

/**
 * MAFW's 11 single-label classes in its label order (single_label 1..11 in Labels/single-set.xlsx); the split lists
 * write these names as they are here, so no variant spellings are needed beyond the basic ones below.
 */
export const MAFW_CLASSES = [
  'anger',
  'disgust',
  'fear',
  'happiness',
  'neutral',
  'sadness',
  'surprise',
  'contempt',
  'anxiety',
  'helplessness',
  'disappointment',
] as const;

/** Fatal problems with annotations or class lists (bad source, unknown format, nothing parseable, bad --classes). */
export class AnnotationError extends DferError {
  override name = 'AnnotationError';
}

/**
 * Spellings of the same class across datasets (DFEW: Happy..Fear; FERV39k: Happy, Sad, Neutral, Angry, Surprise,
 * Disgust, Fear; MAFW: happiness, anger, ...). A spelling resolves to whichever member of its group is in the class
 * list, so a variant never resolves to a class the list does not have.
 */
const VARIANT_GROUPS: readonly (readonly string[])[] = [
  ['happiness', 'happy'],
  ['sadness', 'sad'],
  ['neutral', 'neutrality'],
  ['anger', 'angry'],
  ['surprise', 'surprised'],
  ['disgust', 'disgusted'],
  ['fear', 'fearful'],
];
const GROUP_OF = new Map<string, readonly string[]>();
for (const g of VARIANT_GROUPS) for (const name of g) GROUP_OF.set(name, g);

const norm = (s: string) => s.trim().toLowerCase();

/** Every accepted spelling of the classes (lower-case names and their variants) -> class index. */
function spellings(classes: readonly string[]): Map<string, number> {
  const map = new Map<string, number>();
  classes.forEach((c, i) => {
    const n = norm(c);
    if (n && !map.has(n)) map.set(n, i);
  });
  // Variants second, so that a class list's own names always win.
  for (const group of VARIANT_GROUPS) {
    const i = group.map((m) => map.get(m)).find((x) => x !== undefined);
    if (i === undefined) continue;
    for (const m of group) if (!map.has(m)) map.set(m, i);
  }
  return map;
}

/** An integer written as digits ("3", "03", and "3.0" as spreadsheet tools re-save it), or null. */
function parseIndex(raw: string): number | null {
  const m = /^\+?(\d+)(?:\.0*)?$/.exec(raw.trim());
  return m ? Number(m[1]) : null;
}

export interface LabelResolverOptions {
  /** Indices are 0-based (default) or 1-based (DFEW's release CSVs). */
  base?: 0 | 1;
  /** Accept integer indices (default true; FERV39k labels must be names). */
  indices?: boolean;
}

/** resolveLabel with the class list's spellings computed once, for parsing many rows. */
export function labelResolver(
  classes: readonly string[],
  opts: LabelResolverOptions = {},
): (raw: string) => number | null {
  const base = opts.base ?? 0;
  const indices = opts.indices ?? true;
  const names = spellings(classes);
  return (raw: string) => {
    const n = parseIndex(raw);
    if (n !== null) {
      if (!indices) return null;
      const i = n - base;
      return i >= 0 && i < classes.length ? i : null;
    }
    return names.get(norm(raw)) ?? null;
  };
}

/**
 * A label as a class index into `classes`: a class name (case-insensitive, trimmed, with the usual variants such as
 * happy/happiness, applied only when the list holds a member of the variant's group) or an integer index, 0-based or
 * 1-based (`base` = 1). Null when the name is unknown or the index out of range.
 */
export function resolveLabel(raw: string, classes: readonly string[], base: 0 | 1 = 0): number | null {
  return labelResolver(classes, { base })(raw);
}

/** The index of a class name in `classes` (see resolveLabel), or null; never reads numbers as indices. */
export function resolveClassName(raw: string, classes: readonly string[]): number | null {
  return labelResolver(classes, { indices: false })(raw);
}

/** How labels are accepted, for messages: "0..6 or a class name (happiness, ...)". */
export function describeLabels(classes: readonly string[], base: 0 | 1 = 0, indices = true): string {
  const names = classes.join(', ');
  return indices ? `${base}..${classes.length - 1 + base} or a class name (${names})` : `a class name (${names})`;
}

/** Throws an AnnotationError unless `classes` is a usable class list (non-empty, unique names, no bare numbers). */
export function validateClasses(classes: readonly string[], what = 'class list'): string[] {
  if (!Array.isArray(classes) || classes.length === 0)
    throw new AnnotationError(`${what} is empty: give class names like happiness,sadness,...`);
  const seen = new Map<string, string>();
  classes.forEach((c, i) => {
    if (typeof c !== 'string' || !c.trim()) throw new AnnotationError(`${what}: class ${i + 1} has no name`);
    if (parseIndex(c) !== null)
      throw new AnnotationError(`${what}: "${c}" is a number; class names must not be (labels use numbers as indices)`);
    // happy and happiness in one list would make labels ambiguous: treat variants as the same name.
    const key = GROUP_OF.get(norm(c))?.[0] ?? norm(c);
    const prev = seen.get(key);
    if (prev !== undefined) throw new AnnotationError(`${what}: "${c}" repeats "${prev}"; each class must appear once`);
    seen.set(key, c);
  });
  return classes.map((c) => c.trim());
}

/** The `--classes happy,sad,...` flag: comma-separated names, trimmed, non-empty, without duplicates. */
export function parseClassList(spec: string): string[] {
  if (!spec?.trim())
    throw new AnnotationError(
      '--classes is empty: give comma-separated class names, e.g. --classes happiness,sadness,neutral',
    );
  const names = spec.split(',').map((s) => s.trim());
  const blank = names.findIndex((s) => !s);
  if (blank >= 0) throw new AnnotationError(`--classes "${spec}": entry ${blank + 1} is empty (a stray comma?)`);
  return validateClasses(names, `--classes "${spec}"`);
}
