// What every dfer command shares: --json and --backend, the output mode, and one way of reporting errors.
// The leading underscore keeps oclif from listing this file as a command (see "globPatterns" in package.json).
import { Command, Errors, Flags, type Interfaces } from '@oclif/core';
import { BACKEND_CHOICES } from '../src/backend.js';
import { EXIT } from '../src/errors.js';
import { describeError } from '../src/ui/errors.js';
import { Output, selectOutputMode } from '../src/ui/output.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static baseFlags = {
    json: Flags.boolean({
      description:
        'Print the result as one JSON document on stdout (errors as {"error", "code"}); progress, if any, as JSON lines on stderr.',
      helpGroup: 'GLOBAL',
    }),
    backend: Flags.option({
      options: BACKEND_CHOICES,
      default: 'auto' as const,
      env: 'DFER_BACKEND',
      description:
        'TensorFlow.js backend (or DFER_BACKEND). auto: tfjs-node-gpu, then tfjs-node (if installed), then wasm, then cpu.',
      helpGroup: 'GLOBAL',
    })(),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  protected out!: Output;

  private get prefix(): string {
    return `${this.config.bin} ${this.id}`;
  }

  public async init(): Promise<void> {
    await super.init();
    const { args, flags } = await this.parse({
      args: this.ctor.args,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      flags: this.ctor.flags,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
    this.out = new Output(this.prefix, selectOutputMode(this.flags.json));
  }

  /**
   * Ctrl-C (SIGINT) or a scheduler's SIGTERM (Slurm's scancel and time limit, docker stop, systemd) asks the job to
   * stop: the signal aborts, the job finishes its step, saves and exits 130. A second Ctrl-C quits at once; a repeated
   * SIGTERM is ignored (Slurm follows its SIGTERM with SIGKILL after KillWait anyway, and a quick exit here would lose
   * the checkpoint being written). `release` removes the handlers.
   */
  protected stopOnSignals(): { signal: AbortSignal; release(): void } {
    const controller = new AbortController();
    const onSigint = () => (controller.signal.aborted ? process.exit(130) : controller.abort());
    const onSigterm = () => controller.abort();
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    return {
      signal: controller.signal,
      release: () => {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
      },
    };
  }

  /** Bad input: one line, exit 3. Usage errors: oclif's message, exit 2. Anything else: exit 1. */
  protected async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    const out = this.out ?? new Output(this.prefix, this.argv.includes('--json') ? 'json' : 'plain');
    if (err instanceof Errors.CLIError) {
      // oclif prints its own (multi-line) usage message; JSON readers get it on one line.
      const oneLine = err.message
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('See more help'))
        .join(' ');
      out.jsonError(oneLine, err.oclif?.exit ?? EXIT.usage);
      return super.catch(err);
    }
    const { code, message, detail } = describeError(err);
    out.error(message, code, detail);
    throw new Errors.ExitError(code);
  }
}
