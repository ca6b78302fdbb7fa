// What every figure shares: the colours (colour-blind-safe palette, sequential ramps), text and document helpers for
// SVG 1.1 with generic fonts (so librsvg through sharp, browsers and LaTeX pipelines draw it alike), and the PNG
// rendering. plots.ts (confusion matrices, curves, timelines, intensity lines) and scatter.ts (t-SNE maps) build on it.
import { writeFileAtomic } from '../atomic.js';

/** Okabe & Ito's colour-blind-safe qualitative palette (yellow left out: too light on white). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export const FONT = 'sans-serif';
export const INK = '#222222';
export const MUTED = '#666666';
export const GRID = '#e6e6e6';

// ColorBrewer "Blues": a single-hue sequential scale, readable by every kind of colour vision and in greyscale.
const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

export const hexRgb = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** Linear interpolation along a list of colour stops, t in [0, 1] (NaN as 0), as #rrggbb. */
export function rampColour(stops: readonly string[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const a = hexRgb(stops[i]);
  const b = hexRgb(stops[i + 1]);
  return (
    '#' +
    a
      .map((v, k) =>
        Math.round(v + (b[k] - v) * (x - i))
          .toString(16)
          .padStart(2, '0'),
      )
      .join('')
  );
}

/** The heat-map colour of t in [0, 1] (light to dark blue), as #rrggbb. */
export const heatColour = (t: number): string => rampColour(BLUES, t);

export const heatTextIsLight = (t: number) => t > 0.55;

export const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const r1 = (v: number) => Math.round(v * 10) / 10;

/** Rough width of text in px at a font size (average sans-serif glyph ~0.58 em); for layout only. */
export const textWidth = (s: string, size: number) => s.length * size * 0.58;

export function text(x: number, y: number, s: string, attrs: Record<string, string | number> = {}): string {
  const a = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? r1(v) : escapeXml(v)}"`)
    .join('');
  return `<text x="${r1(x)}" y="${r1(y)}"${a}>${escapeXml(s)}</text>`;
}

export function svgDoc(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Writes `<base>.svg` and its rendering `<base>.png` (sharp/librsvg), each atomically; returns both paths. */
export async function writeSvgAndPng(
  svg: string,
  basePath: string,
  opts: { scale?: number } = {},
): Promise<{ svg: string; png: string }> {
  const scale = opts.scale ?? 1;
  const { default: sharp } = await import('sharp'); // loaded on first use: the terminal views import this module too
  const png = await sharp(Buffer.from(svg), { density: 72 * scale })
    .png()
    .toBuffer();
  const paths = { svg: `${basePath}.svg`, png: `${basePath}.png` };
  writeFileAtomic(paths.svg, svg);
  writeFileAtomic(paths.png, png);
  return paths;
}
