// Shared by the synth tests: tiny generator options and a hash of a whole output tree.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SYNTH_DEFAULTS, type SynthOptions } from '../../src/synth/generate.js';

/** Small and fast: 14 clips (2 per class when balanced) of 20-22 frames at 32 px. */
export function tinyOptions(out: string, over: Partial<SynthOptions> = {}): SynthOptions {
  return { ...SYNTH_DEFAULTS, out, clips: 14, size: 32, minFrames: 20, maxFrames: 22, jobs: 2, ...over };
}

export const workDir = (tag: string) => mkdtempSync(join(tmpdir(), `dfer-synth-${tag}-`));

/** Every file under dir (relative path, bytes), sorted. */
export function listTree(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: relative(dir, p), bytes: readFileSync(p) });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** SHA-256 over every file's relative path and bytes. */
export function hashTree(dir: string): string {
  const h = createHash('sha256');
  for (const f of listTree(dir)) {
    h.update(f.path);
    h.update('\0');
    h.update(createHash('sha256').update(f.bytes).digest());
  }
  return h.digest('hex');
}
