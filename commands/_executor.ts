// The executor flags `dfer ablate` and `dfer train --folds` share: local child processes (default) or a Slurm job
// array (src/cluster/slurm.ts), and how the Slurm one is submitted and followed.
import { Errors, Flags } from '@oclif/core';
import { readSbatchHeader, sbatchOptions, type SlurmOptions } from '../src/cluster/slurm.js';

export const EXECUTOR_FLAGS = {
  executor: Flags.option({
    options: ['local', 'slurm'] as const,
    default: 'local' as const,
    env: 'DFER_EXECUTOR',
    description:
      'Where the runs train: local (child processes here) or slurm (one sbatch job array, a task per run; or DFER_EXECUTOR).',
    helpGroup: 'EXECUTOR',
  })(),
  'slurm-opt': Flags.string({
    multiple: true,
    description:
      'An sbatch option for every task, repeatable: partition=gpu, account=lab, time=04:00:00, mem=32G, cpus-per-task=8, gres=gpu:1.',
    helpGroup: 'EXECUTOR',
  }),
  'slurm-header': Flags.string({
    description: "A file of #SBATCH lines copied into the array's script (a site's template).",
    helpGroup: 'EXECUTOR',
  }),
  wait: Flags.boolean({
    allowNo: true,
    default: true,
    description:
      'Slurm: follow the array until every task has ended (default). --no-wait: print the job id and return; the same command, or --collect, aggregates later.',
    helpGroup: 'EXECUTOR',
  }),
  collect: Flags.boolean({
    description:
      'Slurm: submit nothing; show where each run is and aggregate the finished ones (exit 8 while some are still in Slurm).',
    helpGroup: 'EXECUTOR',
  }),
  retry: Flags.boolean({
    description:
      'Slurm: submit again the runs whose task ended without results (failed, cancelled, timed out); each resumes from its last checkpoint.',
    helpGroup: 'EXECUTOR',
  }),
};

interface ExecutorFlags {
  executor: 'local' | 'slurm';
  'slurm-opt'?: string[];
  'slurm-header'?: string;
  wait: boolean;
  collect?: boolean;
  retry?: boolean;
}

/** A Slurm-only flag with the local executor is a usage error (exit 2). */
export function refuseSlurmOnlyFlags(f: ExecutorFlags, argv: string[]): void {
  if (f.executor === 'slurm') return;
  const slurmOnly = ['--slurm-opt', '--slurm-header', '--no-wait', '--collect', '--retry'].filter((flag) =>
    argv.some((a) => a === flag || a.startsWith(`${flag}=`)),
  );
  if (slurmOnly.length)
    throw new Errors.CLIError(
      `${slurmOnly.join(', ')}: only with --executor slurm (the local executor reruns failed runs by itself)`,
      { exit: 2 },
    );
}

/** The Slurm executor's options from the flags (undefined with the local executor, after refusing Slurm-only flags). */
export function slurmOptionsFromFlags(
  f: ExecutorFlags,
  argv: string[],
  where: { dir: string; jobName: string; bin: string },
): Omit<SlurmOptions, 'emit' | 'signal'> | undefined {
  if (f.executor !== 'slurm') {
    refuseSlurmOnlyFlags(f, argv);
    return undefined;
  }
  return {
    dir: where.dir,
    jobName: where.jobName,
    node: process.execPath,
    bin: where.bin,
    sbatch: sbatchOptions(f['slurm-opt'] ?? []),
    header: f['slurm-header'] ? readSbatchHeader(f['slurm-header']) : [],
    wait: f.wait,
    retry: Boolean(f.retry),
    collect: Boolean(f.collect),
    ...(process.env.DFER_SLURM_POLL_MS ? { pollMs: Number(process.env.DFER_SLURM_POLL_MS) } : {}),
  };
}
