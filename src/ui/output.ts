// Where a command's output goes and in what form. Commands and core never test for a TTY or --json themselves.
//   json:  the result is one JSON document on stdout; progress is JSON lines on stderr; errors are {"error","code"}.
//   plain: text lines (stdout is not a TTY, or CI is set): stable for pipes, logs and grep.
//   tty:   an interactive terminal; the place for Ink views (these commands print the same text as plain).

export type OutputMode = 'json' | 'plain' | 'tty';

interface Stream {
  write(chunk: string): boolean;
  isTTY?: boolean;
}

export interface OutputStreams {
  stdout: Stream;
  stderr: Stream;
}

/** CI=true, CI=1, CI=anything except "" / "0" / "false". */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

export function selectOutputMode(
  json: boolean,
  stdout: Stream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): OutputMode {
  if (json) return 'json';
  return stdout.isTTY && !isCI(env) ? 'tty' : 'plain';
}

/** A rendered result: the JSON document and the text for people. */
export interface View {
  json: unknown;
  text: string[];
}

export interface ProgressEvent {
  stage: string; // e.g. "classify"
  done: number;
  total: number;
  unit: string; // e.g. "clips"
}

export class Output {
  constructor(
    /** "dfer predict": the prefix of error and progress lines. */
    readonly prefix: string,
    readonly mode: OutputMode,
    private readonly io: OutputStreams = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  /** The command's result on stdout. */
  result(view: View): void {
    if (this.mode === 'json') this.io.stdout.write(JSON.stringify(view.json) + '\n');
    else this.io.stdout.write(view.text.map((l) => l + '\n').join(''));
  }

  /** Progress on stderr, so that stdout stays the result alone. */
  progress = (e: ProgressEvent): void => {
    if (this.mode === 'json') this.io.stderr.write(JSON.stringify({ type: 'progress', ...e }) + '\n');
    else this.io.stderr.write(`${this.prefix}: ${e.stage} ${e.done}/${e.total} ${e.unit}\n`);
  };

  /** One line on stderr (`detail`, a stack, may follow it); with --json also {"error", "code"} on stdout. */
  error(message: string, code: number, detail?: string): void {
    const line = message.split('\n')[0];
    this.io.stderr.write(`${this.prefix}: error: ${line}\n${detail ? detail + '\n' : ''}`);
    this.jsonError(line, code);
  }

  /** The JSON half of error() alone, for errors whose text someone else prints (oclif's usage errors). */
  jsonError(message: string, code: number): void {
    if (this.mode === 'json') this.io.stdout.write(JSON.stringify({ error: message, code }) + '\n');
  }
}
