// The view of `dfer tsne`: a rough scatter of each map in the terminal (a character grid, one letter per class, the
// majority class of each cell; coloured on a terminal), how well each map keeps the classes apart, and the files.
// --json: the maps' numbers and every clip's coordinates.
import type { TsneMap, TsneRun } from '../analysis/features.js';
import { classColour } from '../figures/scatter.js';
import type { View } from './output.js';

/** One distinct letter per class: the first letter of its name not taken yet (happiness H, sadness S, surprise U). */
export function classLetters(classes: readonly string[]): string[] {
  const used = new Set<string>();
  return classes.map((c, k) => {
    const letter =
      [...c.toUpperCase()].find((ch) => /[A-Z]/.test(ch) && !used.has(ch)) ??
      [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'].find((ch) => !used.has(ch)) ??
      String(k % 10);
    used.add(letter);
    return letter;
  });
}

const ansi = (hex: string, s: string) =>
  `\x1b[38;2;${parseInt(hex.slice(1, 3), 16)};${parseInt(hex.slice(3, 5), 16)};${parseInt(hex.slice(5, 7), 16)}m${s}\x1b[39m`;

/**
 * A character-grid scatter of a map: `width` x `height` cells (terminal cells are about twice as tall as wide, so
 * the default height = width / 3 draws a map 1.5 times as wide as tall), each showing the letter of the commonest class
 * among its points, '.'
 * when empty. With `colour`, letters take their class's plot colour (24-bit ANSI).
 */
export function textScatter(
  coords: ArrayLike<number>,
  labels: ArrayLike<number>,
  letters: readonly string[],
  o: { width?: number; height?: number; colour?: boolean } = {},
): string[] {
  const width = o.width ?? 60;
  const height = o.height ?? Math.round(width / 3);
  const n = labels.length;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, coords[2 * i]);
    x1 = Math.max(x1, coords[2 * i]);
    y0 = Math.min(y0, coords[2 * i + 1]);
    y1 = Math.max(y1, coords[2 * i + 1]);
  }
  const counts = Array.from({ length: width * height }, () => new Map<number, number>());
  for (let i = 0; i < n; i++) {
    const cx =
      x1 > x0 ? Math.min(width - 1, Math.floor(((coords[2 * i] - x0) / (x1 - x0)) * width)) : Math.floor(width / 2);
    const cy =
      y1 > y0
        ? Math.min(height - 1, Math.floor(((y1 - coords[2 * i + 1]) / (y1 - y0)) * height))
        : Math.floor(height / 2);
    const cell = counts[cy * width + cx];
    cell.set(labels[i], (cell.get(labels[i]) ?? 0) + 1);
  }
  const border = '+' + '-'.repeat(width) + '+';
  const lines = [border];
  for (let r = 0; r < height; r++) {
    let line = '|';
    for (let c = 0; c < width; c++) {
      const cell = counts[r * width + c];
      if (!cell.size) {
        line += ' ';
        continue;
      }
      // The commonest class; ties to the lower class index.
      const [label] = [...cell.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
      line += o.colour ? ansi(classColour(label), letters[label]) : letters[label];
    }
    lines.push(line + '|');
  }
  lines.push(border);
  return lines;
}

const pct1 = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a');

function mapLine(m: TsneMap): string {
  return `${m.name}: ${m.checkpoint}: 10-NN accuracy in the map ${pct1(m.knnAccuracy)}, model accuracy ${pct1(m.accuracy)}, KL ${Number.isFinite(m.kl) ? m.kl.toFixed(3) : 'n/a'} (${m.method}, perplexity ${+m.perplexity.toFixed(2)}, ${m.iterations} iterations, ${m.seconds.toFixed(1)} s)`;
}

export function tsneView(run: TsneRun, o: { colour?: boolean; width?: number } = {}): View {
  const letters = classLetters(run.classes);
  const subset = run.ids.length < run.splitClips ? ` (a seeded random ${run.ids.length} of ${run.splitClips})` : '';
  const text = [
    `t-SNE of the clip features: ${run.data}, fold ${run.fold}, ${run.split} split, ${run.ids.length} clips${subset}`,
    '',
  ];
  // Maps side by side when they fit the terminal, one per block otherwise.
  const total = o.width ?? 100;
  const side =
    run.maps.length > 1 && total >= 2 * 34 + 4
      ? Math.min(60, Math.floor((total - 4) / 2) - 2)
      : Math.min(72, total - 2);
  const grids = run.maps.map((m) => textScatter(m.coords, run.labels, letters, { width: side, colour: o.colour }));
  if (run.maps.length > 1 && total >= 2 * 34 + 4) {
    text.push(
      run.maps
        .map((m) => m.name.padEnd(side + 2))
        .join('  ')
        .trimEnd(),
    );
    for (let r = 0; r < grids[0].length; r++) text.push(grids.map((g) => g[r]).join('  '));
  } else {
    run.maps.forEach((m, k) => text.push(...(run.maps.length > 1 ? [m.name] : []), ...grids[k]));
  }
  text.push(
    `classes: ${run.classes.map((c, k) => `${o.colour ? ansi(classColour(k), letters[k]) : letters[k]} ${c}`).join(', ')} (each cell: its commonest class)`,
    '',
  );
  text.push(...run.maps.map(mapLine), '', 'files:', ...run.files.map((f) => `  ${f}`));
  return {
    json: {
      data: run.data,
      fold: run.fold,
      split: run.split,
      classes: run.classes,
      clips: run.ids.length,
      split_clips: run.splitClips,
      seed: run.seed,
      backend: run.backend,
      maps: run.maps.map((m) => ({
        name: m.name,
        checkpoint: m.checkpoint,
        method: m.method,
        perplexity: m.perplexity,
        iterations: m.iterations,
        kl: Number.isFinite(m.kl) ? m.kl : null,
        knn_accuracy: m.knnAccuracy,
        accuracy: m.accuracy,
        seconds: m.seconds,
      })),
      points: run.ids.map((id, i) => ({
        id,
        label: run.labels[i],
        class: run.classes[run.labels[i]],
        ...(run.intensity[i] !== undefined ? { intensity: run.intensity[i] } : {}),
        ...Object.fromEntries(
          run.maps.flatMap((m) =>
            m.name === 'ours'
              ? [
                  ['x', m.coords[2 * i]],
                  ['y', m.coords[2 * i + 1]],
                ]
              : [
                  [`${m.name}_x`, m.coords[2 * i]],
                  [`${m.name}_y`, m.coords[2 * i + 1]],
                ],
          ),
        ),
      })),
      files: run.files,
    },
    text,
  };
}
