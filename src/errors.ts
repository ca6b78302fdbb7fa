// dfer's errors and exit codes. Every error the core throws for a reason the user can act on (a bad file, flag or
// value, a busy directory, a full disk) is a DferError carrying the exit code the CLI ends with; src/ui/errors.ts turns
// any error into that code and one line without knowing the classes. Anything else is a bug or the system: exit 1.

/** The exit codes of every command (docs/cli.md, "Exit codes"). */
export const EXIT = {
  ok: 0,
  /** An error dfer did not expect: a bug, or the system (disk full, permissions). */
  unexpected: 1,
  /** Bad flags or arguments (oclif's parser), or nothing to work on named anywhere. */
  usage: 2,
  /** Bad input: a file, checkpoint, config or backend that cannot be used as asked. */
  badInput: 3,
  /** The job finished and its output is usable, but some inputs were skipped (see its report). */
  partial: 4,
  /** The run directory or prepared set is being written by another dfer process (src/lock.ts). */
  busy: 5,
  /** No space left on the device for a file dfer was writing (it names the file); nothing half-written remains. */
  diskFull: 6,
  /** Nothing to classify: no face in any of the videos given. */
  nothing: 7,
  /** Runs are still pending or running on the cluster (dfer ablate --collect): the table covers those that finished. */
  pending: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error whose message already names the file, flag, tensor or field, and what to do; ends the CLI with `exitCode`. */
export class DferError extends Error {
  /** Bad input unless a subclass says otherwise. */
  readonly exitCode: ExitCode = EXIT.badInput;

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
