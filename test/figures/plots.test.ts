// The figures of a run (src/analysis/plots.ts): well-formed SVG with the right labels and numbers, and PNG files
// that sharp decodes at the SVG's size.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { confusionSvg, curvesSvg, downsample, formatTick, niceTicks } from '../../src/figures/plots.js';
import { heatColour, writeSvgAndPng } from '../../src/figures/svg.js';

const CLASSES = ['happiness', 'sadness', 'neutral', 'anger', 'surprise', 'disgust', 'fear'];
const CONFUSION = [
  [120, 3, 10, 2, 4, 0, 1],
  [5, 80, 20, 3, 1, 0, 6],
  [10, 15, 90, 5, 2, 0, 3],
  [8, 4, 9, 100, 3, 1, 2],
  [6, 2, 4, 3, 60, 0, 10],
  [2, 3, 2, 5, 1, 3, 1],
  [3, 8, 6, 4, 14, 0, 30],
];

/** A tiny XML check: one root <svg>, every opened tag closed in order, no stray '<' or '&' in text. */
function expectWellFormed(svg: string): void {
  expect(svg.startsWith('<svg ')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const stack: string[] = [];
  let tags = 0;
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)\b[^<>]*?(\/?)>/g)) {
    tags++;
    const [, close, name, self] = m;
    if (close) expect(stack.pop()).toBe(name);
    else if (!self) stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(tags).toBeGreaterThan(3);
  const text = svg.replace(/<[^<>]*>/g, '');
  expect(text).not.toMatch(/[<>]/);
  expect(text).not.toMatch(/&(?!(amp|lt|gt|quot);)/);
}

const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
const size = (svg: string) => {
  const m = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
};

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dfer-plots-'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('confusionSvg', () => {
  test('a well-formed heat map with class names, axis titles, counts and row-%', () => {
    const svg = confusionSvg(CONFUSION, CLASSES, { title: 'fold 1, test split' });
    expectWellFormed(svg);
    const t = texts(svg);
    for (const c of CLASSES) expect(t).toContain(c);
    expect(t).toEqual(expect.arrayContaining(['true', 'predicted', 'fold 1, test split', 'clips']));
    expect(t).toContain('120'); // happiness -> happiness
    expect(t).toContain('85.7%'); // 120 / 140
    expect(t).toContain('17.6%'); // disgust: 3 / 17 on the diagonal, and 3 / 17 predicted sadness
    expect(t).toContain('29.4%'); // disgust predicted as anger: 5 / 17
    expect(t).toContain('140'); // row total
    expect(t.filter((x) => x === '0')).toHaveLength(5); // the empty cells show 0 and no %
    expect(t).not.toContain('0.0%');
    // 49 cells, shaded by row share: the darkest cell is the largest share (120 / 140), empty cells are white.
    const fills = [
      ...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="\d+" height="\d+" fill="(#[0-9a-f]{6})" stroke/g),
    ].map((m) => m[1]);
    expect(fills).toHaveLength(49);
    expect(fills[0]).toBe(heatColour(120 / 140));
    expect(fills[5]).toBe('#ffffff');
    const { width, height } = size(svg);
    expect(width).toBeGreaterThanOrEqual(600);
    expect(width).toBeLessThanOrEqual(820);
    expect(height).toBeLessThanOrEqual(820);
  });

  test('escapes markup in class names; rejects a matrix of the wrong shape', () => {
    const svg = confusionSvg(
      [
        [1, 0],
        [0, 1],
      ],
      ['a<b', 'c&d'],
    );
    expectWellFormed(svg);
    expect(texts(svg)).toEqual(expect.arrayContaining(['a&lt;b', 'c&amp;d']));
    expect(() => confusionSvg([[1, 0]], ['a', 'b'])).toThrow(/2 x 2/);
  });

  test('many classes: smaller cells, rotated labels, still well-formed', () => {
    const n = 16;
    const m = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 50 : (i + j) % 3)));
    const svg = confusionSvg(
      m,
      Array.from({ length: n }, (_, i) => `class number ${i}`),
    );
    expectWellFormed(svg);
    expect(svg).toContain('rotate(-45');
    expect(size(svg).width).toBeLessThanOrEqual(900);
  });
});

describe('curvesSvg', () => {
  test('lines, legend, axis labels and a dashed right axis', () => {
    const pts = (f: (x: number) => number): [number, number][] =>
      Array.from({ length: 50 }, (_, i) => [i + 1, f(i + 1)]);
    const svg = curvesSvg(
      [
        { name: 'CE', points: pts((x) => 2 / x) },
        { name: 'IAL', points: pts((x) => 0.3 / x) },
        { name: 'lr', points: pts((x) => (x < 25 ? 0.01 : 0.001)), axis: 'right' },
      ],
      { title: 'loss per step', xLabel: 'step', yLabel: 'loss', yLabelRight: 'learning rate' },
    );
    expectWellFormed(svg);
    const t = texts(svg);
    expect(t).toEqual(
      expect.arrayContaining(['loss per step', 'step', 'loss', 'learning rate', 'CE', 'IAL', 'lr (right axis)']),
    );
    expect(svg.match(/<path /g)).toHaveLength(3);
    expect(svg).toContain('stroke-dasharray');
    expect(t).toContain('0.010'); // right-axis ticks
  });

  test('one point: a marker, a non-empty domain; whole-number x gets whole-number ticks', () => {
    const svg = curvesSvg([{ name: 'val UAR', points: [[1, 30.5]] }], { title: 'val', xLabel: 'epoch', yLabel: '%' });
    expectWellFormed(svg);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg).not.toContain('<path ');
    expect(svg).not.toMatch(/NaN|Infinity/);
    const xTicks = texts(svg).filter((s) => /^\d+(\.\d+)?$/.test(s));
    expect(xTicks).toEqual(expect.arrayContaining(['0', '1', '2']));
    expect(xTicks).not.toContain('0.5');
  });

  test('thousands of points are reduced; non-finite points dropped; no data says so', () => {
    const many: [number, number][] = Array.from({ length: 20000 }, (_, i) => [
      i,
      Math.sin(i / 100) + (i === 777 ? 5 : 0),
    ]);
    many.push([20001, NaN]);
    const svg = curvesSvg([{ name: 'loss', points: many }], { title: 't', xLabel: 'step', yLabel: 'loss' });
    expectWellFormed(svg);
    expect(svg).not.toMatch(/NaN/);
    const d = /<path d="([^"]+)"/.exec(svg)![1];
    const n = d.split(/[ML]/).filter(Boolean).length;
    expect(n).toBeLessThanOrEqual(802);
    expect(n).toBeGreaterThan(400);
    expect(svg.length).toBeLessThan(60_000);
    const empty = curvesSvg([{ name: 'x', points: [] }], { title: 't', xLabel: 'x', yLabel: 'y' });
    expectWellFormed(empty);
    expect(texts(empty)).toContain('no data');
  });

  test('downsample keeps spikes, the ends and x order', () => {
    const pts: [number, number][] = Array.from({ length: 10000 }, (_, i) => [
      i,
      i === 5000 ? 100 : i === 7000 ? -100 : 0,
    ]);
    const d = downsample(pts, 100);
    expect(d.length).toBeLessThanOrEqual(101);
    expect(d[0]).toEqual([0, 0]);
    expect(d[d.length - 1]).toEqual([9999, 0]);
    expect(d).toContainEqual([5000, 100]);
    expect(d).toContainEqual([7000, -100]);
    expect(d.map((p) => p[0])).toEqual([...d.map((p) => p[0])].sort((a, b) => a - b));
    expect(
      downsample(
        [
          [0, 1],
          [1, NaN],
          [2, Infinity],
        ],
        10,
      ),
    ).toEqual([[0, 1]]);
  });

  test('ticks are round and labelled with the decimals they need', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 100, 4)).toEqual([0, 25, 50, 75, 100]);
    expect(niceTicks(1, 7, 5, true)).toEqual([2, 4, 6]);
    expect(niceTicks(1, 3, 10, true)).toEqual([1, 2, 3]);
    expect(formatTick(0.25, 0.05)).toBe('0.25');
    expect(formatTick(0.4, 0.2)).toBe('0.4');
    expect(formatTick(1000, 250)).toBe('1000');
    expect(formatTick(0.0001, 0.00002)).toBe('1.0e-4');
  });
});

describe('writeSvgAndPng', () => {
  test('writes <base>.svg and a PNG of the same size, atomically (no temporary files left)', async () => {
    const svg = confusionSvg(CONFUSION, CLASSES, { title: 'fold 1' });
    const base = join(tmp, 'confusion');
    const paths = await writeSvgAndPng(svg, base);
    expect(paths).toEqual({ svg: `${base}.svg`, png: `${base}.png` });
    expect(readFileSync(paths.svg, 'utf8')).toBe(svg);
    const meta = await sharp(paths.png).metadata();
    expect(meta.format).toBe('png');
    expect({ width: meta.width, height: meta.height }).toEqual(size(svg));
    // Not a blank image: the darkest cell is there.
    const { channels } = await sharp(paths.png).stats();
    expect(channels[0].min).toBeLessThan(60);
    expect(readdirSync(tmp).sort()).toEqual(['confusion.png', 'confusion.svg']);

    const curves = curvesSvg(
      [
        {
          name: 'UAR',
          points: [
            [1, 0.3],
            [2, 0.4],
          ],
        },
      ],
      { title: 'val', xLabel: 'epoch', yLabel: 'UAR', width: 640, height: 360 },
    );
    const c = await writeSvgAndPng(curves, join(tmp, 'val'), { scale: 2 });
    const cm = await sharp(c.png).metadata();
    expect([cm.width, cm.height]).toEqual([1280, 720]);
    expect(existsSync(c.svg)).toBe(true);
  });
});
