// The dependency rule, checked on every import of src/ and commands/: data flows one way (commands -> core -> events
// -> ui), and within the core each layer imports only layers below it, never a sibling package of its own layer, so
// no two packages import each other. The core imports neither oclif nor Ink; only src/ui renders.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The layers of src/, lowest first. A module is named by its package (src/<package>/...) or, for a file directly
 * in src/, by its file name without extension.
 */
export const LAYERS: string[][] = [
  ['errors', 'random', 'version', 'fused', 'package-files'], // the ground floor: imports nothing of dfer
  ['atomic'], // writing files whole
  ['config', 'lock', 'workspace'], // the model's configuration, file locks, dfer.json
  ['native', 'webgpu'], // the engines
  ['backend'], // choosing an engine
  ['data'], // clips, frames, prepared sets, sampling
  ['video', 'faces', 'metrics', 'figures'], // decoding, face tracking, metrics and statistics, SVG figures
  ['model', 'synth', 'prepare'], // the network; making and preparing datasets
  ['train'], // training, evaluation, run directories
  ['analysis', 'export'], // ablation grids, t-SNE, features; models exported to ONNX and TensorFlow.js
  ['cluster', 'demo', 'doctor', 'report'], // executors and whole workflows; the HTML report
  ['ui'], // renderers: the only place for Ink
];

const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** src/train/trainer.ts -> train; src/backend.ts -> backend. */
function packageOf(file: string): string {
  const parts = relative(join(ROOT, 'src'), file).split('/');
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.(ts|tsx|js)$/, '');
}

/** Every import specifier of a file (static, re-exports, dynamic), with its line. */
function importsOf(file: string): { spec: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const out: { spec: string; line: number }[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    out.push({ spec, line: text.slice(0, m.index! + m[0].length).split('\n').length });
  }
  return out;
}

const resolveImport = (file: string, spec: string) => resolve(dirname(file), spec);

describe('the dependency rule', () => {
  const core = sources(join(ROOT, 'src'));

  test('every src/ package has a layer', () => {
    const unknown = [...new Set(core.map(packageOf))].filter((p) => !layerOf.has(p));
    expect(unknown).toEqual([]);
  });

  test('src/ imports only lower layers or its own package', () => {
    const violations: string[] = [];
    for (const file of core) {
      const from = packageOf(file);
      for (const { spec, line } of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveImport(file, spec);
        if (!target.startsWith(join(ROOT, 'src') + '/')) {
          violations.push(`${relative(ROOT, file)}:${line} imports ${spec}, outside src/`);
          continue;
        }
        const to = packageOf(target);
        if (to === from) continue;
        if ((layerOf.get(to) ?? 99) >= (layerOf.get(from) ?? -1))
          violations.push(
            `${relative(ROOT, file)}:${line}: ${from} (layer ${layerOf.get(from)}) imports ${to} (layer ${layerOf.get(to)})`,
          );
      }
    }
    expect(violations).toEqual([]);
  });

  test('the core imports neither oclif nor Ink nor React; commands import only src/ and their own helpers', () => {
    const ui = join(ROOT, 'src', 'ui') + '/';
    const framework = core
      .filter((f) => !f.startsWith(ui))
      .flatMap((f) =>
        importsOf(f)
          .filter(({ spec }) => /^(@oclif\/|ink$|ink\/|react$)/.test(spec))
          .map(({ spec, line }) => `${relative(ROOT, f)}:${line} imports ${spec}`),
      );
    expect(framework).toEqual([]);
    const commands = sources(join(ROOT, 'commands'));
    const outside = commands.flatMap((f) =>
      importsOf(f)
        .filter(({ spec }) => spec.startsWith('.'))
        .filter(({ spec }) => {
          const t = resolveImport(f, spec);
          return !t.startsWith(join(ROOT, 'src') + '/') && !t.startsWith(join(ROOT, 'commands') + '/');
        })
        .map(({ spec, line }) => `${relative(ROOT, f)}:${line} imports ${spec}`),
    );
    expect(outside).toEqual([]);
  });

  test('the rule can fail: an import that runs back up is caught', () => {
    const file = join(ROOT, 'src', 'data', 'store.ts');
    const target = resolveImport(file, '../train/trainer.js');
    expect((layerOf.get(packageOf(target)) ?? 0) >= (layerOf.get(packageOf(file)) ?? 0)).toBe(true);
  });
});
