// `-` for standard input in flags that take lists of paths (--runs -, --input -), so that dfer sits in pipelines:
//   ls -d runs/dfew/*/ | dfer eval --runs -        find videos -name '*.mp4' | dfer predict -c best -i -
// (The leading underscore keeps oclif from listing this file as a command.)
import { readFileSync } from 'node:fs';
import { Errors } from '@oclif/core';

/** A usage error (exit 2), as a missing flag is. */
const usage = (message: string) => new Errors.CLIError(message, { exit: 2 });

/**
 * The paths of a list read from standard input: one a line; blank lines and #-comments skipped. The output of
 * `ls dir1/ dir2/` (each directory's name as a "dir:" header above its files) gives the directories, not their files.
 */
export function parsePathList(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const headers = lines.filter((l) => l.endsWith(':'));
  return headers.length ? headers.map((l) => l.slice(0, -1)) : lines;
}

/** Replaces a `-` among a flag's values by the paths on standard input (read once). */
export function expandStdin(
  values: string[],
  flag: string,
  stdin: { isTTY?: boolean; fd: number } = process.stdin,
): string[] {
  if (!values.includes('-')) return values;
  if (stdin.isTTY)
    throw usage(
      `${flag} -: reads paths from standard input, but it is a terminal; pipe them in (e.g. ls -d runs/*/ | dfer eval --runs -)`,
    );
  const listed = parsePathList(readFileSync(stdin.fd, 'utf8'));
  if (!listed.length) throw usage(`${flag} -: standard input held no paths (one a line)`);
  return values.flatMap((v) => (v === '-' ? listed : [v]));
}
