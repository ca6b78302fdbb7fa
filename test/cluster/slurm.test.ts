// dfer ablate and dfer train --folds on a real Slurm: a one-node cluster of Debian's munged, slurmctld and slurmd
// (test/helpers/slurm-cluster.ts). A 2 settings x 2 folds grid of one-epoch runs goes through sbatch as a job array,
// its tables must equal those of the same grid run by the local executor, a task cancelled with scancel must be
// reported as cancelled and then completed by --retry, and --collect must say what is still in Slurm.
// Skipped where munge/slurm-wlm are not installed, unless DFER_TEST_SLURM=require (as .ci/run sets).
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_BACKEND } from '../helpers/backend.js';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';
import { makeTinySet, tinyTrainFlags } from '../helpers/tinyset.js';
import { dfer, json, type RunResult } from '../cli/run.js';

const unavailable = slurmUnavailable();
const required = process.env.DFER_TEST_SLURM === 'require';
const suite = unavailable && !required ? describe.skip : describe;
if (unavailable && !required)
  console.warn(`test/cluster/slurm.test.ts skipped: ${unavailable} (DFER_TEST_SLURM=require makes this a failure)`);

let cluster: SlurmCluster | undefined;
let data: string;
let work: string;

// Every process on one thread, here and in the tasks (whose script takes OMP_NUM_THREADS from --cpus-per-task=1), so
// that the two executors compute the same numbers.
const env = () => ({ ...cluster!.env, OMP_NUM_THREADS: '1', DFER_SLURM_POLL_MS: '300' });
const SLURM = ['--executor', 'slurm', '--slurm-opt', 'cpus-per-task=1'];
const train = (epochs = 1) => tinyTrainFlags(data, TEST_BACKEND, epochs);
const grid = (out: string, ...more: string[]) => [
  'ablate',
  ...train(),
  '--gca',
  '--folds',
  '1,2',
  '--out',
  join(work, out),
  ...more,
];

interface Table {
  cells: {
    setting: string;
    runs: number;
    uar: number;
    war: number;
    per_class: number[];
    runs_detail: unknown[];
    vs_baseline?: unknown;
  }[];
  complete: boolean;
  failed: string[];
  in_flight?: string[];
  slurm_job?: string;
}

const progress = (r: RunResult) =>
  r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** What the tables hold, without where they were written. */
const tables = (t: Table) => ({ cells: t.cells });
/** Each run's training losses, epoch by epoch. */
const losses = (out: string, runs: string[]) =>
  runs.map((id) =>
    readFileSync(join(work, out, id, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"type":"epoch"'))
      .map((l) => JSON.parse(l).trainLoss),
  );
const RUNS = ['no-gca/fold1-seed1', 'gca/fold1-seed1', 'no-gca/fold2-seed1', 'gca/fold2-seed1'];

suite('the Slurm executor on a real one-node cluster', () => {
  beforeAll(async () => {
    if (unavailable) throw new Error(`DFER_TEST_SLURM=require but ${unavailable}`);
    cluster = await startSlurmCluster();
    data = await makeTinySet({ clips: 24, frames: 12, size: 16, folds: 2 });
    work = mkdtempSync(join(tmpdir(), 'dfer-cli-slurm-'));
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  test('a 2x2 grid as a job array gives the local tables; scancel is reported, --retry completes it; --collect', async () => {
    const local = await dfer([...grid('local'), '--json'], env());
    expect(local.code).toBe(0);
    const expected = json<Table>(local);
    expect(expected.complete).toBe(true);

    // Submit without waiting, the array held (sbatch --hold): no task can start, let alone finish, before --collect
    // has looked and one task is cancelled (a tiny task finishes in seconds; CI's load once let one finish first).
    const submit = await dfer([...grid('slurm'), ...SLURM, '--slurm-opt', 'hold', '--no-wait', '--json'], env());
    expect(submit.code).toBe(0);
    const submitted = json<Table>(submit);
    expect(submitted.slurm_job).toMatch(/^\d+$/);
    expect(submitted.in_flight).toHaveLength(4);
    const job = submitted.slurm_job!;
    expect(progress(submit).find((p) => p.type === 'submitted')).toMatchObject({ job, runs: RUNS });
    const script = readFileSync(String(progress(submit).find((p) => p.type === 'submitted')!.script), 'utf8');
    expect(script).toContain('export OMP_NUM_THREADS="${threads:-1}"');
    expect(script).not.toContain(data); // the task list travels as an argument, not as shell text
    // --collect: nothing submitted, the array still in Slurm: exit 8, the runs in flight named.
    const collect = await dfer([...grid('slurm'), ...SLURM, '--collect', '--json'], env());
    expect(collect.code).toBe(8);
    expect(json<Table>(collect).in_flight).toEqual(RUNS);
    expect(progress(collect).some((p) => p.type === 'submitted')).toBe(false);
    expect(cluster!.run('scancel', [`${job}_1`]).code).toBe(0);
    expect(cluster!.run('scontrol', ['release', job]).code).toBe(0);

    // The same command follows the array to its end: three runs done, the cancelled one failed (exit 4, partial).
    const follow = await dfer([...grid('slurm'), ...SLURM, '--json'], env());
    expect(follow.code).toBe(4);
    const partial = json<Table>(follow);
    expect(partial.failed).toEqual(['gca/fold1-seed1']);
    const failedLine = progress(follow).find((p) => p.type === 'run-end' && p.status === 'failed')!;
    // Cancelled before it started, the task has no accounting record on this cluster (no slurmdbd): dfer can only say
    // that it ended. Where sacct reports CANCELLED, the message says cancelled (parseSacct in slurm-units.test.ts).
    expect(failedLine.error).toMatch(new RegExp(`Slurm task ${job}_1 (cancelled|ended) without results.*--retry`));
    expect(progress(follow).some((p) => p.type === 'submitted')).toBe(false);

    // --retry submits the cancelled run alone and waits for it: the grid is complete and equals the local one.
    const retry = await dfer([...grid('slurm'), ...SLURM, '--retry', '--json'], env());
    expect(retry.code).toBe(0);
    const sub = progress(retry).find((p) => p.type === 'submitted')!;
    expect(sub.runs).toEqual(['gca/fold1-seed1']);
    expect(
      progress(retry)
        .filter((p) => p.type === 'run-end')
        .map((p) => [p.run, p.status]),
    ).toEqual([['gca/fold1-seed1', 'done']]);
    const done = json<Table>(retry);
    expect(done.complete).toBe(true);
    expect(tables(done)).toEqual(tables(expected));
    expect(losses('slurm', RUNS)).toEqual(losses('local', RUNS));
    expect(
      readFileSync(join(work, 'slurm', 'results.md'), 'utf8')
        .split('\n')
        .slice(1),
    ).toEqual(
      readFileSync(join(work, 'local', 'results.md'), 'utf8')
        .split('\n')
        .slice(1),
    );

    // Everything finished: the same command submits nothing and gives the same table.
    const again = await dfer([...grid('slurm'), ...SLURM, '--json'], env());
    expect(again.code).toBe(0);
    expect(progress(again).some((p) => p.type === 'submitted')).toBe(false);
    expect(tables(json<Table>(again))).toEqual(tables(expected));
  }, 600_000);

  test('dfer train --folds 1-2 --executor slurm: a task per fold; a running task cancelled mid-run resumes from its checkpoint with --retry', async () => {
    const out = join(work, 'folds');
    const args = ['train', ...train(3), '--folds', '1-2', '--out', out, ...SLURM];
    const submit = await dfer([...args, '--no-wait', '--json'], env());
    expect(submit.code).toBe(0);
    const sub = progress(submit).find((p) => p.type === 'submitted')!;
    expect(sub.runs).toEqual([join(out, 'fold1'), join(out, 'fold2')]);
    const job = String(sub.job);

    // Once fold 1 has finished an epoch, cancel its task: Slurm sends SIGTERM, dfer train saves and stops.
    const epochs = () => {
      try {
        return readFileSync(join(out, 'fold1', 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter((l) => l.includes('"type":"epoch"')).length;
      } catch {
        return 0;
      }
    };
    for (let i = 0; i < 600 && epochs() < 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(epochs()).toBeGreaterThanOrEqual(1);
    expect(epochs()).toBeLessThan(3);
    expect(cluster!.run('scancel', [`${job}_0`]).code).toBe(0);

    const follow = await dfer([...args, '--json'], env());
    expect(follow.code).toBe(4);
    expect(json<{ slurm: { failed: string[] } }>(follow).slurm.failed).toEqual([join(out, 'fold1')]);

    const retry = await dfer([...args, '--retry', '--json'], env());
    expect(retry.code).toBe(0);
    const log = readFileSync(
      join(out, 'slurm', 'logs', `${String(progress(retry).find((p) => p.type === 'submitted')!.job)}_0.out`),
      'utf8',
    );
    expect(log).toMatch(/resumed from epoch [12] step \d+/);
    const cv = json<{ folds: { fold: string }[]; mean: { uar: number }; slurm: { in_flight: string[] } }>(retry);
    expect(cv.folds.map((f) => String(f.fold))).toEqual(['1', '2']);
    expect(Number.isFinite(cv.mean.uar)).toBe(true);
    expect(cv.slurm.in_flight).toEqual([]);
    expect(epochs()).toBe(3); // each epoch logged once: the resumed run redid nothing twice
  }, 300_000);

  test('bad cluster options: one line naming the flag, exit 3, nothing submitted', async () => {
    const r = await dfer([...grid('bad'), ...SLURM, '--slurm-opt', 'array=0-3'], env());
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/--slurm-opt array=0-3: dfer sets --array itself/),
    ]);
    const p = await dfer([...grid('bad'), ...SLURM, '--slurm-opt', 'partition=nosuch'], env());
    expect(p.code).toBe(3);
    expect(p.stderr).toMatch(/sbatch refused the array \(.*partition.*\)/i);
    const local = await dfer([...grid('bad'), '--retry'], env());
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/--retry: only with --executor slurm/);
  }, 120_000);
});
