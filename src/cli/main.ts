#!/usr/bin/env node
// coroner's command line. Exit codes are a promise: 0 ok, 1 a gate or finding tripped, 2 error.
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CoronerError, errorLine } from '../errors.js';
import { ingestCommand } from './ingest.js';
import { censusCommand, listCommand, showCommand } from './show.js';
import { reportCommand } from './report.js';
import { diffCommand, seriesCommand } from './diff.js';
import { checkCommand, DEFAULT_LIMITS } from './check.js';
import { EXIT_ERROR, EXIT_OK } from './exit.js';


function withDb<T>(y: Argv<T>) {
  return y.option('db', {
    type: 'string',
    default: process.env.CORONER_DB || 'coroner.db',
    defaultDescription: '$CORONER_DB or ./coroner.db',
    describe: 'the SQLite database',
  });
}

/** The options of every command that ingests cores (ingest, check). */
function ingestOptions<T>(y: Argv<T>) {
  return withDb(y)
    .option('force', { type: 'boolean', default: false, describe: 'analyze again a core already stored' })
    .option('exe', { type: 'string', describe: 'the executable, when not where the core says' })
    .option('sysroot', { type: 'string', describe: "folder with the files of the core's machine (gdb's sysroot)" })
    .option('debug-dir', { type: 'string', describe: 'folder with separate debug info (gdb debug-file-directory)' })
    .option('debuginfod', { type: 'boolean', default: false, describe: 'let gdb fetch missing debug info from debuginfod' })
    .option('timeout', { type: 'number', default: 300, describe: 'seconds gdb may take per core' })
    .option('jobs', { type: 'number', describe: 'cores analyzed in parallel (default: number of CPUs)' })
    .option('series', { type: 'string', describe: 'name of the series these dumps belong to' })
    .option('taken-at', { type: 'string', describe: 'capture time (ISO 8601) instead of the core file mtime' });
}

async function main(): Promise<number> {
  let code = EXIT_OK;
  const setCode = (c: number): void => {
    code = c;
  };
  await yargs(hideBin(process.argv))
    .scriptName('coroner')
    .usage('$0 <command>\n\nOffline analysis of core dumps of Python processes.')
    .command(
      'ingest <cores..>',
      'analyze cores (files or folders) with gdb and store them',
      (y) =>
        ingestOptions(y.positional('cores', { type: 'string', array: true, demandOption: true, describe: 'core files or folders of cores' }))
          .option('json', { type: 'boolean', default: false, describe: 'print the outcomes as JSON' }),
      async (a) => setCode(await ingestCommand(a)),
    )
    .command(
      'list',
      'list the stored dumps',
      (y) => withDb(y).option('json', { type: 'boolean', default: false }),
      (a) => setCode(listCommand(a)),
    )
    .command(
      'show <dump>',
      'show one dump: findings, threads, merged stacks (by id, core path or sha256 prefix)',
      (y) =>
        withDb(y)
          .positional('dump', { type: 'string', demandOption: true })
          .option('locals', { type: 'boolean', default: false, describe: 'print the locals of every Python frame' })
          .option('json', { type: 'boolean', default: false }),
      (a) => setCode(showCommand(a)),
    )
    .command(
      'census <dump>',
      'every live Python object of a dump, by type, heaviest first',
      (y) =>
        withDb(y)
          .positional('dump', { type: 'string', demandOption: true })
          .option('top', { type: 'number', default: Number.MAX_SAFE_INTEGER, defaultDescription: 'all', describe: 'only the N heaviest types' })
          .option('json', { type: 'boolean', default: false }),
      (a) => setCode(censusCommand(a)),
    )
    .command(
      'diff <a> <b>',
      'what grew between two dumps, who holds it; --fail-on-growth gates CI',
      (y) =>
        withDb(y)
          .positional('a', { type: 'string', demandOption: true, describe: 'the earlier dump' })
          .positional('b', { type: 'string', demandOption: true, describe: 'the later dump' })
          .option('top', { type: 'number', default: 20, describe: 'types shown' })
          .option('fail-on-growth', { type: 'string', array: true, describe: 'exit 1 when growth exceeds: 20%, 50MB, TYPE:10%, TYPE:+1000 objects' })
          .option('holders', { type: 'boolean', default: true, describe: 'find who holds the growth (walks the later core again)' })
          .option('json', { type: 'boolean', default: false }),
      async (a) => setCode(await diffCommand(a)),
    )
    .command(
      'check <dir>',
      'ingest every core in a folder and apply the growth gate to each process (exit 1 when it trips)',
      (y) =>
        ingestOptions(y.positional('dir', { type: 'string', demandOption: true, describe: 'folder (or archive) of cores' }))
          .option('fail-on-growth', { type: 'string', array: true, describe: `limits, as for diff (default: ${DEFAULT_LIMITS.join(', ')})` })
          .option('json', { type: 'boolean', default: false }),
      async (a) => setCode(await checkCommand(a)),
    )
    .command(
      'series',
      'the dumps of each process, ordered by capture time',
      (y) => withDb(y).option('json', { type: 'boolean', default: false }),
      (a) => setCode(seriesCommand(a)),
    )
    .command(
      'report',
      'write a static HTML report of the stored dumps',
      (y) =>
        withDb(y)
          .option('out', { type: 'string', default: 'report', describe: 'output folder' })
          .option('dump', { type: 'string', array: true, describe: 'only these dumps (default: all)' }),
      async (a) => setCode(await reportCommand(a)),
    )
    .demandCommand(1, 'name a command: ingest, list, show, census, diff, series, check or report')
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new CoronerError(`${msg} (coroner --help lists the commands)`, 'usage');
    })
    .parseAsync();
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (process.env.CORONER_DEBUG && err instanceof Error) console.error(err.stack);
    console.error(`coroner: ${errorLine(err)}`);
    process.exitCode = EXIT_ERROR;
  },
);
