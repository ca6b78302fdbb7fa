// The Slurm executor's parts that need no cluster: sbatch options and header files, squeue/sacct output, why a task
// ended (its log), the batch script's threads (run by bash), and the executor's decisions against a scripted Slurm
// (a task Slurm no longer knows, with accounting off: the log's reason; the ledger; --collect and --retry).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expandGrid, type GridRun } from '../../src/analysis/ablate.js';
import {
  arrayScript,
  parseSacct,
  parseSqueue,
  readSbatchHeader,
  reasonFromLog,
  runOnSlurm,
  sbatchOptions,
  SlurmError,
  type SlurmExec,
} from '../../src/cluster/slurm.js';
import { resolveTrainOptions } from '../../src/train/options.js';

describe('sbatch options', () => {
  test('--slurm-opt values become sbatch arguments; options dfer sets itself are refused', () => {
    expect(sbatchOptions(['partition=gpu', '--time=04:00:00', 'gres=gpu:1', '-p gpu', '  '])).toEqual([
      '--partition=gpu',
      '--time=04:00:00',
      '--gres=gpu:1',
      '-p',
      'gpu',
    ]);
    expect(() => sbatchOptions(['array=0-3'])).toThrow(/--slurm-opt array=0-3: dfer sets --array itself/);
    expect(() => sbatchOptions(['--output=x.log'])).toThrow(SlurmError);
    expect(() => sbatchOptions(['=oops'])).toThrow(/not an sbatch option/);
  });

  test('a header file gives its #SBATCH lines; anything else is refused by line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dfer-sbatch-'));
    const ok = join(dir, 'ok.sh');
    writeFileSync(ok, '#!/bin/bash\n# our site\n#SBATCH --partition=gpu\n\n#SBATCH --gres=gpu:1\n');
    expect(readSbatchHeader(ok)).toEqual(['#SBATCH --partition=gpu', '#SBATCH --gres=gpu:1']);
    const bad = join(dir, 'bad.sh');
    writeFileSync(bad, '#SBATCH --partition=gpu\nmodule load cuda\n');
    expect(() => readSbatchHeader(bad)).toThrow(
      `--slurm-header ${bad}:2: only #SBATCH lines and comments belong in the header (found "module load cuda")`,
    );
    writeFileSync(bad, '#SBATCH --array=1-4\n');
    expect(() => readSbatchHeader(bad)).toThrow(/:1: dfer sets --array itself/);
    expect(() => readSbatchHeader(join(dir, 'none.sh'))).toThrow(/--slurm-header .*none.sh: cannot read/);
  });
});

describe('what Slurm says', () => {
  test('squeue and sacct lines', () => {
    expect([...parseSqueue('12_0|RUNNING|None\n12_1|PENDING|Resources\n\n12_2|cancelled|None\n')]).toEqual([
      ['12_0', { state: 'RUNNING' }],
      ['12_1', { state: 'PENDING', reason: 'Resources' }],
      ['12_2', { state: 'CANCELLED' }],
    ]);
    expect([...parseSacct('12_0|COMPLETED\n12_1|CANCELLED by 0\n12_2.batch|CANCELLED\n12|RUNNING\n')]).toEqual([
      ['12_0', { state: 'COMPLETED' }],
      ['12_1', { state: 'CANCELLED' }],
    ]);
  });

  test("a task's log says why it ended: Slurm's own line first, else dfer's error line", () => {
    expect(
      reasonFromLog(
        'dfer train: epoch 1/3\nslurmstepd-vm: error: *** JOB 41 ON vm CANCELLED AT 2026-12-06T17:04:34 DUE TO TIME LIMIT ***\n',
      ),
    ).toBe('killed by Slurm: time limit');
    expect(
      reasonFromLog('slurmstepd: error: *** JOB 4 ON n1 CANCELLED AT 2026-12-06T17:04:34 DUE TO PREEMPTION ***'),
    ).toBe('killed by Slurm: preemption');
    expect(
      reasonFromLog('x\nslurmstepd-vm: error: *** JOB 4 ON vm CANCELLED AT 2026-12-06T17:04:34 ***\ngot TERM'),
    ).toBe('cancelled in Slurm');
    expect(reasonFromLog('dfer train: run x\ndfer train: error: data/dfew: not a prepared dataset\n')).toBe(
      'data/dfew: not a prepared dataset',
    );
    expect(reasonFromLog('all fine\n')).toBeUndefined();
  });
});

describe('the batch script', () => {
  const run = (env: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'dfer-script-'));
    const script = join(dir, 'a.sbatch');
    writeFileSync(script, arrayScript(['#SBATCH --partition=gpu']));
    const show = join(dir, 'show.sh');
    writeFileSync(show, 'echo "$OMP_NUM_THREADS $DFER_WORKERS $*"\n');
    const { DFER_WORKERS: _w, OMP_NUM_THREADS: _o, ...rest } = process.env;
    const r = spawnSync('bash', [script, 'bash', show, '/runs/array-1.json'], {
      env: { ...rest, ...env },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };

  test('header lines first; threads from the allocation; the task list and index as arguments', () => {
    const text = arrayScript(['#SBATCH --partition=gpu']);
    expect(text.split('\n').slice(0, 2)).toEqual(['#!/bin/bash', '#SBATCH --partition=gpu']);
    expect(run({ SLURM_ARRAY_TASK_ID: '3', SLURM_CPUS_PER_TASK: '4', SLURM_JOB_CPUS_PER_NODE: '8' }).out).toBe(
      '4 4 slurm-task /runs/array-1.json 3',
    );
    expect(run({ SLURM_ARRAY_TASK_ID: '0', SLURM_JOB_CPUS_PER_NODE: '6(x2)' }).out).toBe(
      '6 6 slurm-task /runs/array-1.json 0',
    );
    expect(run({ SLURM_ARRAY_TASK_ID: '0', SLURM_JOB_CPUS_PER_NODE: '2,4' }).out).toBe(
      '2 2 slurm-task /runs/array-1.json 0',
    );
    expect(run({ SLURM_ARRAY_TASK_ID: '1' }).out).toBe('1 1 slurm-task /runs/array-1.json 1');
    expect(run({ SLURM_ARRAY_TASK_ID: '1', SLURM_CPUS_PER_TASK: '4', DFER_WORKERS: '2' }).out).toBe(
      '4 2 slurm-task /runs/array-1.json 1',
    );
    const outside = run({});
    expect(outside.code).not.toBe(0);
    expect(outside.err).toMatch(/not a task of a job array/);
  });
});

describe('the executor against a scripted Slurm', () => {
  /** A Slurm whose squeue shows `queue` (by job), whose sacct is off (as without slurmdbd), and whose sbatch numbers jobs 40, 41, ... */
  function fakeSlurm(queue: Record<string, string>) {
    const calls: { command: string; args: string[] }[] = [];
    let next = 40;
    const exec: SlurmExec = async (command, args) => {
      calls.push({ command, args });
      if (command === 'sbatch') return { code: 0, stdout: `${next++}\n`, stderr: '' };
      if (command === 'squeue') {
        const job = args[args.indexOf('-j') + 1];
        return job in queue
          ? { code: 0, stdout: queue[job], stderr: '' }
          : { code: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified' };
      }
      if (command === 'sacct') return { code: 1, stdout: '', stderr: 'Slurm accounting storage is disabled' };
      return { code: 0, stdout: '', stderr: '' };
    };
    return { exec, calls };
  }

  const plan = () =>
    expandGrid({
      axes: { gca: true },
      folds: ['1'],
      seeds: [1],
      base: { data: 'data/synth', preset: 'small', epochs: 3 },
      out: mkdtempSync(join(tmpdir(), 'dfer-slurm-grid-')),
    });
  const options = (
    p: ReturnType<typeof plan>,
    exec: SlurmExec,
    more: Partial<Parameters<typeof runOnSlurm>[1]> = {},
  ) => ({
    dir: join(p.out, 'slurm'),
    node: '/usr/bin/node',
    bin: '/opt/dfer/bin/run.js',
    sbatch: ['--partition=gpu'],
    header: [],
    jobName: 'dfer-test',
    wait: false,
    retry: false,
    collect: false,
    pollMs: 1,
    exec,
    ...more,
  });
  const finish = (run: GridRun) => {
    mkdirSync(run.dir, { recursive: true });
    const o = resolveTrainOptions({}, run.settings);
    const { backend: _b, out: _o, workers: _w, ...rest } = o;
    writeFileSync(
      join(run.dir, 'config.json'),
      JSON.stringify({ train: { ...rest, data: resolve(o.data), model: { ...o.model, classes: ['a', 'b'] } } }),
    );
    const metrics = {
      uar: 0.5,
      war: 0.5,
      perClass: [0.5, 0.5],
      confusion: [
        [1, 1],
        [1, 1],
      ],
      support: [2, 2],
    };
    writeFileSync(
      join(run.dir, 'results.json'),
      JSON.stringify({ split: 'test', fold: run.fold, selectedOn: 'val', bestEpoch: 1, metrics }),
    );
  };

  test('submits one array with argument arrays; the next call follows it; a task Slurm forgot is failed with its log reason; --retry resubmits it alone', async () => {
    const p = plan();
    const slurm = fakeSlurm({});
    const first = await runOnSlurm(p, options(p, slurm.exec));
    expect(first.submitted).toMatchObject({ job: '40', runs: ['no-gca/fold1-seed1', 'gca/fold1-seed1'] });
    expect(first.inFlight).toEqual(['no-gca/fold1-seed1', 'gca/fold1-seed1']);
    const sbatch = slurm.calls.find((c) => c.command === 'sbatch')!.args;
    expect(sbatch.slice(0, 3)).toEqual(['--partition=gpu', '--parsable', '--job-name=dfer-test']);
    expect(sbatch).toContain('--array=0-1');
    expect(sbatch.slice(-3, -1)).toEqual(['/usr/bin/node', '/opt/dfer/bin/run.js']);
    const tasks = JSON.parse(readFileSync(sbatch.at(-1)!, 'utf8'));
    expect(tasks.tasks.map((t: { id: string; args: string[] }) => [t.id, t.args[0], t.args.at(-1)])).toEqual(
      p.runs.map((r) => [r.id, 'train', r.dir]),
    );

    // Task 0 finished (its results are there), task 1 is still running: nothing new is submitted.
    finish(p.runs[0]);
    const running = fakeSlurm({ '40': '40_1|RUNNING|None\n' });
    const second = await runOnSlurm(p, options(p, running.exec, { collect: true }));
    expect(running.calls.some((c) => c.command === 'sbatch')).toBe(false);
    expect([...second.metrics.keys()]).toEqual(['no-gca/fold1-seed1']);
    expect(second.inFlight).toEqual(['gca/fold1-seed1']);

    // Slurm no longer knows job 40 and keeps no accounting: the task's log says it hit its time limit.
    mkdirSync(join(p.out, 'slurm', 'logs'), { recursive: true });
    writeFileSync(
      join(p.out, 'slurm', 'logs', '40_1.out'),
      'dfer train: epoch 1/3\nslurmstepd: error: *** JOB 41 ON n1 CANCELLED AT 2026-12-06T17:04:34 DUE TO TIME LIMIT ***\n',
    );
    const gone = fakeSlurm({});
    const third = await runOnSlurm(p, options(p, gone.exec, { wait: true }));
    expect(third.failures).toEqual([
      { id: 'gca/fold1-seed1', code: 1, error: 'Slurm task 40_1 ended without results: killed by Slurm: time limit' },
    ]);
    expect(gone.calls.some((c) => c.command === 'sbatch')).toBe(false);

    const retry = fakeSlurm({ '40': '40_0|RUNNING|None\n' });
    const fourth = await runOnSlurm(p, options(p, retry.exec, { retry: true }));
    expect(fourth.submitted).toMatchObject({ job: '40', runs: ['gca/fold1-seed1'] });
    const ledger = JSON.parse(readFileSync(join(p.out, 'slurm', 'jobs.json'), 'utf8'));
    expect(ledger.runs[resolve(p.runs[1].dir)]).toMatchObject({ job: '40', task: 0, run: 'gca/fold1-seed1' });
  });

  test('--collect submits nothing and names the runs never submitted; sbatch refusing is one line naming the script', async () => {
    const p = plan();
    const collect = await runOnSlurm(p, options(p, fakeSlurm({}).exec, { collect: true }));
    expect(collect.notSubmitted).toEqual(['no-gca/fold1-seed1', 'gca/fold1-seed1']);
    expect(collect.submitted).toBeUndefined();
    const refusing: SlurmExec = async () => ({
      code: 1,
      stdout: '',
      stderr:
        'sbatch: error: invalid partition specified: nosuch\nsbatch: error: Batch job submission failed: Invalid partition name specified\n',
    });
    await expect(runOnSlurm(p, options(p, refusing))).rejects.toThrow(
      /^sbatch refused the array \(Batch job submission failed: Invalid partition name specified\); check --slurm-opt \/ --slurm-header \(.*\.sbatch\)$/,
    );
  });
});
