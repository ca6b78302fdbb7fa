import { Flags } from '@oclif/core';
import { diagnose, verifyPreparedSet } from '../src/doctor.js';
import { dataCheckView, doctorView } from '../src/ui/doctor.js';
import { EXIT } from '../src/errors.js';
import { BaseCommand } from './_base.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check this machine: Node, dfer and tfjs versions, tfjs backends, ffmpeg.';
  static description =
    `Lists every TensorFlow.js backend in the order --backend auto tries them (available, or why not), then initialises the backend chosen with --backend (default: auto) and runs a small computation on it.

Looks for ffmpeg, which only video input needs, in this order: DFER_FFMPEG, FFMPEG_PATH, the ffmpeg-static package, the @ffmpeg-installer/ffmpeg package, ffmpeg on PATH.

Ends with hints for anything missing. Always exits 0: problems are part of the report.

--data <prepared set> checks the set instead: every clip file against the SHA-256 its manifest recorded. Exits 3 when a clip is missing or damaged, naming each (delete the damaged ones and run the same dfer prepare again: it re-creates missing clips).`;

  static examples = [
    { description: 'Human-readable report', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Machine-readable report', command: '<%= config.bin %> <%= command.id %> --json' },
    {
      description: 'Check that the pure-JS cpu backend works',
      command: '<%= config.bin %> <%= command.id %> --backend cpu',
    },
    {
      description: 'Check every clip of a prepared set',
      command: '<%= config.bin %> <%= command.id %> --data data/dfew',
    },
  ];

  static flags = {
    data: Flags.string({
      description: "A prepared set to check (every clip against its manifest's SHA-256) instead of the machine.",
    }),
  };

  async run(): Promise<void> {
    if (this.flags.data) {
      const check = await verifyPreparedSet(this.flags.data, (done, total) =>
        this.out.progress({ stage: 'verify', done, total, unit: 'clips' }),
      );
      this.out.result(dataCheckView(check));
      if (check.damaged.length) process.exitCode = EXIT.badInput;
      return;
    }
    this.out.result(doctorView(await diagnose(this.flags.backend)));
  }
}
