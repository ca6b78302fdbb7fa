// A broken state_dict: one line naming the file and the tensor, exit 3, and no checkpoint written.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type TensorMap } from '../../src/model/safetensors.js';
import { golden, GOLDEN_WEIGHTS } from '../helpers/golden.js';
import { dfer, json, lines, tmpDir } from './run.js';

const tmp = tmpDir();
afterAll(() => tmp.cleanup());

function withChange(name: string, change: (t: TensorMap) => void): string {
  const tensors: TensorMap = new Map(golden().weights);
  change(tensors);
  const file = join(tmp.path, `${name}.safetensors`);
  writeSafetensors(file, tensors);
  return file;
}

async function expectRefused(file: string, problem: RegExp): Promise<void> {
  const out = join(tmp.path, 'ckpt', `from-${file.split('/').pop()}`);
  const r = await dfer(['import', file, '--out', out]);
  expect(r.code).toBe(3);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr)).toEqual([expect.stringMatching(/^dfer import: error: /)]);
  expect(r.stderr).toContain(file);
  expect(r.stderr).toMatch(problem);
  expect(existsSync(`${out}.safetensors`) || existsSync(`${out}.json`)).toBe(false);
}

describe('dfer import refuses a broken state_dict', () => {
  test('(a) a missing tensor is named', async () => {
    const file = withChange('missing', (t) => t.delete('fc_f.bias'));
    await expectRefused(file, /missing tensor fc_f\.bias \(expected shape \[7\]\)/);
  });

  test('(b) a tensor of the wrong shape is named with both shapes', async () => {
    const file = withChange('shape', (t) =>
      t.set('fc_f.bias', { dtype: 'F32', shape: [8], data: new Float32Array(8) }),
    );
    await expectRefused(file, /tensor fc_f\.bias has shape \[8\], expected \[7\]/);
  });

  test('(c) a text file is not a safetensors file', async () => {
    const file = join(tmp.path, 'notes.safetensors');
    writeFileSync(file, 'These are the weights, trust me.\n'.repeat(10));
    await expectRefused(file, /not a safetensors file/);
  });

  test('(d) a truncated file says where it ends', async () => {
    const file = join(tmp.path, 'truncated.safetensors');
    writeFileSync(file, readFileSync(GOLDEN_WEIGHTS).subarray(0, 3_000_000));
    await expectRefused(file, /truncated: tensor \S+ ends at byte \d+ but the file has 3000000/);
  });

  test('--json: the same error as {"error", "code": 3} on stdout; a missing file too', async () => {
    const r = await dfer(['import', join(tmp.path, 'absent.safetensors'), '--out', join(tmp.path, 'x'), '--json']);
    expect(r.code).toBe(3);
    expect(json(r)).toEqual({ error: expect.stringMatching(/absent\.safetensors: cannot read \(ENOENT\)$/), code: 3 });
    expect(lines(r.stderr)).toHaveLength(1);
  });
});
