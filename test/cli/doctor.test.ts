import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dfer, json, tmpDir } from './run.js';

interface Doctor {
  dfer: string;
  node: string;
  tfjs: string;
  backends: { name: string; source: string; available: boolean; detail: string }[];
  auto: string | null;
  check: { choice: string; name: string | null; ok: boolean };
  ffmpeg: {
    found: { path: string; source: string } | null;
    tried: { source: string; found: boolean; detail: string }[];
  };
  hints: string[];
}

describe('dfer (oclif wiring)', () => {
  test('--help lists the commands and not the shared base class', async () => {
    const r = await dfer(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['doctor', 'import', 'export', 'predict'])
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd} `, 'm'));
    expect(r.stdout).not.toMatch(/_base/);
  });

  test('<cmd> --help is the manual: flags, examples', async () => {
    const r = await dfer(['predict', '--help']);
    expect(r.code).toBe(0);
    for (const text of ['--checkpoint', '--input', '--key', '--batch', '--backend', '--json', 'EXAMPLES'])
      expect(r.stdout).toContain(text);
  });

  test('usage errors exit 2; with --json a one-line {"error", "code"}', async () => {
    const bad = await dfer(['doctor', '--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Nonexistent flag: --no-such-flag/);
    const r = await dfer(['predict', '-c', 'x', '-i', 'y', '--batch', '0', '--json']);
    expect(r.code).toBe(2);
    expect(json(r)).toEqual({ error: expect.stringMatching(/^Parsing --batch .*greater than or equal to 1/), code: 2 });
    const backend = await dfer(['doctor', '--backend', 'gpu']);
    expect(backend.code).toBe(2);
  });
});

describe('dfer doctor', () => {
  test('--json: versions, wasm and cpu available, what auto picks, where ffmpeg was looked for', async () => {
    const r = await dfer(['doctor', '--json']);
    expect(r.code).toBe(0);
    const d = json<Doctor>(r);
    expect(d.node).toBe(process.version);
    expect(d.dfer).toMatch(/^\d+\.\d+\.\d+/);
    expect(d.tfjs).toMatch(/^\d+\.\d+\.\d+/);
    const available = d.backends.filter((b) => b.available).map((b) => b.name);
    expect(available).toEqual(expect.arrayContaining(['wasm', 'cpu']));
    expect(available).toContain(d.auto);
    expect(d.check).toMatchObject({ choice: 'auto', name: d.auto, ok: true });
    expect(d.ffmpeg.tried.map((t) => t.source)).toEqual(
      d.ffmpeg.found
        ? expect.arrayContaining([d.ffmpeg.found.source])
        : ['DFER_FFMPEG', 'FFMPEG_PATH', 'ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'PATH'],
    );
  });

  test('plain report; --backend cpu is initialised and checked', async () => {
    const r = await dfer(['doctor', '--backend', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^ {2}wasm +@tensorflow\/tfjs-backend-wasm +yes/m);
    expect(r.stdout).toMatch(/^ {2}--backend cpu: cpu, initialised and ran a test op$/m);
    expect(r.stdout).toMatch(/^ffmpeg: /m);
  });

  test('an unavailable --backend is reported, not fatal', async () => {
    const d = json<Doctor>(await dfer(['doctor', '--backend', 'tensorflow', '--json']));
    if (d.backends.some((b) => b.name === 'tensorflow' && b.available)) return; // native TensorFlow installed here
    expect(d.check).toMatchObject({ choice: 'tensorflow', ok: false });
    expect(d.hints.join('\n')).toMatch(/--backend tensorflow does not work here/);
  });

  test('the native engine: DFER_NATIVE=0 reports it disabled with a hint, auto then falls back', async () => {
    const d = json<Doctor>(await dfer(['doctor', '--json'], { DFER_NATIVE: '0' }));
    const native = d.backends.find((b) => b.name === 'native');
    expect(native).toMatchObject({ available: false, detail: 'disabled by DFER_NATIVE=0' });
    expect(d.auto).not.toBe('native');
    expect(d.hints.join('\n')).toMatch(/native CPU engine .* unavailable: disabled by DFER_NATIVE=0/);
  });

  test('the native engine, when built, is what auto picks after a GPU and passes the check', async () => {
    const d = json<Doctor>(await dfer(['doctor', '--backend', 'native', '--json']));
    const native = d.backends.find((b) => b.name === 'native')!;
    if (!native.available) {
      expect(process.env.DFER_NATIVE).not.toBe('require'); // the native CI pass must have it
      expect(native.detail).toMatch(/not built|out of date|failed to load|disabled by DFER_NATIVE=0/);
      return;
    }
    expect(native.detail).toMatch(/^oneDNN \d+\.\d+\.\d+, \d+ threads$/);
    expect(d.auto).toBe(
      d.backends.find((b) => b.source === '@tensorflow/tfjs-node-gpu' && b.available) ? 'tensorflow' : 'native',
    );
    expect(d.check).toMatchObject({ choice: 'native', name: 'native', ok: true });
  });

  test('DFER_FFMPEG wins over everything after it; a missing one is reported and skipped', async () => {
    const tmp = tmpDir();
    try {
      const fake = join(tmp.path, 'ffmpeg');
      writeFileSync(fake, '#!/bin/sh\nexit 0\n');
      chmodSync(fake, 0o755);
      const found = json<Doctor>(await dfer(['doctor', '--json'], { DFER_FFMPEG: fake }));
      expect(found.ffmpeg.found).toEqual({ path: fake, source: 'DFER_FFMPEG' });
      expect(found.ffmpeg.tried).toHaveLength(1);

      const missing = join(tmp.path, 'nope');
      const r = json<Doctor>(await dfer(['doctor', '--json'], { DFER_FFMPEG: missing, FFMPEG_PATH: fake }));
      expect(r.ffmpeg.found).toEqual({ path: fake, source: 'FFMPEG_PATH' });
      expect(r.ffmpeg.tried[0]).toMatchObject({ source: 'DFER_FFMPEG', found: false, detail: 'no such file' });
    } finally {
      tmp.cleanup();
    }
  });
});
