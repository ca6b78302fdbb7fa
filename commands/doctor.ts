import { diagnose } from '../src/doctor.js';
import { doctorView } from '../src/ui/doctor.js';
import { BaseCommand } from './_base.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check this machine: Node, dfer and tfjs versions, tfjs backends, ffmpeg.';
  static description = `Lists every TensorFlow.js backend in the order --backend auto tries them (available, or why not), then initialises the backend chosen with --backend (default: auto) and runs a small computation on it.

Looks for ffmpeg, which only video input needs, in this order: DFER_FFMPEG, FFMPEG_PATH, the ffmpeg-static package, the @ffmpeg-installer/ffmpeg package, ffmpeg on PATH.

Ends with hints for anything missing. Always exits 0: problems are part of the report.`;

  static examples = [
    { description: 'Human-readable report', command: '<%= config.bin %> <%= command.id %>' },
    { description: 'Machine-readable report', command: '<%= config.bin %> <%= command.id %> --json' },
    { description: 'Check that the pure-JS cpu backend works', command: '<%= config.bin %> <%= command.id %> --backend cpu' },
  ];

  async run(): Promise<void> {
    this.out.result(doctorView(await diagnose(this.flags.backend)));
  }
}
