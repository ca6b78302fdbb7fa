// The CLI's output layer without a child process: mode selection, the three forms of output, error classes.
import { ConfigError } from '../../src/config.js';
import { SafetensorsError } from '../../src/model/safetensors.js';
import { EXIT } from '../../src/errors.js';
import { describeError } from '../../src/ui/errors.js';
import { DferError } from '../../src/errors.js';
import { LockBusyError } from '../../src/lock.js';
import { DiskFullError } from '../../src/atomic.js';
import { NoDataError, OptionError } from '../../src/train/options.js';
import { AblateError } from '../../src/analysis/ablate.js';
import { GpuBufferTooLargeError } from '../../src/webgpu/device.js';
import { Output, selectOutputMode } from '../../src/ui/output.js';
import { table } from '../../src/ui/table.js';

function capture(mode: 'json' | 'plain' | 'tty') {
  const streams = { stdout: [] as string[], stderr: [] as string[] };
  const out = new Output('dfer test', mode, {
    stdout: { write: (s: string) => streams.stdout.push(s) > 0 },
    stderr: { write: (s: string) => streams.stderr.push(s) > 0 },
  });
  return { out, text: () => ({ stdout: streams.stdout.join(''), stderr: streams.stderr.join('') }) };
}

describe('output mode', () => {
  test('--json wins; a TTY without CI is interactive; a pipe or CI is plain', () => {
    expect(selectOutputMode(true, { write: () => true, isTTY: true }, {})).toBe('json');
    expect(selectOutputMode(false, { write: () => true, isTTY: true }, {})).toBe('tty');
    expect(selectOutputMode(false, { write: () => true, isTTY: true }, { CI: 'true' })).toBe('plain');
    expect(selectOutputMode(false, { write: () => true, isTTY: true }, { CI: 'false' })).toBe('tty');
    expect(selectOutputMode(false, { write: () => true }, {})).toBe('plain');
  });
});

describe('Output', () => {
  const view = { json: { a: 1 }, text: ['line one', 'line two'] };

  test('json: one document on stdout, progress as JSON lines on stderr, errors on both', () => {
    const { out, text } = capture('json');
    out.progress({ stage: 'classify', done: 1, total: 2, unit: 'clips' });
    out.result(view);
    out.error('file.safetensors: truncated', 3);
    expect(text().stdout).toBe('{"a":1}\n{"error":"file.safetensors: truncated","code":3}\n');
    expect(text().stderr).toBe(
      '{"type":"progress","stage":"classify","done":1,"total":2,"unit":"clips"}\ndfer test: error: file.safetensors: truncated\n',
    );
  });

  test('plain: text lines on stdout, progress and errors as prefixed lines on stderr', () => {
    const { out, text } = capture('plain');
    out.progress({ stage: 'classify', done: 2, total: 2, unit: 'clips' });
    out.result(view);
    out.error('bad', 3);
    out.jsonError('not shown', 2);
    expect(text()).toEqual({
      stdout: 'line one\nline two\n',
      stderr: 'dfer test: classify 2/2 clips\ndfer test: error: bad\n',
    });
  });
});

describe('describeError', () => {
  test('core input errors exit 3 with their message alone', () => {
    expect(describeError(new SafetensorsError('x: truncated'), {})).toEqual({
      code: EXIT.badInput,
      message: 'x: truncated',
    });
    expect(describeError(new ConfigError('model config: frames must be at least 2'), { DEBUG: 'dfer' }).code).toBe(3);
  });

  test('each DferError carries its own exit code: busy 5, disk full 6, nothing named 2; the name is the class', () => {
    expect(describeError(new LockBusyError('runs/a', null), {}).code).toBe(EXIT.busy);
    expect(describeError(new DiskFullError('runs/a/last.safetensors', 2 ** 20, 0), {}).code).toBe(EXIT.diskFull);
    expect(describeError(new NoDataError('no prepared set: pass --data'), {})).toEqual({
      code: EXIT.usage,
      message: 'no prepared set: pass --data',
    });
    const e = new AblateError('--baseline x: not a setting');
    expect([e instanceof DferError, e instanceof OptionError, e.name, e.exitCode]).toEqual([
      true,
      true,
      'AblateError',
      EXIT.badInput,
    ]);
    expect(describeError(new GpuBufferTooLargeError(2 ** 31, 2 ** 30), {}).code).toBe(EXIT.badInput);
  });

  test('anything else exits 1; the stack only with DEBUG=dfer', () => {
    const plain = describeError(new TypeError('cannot read x of undefined'), {});
    expect(plain).toEqual({
      code: EXIT.unexpected,
      message: 'cannot read x of undefined (unexpected; DEBUG=dfer shows the stack)',
    });
    const debug = describeError(new TypeError('boom'), { DEBUG: 'oclif,dfer' });
    expect(debug).toMatchObject({
      code: 1,
      message: 'boom',
      detail: expect.stringContaining('TypeError: boom\n    at '),
    });
  });
});

describe('table', () => {
  test('pads columns and right-aligns numeric ones', () => {
    expect(
      table(
        ['clip', 'label', 'p'],
        [
          [0, 'surprise', '27.3%'],
          [10, 'fear', '5.0%'],
        ],
      ),
    ).toEqual(['clip  label         p', '   0  surprise  27.3%', '  10  fear       5.0%']);
  });
});
