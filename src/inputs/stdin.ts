// Standard input as an input (`coroner ingest -`): a core or an archive piped in, told apart by
// its first bytes like any archive file.
import { problem, type InputItem } from './source.js';
import type { Scratch } from './scratch.js';
import { streamSources } from './archive.js';
import { UnpackBudget } from './unpack-budget.js';

export const STDIN_NAME = 'stdin';
/** What the command line turns a lone "-" into (yargs drops "-" from positionals). */
export const STDIN_PATH = '/dev/stdin';

export function isStdin(given: string): boolean {
  return given === '-' || given === STDIN_PATH;
}

export async function* stdinSources(scratch: Scratch, maxUnpacked: number, onBytes?: (n: number) => void): AsyncGenerator<InputItem> {
  if (process.stdin.isTTY) {
    yield problem(STDIN_NAME, "a terminal, not a core; pipe one in: coroner ingest - < core.123 (or an archive: ... - < cores.tar.gz)", 'usage');
    return;
  }
  yield* streamSources(process.stdin, STDIN_NAME, scratch, new UnpackBudget(scratch.dir, maxUnpacked), onBytes);
}
