import { Args } from '@oclif/core';
import { hostname } from 'node:os';
import { readTaskFile, SlurmError } from '../src/cluster/slurm.js';
import { BaseCommand } from './_base.js';

// One task of a job array that dfer's Slurm executor submitted (src/cluster/slurm.ts): runs `dfer train` with the
// task's arguments in this process, so Slurm's signals (scancel, time limit: SIGTERM) reach the trainer, which saves.
export default class SlurmTask extends BaseCommand<typeof SlurmTask> {
  static hidden = true;
  static summary = "Run one task of a Slurm job array written by dfer's --executor slurm (used by its batch script).";

  static args = {
    tasks: Args.string({ description: 'Task list (array-<stamp>.json).', required: true }),
    index: Args.integer({ description: 'SLURM_ARRAY_TASK_ID.', required: true }),
  };

  async run(): Promise<void> {
    const { tasks, index } = this.args;
    const task = readTaskFile(tasks).tasks[index];
    if (!task) throw new SlurmError(`${tasks}: has no task ${index}`);
    const job = process.env.SLURM_ARRAY_JOB_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${index}` : `task ${index}`;
    this.log(
      `dfer slurm-task: ${task.id} as ${job} on ${hostname()}, ${process.env.OMP_NUM_THREADS ?? '?'} threads: dfer ${task.args.join(' ')}`,
    );
    const [command, ...args] = task.args;
    await this.config.runCommand(command, args);
  }
}
